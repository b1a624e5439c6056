/**
 * Values for dashboard variables and ad hoc filters: the distinct values of one dimension in a time
 * range, narrowed by the other filters (the tools agent X used), sorted. Run dimensions come from
 * runs and, where sessions carry them (agent, channel, environment, service, conversation, user),
 * from voice and video sessions too, so a sessions dashboard's variables list its agents; tool,
 * model and provider come from steps. Status values are always the four run statuses.
 */
import { Dimension, DIMENSION_LABELS, DIMENSIONS, Filters, RUN_STATUSES } from '@agent-insights/model';
import { QueryEnv } from './context';
import { Params, runConditions, STEP_COLUMNS, stepConditions } from './filters-sql';
import { sessionConditions } from './capabilities/sessions';

export interface ValuesRequest {
  /** Epoch ms; either may be absent (no bound). */
  from?: number;
  to?: number;
  /** The other filters; a filter on the dimension itself is ignored, so every choice stays listed. */
  filters: Filters;
  limit: number;
}

export const DEFAULT_VALUES_LIMIT = 1000;
export const MAX_VALUES_LIMIT = 10_000;

/** Keys for Grafana's ad hoc filters: every dimension, with its label. */
export function adHocKeys(): { key: Dimension; label: string }[] {
  return DIMENSIONS.map((key) => ({ key, label: DIMENSION_LABELS[key] }));
}

export function isDimension(v: string): v is Dimension {
  return (DIMENSIONS as readonly string[]).includes(v);
}

const RUN_VALUE_COLUMNS: Partial<Record<Dimension, string>> = {
  agent: 'r.agent',
  agentVersion: 'r.agent_version',
  channel: 'r.channel',
  environment: 'r.environment',
  service: 'r.service',
  conversation: 'r.conversation_id',
  user: 'r.user_id',
};

const SESSION_VALUE_COLUMNS: Partial<Record<Dimension, string>> = {
  agent: 'se.agent',
  channel: 'se.channel',
  environment: 'se.environment',
  service: 'se.service',
  conversation: 'se.conversation_id',
  user: 'se.user_id',
};

export async function dimensionValues(env: QueryEnv, dimension: Dimension, req: ValuesRequest): Promise<string[]> {
  const others: Filters = { ...req.filters };
  delete others[dimension];
  if (dimension === 'status') return [...RUN_STATUSES].sort();

  const d = env.dialect;
  const p = new Params(env.dialect);
  const tenant = p.add(env.tenant);
  const range = (col: string): string[] => [
    ...(req.from !== undefined ? [`${col} >= ${d.timestamp(req.from)}`] : []),
    ...(req.to !== undefined ? [`${col} <= ${d.timestamp(req.to)}`] : []),
  ];
  const selects: string[] = [];
  const runCol = RUN_VALUE_COLUMNS[dimension];
  if (runCol) {
    const where = [`r.tenant = ${tenant}`, ...range('r.start_time'), ...runConditions(others, p, tenant), `${runCol} <> ''`];
    selects.push(`SELECT DISTINCT ${runCol} AS value FROM runs_v r WHERE ${where.join(' AND ')}`);
  } else {
    const col = STEP_COLUMNS[dimension];
    const where = [`s.tenant = ${tenant}`, ...range('s.start_time'), ...stepConditions(others, p), `${col} <> ''`];
    selects.push(`SELECT DISTINCT ${col} AS value FROM steps_v s WHERE ${where.join(' AND ')}`);
  }
  const sessionCol = SESSION_VALUE_COLUMNS[dimension];
  if (sessionCol) {
    const where = [`se.tenant = ${tenant}`, ...range('se.start_time'), ...sessionConditions(others, p), `${sessionCol} <> ''`];
    selects.push(`SELECT DISTINCT ${sessionCol} AS value FROM sessions se WHERE ${where.join(' AND ')}`);
  }
  // UNION ALL then DISTINCT: ClickHouse has no bare UNION (it asks for ALL or DISTINCT).
  const rows = await env.store.read(`SELECT DISTINCT value FROM (${selects.join(' UNION ALL ')}) v ORDER BY value LIMIT ${Math.round(req.limit)}`, p.values);
  return rows.map((r) => String(r.value));
}
