/**
 * Timing for the query benchmark: repeated runs of one measured action (warm-up runs first, a time
 * budget that stops further runs) and their summary as p50/p95 with the engine's one percentile
 * definition (linear interpolation between closest ranks, as quantile_cont), plus CPU time.
 */
import { performance } from 'node:perf_hooks';

export interface TimingOptions {
  warmup: number;
  repeat: number;
  /** Seconds for one action: once spent, no further timed run starts (at least one always runs). */
  budgetS: number;
}

export interface Timing {
  /** Wall-clock milliseconds of each timed run. */
  ms: number[];
  /** CPU milliseconds (user + system of this process, DuckDB's threads included) of each timed run. */
  cpuMs: number[];
}

export interface Summary {
  runs: number;
  p50: number;
  p95: number;
  min: number;
  max: number;
  cpuP50: number;
}

export const r1 = (x: number): number => Math.round(x * 10) / 10;

/** Linear interpolation between closest ranks: the definition the engine uses (design.md). */
export function percentile(xs: number[], p: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const rank = p * (s.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return s[lo] + (s[hi] - s[lo]) * (rank - lo);
}

export function summarise(t: Timing): Summary {
  return {
    runs: t.ms.length,
    p50: r1(percentile(t.ms, 0.5)),
    p95: r1(percentile(t.ms, 0.95)),
    min: t.ms.length ? r1(Math.min(...t.ms)) : NaN,
    max: t.ms.length ? r1(Math.max(...t.ms)) : NaN,
    cpuP50: r1(percentile(t.cpuMs, 0.5)),
  };
}

/**
 * Runs `action` warmup + repeat times and times the last `repeat` runs. `action` returns whether it
 * succeeded; a failure stops the runs (the caller reports the error it kept).
 */
export async function timeRuns(o: TimingOptions, action: (timed: boolean) => Promise<boolean>): Promise<Timing> {
  const t: Timing = { ms: [], cpuMs: [] };
  const started = performance.now();
  for (let i = 0; i < o.warmup + o.repeat; i++) {
    if (t.ms.length >= 1 && performance.now() - started > o.budgetS * 1000) break;
    const timed = i >= o.warmup;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const ok = await action(timed);
    const ms = performance.now() - t0;
    const c = process.cpuUsage(c0);
    if (!ok) break;
    if (timed) {
      t.ms.push(ms);
      t.cpuMs.push((c.user + c.system) / 1000);
    }
  }
  return t;
}
