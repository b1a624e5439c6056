/**
 * Tool calls as the relations tool metrics, tool errors and tool series read, from the stored
 * rollup where the store keeps one (DuckDB: store/duckdb/tool-rollup.ts) and the query allows it,
 * else call by call from steps_v.
 *
 * The rollup sums calls per 15-minute UTC bucket, so it serves the buckets wholly inside the range;
 * the calls of the partial buckets at the range's ends are read one by one (as LLM usage does,
 * llm-usage.ts). It keeps the run dimensions filters and groups use on tool calls (agent, version,
 * status, channel, environment, service) and the tool: a filter or a group by conversation, user,
 * model or provider reads the calls. Its figures are exact: the same sums in fewer rows.
 *
 * Latency percentiles are exact (dialect.percentile over every duration) up to
 * exactPercentileCalls calls in the query's scope; beyond, they come from the stored latency
 * histogram (derive/latency-bins.ts, within 1%). Sorting 4.8 million durations takes 0.2-0.7 s on
 * two cores; the histogram of 30 days is 3.1 million counts per 15 minutes, 214,000 per day, read
 * without a sort.
 *
 * Percentiles per hour (keys of whole hours shorter than a day) come from the durations stored
 * sorted per hour and tool (derive/duration-lists.ts): exact, read by position. The histogram and
 * the lists keep the tool, the run's agent and its environment: with a filter on any other run
 * dimension, percentiles read every call and stay exact.
 */
import { Dimension, Filters } from '@agent-insights/model';
import { DURATION_LIST_MS, durationListSql } from '../../derive/duration-lists';
import { valueSql } from '../../derive/latency-bins';
import { USAGE_BUCKET_MS, wholeBucketSpan } from '../../derive/steps-usage';
import { QueryEnv } from '../context';
import { Params, stepConditions } from '../filters-sql';

const BUCKET_MS = USAGE_BUCKET_MS;
const DAY_MS = 86_400_000;

/** Up to this many calls in scope, percentiles are computed exactly (about 50 ms here). */
export const EXACT_PERCENTILE_CALLS = 250_000;

/** Dimensions the rollup keeps (columns named as on steps_v, so filters-sql applies to both). */
const ROLLUP_DIMENSIONS = new Set<Dimension>(['agent', 'agentVersion', 'status', 'channel', 'environment', 'service', 'tool']);

const filtered = (filters: Filters): Dimension[] => (Object.keys(filters) as Dimension[]).filter((d) => filters[d]?.length);

export interface ToolScope {
  filters: Filters;
  range: { from: number; to: number };
  groupBy?: Dimension;
  /** The consumer's time keys' length (ms), when it keys by time. */
  keyGrainMs?: number;
}

/** Whole 15-minute buckets inside the range [from, to] (ms, inclusive), as [from, to); null when none. */
function wholeBuckets(range: { from: number; to: number }): { from: number; to: number } | null {
  const whole = wholeBucketSpan(range);
  return whole.from < whole.to ? whole : null;
}

/** Whether the rollup serves the scope: the store has it, the query uses only its dimensions and buckets. */
export function rollupServes(env: QueryEnv, scope: ToolScope): boolean {
  if (env.store.toolRollup !== true || !wholeBuckets(scope.range)) return false;
  if (scope.keyGrainMs !== undefined && scope.keyGrainMs % BUCKET_MS !== 0) return false;
  if (scope.groupBy && !ROLLUP_DIMENSIONS.has(scope.groupBy)) return false;
  return filtered(scope.filters).every((d) => ROLLUP_DIMENSIONS.has(d));
}

/**
 * Dimensions the latency histogram and the duration lists keep: the tool, and the run's agent and
 * environment (the dashboards' filters besides the model).
 */
const LATENCY_DIMENSIONS = new Set<Dimension>(['tool', 'agent', 'environment']);

/** Whether only the dimensions the latency tables keep filter the scope, and at most the tool groups it. */
function latencyScope(scope: ToolScope): boolean {
  return (!scope.groupBy || scope.groupBy === 'tool') && filtered(scope.filters).every((d) => LATENCY_DIMENSIONS.has(d));
}

/** Whether the latency histogram serves the scope: the rollup does, and only its dimensions filter. */
export function histogramServes(env: QueryEnv, scope: ToolScope): boolean {
  return rollupServes(env, scope) && latencyScope(scope);
}

/**
 * Whether the hourly duration lists serve a latency series whose keys are intervals aligned on the
 * UTC epoch (the caller knows: time series buckets shorter than a day, buckets.ts): the store keeps
 * them (with the rollup), the keys are whole hours, and only their dimensions filter.
 */
export function durationListsServe(env: QueryEnv, scope: ToolScope): boolean {
  const grain = scope.keyGrainMs;
  if (env.store.toolRollup !== true || grain === undefined || grain % DURATION_LIST_MS !== 0 || grain >= DAY_MS) return false;
  return latencyScope(scope);
}

/** Whether a run dimension (agent, environment) filters the scope: the duration lists per agent and environment are read. */
export function runFiltered(scope: ToolScope): boolean {
  return filtered(scope.filters).some((d) => d !== 'tool');
}

export function exactPercentileCalls(env: QueryEnv): number {
  return env.exactPercentileCalls ?? EXACT_PERCENTILE_CALLS;
}

/**
 * Whether latency percentiles of the scope come from the histogram: it serves the scope and the
 * scope holds more calls with a duration than exact percentiles are computed for (one sum over the
 * rollup's rows tells: a few milliseconds).
 */
export async function percentilesEstimated(env: QueryEnv, scope: ToolScope): Promise<boolean> {
  if (!histogramServes(env, scope)) return false;
  const p = new Params(env.dialect);
  const rel = toolCallsRelation(env, p, scope, () => []);
  const [row] = await env.store.read(`SELECT sum(s.durations) AS n FROM (${rel.sql}) s`, p.values);
  return Number(row?.n ?? 0) > exactPercentileCalls(env);
}

const RUN_DIMS = 's.run_agent, s.run_agent_version, s.run_status, s.run_environment, s.run_service, s.run_channel';

/** Column list of one call read from steps_v s (the rollup's shape; t as given). */
function callColumns(t: string): string {
  return `${t} AS t, s.tool_name, ${RUN_DIMS}, s.status_code = 2 AS failed, CASE WHEN s.status_code = 2 THEN s.error_type ELSE '' END AS error_type,
    1 AS calls, CASE WHEN s.status_code = 2 THEN 1 ELSE 0 END AS errors, s.duration_ms AS duration_sum, CASE WHEN s.duration_ms IS NULL THEN 0 ELSE 1 END AS durations,
    s.start_time AS last_start, CASE WHEN s.status_code = 2 THEN s.status_message END AS last_message`;
}

/**
 * Plain time ranges covering the range's calls outside its whole buckets: the partial bucket at
 * each end (each a range the engine can skip storage blocks by).
 */
function partialParts(env: QueryEnv, range: { from: number; to: number }, whole: { from: number; to: number }): string[][] {
  const d = env.dialect;
  // No whole interval inside the range: the range itself is the one part.
  if (whole.from >= whole.to) return [[`s.start_time >= ${d.timestamp(range.from)}`, `s.start_time <= ${d.timestamp(range.to)}`]];
  const parts: string[][] = [];
  if (range.from < whole.from) parts.push([`s.start_time >= ${d.timestamp(range.from)}`, `s.start_time < ${d.timestamp(whole.from)}`]);
  if (whole.to <= range.to) parts.push([`s.start_time >= ${d.timestamp(whole.to)}`, `s.start_time <= ${d.timestamp(range.to)}`]);
  return parts;
}

export interface ToolRelation {
  /** SQL of the relation, to be used as a subquery. */
  sql: string;
  /** Whether it reads the rollup (t is then a bucket start on every row, and there is no duration_ms). */
  rollup: boolean;
}

/**
 * The tool calls of the scope: t, tool_name, run_agent, run_agent_version, run_status,
 * run_environment, run_service, run_channel, failed, error_type, calls, errors, duration_sum,
 * durations, last_start, last_message; call by call also duration_ms, run_conversation_id,
 * run_user_id, model and provider, and the exact start as t.
 * `conditions` are the caller's filter conditions on steps_v s when the rollup does not serve
 * (callers differ in what a model filter means for a tool call); with the rollup only run
 * dimensions and the tool filter, which mean the same for both.
 */
export function toolCallsRelation(
  env: QueryEnv,
  p: Params,
  scope: ToolScope,
  conditions: (p: Params) => string[],
  opts: { onlyFailed?: boolean; /** One row per call, with duration_ms (exact percentiles). */ perCall?: boolean } = {},
): ToolRelation {
  const d = env.dialect;
  const tenant = p.add(env.tenant);
  const failed = opts.onlyFailed ? ['s.status_code = 2'] : [];
  const whole = !opts.perCall && rollupServes(env, scope) ? wholeBuckets(scope.range) : null;
  if (!whole) {
    const where = [`s.tenant = ${tenant}`, `s.role = 'tool'`, `s.start_time >= ${d.timestamp(scope.range.from)}`, `s.start_time <= ${d.timestamp(scope.range.to)}`, ...failed, ...conditions(p)];
    return { sql: `SELECT ${callColumns('s.start_time')}, s.duration_ms, s.run_conversation_id, s.run_user_id, s.model, s.provider FROM steps_v s WHERE ${where.join(' AND ')}`, rollup: false };
  }
  const filters = stepConditions(scope.filters, p);
  const branches = [
    `SELECT s.bucket AS t, s.tool_name, ${RUN_DIMS}, s.failed, s.error_type, s.calls, CASE WHEN s.failed THEN s.calls ELSE 0 END AS errors,
       s.duration_sum, s.durations, s.last_start, s.last_message
     FROM tool_rollup_v s
     WHERE ${[`s.tenant = ${tenant}`, `s.bucket >= ${d.timestamp(whole.from)}`, `s.bucket < ${d.timestamp(whole.to)}`, ...(opts.onlyFailed ? ['s.failed'] : []), ...filters].join(' AND ')}`,
  ];
  // A partial bucket's calls carry their bucket's start as t: keys are whole multiples of 15 minutes.
  const bucketStart = d.bucketStart('s.start_time', BUCKET_MS);
  for (const part of partialParts(env, scope.range, whole)) {
    branches.push(`SELECT ${callColumns(bucketStart)} FROM steps_v s WHERE ${[`s.tenant = ${tenant}`, `s.role = 'tool'`, ...part, ...failed, ...filters].join(' AND ')}`);
  }
  return { sql: branches.join('\n     UNION ALL '), rollup: true };
}

/**
 * The latency histogram of the scope (histogramServes): t (bucket or day start), tool_name, bin,
 * calls. Without time keys, whole UTC days come from the day table (30 days: 140,000 rows
 * instead of 2.1 million), the whole buckets around them from the bucket table, the partial
 * buckets at the ends call by call.
 */
export function latencyHistogramRelation(env: QueryEnv, p: Params, scope: ToolScope, binOf: (durationMs: string) => string): string {
  const d = env.dialect;
  const tenant = p.add(env.tenant);
  const whole = wholeBuckets(scope.range)!;
  const filters = stepConditions(scope.filters, p);
  // Rows per agent and environment: summed over them unless filtered (histograms add up).
  const rows = (table: string, time: string, from: number, to: number) =>
    `SELECT s.${time} AS t, s.tool_name, s.bin, s.calls FROM ${table} s
     WHERE ${[`s.tenant = ${tenant}`, `s.${time} >= ${d.timestamp(from)}`, `s.${time} < ${d.timestamp(to)}`, ...filters].join(' AND ')}`;
  const days = scope.keyGrainMs === undefined ? { from: Math.ceil(whole.from / DAY_MS) * DAY_MS, to: Math.floor(whole.to / DAY_MS) * DAY_MS } : null;
  const branches =
    days && days.from < days.to
      ? [
          rows('tool_latency_day', 'day', days.from, days.to),
          ...(whole.from < days.from ? [rows('tool_latency', 'bucket', whole.from, days.from)] : []),
          ...(days.to < whole.to ? [rows('tool_latency', 'bucket', days.to, whole.to)] : []),
        ]
      : [rows('tool_latency', 'bucket', whole.from, whole.to)];
  const bucketStart = d.bucketStart('s.start_time', BUCKET_MS);
  for (const part of partialParts(env, scope.range, whole)) {
    branches.push(
      `SELECT ${bucketStart} AS t, s.tool_name, ${binOf('s.duration_ms')} AS bin, 1 AS calls FROM steps_v s
       WHERE ${[`s.tenant = ${tenant}`, `s.role = 'tool'`, 's.duration_ms IS NOT NULL', ...part, ...filters].join(' AND ')}`,
    );
  }
  return branches.join('\n     UNION ALL ');
}

/**
 * Percentiles from a histogram relation (columns k, g, bin, n; one row per key, group and bin):
 * per (k, g), the values at the ranks linear interpolation needs, interpolated as
 * dialect.percentile does between the values their bins stand for. Columns k, g, total, p0..pN.
 */
export function histogramPercentilesSql(hist: string, ps: number[]): string {
  const pick = (rank: string) => `min(CASE WHEN c.upto > ${rank} THEN c.bin END)`;
  const cols = ps.map((q, i) => {
    const h = `(c.total - 1) * ${q}`;
    return `${pick(`floor(${h})`)} AS lo${i}, ${pick(`ceil(${h})`)} AS hi${i}, ${h} - floor(${h}) AS f${i}`;
  });
  const values = ps.map((_, i) => `${valueSql(`lo${i}`)} + f${i} * (${valueSql(`hi${i}`)} - ${valueSql(`lo${i}`)}) AS p${i}`);
  return `SELECT k, g, total, ${values.join(', ')} FROM (
    SELECT c.k, c.g, c.total, ${cols.join(', ')}
    FROM (SELECT h.k, h.g, h.bin, sum(h.n) OVER (PARTITION BY h.k, h.g ORDER BY h.bin ROWS UNBOUNDED PRECEDING) AS upto,
            sum(h.n) OVER (PARTITION BY h.k, h.g) AS total
          FROM (${hist}) h) c
    GROUP BY c.k, c.g, c.total) x`;
}

/**
 * The scope's durations per hour and tool (durationListsServe): t (hour start), tool_name,
 * durations (sorted). Whole hours come from tool_durations: the rows over all runs, one per
 * (hour, tool), or with an agent or environment filter the matching rows per agent and
 * environment, several per (hour, tool). The calls of the partial hours at the range's ends are
 * listed from steps_v, one row per (hour, tool). Together they hold exactly the calls in the range.
 */
export function durationListsRelation(env: QueryEnv, p: Params, scope: ToolScope): string {
  const d = env.dialect;
  const tenant = p.add(env.tenant);
  const whole = wholeBucketSpan(scope.range, DURATION_LIST_MS);
  const filters = stepConditions(scope.filters, p);
  const branches: string[] = [];
  if (whole.from < whole.to) {
    const rows = runFiltered(scope) ? 's.run_agent IS NOT NULL' : 's.run_agent IS NULL';
    branches.push(`SELECT s.hour AS t, s.tool_name, s.durations FROM tool_durations s
     WHERE ${[`s.tenant = ${tenant}`, `s.hour >= ${d.timestamp(whole.from)}`, `s.hour < ${d.timestamp(whole.to)}`, rows, ...filters].join(' AND ')}`);
  }
  for (const part of partialParts(env, scope.range, whole)) {
    branches.push(
      `SELECT ${d.bucketStart('s.start_time', DURATION_LIST_MS)} AS t, s.tool_name, ${durationListSql('s.duration_ms')} AS durations FROM steps_v s
       WHERE ${[`s.tenant = ${tenant}`, `s.role = 'tool'`, ...part, ...filters].join(' AND ')} GROUP BY 1, 2`,
    );
  }
  return branches.join('\n     UNION ALL ');
}
