/**
 * Tool-call durations per UTC hour and tool as one sorted list (DuckDB's tool_durations, migration
 * 8): what an exact latency percentile per hour reads instead of grouping every call.
 *
 * Per hour, a tool's calls (about 450 per hour and tool at 10 million spans over 30 days) spread
 * over nearly as many histogram bins, so the histogram saves nothing there; and the exact
 * percentile per hour and tool pays a hash grouping of every call (4.8 million over 30 days:
 * 215 ms). With the durations of each (hour, tool) stored sorted, the value at a rank is read by
 * position (26 ms for the same 30 days).
 *
 * The store writes lists with durationListSql; queries read a percentile back with
 * sortedListPercentileSql, which interpolates exactly as DuckDB's quantile_cont does (the same
 * double: lo * (1 - f) + hi * f), so the answer is the exact percentile's, to the last bit.
 */

export const DURATION_LIST_MS = 3_600_000;
export const DURATION_LIST_US = DURATION_LIST_MS * 1000;

/**
 * SQL aggregate: the non-null durations of a group, ascending; an empty list when every call of
 * the group lacks one (the group still exists: its percentile is null, as quantile_cont's is).
 */
export function durationListSql(durationMs: string): string {
  return `coalesce(list(${durationMs} ORDER BY ${durationMs}) FILTER (WHERE ${durationMs} IS NOT NULL), [])`;
}

/**
 * SQL of percentile p of a sorted list, by linear interpolation between the values at the ranks
 * around p x (n - 1): DuckDB's quantile_cont over the same values, to the bit. Null when empty.
 */
export function sortedListPercentileSql(list: string, p: number): string {
  const pos = `(CAST(${p} AS DOUBLE) * CAST(len(${list}) - 1 AS DOUBLE))`;
  const lo = `CAST(floor(${pos}) AS BIGINT)`;
  const f = `(${pos} - floor(${pos}))`;
  return `CASE WHEN len(${list}) > 0 THEN ${list}[${lo} + 1] * (1 - ${f}) + ${list}[least(${lo} + 2, len(${list}))] * ${f} END`;
}

/** SQL of percentile p of an unsorted list (several lists flattened): quantile_cont over its values. */
export function listPercentileSql(list: string, p: number): string {
  return `list_aggregate(${list}, 'quantile_cont', ${p})`;
}
