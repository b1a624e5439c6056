/**
 * Calendar periods computed in TypeScript agree with the SQL buckets (dialect.calendarEpochMs),
 * in several zones and across daylight-saving changes.
 */
import { Period } from '@agent-insights/model';
import { DuckDBStore } from '../../store/duckdb/duckdb-store';
import { duckdb } from '../dialect';
import { formatLocal, nextPeriodStart, periodStart, periodStarts } from './calendar';

const H = 3_600_000;

describe('calendar periods', () => {
  let store: DuckDBStore;
  beforeAll(async () => {
    store = new DuckDBStore(':memory:');
    await store.open();
  });
  afterAll(() => store.close());

  const sql = async (ms: number, period: Period, tz: string, weekStart: 'monday' | 'sunday') =>
    Number((await store.read(`SELECT ${duckdb.calendarEpochMs(duckdb.timestamp(ms), period, tz, weekStart)} AS v`))[0].v);

  it('start where the SQL buckets start', async () => {
    const zones = ['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata', 'Australia/Lord_Howe', 'America/Sao_Paulo'];
    // Instants around DST changes (Europe 2026-03-29 and 2026-10-25, US 2026-03-08 and 2026-11-01) and month ends.
    const instants = ['2026-03-08T06:30:00Z', '2026-03-29T00:30:00Z', '2026-03-29T23:59:00Z', '2026-10-25T01:30:00Z', '2026-11-01T05:00:00Z', '2026-12-31T23:30:00Z', '2026-02-28T12:00:00Z'].map(Date.parse);
    for (const tz of zones) {
      for (const ms of instants) {
        for (const period of ['day', 'week', 'month'] as Period[]) {
          for (const weekStart of ['monday', 'sunday'] as const) {
            if (period !== 'week' && weekStart === 'sunday') continue;
            expect([tz, period, weekStart, new Date(ms).toISOString(), periodStart(ms, period, tz, weekStart)]).toEqual([tz, period, weekStart, new Date(ms).toISOString(), await sql(ms, period, tz, weekStart)]);
          }
        }
      }
    }
  });

  it('enumerate days, weeks and months, with 23- and 25-hour days at DST changes', () => {
    // Berlin: clocks go forward on Sunday 2026-03-29 (a 23-hour day).
    const days = periodStarts(Date.parse('2026-03-28T12:00:00Z'), Date.parse('2026-03-30T12:00:00Z'), 'day', 'Europe/Berlin');
    expect(days.map((d) => new Date(d).toISOString())).toEqual(['2026-03-27T23:00:00.000Z', '2026-03-28T23:00:00.000Z', '2026-03-29T22:00:00.000Z']);
    expect(days[2] - days[1]).toBe(23 * H);
    // New York: clocks go back on 2026-11-01 (a 25-hour day).
    const ny = periodStart(Date.parse('2026-11-01T12:00:00Z'), 'day', 'America/New_York');
    expect(nextPeriodStart(ny, 'day', 'America/New_York') - ny).toBe(25 * H);
    // Weeks start on Monday, or on Sunday.
    expect(new Date(periodStart(Date.parse('2026-06-17T10:00:00Z'), 'week', 'UTC')).toISOString()).toBe('2026-06-15T00:00:00.000Z');
    expect(new Date(periodStart(Date.parse('2026-06-17T10:00:00Z'), 'week', 'UTC', 'sunday')).toISOString()).toBe('2026-06-14T00:00:00.000Z');
    const months = periodStarts(Date.parse('2026-01-15T00:00:00Z'), Date.parse('2026-03-01T00:00:00Z'), 'month', 'UTC');
    expect(months.map((d) => new Date(d).toISOString().slice(0, 10))).toEqual(['2026-01-01', '2026-02-01', '2026-03-01']);
  });

  it('formats local times for messages', () => {
    expect(formatLocal(Date.parse('2026-06-19T14:00:00Z'), 'Europe/Berlin')).toBe('2026-06-19 16:00');
  });
});
