/**
 * Filters of the query model as SQL conditions, for the two relations queries read:
 * runs_v (one row per run) and steps_v (one row per span, with its run's dimensions).
 * Values are always bound parameters, never spliced into the SQL.
 */
import { Dimension, Filters } from '@agent-insights/model';
import { Dialect } from './dialect';

/** Bound parameters of one statement, written for one engine's dialect. */
export class Params {
  readonly values: unknown[] = [];
  constructor(readonly dialect: Dialect) {}
  add(v: unknown): string {
    this.values.push(v);
    return `$${this.values.length}`;
  }
  list(vs: string[]): string {
    return `[${vs.map((v) => this.add(v)).join(', ')}]`;
  }
  /** Whether expr is one of the values (bound as a list). */
  in(vs: string[], expr: string): string {
    return this.dialect.inList(this.list(vs), expr);
  }
}

/** Columns of runs_v (alias r) per dimension. Tool, model and provider live on steps. */
const RUN_COLUMNS: Partial<Record<Dimension, string>> = {
  agent: 'r.agent',
  agentVersion: 'r.agent_version',
  status: 'r.status',
  channel: 'r.channel',
  environment: 'r.environment',
  service: 'r.service',
  conversation: 'r.conversation_id',
  user: 'r.user_id',
};

/** Columns of steps_v (alias s) per dimension: the step's own, or its run's. */
export const STEP_COLUMNS: Record<Dimension, string> = {
  agent: 's.run_agent',
  agentVersion: 's.run_agent_version',
  status: 's.run_status',
  channel: 's.run_channel',
  environment: 's.run_environment',
  service: 's.run_service',
  conversation: 's.run_conversation_id',
  user: 's.run_user_id',
  tool: 's.tool_name',
  model: 's.model',
  provider: 's.provider',
};

/** Run columns listing the distinct non-empty values of the run's trace's records (derive/trace.ts). */
const TRACE_LISTS: Partial<Record<Dimension, string>> = { tool: 'r.trace_tools', model: 'r.trace_models', provider: 'r.trace_providers' };

/** Step-dimension filters (tool, model, provider) among the filters. */
function stepFiltersOf(filters: Filters): [Dimension, string[]][] {
  return (Object.entries(filters) as [Dimension, string[]][]).filter(([dim, values]) => values?.length && !RUN_COLUMNS[dim]);
}

/**
 * Whether runConditions reads the spans table for these filters: several step dimensions at once
 * (one span must have all the values) or an empty value (a span without a tool, say) are not in
 * the run's lists.
 */
export function runConditionsReadSpans(filters: Filters): boolean {
  const steps = stepFiltersOf(filters);
  return steps.length > 1 || steps.some(([, values]) => values.includes(''));
}

/**
 * Conditions on runs_v r: run dimensions directly, step dimensions as "its trace has a span record
 * with that value". One step dimension is answered by the run's list of its trace's values
 * (trace_tools, trace_models, trace_providers): 647 thousand runs over 30 days at 10 million spans
 * read without touching the spans. Otherwise (runConditionsReadSpans) the spans are read: with the
 * tenant's bound parameter (the caller's r.tenant = tenant) as one uncorrelated set of trace ids,
 * built once, as a correlated EXISTS makes the engine join every run's trace to the spans.
 */
export function runConditions(filters: Filters, p: Params, tenant?: string): string[] {
  const out: string[] = [];
  for (const [dim, values] of Object.entries(filters) as [Dimension, string[]][]) {
    const col = RUN_COLUMNS[dim];
    if (values?.length && col) out.push(p.in(values, col));
  }
  const steps = stepFiltersOf(filters);
  if (!steps.length) return out;
  if (!runConditionsReadSpans(filters)) {
    const [dim, values] = steps[0];
    out.push(p.dialect.hasAny(TRACE_LISTS[dim]!, p.list(values)));
    return out;
  }
  const stepFilters = steps.map(([dim, values]) => p.in(values, STEP_COLUMNS[dim]));
  out.push(
    tenant
      ? `r.trace_id IN (SELECT s.trace_id FROM spans s WHERE s.tenant = ${tenant} AND ${stepFilters.join(' AND ')})`
      : `EXISTS (SELECT 1 FROM spans s WHERE s.tenant = r.tenant AND s.trace_id = r.trace_id AND ${stepFilters.join(' AND ')})`,
  );
  return out;
}

/** Conditions on steps_v s. */
export function stepConditions(filters: Filters, p: Params): string[] {
  const out: string[] = [];
  for (const [dim, values] of Object.entries(filters) as [Dimension, string[]][]) {
    if (!values?.length) continue;
    out.push(p.in(values, STEP_COLUMNS[dim]));
  }
  return out;
}

/** Columns of usage_v (alias u) per run dimension. */
const USAGE_COLUMNS: Partial<Record<Dimension, string>> = {
  agent: 'agent',
  agentVersion: 'agent_version',
  status: 'status',
  channel: 'channel',
  environment: 'environment',
  service: 'service',
  conversation: 'conversation_id',
  user: 'user_id',
};

/**
 * Conditions on usage_v (alias a) as one SQL condition, tool filters excepted (llm-usage.ts).
 * Model and provider filter the calls of LLM steps by their own model; a run-level row (a run's
 * own totals) by whether its trace has a span of that model, as the runs' filters do (runConditions).
 */
export function usageConditions(filters: Filters, p: Params, a: string): string {
  const out: string[] = [];
  const byStep: string[] = [];
  const byTrace: string[] = [];
  for (const [dim, values] of Object.entries(filters) as [Dimension, string[]][]) {
    if (!values?.length || dim === 'tool') continue;
    const col = USAGE_COLUMNS[dim];
    if (col) out.push(p.in(values, `${a}.${col}`));
    else {
      const list = p.list(values);
      const column = STEP_COLUMNS[dim].replace(/^s\./, '');
      byStep.push(p.dialect.inList(list, `${a}.${column}`));
      byTrace.push(p.dialect.inList(list, `x.${column}`));
    }
  }
  if (byStep.length) {
    out.push(
      `((NOT ${a}.run_level AND ${byStep.join(' AND ')}) OR (${a}.run_level AND EXISTS (SELECT 1 FROM spans x WHERE x.tenant = ${a}.tenant AND x.trace_id = ${a}.trace_id AND ${byTrace.join(' AND ')})))`,
    );
  }
  return out.length ? out.join(' AND ') : 'true';
}
