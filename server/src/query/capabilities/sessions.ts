/**
 * Voice and video sessions by agent and channel: sessions, minutes, average duration, turns,
 * interruption rate, response latency percentiles and the drop/failure rate.
 *
 * - A session belongs to the time range by its start; a running session's minutes count up to now.
 * - Average duration is over finished sessions (not running), like run durations.
 * - Interruption rate = interruptions / turns (all sessions of the group).
 * - Response latency p50/p95 are over turns: each turn span that reports its latency (LiveKit
 *   lk.e2e_latency, Pipecat turn latency) is one value; a session reported without turn spans (the
 *   native API's avgResponseLatencyMs) contributes its average once. Linear interpolation.
 * - Drop/failure rate = finished sessions that failed, timed out or ended with reason "dropped",
 *   over finished sessions.
 */
import { Dimension, Filters } from '@agent-insights/model';
import { Capability } from '../context';
import { field, frame } from '../frame';
import { Params } from '../filters-sql';

/** Columns of sessions (alias se) per dimension. */
const SESSION_COLUMNS: Partial<Record<Dimension, string>> = {
  agent: 'se.agent',
  status: 'se.status',
  channel: 'se.channel',
  environment: 'se.environment',
  service: 'se.service',
  conversation: 'se.conversation_id',
  user: 'se.user_id',
};

/** Dimensions sessions do not carry themselves: "has a span of the session's trace with it". */
const SPAN_COLUMNS: Partial<Record<Dimension, string>> = {
  agentVersion: 'sp.agent_version',
  tool: 'sp.tool_name',
  model: 'sp.model',
  provider: 'sp.provider',
};

/** Conditions on sessions se for the query's filters. */
export function sessionConditions(filters: Filters, p: Params): string[] {
  const out: string[] = [];
  const spanFilters: string[] = [];
  for (const [dim, values] of Object.entries(filters) as [Dimension, string[]][]) {
    if (!values?.length) continue;
    const col = SESSION_COLUMNS[dim];
    if (col) out.push(p.in(values, col));
    else spanFilters.push(p.in(values, SPAN_COLUMNS[dim] as string));
  }
  if (spanFilters.length) {
    out.push(`EXISTS (SELECT 1 FROM spans sp WHERE sp.tenant = se.tenant AND sp.trace_id = se.trace_id AND ${spanFilters.join(' AND ')})`);
  }
  return out;
}

/** 9999-12-31T23:59:59.999Z: later than any turn, and a timestamp every engine can hold. */
const END_OF_TIME_MS = 253_402_300_799_999;

export const sessionStats: Capability = async (q, env) => {
  const d = env.dialect;
  const p = new Params(env.dialect);
  const now = d.timestamp(env.nowMs);
  // A running session (no end yet) takes every later turn. Written as a bound rather than
  // "end_time IS NULL OR ...": an OR in the join condition makes DuckDB drop the hash join for a
  // nested-loop join (790 ms against 59 ms at 10 million spans, docs/benchmarks.md).
  const noEnd = d.timestamp(END_OF_TIME_MS);
  const where = [`se.tenant = ${p.add(env.tenant)}`, `se.start_time >= ${d.timestamp(q.range.from)}`, `se.start_time <= ${d.timestamp(q.range.to)}`, ...sessionConditions(q.filters, p)];
  const rows = await env.store.read(
    `WITH se AS (
       SELECT se.*, (${d.epochMs(`coalesce(se.end_time, ${now})`)} - ${d.epochMs('se.start_time')})::DOUBLE AS dur_ms
       FROM sessions se WHERE ${where.join(' AND ')}
     ),
     totals AS (
       SELECT agent, channel,
         count(*) AS sessions,
         sum(dur_ms) / 60000.0 AS minutes,
         avg(CASE WHEN status <> 'running' THEN dur_ms END) AS avg_ms,
         sum(turns) AS turns,
         sum(interruptions) AS interruptions,
         count(CASE WHEN status <> 'running' THEN 1 END) AS finished,
         count(CASE WHEN status <> 'running' AND (status IN ('failed', 'timed_out') OR lower(end_reason) = 'dropped') THEN 1 END) AS dropped
       FROM se GROUP BY agent, channel
     ),
     turn_latency AS (
       SELECT se.agent, se.channel, coalesce(t.latency_ms, se.avg_latency_ms) AS latency_ms
       FROM se LEFT JOIN spans t ON t.tenant = se.tenant AND t.trace_id = se.trace_id AND t.record = 'span' AND t.role = 'turn'
         AND t.latency_ms IS NOT NULL AND t.start_time >= se.start_time AND t.start_time <= coalesce(se.end_time, ${noEnd})
     ),
     latency AS (
       SELECT agent, channel, ${d.percentile('latency_ms', 0.5)} AS p50, ${d.percentile('latency_ms', 0.95)} AS p95
       FROM turn_latency WHERE latency_ms IS NOT NULL GROUP BY agent, channel
     )
     SELECT t.*, l.p50, l.p95 FROM totals t LEFT JOIN latency l ON l.agent = t.agent AND l.channel = t.channel
     ORDER BY t.sessions DESC, t.agent, t.channel`,
    p.values,
  );
  const col = (fn: (r: Record<string, unknown>) => unknown) => rows.map(fn);
  const n = (v: unknown): number => Number(v ?? 0);
  const ratio = (a: unknown, b: unknown): number | null => (n(b) > 0 ? n(a) / n(b) : null);
  return [
    frame(
      'sessions',
      [
        field('Agent', 'string', col((r) => r.agent)),
        field('Channel', 'string', col((r) => r.channel)),
        field('Sessions', 'int', col((r) => r.sessions)),
        field('Minutes', 'number', col((r) => r.minutes), { unit: 'none', decimals: 1, description: 'Session time in minutes; running sessions up to now.' }),
        field('Avg duration', 'number', col((r) => r.avg_ms), { unit: 'ms', description: 'Mean duration of finished sessions.' }),
        field('Turns', 'int', col((r) => r.turns)),
        field('Interruption rate', 'number', col((r) => ratio(r.interruptions, r.turns)), { unit: 'percentunit', description: 'Interruptions / turns.' }),
        field('Response latency p50', 'number', col((r) => r.p50), { unit: 'ms', description: 'Over turns that report their latency; a session reported without turns counts its average once.' }),
        field('Response latency p95', 'number', col((r) => r.p95), { unit: 'ms', description: 'Over turns that report their latency; a session reported without turns counts its average once.' }),
        field('Drop/failure rate', 'number', col((r) => ratio(r.dropped, r.finished)), { unit: 'percentunit', description: 'Finished sessions that failed, timed out or were dropped / finished sessions.' }),
        field('Interruptions', 'int', col((r) => r.interruptions)),
        field('Finished', 'int', col((r) => r.finished)),
      ],
      { preferredVisualisationType: 'table' },
    ),
  ];
};
