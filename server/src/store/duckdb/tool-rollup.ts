/**
 * Tool calls summed per 15 minutes (DuckDB): what tool metrics and tool series over long ranges
 * read instead of every call (4.8 million calls over 30 days at 10 million spans).
 *
 * - tool_rollup: per tenant, 15-minute UTC bucket of the call's start, tool, the run's dimensions
 *   the filters offer on tool calls (agent, version, status, environment, service, channel), and
 *   failed/error type: calls, summed and counted durations, the newest start and, for failures,
 *   the newest status message. A running run's rows also carry its start (running_since), as its
 *   status reads "timed out" once the deadline has passed (tool_rollup_v, like steps_v).
 * - tool_latency: per tenant, bucket, tool, the run's agent and environment (since migration 8:
 *   the dashboards' filters, so that their percentiles need not read every call) and latency bin
 *   (derive/latency-bins.ts): calls.
 * - tool_latency_day: the same per UTC day (migration 7), summed from tool_latency: a 30-day tool
 *   metrics query reads 30 days of bins (214,000 rows at 10 million spans) instead of 2,880
 *   buckets' (3.1 million rows).
 * - tool_durations: per tenant, UTC hour and tool, every call's duration as one sorted list, once
 *   over all runs (agent and environment null) and once per agent and environment (migration 8;
 *   derive/duration-lists.ts): exact percentiles per hour read by position, or joined.
 *
 * Exact under late spans: the rows of a bucket are a function of the steps in it, and every write
 * that changes steps (a trace derived again, deletion, retention) computes the rows of the buckets
 * it touched again from the steps, in the same transaction. Nothing is patched by deltas, so a
 * maximum or a newest message is as right as a sum. Computing a bucket again reads its steps (at
 * 10 million spans over 30 days, ~1,700 tool calls per bucket).
 */
import { DuckDBConnection, DuckDBValue, listValue } from '@duckdb/node-api';
import { DURATION_LIST_MS, DURATION_LIST_US, durationListSql } from '../../derive/duration-lists';
import { binSql } from '../../derive/latency-bins';
import { bucketOf, USAGE_BUCKET_MS, USAGE_BUCKET_US } from '../../derive/steps-usage';
import { duckdb } from '../../query/dialect';

const BUCKET_US = USAGE_BUCKET_US;

/** The tables as migration 4 created them: never change this; a new migration alters them. */
export const TOOL_ROLLUP_DDL = [
  `CREATE TABLE tool_rollup (
    tenant VARCHAR NOT NULL,
    bucket TIMESTAMP NOT NULL,
    tool_name VARCHAR NOT NULL,
    run_agent VARCHAR NOT NULL,
    run_agent_version VARCHAR NOT NULL,
    run_status VARCHAR NOT NULL,
    running_since TIMESTAMP,
    run_environment VARCHAR NOT NULL,
    run_service VARCHAR NOT NULL,
    run_channel VARCHAR NOT NULL,
    failed BOOLEAN NOT NULL,
    error_type VARCHAR NOT NULL,
    calls INTEGER NOT NULL,
    duration_sum DOUBLE,
    durations INTEGER NOT NULL,
    last_start TIMESTAMP NOT NULL,
    last_message VARCHAR
  )`,
  `CREATE TABLE tool_latency (
    tenant VARCHAR NOT NULL,
    bucket TIMESTAMP NOT NULL,
    tool_name VARCHAR NOT NULL,
    bin SMALLINT NOT NULL,
    calls INTEGER NOT NULL
  )`,
];

const bucketOfStart = duckdb.bucketStart('start_time', USAGE_BUCKET_MS);
const DAY_US = 86_400_000_000;

/** Migration 7's table: tool_latency per UTC day. */
export const TOOL_LATENCY_DAY_DDL = [
  `CREATE TABLE tool_latency_day (
    tenant VARCHAR NOT NULL,
    day TIMESTAMP NOT NULL,
    tool_name VARCHAR NOT NULL,
    bin SMALLINT NOT NULL,
    calls INTEGER NOT NULL
  )`,
];

/**
 * Migration 8's tables: durations per hour and tool, sorted (derive/duration-lists.ts); and the
 * latency histograms again with the run's agent and environment (filled by the rebuild task).
 */
export const TOOL_DURATIONS_DDL = [
  `CREATE TABLE tool_durations (
    tenant VARCHAR NOT NULL,
    hour TIMESTAMP NOT NULL,
    tool_name VARCHAR NOT NULL,
    run_agent VARCHAR,
    run_environment VARCHAR,
    durations DOUBLE[] NOT NULL
  )`,
  'DROP TABLE tool_latency',
  'DROP TABLE tool_latency_day',
  // The two histograms, alike but for their time column.
  ...([['tool_latency', 'bucket'], ['tool_latency_day', 'day']] as const).map(
    ([table, time]) => `CREATE TABLE ${table} (
    tenant VARCHAR NOT NULL,
    ${time} TIMESTAMP NOT NULL,
    tool_name VARCHAR NOT NULL,
    run_agent VARCHAR NOT NULL,
    run_environment VARCHAR NOT NULL,
    bin SMALLINT NOT NULL,
    calls INTEGER NOT NULL
  )`,
  ),
];

/**
 * The tool_durations rows of the tool steps matching `where` (on steps, with parameters; whole
 * hours): per hour and tool over all runs, and per hour, tool, agent and environment.
 */
const durationsSql = (where: string) => `SELECT tenant, ${duckdb.bucketStart('start_time', DURATION_LIST_MS)} AS hour, tool_name, run_agent, run_environment, ${durationListSql('duration_ms')}
  FROM steps WHERE role = 'tool' AND ${where}
  GROUP BY GROUPING SETS ((tenant, hour, tool_name), (tenant, hour, tool_name, run_agent, run_environment))
  ORDER BY hour`;

/** Day rows of tool_latency's rows matching `where`. */
const dayRows = (where: string) => `SELECT tenant, ${duckdb.bucketStart('bucket', DAY_US / 1000)} AS day, tool_name, run_agent, run_environment, bin, sum(calls)::INTEGER
  FROM tool_latency WHERE ${where} GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY day`;

/** The rows of each table for the tool steps matching `where` (on steps, with parameters). */
function rollupSql(where: string): { table: string; sql: string }[] {
  const failed = 'status_code = 2';
  return [
    {
      table: 'tool_rollup',
      sql: `SELECT tenant, ${bucketOfStart} AS bucket, tool_name, run_agent, run_agent_version, run_status,
          CASE WHEN run_status = 'running' THEN run_start END AS running_since, run_environment, run_service, run_channel,
          ${failed} AS failed, CASE WHEN ${failed} THEN error_type ELSE '' END AS error_type,
          count(*)::INTEGER, sum(duration_ms), count(duration_ms)::INTEGER, max(start_time),
          arg_max(CASE WHEN ${failed} THEN status_message END, start_time)
        FROM steps WHERE role = 'tool' AND ${where}
        GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12
        ORDER BY bucket`,
    },
    {
      table: 'tool_latency',
      sql: `SELECT tenant, ${bucketOfStart} AS bucket, tool_name, run_agent, run_environment, ${binSql('duration_ms')} AS bin, count(*)::INTEGER
        FROM steps WHERE role = 'tool' AND duration_ms IS NOT NULL AND ${where}
        GROUP BY 1, 2, 3, 4, 5, 6
        ORDER BY bucket`,
    },
  ];
}

/** Bucket starts (µs) touched by changed tool steps, per tenant. */
export class TouchedBuckets {
  private readonly byTenant = new Map<string, Set<number>>();

  add(tenant: string, startUs: number): void {
    let set = this.byTenant.get(tenant);
    if (!set) this.byTenant.set(tenant, (set = new Set()));
    set.add(bucketOf(startUs));
  }

  /** Rows (tenant, role, start_us) as a DELETE ... RETURNING of steps gives them. */
  addDeleted(rows: Record<string, unknown>[]): void {
    for (const r of rows) if (r.role === 'tool') this.add(String(r.tenant), Number(r.start_us));
  }

  get size(): number {
    return this.byTenant.size;
  }

  entries(): [string, number[]][] {
    return [...this.byTenant].map(([tenant, set]) => [tenant, [...set].sort((a, b) => a - b)]);
  }
}

/** What a DELETE of steps returns for TouchedBuckets.addDeleted. */
export const DELETED_STEPS_RETURNING = 'RETURNING tenant, role, epoch_us(start_time) AS start_us';

/** Consecutive interval starts (µs, sorted, `width` apart) as [first, last] ranges, so that each statement reads one time range. */
function ranges(starts: number[], width: number): [number, number][] {
  const out: [number, number][] = [];
  for (const b of starts) {
    const last = out[out.length - 1];
    if (last && b === last[1] + width) last[1] = b;
    else out.push([b, b]);
  }
  return out;
}

interface Part {
  /** Condition on a time column (parameters $2.., $1 being the tenant). */
  cond: (col: string) => string;
  params: DuckDBValue[];
}

/**
 * The intervals of `width` µs starting at `starts` (sorted) as conditions: a few time ranges, one
 * statement each; many scattered ones (a batch of late spans over weeks) as one list over their
 * whole span, rather than dozens of statements.
 */
function parts(tenant: string, starts: number[], width: number): Part[] {
  const spans = ranges(starts, width);
  if (spans.length <= 8) {
    return spans.map(([lo, hi]) => ({
      cond: (col) => `${col} >= make_timestamp($2::BIGINT) AND ${col} < make_timestamp($3::BIGINT)`,
      params: [tenant, lo, hi + width],
    }));
  }
  return [
    {
      cond: (col) => `${col} >= make_timestamp($2::BIGINT) AND ${col} < make_timestamp($3::BIGINT) AND list_contains($4::BIGINT[], (epoch_us(${col}) // ${width}) * ${width})`,
      params: [tenant, starts[0], starts[starts.length - 1] + width, listValue(starts.map((b) => BigInt(b)))],
    },
  ];
}

/** Computes the rows of the touched buckets again from the steps (inside the caller's transaction). */
export async function refreshToolRollups(w: DuckDBConnection, touched: TouchedBuckets): Promise<void> {
  for (const [tenant, buckets] of touched.entries()) {
    for (const { cond, params } of parts(tenant, buckets, BUCKET_US)) {
      for (const { table, sql } of rollupSql(`tenant = $1 AND ${cond('start_time')}`)) {
        await w.run(`DELETE FROM ${table} WHERE tenant = $1 AND ${cond('bucket')}`, params);
        await w.run(`INSERT INTO ${table} ${sql}`, params);
      }
    }
    // The touched hours' duration lists again, from their steps (four buckets' calls each).
    const hours = [...new Set(buckets.map((b) => Math.floor(b / DURATION_LIST_US) * DURATION_LIST_US))];
    for (const { cond, params } of parts(tenant, hours, DURATION_LIST_US)) {
      await w.run(`DELETE FROM tool_durations WHERE tenant = $1 AND ${cond('hour')}`, params);
      await w.run(`INSERT INTO tool_durations ${durationsSql(`tenant = $1 AND ${cond('start_time')}`)}`, params);
    }
    // The touched days' sums again, from their buckets (up to 96 x tools x bins rows a day).
    for (const dayUs of new Set(buckets.map((b) => Math.floor(b / DAY_US) * DAY_US))) {
      const params = [tenant, dayUs, dayUs + DAY_US];
      await w.run(`DELETE FROM tool_latency_day WHERE tenant = $1 AND day >= make_timestamp($2::BIGINT) AND day < make_timestamp($3::BIGINT)`, params);
      await w.run(`INSERT INTO tool_latency_day ${dayRows('tenant = $1 AND bucket >= make_timestamp($2::BIGINT) AND bucket < make_timestamp($3::BIGINT)')}`, params);
    }
  }
}

/** Computes the four tables from every step, day by day in time order (migration 4's, 7's and 8's task); returns the days. */
export async function rebuildToolRollups(w: DuckDBConnection): Promise<number> {
  const day = 86_400_000_000;
  const [span] = (await w.runAndReadAll(`SELECT epoch_us(min(start_time)) AS lo, epoch_us(max(start_time)) AS hi FROM steps WHERE role = 'tool'`)).getRowObjectsJS();
  for (const { table } of rollupSql('true')) await w.run(`DELETE FROM ${table}`);
  await w.run('DELETE FROM tool_latency_day');
  await w.run('DELETE FROM tool_durations');
  if (span.lo === null || span.lo === undefined) return 0;
  let days = 0;
  for (let t = Math.floor(Number(span.lo) / day) * day; t <= Number(span.hi); t += day) {
    for (const { table, sql } of rollupSql('start_time >= make_timestamp($1::BIGINT) AND start_time < make_timestamp($2::BIGINT)')) {
      await w.run(`INSERT INTO ${table} ${sql}`, [t, t + day]);
    }
    await w.run(`INSERT INTO tool_durations ${durationsSql('start_time >= make_timestamp($1::BIGINT) AND start_time < make_timestamp($2::BIGINT)')}`, [t, t + day]);
    days++;
  }
  // Every tenant's days, from the buckets just written.
  await w.run(`INSERT INTO tool_latency_day ${dayRows('true')}`);
  return days;
}
