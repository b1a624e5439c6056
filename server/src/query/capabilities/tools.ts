/**
 * Tool metrics: calls per tool (most used first), success and error rate, latency average and
 * percentiles, the most frequent error; and a table of error types per tool.
 * A tool call is a tool step (steps_v role 'tool'); it belongs to the range by its start; it failed
 * when its span status is error (status_code 2). Success and error rate are over all calls of the
 * tool and add up to 100%. Latency is the span's duration; percentiles interpolate linearly
 * (dialect.percentile, the one definition of design.md).
 */
import { ResolvedQuery } from '@agent-insights/model';
import { binSql, LATENCY_RELATIVE_ERROR } from '../../derive/latency-bins';
import { Capability, QueryEnv } from '../context';
import { Dialect } from '../dialect';
import { field, frame, withNotice } from '../frame';
import { Params, stepConditions } from '../filters-sql';
import { exactPercentileCalls, histogramPercentilesSql, latencyHistogramRelation, percentilesEstimated, ToolScope, toolCallsRelation } from './tool-calls';

const NO_TOOL_NAME = '(unnamed tool)';
const NO_ERROR_TYPE = '(no error type)';

const toolOf = (d: Dialect, col: string) => `CASE WHEN ${col} = '' THEN ${d.quote(NO_TOOL_NAME)} ELSE ${col} END`;
const errorTypeOf = (d: Dialect, col: string) => `CASE WHEN ${col} = '' THEN ${d.quote(NO_ERROR_TYPE)} ELSE ${col} END`;

/** The tool calls of the query (tool-calls.ts: summed where the store's rollup serves, else one by one). */
function callsSql(q: ResolvedQuery, env: QueryEnv, p: Params, opts: { onlyFailed?: boolean; perCall?: boolean } = {}): string {
  const scope: ToolScope = { filters: q.filters, range: q.range };
  return toolCallsRelation(env, p, scope, (pp) => stepConditions(q.filters, pp), opts).sql;
}

const PERCENTILES = [0.5, 0.95, 0.99];

type ByTool = Map<string, (number | null)[]>;

/** Per tool: p50, p95, p99 of call durations, from the latency histogram (tool-calls.ts). */
async function estimatedPercentiles(q: ResolvedQuery, env: QueryEnv): Promise<ByTool> {
  const d = env.dialect;
  const p = new Params(d);
  const scope: ToolScope = { filters: q.filters, range: q.range, groupBy: 'tool' };
  const rows = await env.store.read(
    histogramPercentilesSql(`SELECT 0 AS k, ${toolOf(d, 's.tool_name')} AS g, s.bin, sum(s.calls) AS n FROM (${latencyHistogramRelation(env, p, scope, binSql)}) s GROUP BY 2, 3`, PERCENTILES),
    p.values,
  );
  return new Map(rows.map((r) => [String(r.g), PERCENTILES.map((_, i) => (r[`p${i}`] === null || r[`p${i}`] === undefined ? null : Number(r[`p${i}`])))]));
}

/** Per tool: p50, p95, p99 of call durations, exactly (every duration, dialect.percentiles). */
async function exactPercentiles(q: ResolvedQuery, env: QueryEnv): Promise<ByTool> {
  const d = env.dialect;
  const p = new Params(d);
  const rows = await env.store.read(
    `SELECT ${toolOf(d, 'c.tool_name')} AS g, ${d.percentiles('c.duration_ms', PERCENTILES)} AS ps FROM (${callsSql(q, env, p, { perCall: true })}) c GROUP BY 1`,
    p.values,
  );
  return new Map(rows.map((r) => [String(r.g), PERCENTILES.map((_, i) => ((r.ps as (number | null)[] | null)?.[i] ?? null))]));
}

export const toolMetrics: Capability = async (q, env) => {
  const p = new Params(env.dialect);
  const d = env.dialect;
  // The percentiles' query runs beside the counts' (another reader connection).
  const estimated = await percentilesEstimated(env, { filters: q.filters, range: q.range, groupBy: 'tool' });
  const latency = estimated ? estimatedPercentiles(q, env) : exactPercentiles(q, env);
  latency.catch(() => undefined);
  const rows = await env.store.read(
    // The calls twice, as two relations rather than one CTE read twice: an engine keeps such a CTE
    // whole in memory (4.8 million calls over 30 days at 10 million spans: 0.3 s to write).
    // (No comment inside the SQL: an apostrophe there reads as a string to ClickHouse's parameter rewriting.)
    `WITH error_ranks AS (
       SELECT tool, error_type, row_number() OVER (PARTITION BY tool ORDER BY sum(calls) DESC, max(last_start) DESC, error_type) AS rk
       FROM (SELECT ${toolOf(d, 'f.tool_name')} AS tool, ${errorTypeOf(d, 'f.error_type')} AS error_type, f.calls, f.last_start FROM (${callsSql(q, env, p, { onlyFailed: true })}) f) f
       GROUP BY tool, error_type),
     per_tool AS (
       SELECT ${toolOf(d, 'c.tool_name')} AS tool, sum(c.calls) AS calls, sum(c.errors) AS errors, sum(c.duration_sum) / nullif(sum(c.durations), 0) AS avg_ms
       FROM (${callsSql(q, env, p)}) c GROUP BY 1)
     SELECT t.tool, t.calls, t.errors, t.avg_ms, e.error_type AS top_error
     FROM per_tool t LEFT JOIN error_ranks e ON e.tool = t.tool AND e.rk = 1
     ORDER BY t.calls DESC, t.tool`,
    p.values,
  );
  const byTool = await latency;
  const col = (k: string) => rows.map((r) => r[k]);
  const percentile = (i: number) => rows.map((r) => byTool.get(String(r.tool))?.[i] ?? null);
  const rate = (num: (r: Record<string, unknown>) => number) => rows.map((r) => (Number(r.calls) ? num(r) / Number(r.calls) : null));
  const ms = { unit: 'ms', decimals: 0 };
  const how = estimated ? `estimated from a latency histogram, within ${(LATENCY_RELATIVE_ERROR * 100).toFixed(2)}%` : 'linear interpolation';
  const f = frame(
    'tool metrics',
    [
      field('Tool', 'string', col('tool')),
      field('Calls', 'int', col('calls'), { unit: 'short' }),
      field('Errors', 'int', col('errors'), { unit: 'short' }),
      field('Success rate', 'number', rate((r) => Number(r.calls) - Number(r.errors)), { unit: 'percentunit', min: 0, max: 1 }),
      field('Error rate', 'number', rate((r) => Number(r.errors)), { unit: 'percentunit', min: 0, max: 1 }),
      field('Avg latency', 'number', col('avg_ms'), { ...ms, description: 'Average duration of a call' }),
      field('P50', 'number', percentile(0), { ...ms, description: `Median call duration (${how})` }),
      field('P95', 'number', percentile(1), { ...ms, description: `95th percentile of call duration (${how})` }),
      field('P99', 'number', percentile(2), { ...ms, description: `99th percentile of call duration (${how})` }),
      field('Top error', 'string', col('top_error'), { description: 'Most frequent error type of the failed calls' }),
    ],
    { preferredVisualisationType: 'table' },
  );
  if (estimated) {
    withNotice(f, 'info', `P50, P95 and P99 are estimated from a latency histogram (within ${(LATENCY_RELATIVE_ERROR * 100).toFixed(2)}% of the exact value): the range holds more than ${exactPercentileCalls(env)} calls.`);
  }
  return [f];
};

export const toolErrors: Capability = async (q, env) => {
  const p = new Params(env.dialect);
  const d = env.dialect;
  // Per tool and error type: the count, the newest call and its message, in one grouping of the
  // failed calls (or of their sums per 15 minutes, tool-calls.ts).
  const rows = await env.store.read(
    `SELECT e.tool, e.error_type, e.n, ${d.epochMs('e.last_time')} AS last_ms, e.last_message AS status_message
     FROM (
       SELECT ${toolOf(d, 'f.tool_name')} AS tool, ${errorTypeOf(d, 'f.error_type')} AS error_type, sum(f.calls) AS n, max(f.last_start) AS last_time,
         ${d.argMax('f.last_message', 'f.last_start')} AS last_message
       FROM (${callsSql(q, env, p, { onlyFailed: true })}) f
       GROUP BY 1, 2) e
     ORDER BY e.n DESC, e.last_time DESC, e.tool, e.error_type`,
    p.values,
  );
  const col = (k: string) => rows.map((r) => r[k]);
  return [
    frame(
      'tool errors',
      [
        field('Tool', 'string', col('tool')),
        field('Error type', 'string', col('error_type')),
        field('Count', 'int', col('n'), { unit: 'short' }),
        field('Last seen', 'time', col('last_ms')),
        field('Last message', 'string', col('status_message'), { description: 'Status message of the newest failed call' }),
      ],
      { preferredVisualisationType: 'table' },
    ),
  ];
};
