/**
 * The SQL that differs between engines, in one place: time zones, time buckets, percentiles,
 * membership in a bound list, epoch conversions. Capabilities write the rest of their SQL once and
 * it serves DuckDB and ClickHouse alike; dialect.test.ts asks both engines the same questions
 * (zones across daylight-saving changes, week starts, percentiles) and requires equal answers.
 */
export interface Dialect {
  readonly name: 'duckdb' | 'clickhouse';
  /** A stored UTC TIMESTAMP as wall-clock time in the given IANA zone (a naive timestamp). */
  local(ts: string, tz: string): string;
  /** The wall-clock time back to a UTC instant, as epoch milliseconds. */
  utcEpochMs(localTs: string, tz: string): string;
  /** Start of the bucket of `intervalMs` holding ts, as epoch milliseconds (UTC buckets). */
  bucketEpochMs(ts: string, intervalMs: number): string;
  /** Start of the UTC bucket of `intervalMs` holding ts, as a TIMESTAMP. */
  bucketStart(ts: string, intervalMs: number): string;
  /**
   * Start of the calendar day, week or month holding ts in the zone, as epoch milliseconds. A
   * midnight that does not exist (a zone that changes its clocks at midnight) is the moment of the
   * change on both engines.
   */
  calendarEpochMs(ts: string, unit: 'day' | 'week' | 'month', tz: string, weekStart: 'monday' | 'sunday'): string;
  /** Percentile with linear interpolation between closest ranks (the one definition of design.md); NULL over no rows. */
  percentile(expr: string, p: number): string;
  /** Several percentiles of one expression in one pass, as an array (1-based: element i + 1 is ps[i]). */
  percentiles(expr: string, ps: number[]): string;
  /** The value of `value` on the row with the greatest `by` (an aggregate; one of them when several rows tie). */
  argMax(value: string, by: string): string;
  /** Epoch milliseconds as a TIMESTAMP literal expression for comparisons. */
  timestamp(epochMs: number): string;
  /** A TIMESTAMP as whole epoch milliseconds (an integer). */
  epochMs(ts: string): string;
  /** A TIMESTAMP as whole epoch microseconds (an integer). */
  epochUs(ts: string): string;
  /** Whether expr is an element of a list (a bound list such as Params.list() writes: [$1, $2]). */
  inList(list: string, expr: string): string;
  /** Whether a list column (VARCHAR[] / Array(String)) has any element of a bound list. */
  hasAny(listColumn: string, list: string): string;
  /**
   * A common table expression computed once, before the rest of the statement: DuckDB does not push
   * the outer statement's filters into it, so its own filters stay the only ones of its scans (an
   * equality that is a scan's only filter is answered from an index).
   */
  materialized(name: string, body: string): string;
  /** A string literal, quoted safely. */
  quote(value: string): string;
}

const quote = (v: string): string => `'${v.replace(/'/g, "''")}'`;

export const duckdb: Dialect = {
  name: 'duckdb',
  local: (ts, tz) => `timezone(${quote(tz)}, ${ts} AT TIME ZONE 'UTC')`,
  utcEpochMs: (localTs, tz) => `epoch_ms(timezone('UTC', timezone(${quote(tz)}, ${localTs})))`,
  bucketEpochMs: (ts, intervalMs) => `(epoch_ms(${ts}) // ${Math.round(intervalMs)}) * ${Math.round(intervalMs)}`,
  bucketStart: (ts, intervalMs) => `make_timestamp((epoch_us(${ts}) // ${Math.round(intervalMs * 1000)}) * ${Math.round(intervalMs * 1000)})`,
  calendarEpochMs(ts, unit, tz, weekStart) {
    const local = this.local(ts, tz);
    // DuckDB's weeks start on Monday; a Sunday start shifts by a day before and after truncating.
    const trunc = unit === 'week' && weekStart === 'sunday' ? `(date_trunc('week', ${local} + INTERVAL 1 DAY) - INTERVAL 1 DAY)` : `date_trunc('${unit}', ${local})`;
    return this.utcEpochMs(trunc, tz);
  },
  percentile: (expr, p) => `quantile_cont(${expr}, ${p})`,
  percentiles: (expr, ps) => `quantile_cont(${expr}, [${ps.join(', ')}])`,
  argMax: (value, by) => `arg_max(${value}, ${by})`,
  timestamp: (ms) => `make_timestamp(${Math.round(ms * 1000)}::BIGINT)`,
  epochMs: (ts) => `epoch_ms(${ts})`,
  epochUs: (ts) => `epoch_us(${ts})`,
  inList: (list, expr) => `list_contains(${list}, ${expr})`,
  hasAny: (listColumn, list) => `list_has_any(${listColumn}, ${list})`,
  materialized: (name, body) => `${name} AS MATERIALIZED (${body})`,
  quote,
};

/**
 * ClickHouse. Stored times are DateTime64(6, 'UTC'). quantileExactInclusive is the same
 * interpolation as DuckDB's quantile_cont (R-7, Excel's PERCENTILE.INC); the OrNull combinator
 * makes it NULL over no rows, as DuckDB's is, instead of NaN.
 */
export const clickhouse: Dialect = {
  name: 'clickhouse',
  // The wall clock read as UTC: the instant shifted by the zone's offset at that instant.
  local: (ts, tz) => `addSeconds(${ts}, timeZoneOffset(toTimeZone(${ts}, ${chQuote(tz)})))`,
  utcEpochMs: (localTs, tz) => `(toInt64(toUnixTimestamp(toDateTime(toString(toDateTime(${localTs})), ${chQuote(tz)}))) * 1000)`,
  bucketEpochMs: (ts, intervalMs) => `(intDiv(toUnixTimestamp64Milli(${ts}), ${Math.round(intervalMs)}) * ${Math.round(intervalMs)})`,
  bucketStart: (ts, intervalMs) => `fromUnixTimestamp64Micro(intDiv(toUnixTimestamp64Micro(${ts}), ${Math.round(intervalMs * 1000)}) * ${Math.round(intervalMs * 1000)}, 'UTC')`,
  calendarEpochMs(ts, unit, tz, weekStart) {
    const z = chQuote(tz);
    // The local date of the period's start, then its midnight in the zone (ClickHouse moves a
    // midnight that does not exist forward to the change, as DuckDB does).
    const date =
      unit === 'day' ? `toDate(${ts}, ${z})` : unit === 'month' ? `toStartOfMonth(${ts}, ${z})` : `toStartOfWeek(${ts}, ${weekStart === 'monday' ? 1 : 0}, ${z})`;
    return `(toInt64(toUnixTimestamp(toDateTime(${date}, ${z}))) * 1000)`;
  },
  percentile: (expr, p) => `quantileExactInclusiveOrNull(${p})(${expr})`,
  percentiles: (expr, ps) => `quantilesExactInclusive(${ps.join(', ')})(${expr})`,
  argMax: (value, by) => `argMax(${value}, ${by})`,
  timestamp: (ms) => `fromUnixTimestamp64Micro(toInt64(${Math.round(ms * 1000)}), 'UTC')`,
  epochMs: (ts) => `toUnixTimestamp64Milli(${ts})`,
  epochUs: (ts) => `toUnixTimestamp64Micro(${ts})`,
  inList: (list, expr) => `has(${list}, ${expr})`,
  hasAny: (listColumn, list) => `hasAny(${listColumn}, ${list})`,
  // The hint is DuckDB's: ClickHouse reads a plain common table expression.
  materialized: (name, body) => `${name} AS (${body})`,
  quote: chQuote,
};

/** ClickHouse reads backslashes in string literals as escapes: escape them and the quote. */
function chQuote(v: string): string {
  return `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** The dialect of a store's engine. */
export function dialectOf(engine: string): Dialect {
  if (engine === 'duckdb') return duckdb;
  if (engine === 'clickhouse') return clickhouse;
  throw new Error(`no SQL dialect for the storage engine "${engine}"`);
}
