/**
 * Dashboard variables from this data source (CustomVariableSupport, with its own editor): the
 * values of one dimension (agent, tool, model, status, channel, environment, ...).
 */
import { createDataFrame, CustomVariableSupport, DataQueryRequest, DataQueryResponse, FieldType } from '@grafana/data';
import { from, Observable } from 'rxjs';
import { map } from 'rxjs/operators';
import { Dimension } from '@agent-insights/model';

import { VariableQueryEditor } from './components/VariableQueryEditor';
import { toDimension } from './interpolation';
import type { DataSource } from './datasource';
import type { AgentInsightsOptions, AgentQuery, VariableQuery } from './types';

/**
 * A stored variable query as this editor writes it ({dimension, filters}), or as a hand-written or
 * provisioned dashboard may hold it: a plain dimension name, or {query: 'agent'}.
 */
export function toVariableQuery(input: unknown): VariableQuery {
  if (typeof input === 'string') {
    return { refId: 'variable', dimension: toDimension(input) };
  }
  const q = (input ?? {}) as Partial<VariableQuery> & { query?: unknown };
  const dimension: Dimension | undefined = q.dimension
    ? toDimension(String(q.dimension))
    : typeof q.query === 'string'
      ? toDimension(q.query)
      : undefined;
  return { refId: q.refId ?? 'variable', dimension, filters: q.filters ?? {} };
}

export class AgentVariableSupport extends CustomVariableSupport<
  DataSource,
  VariableQuery,
  AgentQuery,
  AgentInsightsOptions
> {
  editor = VariableQueryEditor;

  constructor(private readonly datasource: DataSource) {
    super();
  }

  query(request: DataQueryRequest<VariableQuery>): Observable<DataQueryResponse> {
    const [target] = request.targets;
    return from(this.datasource.metricFindQuery(target, { range: request.range, scopedVars: request.scopedVars })).pipe(
      map((found) => ({
        data: [
          createDataFrame({
            refId: target?.refId,
            fields: [
              { name: 'text', type: FieldType.string, values: found.map((f) => f.text) },
              { name: 'value', type: FieldType.string, values: found.map((f) => String(f.value ?? f.text)) },
            ],
          }),
        ],
      }))
    );
  }
}
