/**
 * The time buckets of a time series: the query's interval, widened (to a round interval) when the
 * range would need more buckets than max data points allows.
 *
 * Buckets shorter than a day are aligned on the UTC epoch (dialect.bucketEpochMs), as Grafana's
 * own intervals are. Buckets of whole days follow the query's time zone: a day bucket is a local
 * calendar day and a week bucket starts on the configured weekday at local midnight, so "per day"
 * means the dashboard's day. Those are keyed by naive local time (see local-time.ts).
 */
import { ResolvedQuery } from '@agent-insights/model';
import { Dialect } from '../dialect';
import { alignmentOf, DAY_MS, floorTo, instantOf, naiveLocal, WEEK_MS } from './local-time';

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const ROUND_INTERVALS = [S, 2 * S, 5 * S, 10 * S, 15 * S, 30 * S, M, 2 * M, 5 * M, 10 * M, 15 * M, 30 * M, H, 2 * H, 3 * H, 6 * H, 12 * H, DAY_MS, 2 * DAY_MS, WEEK_MS, 2 * WEEK_MS, 4 * WEEK_MS];

export interface Buckets {
  intervalMs: number;
  /** SQL key of a row's bucket, from its time column. */
  key(timeColumn: string): string;
  /** Keys of every bucket of the range, in order. */
  keys: number[];
  /** The keys are intervals aligned on the UTC epoch (buckets shorter than a day), not local calendar ones. */
  onEpoch: boolean;
  /** The instant a bucket starts, for the time field. */
  instant(key: number): number;
}

function span(q: ResolvedQuery, intervalMs: number): { first: number; last: number; shift: number; local: boolean } {
  const local = intervalMs >= DAY_MS;
  const shift = local ? alignmentOf(intervalMs, q.weekStart) : 0;
  const from = local ? naiveLocal(q.range.from, q.timezone) : q.range.from;
  const to = local ? naiveLocal(q.range.to, q.timezone) : q.range.to;
  return { first: floorTo(from, intervalMs, shift), last: floorTo(to, intervalMs, shift), shift, local };
}

const count = (q: ResolvedQuery, i: number): number => {
  const s = span(q, i);
  return (s.last - s.first) / i + 1;
};

export function chooseInterval(q: ResolvedQuery): number {
  // Local buckets are whole days: an interval of 36h would cut local days apart.
  const wanted = q.intervalMs >= DAY_MS ? Math.ceil(q.intervalMs / DAY_MS) * DAY_MS : q.intervalMs;
  if (count(q, wanted) <= q.maxDataPoints) return wanted;
  for (const i of ROUND_INTERVALS) if (i > wanted && count(q, i) <= q.maxDataPoints) return i;
  let i = ROUND_INTERVALS[ROUND_INTERVALS.length - 1];
  while (count(q, i) > q.maxDataPoints) i *= 2;
  return i;
}

export function planBuckets(q: ResolvedQuery, dialect: Dialect): Buckets {
  const i = chooseInterval(q);
  const { first, last, shift, local } = span(q, i);
  const keys: number[] = [];
  for (let k = first; k <= last; k += i) keys.push(k);
  if (!local) return { intervalMs: i, key: (t) => dialect.bucketEpochMs(t, i), keys, onEpoch: true, instant: (k) => k };
  return {
    intervalMs: i,
    onEpoch: false,
    key: (t) => `floor((${dialect.epochMs(dialect.local(t, q.timezone))} - ${shift}) / ${i}) * ${i} + ${shift}`,
    keys,
    instant: (k) => instantOf(k, q.timezone),
  };
}
