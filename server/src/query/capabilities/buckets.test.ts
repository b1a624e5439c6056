/** Time buckets: the query's interval, widened to a round one when max data points demands. */
import { parseQuery } from '@agent-insights/model';
import { duckdb } from '../dialect';
import { chooseInterval, planBuckets } from './buckets';

const t = (iso: string) => Date.parse(iso);
const H = 3_600_000;
const DAY = 24 * H;
const q = (from: string, to: string, intervalMs: number, maxDataPoints = 1000, timezone = 'UTC', weekStart = 'monday') =>
  parseQuery({ queryType: 'timeSeries' }, { range: { from: t(from), to: t(to) }, intervalMs, maxDataPoints, timezone, weekStart });

describe('time buckets', () => {
  it('keeps the interval while the buckets fit, else takes the first round interval that fits', () => {
    expect(chooseInterval(q('2024-01-01T00:00:00Z', '2024-01-02T02:00:00Z', H))).toBe(H);
    // 26 h in 1 min buckets is 1561 points; 100 allowed: 15 min gives 105, 30 min gives 53.
    expect(chooseInterval(q('2024-01-01T00:00:00Z', '2024-01-02T02:00:00Z', 60_000, 100))).toBe(30 * 60_000);
    // Whole days: 36 h becomes 2 days (local days are not cut apart).
    expect(chooseInterval(q('2024-01-01T00:00:00Z', '2024-03-01T00:00:00Z', 36 * H))).toBe(2 * DAY);
    // One point for ten years: doubling past four weeks until one bucket holds the range.
    const one = q('2014-01-01T00:00:00Z', '2024-01-01T00:00:00Z', H, 1);
    const b = planBuckets(one, duckdb);
    expect(b.keys).toHaveLength(1);
  });

  it('aligns sub-day buckets on UTC and day buckets on local midnights', () => {
    const utc = planBuckets(q('2024-01-01T00:30:00Z', '2024-01-01T03:10:00Z', H, 1000, 'Asia/Kolkata'), duckdb);
    expect(utc.keys.map(utc.instant)).toEqual([t('2024-01-01T00:00:00Z'), t('2024-01-01T01:00:00Z'), t('2024-01-01T02:00:00Z'), t('2024-01-01T03:00:00Z')]);
    expect(utc.key('x')).toBe(duckdb.bucketEpochMs('x', H));
    // New York days across the March change: the 10th has 23 hours.
    const ny = planBuckets(q('2024-03-09T12:00:00Z', '2024-03-11T12:00:00Z', DAY, 1000, 'America/New_York'), duckdb);
    expect(ny.keys.map(ny.instant)).toEqual([t('2024-03-09T05:00:00Z'), t('2024-03-10T05:00:00Z'), t('2024-03-11T04:00:00Z')]);
  });

  it('starts week buckets on the configured weekday', () => {
    // 2024-01-17 is a Wednesday.
    const mon = planBuckets(q('2024-01-17T12:00:00Z', '2024-01-24T12:00:00Z', 7 * DAY), duckdb);
    expect(mon.keys.map(mon.instant)).toEqual([t('2024-01-15T00:00:00Z'), t('2024-01-22T00:00:00Z')]);
    const sun = planBuckets(q('2024-01-17T12:00:00Z', '2024-01-24T12:00:00Z', 7 * DAY, 1000, 'UTC', 'sunday'), duckdb);
    expect(sun.keys.map(sun.instant)).toEqual([t('2024-01-14T00:00:00Z'), t('2024-01-21T00:00:00Z')]);
  });
});
