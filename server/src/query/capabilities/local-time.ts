/**
 * Wall-clock arithmetic in an IANA time zone, for buckets that follow the dashboard's calendar
 * (local days, weeks, hours of the day).
 *
 * Queries key such buckets by "naive local" epoch milliseconds: the wall-clock time read as if it
 * were UTC (dialect.local() then epoch). Converting UTC to wall-clock time is a function, so the
 * SQL key of a row and the key this module computes for a bucket always agree; only the instant a
 * bucket is shown at (instantOf) needs the reverse, ambiguous conversion.
 */

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;
export const WEEK_MS = 7 * DAY_MS;

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    formatters.set(tz, f);
  }
  return f;
}

/** The wall-clock time of an instant in tz, as naive epoch ms. */
export function naiveLocal(utcMs: number, tz: string): number {
  const parts: Record<string, number> = {};
  for (const p of formatter(tz).formatToParts(new Date(utcMs))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  const ms = ((utcMs % 1000) + 1000) % 1000;
  return Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute, parts.second, ms);
}

/**
 * The instant whose wall-clock time in tz is `naive`. A time that occurs twice (clocks go back)
 * gives the earlier instant; a time that does not exist (clocks go forward) is moved forward by the
 * gap, as JavaScript's Temporal does ("compatible"): so a midnight that does not exist (a few zones
 * change at midnight) gives the moment of the change, the first instant of that day.
 */
export function instantOf(naive: number, tz: string): number {
  const a = naive - (naiveLocal(naive, tz) - naive);
  const b = naive - (naiveLocal(a, tz) - a);
  const valid = [a, b].filter((t) => naiveLocal(t, tz) === naive);
  if (valid.length) return Math.min(...valid);
  return Math.max(a, b);
}

/** Weekday of a naive day, Monday 0 .. Sunday 6 (1970-01-01 was a Thursday). */
export function weekdayOf(naiveDay: number): number {
  return (((Math.floor(naiveDay / DAY_MS) + 3) % 7) + 7) % 7;
}

/** The naive start of the week holding a naive time. */
export function weekStartOf(naive: number, weekStart: 'monday' | 'sunday'): number {
  const day = Math.floor(naive / DAY_MS) * DAY_MS;
  const first = weekStart === 'monday' ? 0 : 6;
  return day - ((weekdayOf(day) - first + 7) % 7) * DAY_MS;
}

/**
 * Naive offset that aligns multi-day buckets: weeks (and multiples) start on the configured
 * weekday, other day counts on the epoch. 1970-01-05 was a Monday, 1970-01-04 a Sunday.
 */
export function alignmentOf(intervalMs: number, weekStart: 'monday' | 'sunday'): number {
  if (intervalMs % WEEK_MS !== 0) return 0;
  return (weekStart === 'monday' ? 4 : 3) * DAY_MS;
}

/** Floor of t to a bucket of `interval` aligned at `shift`. */
export function floorTo(t: number, interval: number, shift = 0): number {
  return Math.floor((t - shift) / interval) * interval + shift;
}
