/**
 * Calendar periods in an IANA time zone, computed in TypeScript: the starts of days, weeks and
 * months between two instants (to give empty periods a zero row), the period holding "now" (for
 * forecasts), and local times for messages. The SQL side buckets with dialect.calendarEpochMs; a
 * test holds the two to the same answers, including across daylight-saving changes.
 */
import { Period, WeekStart } from '@agent-insights/model';
import { instantOf } from './local-time';

interface LocalParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** 0 = Sunday. */
  weekday: number;
}

const formats = new Map<string, Intl.DateTimeFormat>();
const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

function format(tz: string): Intl.DateTimeFormat {
  let f = formats.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      weekday: 'short',
    });
    formats.set(tz, f);
  }
  return f;
}

export function localParts(ms: number, tz: string): LocalParts {
  const out: Record<string, string> = {};
  for (const p of format(tz).formatToParts(new Date(ms))) out[p.type] = p.value;
  return {
    year: Number(out.year),
    month: Number(out.month),
    day: Number(out.day),
    hour: Number(out.hour) % 24,
    minute: Number(out.minute),
    second: Number(out.second),
    weekday: WEEKDAYS.indexOf(out.weekday),
  };
}

/**
 * The instant of a local midnight (y-m-d may be out of range: Date.UTC normalises it). A midnight
 * that does not exist (a zone that moves its clocks at midnight, such as Santiago) is the moment
 * of the change, the first instant of that day, as both engines' SQL answers (local-time.ts).
 */
export function localMidnight(year: number, month: number, day: number, tz: string): number {
  return instantOf(Date.UTC(year, month - 1, day), tz);
}

/** Start of the day, week or month holding `ms` in the zone. */
export function periodStart(ms: number, period: Period, tz: string, weekStart: WeekStart = 'monday'): number {
  const p = localParts(ms, tz);
  if (period === 'month') return localMidnight(p.year, p.month, 1, tz);
  if (period === 'week') {
    const back = weekStart === 'sunday' ? p.weekday : (p.weekday + 6) % 7;
    return localMidnight(p.year, p.month, p.day - back, tz);
  }
  return localMidnight(p.year, p.month, p.day, tz);
}

/** Start of the period after the one starting at `start`. */
export function nextPeriodStart(start: number, period: Period, tz: string): number {
  // Noon of the period's first day: safely inside it, whatever daylight saving does at midnight.
  const p = localParts(start + 12 * 3_600_000, tz);
  if (period === 'month') return localMidnight(p.year, p.month + 1, 1, tz);
  return localMidnight(p.year, p.month, p.day + (period === 'week' ? 7 : 1), tz);
}

/** Starts of every period that overlaps [from, to], oldest first (at most `max`). */
export function periodStarts(from: number, to: number, period: Period, tz: string, weekStart: WeekStart = 'monday', max = 100_000): number[] {
  const out: number[] = [];
  for (let s = periodStart(from, period, tz, weekStart); s <= to && out.length < max; s = nextPeriodStart(s, period, tz)) out.push(s);
  return out;
}

/** "2026-11-30 14:05" in the zone. */
export function formatLocal(ms: number, tz: string): string {
  const p = localParts(ms, tz);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${p.year}-${two(p.month)}-${two(p.day)} ${two(p.hour)}:${two(p.minute)}`;
}
