/**
 * The SQL that differs between engines, in one place: time zones, time buckets, percentiles.
 * Capabilities write the rest of their SQL once. DuckDB now; ClickHouse joins with issue 6.
 */
export interface Dialect {
  readonly name: string;
  /** A stored UTC TIMESTAMP as wall-clock time in the given IANA zone. */
  local(ts: string, tz: string): string;
  /** The wall-clock time back to a UTC instant, as epoch milliseconds. */
  utcEpochMs(localTs: string, tz: string): string;
  /** Start of the bucket of `intervalMs` holding ts, as epoch milliseconds (UTC buckets). */
  bucketEpochMs(ts: string, intervalMs: number): string;
  /** Start of the calendar day, week or month holding ts in the zone, as epoch milliseconds. */
  calendarEpochMs(ts: string, unit: 'day' | 'week' | 'month', tz: string, weekStart: 'monday' | 'sunday'): string;
  /** Percentile with linear interpolation between closest ranks (the one definition of design.md). */
  percentile(expr: string, p: number): string;
  /** Several percentiles of one expression in one pass, as an array (1-based: element i + 1 is ps[i]). */
  percentiles(expr: string, ps: number[]): string;
  /** Epoch milliseconds as a TIMESTAMP literal expression for comparisons. */
  timestamp(epochMs: number): string;
  epochMs(ts: string): string;
  /** A string literal, quoted safely. */
  quote(value: string): string;
}

const quote = (v: string): string => `'${v.replace(/'/g, "''")}'`;

export const duckdb: Dialect = {
  name: 'duckdb',
  local: (ts, tz) => `timezone(${quote(tz)}, ${ts} AT TIME ZONE 'UTC')`,
  utcEpochMs: (localTs, tz) => `epoch_ms(timezone('UTC', timezone(${quote(tz)}, ${localTs})))`,
  bucketEpochMs: (ts, intervalMs) => `(epoch_ms(${ts}) // ${Math.round(intervalMs)}) * ${Math.round(intervalMs)}`,
  calendarEpochMs(ts, unit, tz, weekStart) {
    const local = this.local(ts, tz);
    // DuckDB's weeks start on Monday; a Sunday start shifts by a day before and after truncating.
    const trunc = unit === 'week' && weekStart === 'sunday' ? `(date_trunc('week', ${local} + INTERVAL 1 DAY) - INTERVAL 1 DAY)` : `date_trunc('${unit}', ${local})`;
    return this.utcEpochMs(trunc, tz);
  },
  percentile: (expr, p) => `quantile_cont(${expr}, ${p})`,
  percentiles: (expr, ps) => `quantile_cont(${expr}, [${ps.join(', ')}])`,
  timestamp: (ms) => `make_timestamp(${Math.round(ms * 1000)}::BIGINT)`,
  epochMs: (ts) => `epoch_ms(${ts})`,
  quote,
};
