/**
 * One aggregate query for metrics of one source over the query's time range and filters,
 * optionally per time bucket (a key expression on the source's time column) and per value of a
 * dimension. Run statistics, time series and heatmaps are all this query with different keys.
 */
import { USAGE_BUCKET_MS } from '../../derive/steps-usage';
import { Dimension, DIMENSION_LABELS, Filters, Metric, ResolvedQuery } from '@agent-insights/model';
import { QueryEnv, QueryError } from '../context';
import { Params, runConditions, STEP_COLUMNS } from '../filters-sql';
import { PricedUsage, pricedUsage, pricingOf, usageByTime } from './llm-usage';
import { METRIC_DEFINITIONS, Source } from './metric-definitions';
import { sessionConditions } from './sessions';
import { DAY_MS } from './local-time';
import { binSql } from '../../derive/latency-bins';
import { DURATION_LIST_MS, listPercentileSql, sortedListPercentileSql } from '../../derive/duration-lists';
import { durationListsRelation, durationListsServe, runFiltered, histogramPercentilesSql, latencyHistogramRelation, percentilesEstimated, ToolScope, toolCallsRelation } from './tool-calls';

interface SourceShape {
  from: string;
  tenant?: string;
  time: string;
  where: string[];
}

const SOURCES: Record<Source, SourceShape> = {
  runs: { from: 'runs_v r', tenant: 'r.tenant', time: 'r.start_time', where: [] },
  // Tenant, range and filters are applied inside the tool calls relation (tool-calls.ts).
  tools: { from: 'tool_calls s', time: 's.t', where: [] },
  // Tenant, range and filters are applied inside the llm_usage relation.
  llm: { from: 'llm_usage u', time: 'u.t', where: [] },
  sessions: { from: 'sessions se', tenant: 'se.tenant', time: 'se.start_time', where: [] },
};

const RUN_GROUP_COLUMNS: Partial<Record<Dimension, string>> = {
  agent: 'r.agent',
  agentVersion: 'r.agent_version',
  status: 'r.status',
  channel: 'r.channel',
  environment: 'r.environment',
  service: 'r.service',
};

const USAGE_GROUP_COLUMNS: Partial<Record<Dimension, string>> = {
  agent: 'u.agent',
  agentVersion: 'u.agent_version',
  status: 'u.status',
  channel: 'u.channel',
  environment: 'u.environment',
  service: 'u.service',
  model: 'u.model',
  provider: 'u.provider',
};

const SESSION_GROUP_COLUMNS: Partial<Record<Dimension, string>> = {
  agent: 'se.agent',
  status: 'se.status',
  channel: 'se.channel',
  environment: 'se.environment',
  service: 'se.service',
};

/** Step dimensions, and the role of the steps that carry each. */
const STEP_DIMENSIONS: Partial<Record<Dimension, { column: string; role: string }>> = {
  tool: { column: 'tool_name', role: 'tool' },
  model: { column: 'model', role: 'llm' },
  provider: { column: 'provider', role: 'llm' },
};

const contains = (p: Params, values: string[], col: string) => p.in(values, col);

/**
 * Filters on tool steps: the tool filters the step itself (calls of lookup_order); model and
 * provider describe its run (tool calls of runs that used gpt-4o), as for run metrics.
 */
function toolStepFilters(filters: Filters, p: Params): string[] {
  const out: string[] = [];
  for (const [dim, values] of Object.entries(filters) as [Dimension, string[]][]) {
    if (!values?.length) continue;
    const step = STEP_DIMENSIONS[dim];
    if (step && dim !== 'tool') {
      out.push(`EXISTS (SELECT 1 FROM spans x WHERE x.tenant = s.tenant AND x.trace_id = s.trace_id AND x.record = 'span' AND ${contains(p, values, `x.${step.column}`)})`);
    } else out.push(contains(p, values, STEP_COLUMNS[dim]));
  }
  return out;
}

/** LLM usage of the query's scope (a tool filter selects the calls of runs that called the tool). */
function usageOf(q: ResolvedQuery, env: QueryEnv, p: Params, perCall: boolean): Promise<PricedUsage> {
  return pricedUsage(env, p, { filters: q.filters, range: q.range, perCall });
}

/**
 * A key is constant within each usage bucket (15 minutes of UTC, a multiple of every zone's
 * offset) when its grain is a multiple of it.
 */
const BUCKET_MS = USAGE_BUCKET_MS;

function cannotGroup(metric: string, dim: Dimension, why: string): QueryError {
  return new QueryError(`${metric} cannot be grouped by ${DIMENSION_LABELS[dim].toLowerCase()}: ${why}`);
}

/** The group column, and a join that provides it where the source does not carry it. */
function groupColumn(source: Source, dim: Dimension, metric: string, tenant: () => string): { col: string; join?: string } {
  const step = STEP_DIMENSIONS[dim];
  switch (source) {
    case 'runs':
      if (RUN_GROUP_COLUMNS[dim]) return { col: RUN_GROUP_COLUMNS[dim] as string };
      if (!step) break;
      // A run counts once under each tool (model, provider) it used; runs without one are in no group.
      return {
        col: 'g.value',
        join: `JOIN (SELECT DISTINCT s.tenant, s.run_id, s.${step.column} AS value FROM steps_v s
          WHERE s.tenant = ${tenant()} AND s.role = '${step.role}' AND s.${step.column} <> '') g ON g.tenant = r.tenant AND g.run_id = r.run_id`,
      };
    case 'tools':
      return { col: STEP_COLUMNS[dim] };
    case 'llm':
      if (USAGE_GROUP_COLUMNS[dim]) return { col: USAGE_GROUP_COLUMNS[dim] as string };
      throw cannotGroup(metric, dim, 'tokens and cost are counted on LLM calls, which call no tool');
    case 'sessions':
      if (SESSION_GROUP_COLUMNS[dim]) return { col: SESSION_GROUP_COLUMNS[dim] as string };
      throw cannotGroup(metric, dim, 'sessions do not have it');
  }
  throw cannotGroup(metric, dim, 'unknown dimension');
}

export interface AggregateSpec {
  /** Metrics of one source. */
  metrics: Metric[];
  /** Bucket key of a row, an SQL number expression on the source's time column. */
  key?: (timeColumn: string) => string;
  /** The length of the key's intervals (ms): keys finer than 15 minutes need LLM calls one by one. */
  keyGrainMs?: number;
  groupBy?: Dimension;
  /**
   * The key is costly per row (a time-zone conversion) and constant within each 15-minute UTC
   * bucket (keyGrainMs a multiple of 15 minutes): compute it once per bucket that holds rows and
   * join it, instead of once per row (647,039 runs over 30 days at 10 million spans).
   */
  keyPerBucket?: boolean;
  /**
   * The key cuts time into intervals of keyGrainMs aligned on the UTC epoch (time series buckets
   * shorter than a day), so an interval of whole UTC hours holds whole stored hours; a zone's local
   * hours (heatmaps) do not, at offsets of half an hour.
   */
  keyOnEpoch?: boolean;
}

export interface AggregateResult {
  rows: AggregateRow[];
  /** For LLM metrics: the usage relation, which knows the calls without a price. */
  usage?: PricedUsage;
}

export interface AggregateRow {
  key: number | null;
  group: string | null;
  values: (number | null)[];
}

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

export async function aggregate(q: ResolvedQuery, env: QueryEnv, spec: AggregateSpec): Promise<AggregateResult> {
  const defs = spec.metrics.map((m) => METRIC_DEFINITIONS[m]);
  const source = defs[0].source;
  if (defs.some((d) => d.source !== source)) throw new Error('aggregate: metrics of different sources');
  if (source === 'tools') {
    if (spec.groupBy === 'model' || spec.groupBy === 'provider') throw cannotGroup(spec.metrics[0], spec.groupBy, 'tool calls have no model');
    if (latencyOnly(spec) && spec.keyOnEpoch && durationListsServe(env, toolScope(q, spec))) return { rows: await latencyFromDurationLists(q, env, spec) };
    const estimated = await estimatedLatency(q, env, spec);
    if (estimated) return { rows: await latencyFromHistogram(q, env, spec) };
  }
  const shape = SOURCES[source];
  const { dialect } = env;
  const p = new Params(env.dialect);
  // The usage relation is a CTE whose parameters come first (and which filters by tenant itself).
  const perCall = spec.key !== undefined && (spec.keyGrainMs === undefined || spec.keyGrainMs % BUCKET_MS !== 0);
  const usage = source === 'llm' ? await usageOf(q, env, p, perCall) : undefined;
  let tenantParam: string | undefined;
  const tenant = () => (tenantParam ??= p.add(env.tenant));
  const where = [...shape.where];
  if (shape.tenant) where.push(`${shape.tenant} = ${tenant()}`, `${shape.time} >= ${dialect.timestamp(q.range.from)}`, `${shape.time} <= ${dialect.timestamp(q.range.to)}`);
  if (source === 'runs') where.push(...runConditions(q.filters, p, shape.tenant ? tenant() : undefined));
  else if (source === 'sessions') where.push(...sessionConditions(q.filters, p));
  let from = shape.from;
  let keyPerBucket = spec.keyPerBucket;
  if (source === 'tools') {
    const scope = toolScope(q, spec);
    const perCall = spec.metrics.includes('toolLatencyP95');
    const rel = toolCallsRelation(env, p, scope, (pp) => toolStepFilters(q.filters, pp), { perCall });
    // Sums per 15 minutes are summed per bucket (and group) first: the key is then computed once per
    // bucket, not per stored row.
    const g = spec.groupBy ? STEP_COLUMNS[spec.groupBy] : undefined;
    from = rel.rollup
      ? `(SELECT s.t${g ? `, ${g}` : ''}, sum(s.calls) AS calls, sum(s.errors) AS errors FROM (${rel.sql}) s GROUP BY s.t${g ? `, ${g}` : ''}) s`
      : `(${rel.sql}) s`;
    if (rel.rollup) keyPerBucket = false;
  }

  const keys: string[] = [];
  const select: string[] = [];
  let join = '';
  let keyCte = '';
  const llmKeyed = source === 'llm' && perCall && spec.key !== undefined && !spec.keyPerBucket;
  const bucketed = spec.key && keyPerBucket && source !== 'llm' && spec.keyGrainMs !== undefined && spec.keyGrainMs % BUCKET_MS === 0;
  if (spec.key && bucketed) {
    // Every row of a bucket has the key of the bucket's earliest row, as the key cannot change
    // inside a 15-minute UTC bucket (every zone's offset is a multiple of 15 minutes).
    const bucket = dialect.bucketEpochMs(shape.time, BUCKET_MS);
    const cond = where.length ? ` WHERE ${where.join(' AND ')}` : '';
    keyCte = `WITH kb AS (SELECT b, ${spec.key('bt')} AS k FROM (SELECT ${bucket} AS b, min(${shape.time}) AS bt FROM ${from}${cond} GROUP BY ${bucket}) x)\n`;
    join = ` JOIN kb ON kb.b = ${bucket}`;
    keys.push('kb.k');
    select.push('kb.k AS k');
  } else if (spec.key) {
    // LLM calls read one by one are keyed while summed (usageByTime): t is the key already.
    keys.push(llmKeyed ? shape.time : spec.key(shape.time));
    select.push(`${keys[keys.length - 1]} AS k`);
  }
  if (spec.groupBy) {
    const g = groupColumn(source, spec.groupBy, spec.metrics[0], tenant);
    if (g.join) join = `${g.join}${join}`;
    keys.push(g.col);
    select.push(`${g.col} AS g`);
  }
  const ctx = { dialect, nowMs: env.nowMs, creditsPerUsd: pricingOf(env).creditsPerUsd };
  defs.forEach((d, i) => select.push(`CAST(${d.sql(ctx)} AS DOUBLE) AS m${i}`));
  // LLM usage is summed per time (and group) first: the key is then computed once per bucket.
  if (source === 'llm') from = `${usageByTime(spec.groupBy ? [USAGE_GROUP_COLUMNS[spec.groupBy]!.replace(/^u\./, '')] : [], llmKeyed ? spec.key : undefined)} u`;
  const sql =
    (usage ? `WITH ${usage.ctes}\n` : keyCte) +
    `SELECT ${select.join(', ')} FROM ${from} ${join}${where.length ? ` WHERE ${where.join(' AND ')}` : ''}${keys.length ? ` GROUP BY ${keys.join(', ')}` : ''}`;
  const rows = await env.store.read(sql, p.values);
  return {
    usage,
    rows: rows.map((r) => ({
      key: spec.key ? num(r.k) : null,
      group: spec.groupBy ? String(r.g ?? '') : null,
      values: defs.map((_, i) => num(r[`m${i}`])),
    })),
  };
}

function toolScope(q: ResolvedQuery, spec: AggregateSpec): ToolScope {
  return { filters: q.filters, range: q.range, groupBy: spec.groupBy, keyGrainMs: spec.key ? spec.keyGrainMs ?? 1 : undefined };
}

/** Whether the aggregate is the tool latency p95 alone (the metric with latency paths of its own). */
const latencyOnly = (spec: AggregateSpec): boolean => spec.metrics.length === 1 && spec.metrics[0] === 'toolLatencyP95';

/**
 * Whether tool latency percentiles come from the histogram (tool-calls.ts percentilesEstimated),
 * for a series of them.
 */
async function estimatedLatency(q: ResolvedQuery, env: QueryEnv, spec: AggregateSpec): Promise<boolean> {
  if (!latencyOnly(spec)) return false;
  // Per hour, a tool's calls (about 450 of them per hour and tool over 30 days at 10 million
  // spans) spread over nearly as many bins: the histogram is no smaller than the calls, and its
  // cumulative counts cost more than the exact percentiles (1 s against 0.2-0.4 s, measured);
  // whole hours read the sorted duration lists instead (latencyFromDurationLists).
  if (spec.key && (spec.keyGrainMs ?? 0) < DAY_MS) return false;
  return percentilesEstimated(env, toolScope(q, spec));
}

/** Tool latency p95 per key and group, from the latency histogram (tool-calls.ts). */
async function latencyFromHistogram(q: ResolvedQuery, env: QueryEnv, spec: AggregateSpec): Promise<AggregateRow[]> {
  const d = env.dialect;
  const p = new Params(d);
  const rel = latencyHistogramRelation(env, p, toolScope(q, spec), binSql);
  const g = spec.groupBy ? 's.tool_name' : "''";
  let sql: string;
  if (spec.key && spec.keyPerBucket) {
    // A zone's calendar key once per 15-minute bucket, joined, rather than per histogram row.
    sql = `SELECT kb.k, ${g} AS g, s.bin, sum(s.calls) AS n FROM (${rel}) s
      JOIN (SELECT x.t, ${spec.key('x.t')} AS k FROM (SELECT DISTINCT y.t FROM (${rel}) y) x) kb ON kb.t = s.t GROUP BY 1, 2, 3`;
  } else {
    sql = `SELECT ${spec.key ? spec.key('s.t') : '0'} AS k, ${g} AS g, s.bin, sum(s.calls) AS n FROM (${rel}) s GROUP BY 1, 2, 3`;
  }
  const rows = await env.store.read(histogramPercentilesSql(sql, [0.95]), p.values);
  return rows.map((r) => ({ key: spec.key ? num(r.k) : null, group: spec.groupBy ? String(r.g ?? '') : null, values: [num(r.p0)] }));
}

/**
 * Tool latency p95 per key and group from the hourly sorted duration lists (tool-calls.ts
 * durationListsRelation): exact. Where each key and group is one list (hourly keys over all runs,
 * by tool or of one tool), the value is read by position; else the group's lists (several hours,
 * all tools, or per agent and environment) are joined and quantile_cont runs over them, still
 * without a hash grouping per call.
 */
async function latencyFromDurationLists(q: ResolvedQuery, env: QueryEnv, spec: AggregateSpec): Promise<AggregateRow[]> {
  const p = new Params(env.dialect);
  const scope = toolScope(q, spec);
  const rel = durationListsRelation(env, p, scope);
  const g = spec.groupBy ? 's.tool_name' : "''";
  // One list per key and group: hourly keys over all runs, by tool or of one tool.
  const oneList = spec.keyGrainMs === DURATION_LIST_MS && !runFiltered(scope) && (spec.groupBy === 'tool' || q.filters.tool?.length === 1);
  const sql = oneList
    ? `SELECT ${spec.key!('s.t')} AS k, ${g} AS g, ${sortedListPercentileSql('s.durations', 0.95)} AS p FROM (${rel}) s`
    : `SELECT k, g, ${listPercentileSql('d', 0.95)} AS p FROM (SELECT ${spec.key!('s.t')} AS k, ${g} AS g, flatten(list(s.durations)) AS d FROM (${rel}) s GROUP BY 1, 2) x`;
  const rows = await env.store.read(sql, p.values);
  return rows.map((r) => ({ key: num(r.k), group: spec.groupBy ? String(r.g ?? '') : null, values: [num(r.p)] }));
}
