/**
 * Tool-call latencies as a log-bucket histogram: the sketch that lets a 30-day p95 over millions of
 * calls be read from a few hundred thousand stored counts instead of sorting every duration.
 *
 * Bin i holds durations in [γ^i, γ^(i+1)) ms; it stands for the one value 2γ^(i+1)/(γ+1), which
 * is within (γ-1)/(γ+1) of every duration in it: with γ = 1.02, at most 0.99% (the issue allows
 * 2%). Durations of 0 (or less: clock skew) have a bin of their own that stands for 0. Calls
 * without a duration are in no bin, as exact percentiles leave them out.
 *
 * The store writes bins with binSql; queries read them back with valueSql: one definition here.
 */

export const LATENCY_GAMMA = 1.02;

/** The bin of durations <= 0 ms (SMALLINT's minimum: no real bin reaches it, 1.02^-32768 is 0). */
export const ZERO_BIN = -32768;

/** The largest relative error of a bin's value against any duration in it. */
export const LATENCY_RELATIVE_ERROR = (LATENCY_GAMMA - 1) / (LATENCY_GAMMA + 1);

export function binOf(durationMs: number): number {
  return durationMs > 0 ? Math.floor(Math.log(durationMs) / Math.log(LATENCY_GAMMA)) : ZERO_BIN;
}

export function valueOf(bin: number): number {
  return bin === ZERO_BIN ? 0 : (2 * LATENCY_GAMMA ** (bin + 1)) / (LATENCY_GAMMA + 1);
}

/** SQL (DuckDB and ClickHouse alike) of the bin of a duration column in ms. */
export function binSql(durationMs: string): string {
  return `CASE WHEN ${durationMs} > 0 THEN CAST(floor(ln(${durationMs}) / ${Math.log(LATENCY_GAMMA)}) AS SMALLINT) ELSE ${ZERO_BIN} END`;
}

/** SQL of the value a bin stands for. */
export function valueSql(bin: string): string {
  return `CASE WHEN ${bin} = ${ZERO_BIN} THEN 0.0 ELSE 2 * exp((${bin} + 1) * ${Math.log(LATENCY_GAMMA)}) / ${LATENCY_GAMMA + 1} END`;
}
