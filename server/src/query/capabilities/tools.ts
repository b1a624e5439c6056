/**
 * Tool metrics: calls per tool (most used first), success and error rate, latency average and
 * percentiles, the most frequent error; and a table of error types per tool.
 * A tool call is a tool step (steps_v role 'tool'); it belongs to the range by its start; it failed
 * when its span status is error (status_code 2). Success and error rate are over all calls of the
 * tool and add up to 100%. Latency is the span's duration; percentiles interpolate linearly
 * (dialect.percentile, the one definition of design.md).
 */
import { ResolvedQuery } from '@agent-insights/model';
import { Capability, QueryEnv } from '../context';
import { field, frame } from '../frame';
import { Params, stepConditions } from '../filters-sql';

const NO_TOOL_NAME = '(unnamed tool)';
const NO_ERROR_TYPE = '(no error type)';

/** The tool calls of the query (failed ones only when asked) as a relation (tool, failed, error_type, status_message, duration_ms, start_time). */
function callsSql(q: ResolvedQuery, env: QueryEnv, p: Params, onlyFailed = false): string {
  const d = env.dialect;
  const where = [
    `s.tenant = ${p.add(env.tenant)}`,
    `s.role = 'tool'`,
    `s.start_time >= ${d.timestamp(q.range.from)}`,
    `s.start_time <= ${d.timestamp(q.range.to)}`,
    ...(onlyFailed ? ['s.status_code = 2'] : []),
    ...stepConditions(q.filters, p),
  ];
  return `(
    SELECT CASE WHEN s.tool_name = '' THEN ${d.quote(NO_TOOL_NAME)} ELSE s.tool_name END AS tool,
      s.status_code = 2 AS failed,
      CASE WHEN s.error_type = '' THEN ${d.quote(NO_ERROR_TYPE)} ELSE s.error_type END AS error_type,
      s.status_message, s.duration_ms, s.start_time
    FROM steps_v s WHERE ${where.join(' AND ')})`;
}

export const toolMetrics: Capability = async (q, env) => {
  const p = new Params(env.dialect);
  const d = env.dialect;
  const rows = await env.store.read(
    // The calls twice, as two relations rather than one CTE read twice: an engine keeps such a CTE
    // whole in memory (4.8 million calls over 30 days at 10 million spans: 0.3 s to write, and
    // the percentiles then sort the copy), where the failed calls alone are a filtered scan.
    // The three percentiles in one pass: one sort of each tool's durations instead of three.
    // (No comment inside the SQL: an apostrophe there reads as a string to ClickHouse's parameter rewriting.)
    `WITH error_ranks AS (
       SELECT tool, error_type, row_number() OVER (PARTITION BY tool ORDER BY count(*) DESC, max(start_time) DESC, error_type) AS rk
       FROM ${callsSql(q, env, p, true)} f GROUP BY tool, error_type),
     per_tool AS (
       SELECT c.tool, count(*) AS calls, sum(CASE WHEN c.failed THEN 1 ELSE 0 END) AS errors,
         avg(c.duration_ms) AS avg_ms, ${d.percentiles('c.duration_ms', [0.5, 0.95, 0.99])} AS ps
       FROM ${callsSql(q, env, p)} c GROUP BY c.tool)
     SELECT t.tool, t.calls, t.errors, t.avg_ms, t.ps[1] AS p50, t.ps[2] AS p95, t.ps[3] AS p99, e.error_type AS top_error
     FROM per_tool t LEFT JOIN error_ranks e ON e.tool = t.tool AND e.rk = 1
     ORDER BY t.calls DESC, t.tool`,
    p.values,
  );
  const col = (k: string) => rows.map((r) => r[k]);
  const rate = (num: (r: Record<string, unknown>) => number) => rows.map((r) => (Number(r.calls) ? num(r) / Number(r.calls) : null));
  const ms = { unit: 'ms', decimals: 0 };
  return [
    frame(
      'tool metrics',
      [
        field('Tool', 'string', col('tool')),
        field('Calls', 'int', col('calls'), { unit: 'short' }),
        field('Errors', 'int', col('errors'), { unit: 'short' }),
        field('Success rate', 'number', rate((r) => Number(r.calls) - Number(r.errors)), { unit: 'percentunit', min: 0, max: 1 }),
        field('Error rate', 'number', rate((r) => Number(r.errors)), { unit: 'percentunit', min: 0, max: 1 }),
        field('Avg latency', 'number', col('avg_ms'), { ...ms, description: 'Average duration of a call' }),
        field('P50', 'number', col('p50'), { ...ms, description: 'Median call duration (linear interpolation)' }),
        field('P95', 'number', col('p95'), { ...ms, description: '95th percentile of call duration (linear interpolation)' }),
        field('P99', 'number', col('p99'), { ...ms, description: '99th percentile of call duration (linear interpolation)' }),
        field('Top error', 'string', col('top_error'), { description: 'Most frequent error type of the failed calls' }),
      ],
      { preferredVisualisationType: 'table' },
    ),
  ];
};

export const toolErrors: Capability = async (q, env) => {
  const p = new Params(env.dialect);
  const d = env.dialect;
  // Per tool and error type: the count, the newest call and its message, in one grouping of the
  // failed calls (two window functions sorted all 159,000 failures of 30 days at 10 million spans
  // with their messages: 0.3 s CPU).
  const rows = await env.store.read(
    `SELECT e.tool, e.error_type, e.n, ${d.epochMs('e.last_time')} AS last_ms, e.last_message AS status_message
     FROM (
       SELECT f.tool, f.error_type, count(*) AS n, max(f.start_time) AS last_time, ${d.argMax('f.status_message', 'f.start_time')} AS last_message
       FROM ${callsSql(q, env, p, true)} f
       GROUP BY f.tool, f.error_type) e
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
