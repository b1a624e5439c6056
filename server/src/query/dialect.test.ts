/**
 * The dialect's primitives asked of both engines with the same inputs: DuckDB (embedded) and
 * ClickHouse (the chdb harness). Each answer must equal the other engine's and the TypeScript
 * oracle's (calendar.ts, local-time.ts), so that SQL written once through the dialect buckets,
 * truncates and interpolates alike on either engine.
 */
import { Period } from '@agent-insights/model';
import { ClickHouseStore } from '../store/clickhouse/clickhouse-store';
import { DuckDBStore } from '../store/duckdb/duckdb-store';
import { Store } from '../store/store';
import { startClickHouse, TestClickHouse } from '../test-support/clickhouse';
import { periodStart } from './capabilities/calendar';
import { naiveLocal } from './capabilities/local-time';
import { clickhouse, Dialect, dialectOf, duckdb } from './dialect';

let ch: TestClickHouse;
let engines: [Dialect, Store][];

beforeAll(async () => {
  ch = await startClickHouse();
  const duck = new DuckDBStore(':memory:');
  const chs = new ClickHouseStore({ url: ch.url, username: 'default', password: '', database: 'dialect', cluster: '', runTimeoutMinutes: 15, retentionDays: 0 });
  await duck.open();
  await chs.open();
  engines = [
    [duckdb, duck],
    [clickhouse, chs],
  ];
}, 120_000);
afterAll(async () => {
  for (const [, s] of engines ?? []) await s.close();
  await ch?.stop();
});

/** One SELECT per engine; every answer as a number (or null). */
async function both(select: (d: Dialect) => string, params: unknown[] = []): Promise<(number | null)[][]> {
  const out: (number | null)[][] = [];
  for (const [d, store] of engines) {
    const [row] = await store.read(`SELECT ${select(d)}`, params);
    out.push(Object.keys(row).sort().map((k) => (row[k] === null ? null : Number(row[k]))));
  }
  return out;
}

const ZONES = ['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata', 'Australia/Lord_Howe', 'America/Sao_Paulo', 'Asia/Kathmandu'];
// Around DST changes (US 2026-03-08 and 2026-11-01, Europe 2026-03-29 and 2026-10-25), month and
// year ends, a Sunday and a Monday, and Sao Paulo's last midnight that did not exist (2018-11-04).
const INSTANTS = [
  '2026-03-08T06:30:00Z',
  '2026-03-08T07:30:00.123Z',
  '2026-03-29T00:30:00Z',
  '2026-03-29T01:30:00Z',
  '2026-03-29T23:59:00Z',
  '2026-10-25T00:30:00Z',
  '2026-10-25T01:30:00Z',
  '2026-11-01T05:00:00Z',
  '2026-11-01T06:30:00Z',
  '2026-12-31T23:30:00Z',
  '2026-02-28T12:00:00Z',
  '2026-06-14T12:00:00Z',
  '2026-06-15T00:00:00Z',
  '2018-11-04T03:30:00Z',
].map(Date.parse);
const SAO_PAULO_GAP = Date.parse('2018-11-04T03:30:00Z');

describe('the dialects of DuckDB and ClickHouse answer alike', () => {
  it('pick themselves by the store engine', () => {
    expect(dialectOf('duckdb')).toBe(duckdb);
    expect(dialectOf('clickhouse')).toBe(clickhouse);
    expect(() => dialectOf('sqlite')).toThrow(/no SQL dialect/);
  });

  it('convert epoch milliseconds and microseconds both ways', async () => {
    const ms = Date.parse('2026-01-15T12:34:56.789Z');
    const [duck, chAnswer] = await both((d) => `${d.epochMs(d.timestamp(ms))} AS a, ${d.epochUs(d.timestamp(ms + 0.25))} AS b, ${d.bucketEpochMs(d.timestamp(ms), 900_000)} AS c`);
    // 12:34:56.789 in 15-minute buckets: 12:30.
    expect(duck).toEqual([ms, (ms + 0.25) * 1000, Date.parse('2026-01-15T12:30:00Z')]);
    expect(chAnswer).toEqual(duck);
  });

  it('read wall-clock time in a zone (naive local), across daylight-saving changes', async () => {
    for (const tz of ZONES) {
      const [duck, chAnswer] = await both((d) => INSTANTS.map((ms, i) => `${d.epochMs(d.local(d.timestamp(ms), tz))} AS c${String(i).padStart(2, '0')}`).join(', '));
      expect({ tz, v: duck }).toEqual({ tz, v: INSTANTS.map((ms) => naiveLocal(ms, tz)) });
      expect({ tz, v: chAnswer }).toEqual({ tz, v: duck });
    }
  });

  it('start days, Monday and Sunday weeks and months in a zone where calendar.ts does', async () => {
    const cases: [Period, 'monday' | 'sunday'][] = [
      ['day', 'monday'],
      ['week', 'monday'],
      ['week', 'sunday'],
      ['month', 'monday'],
    ];
    for (const tz of ZONES) {
      for (const [period, weekStart] of cases) {
        const [duck, chAnswer] = await both((d) => INSTANTS.map((ms, i) => `${d.calendarEpochMs(d.timestamp(ms), period, tz, weekStart)} AS c${String(i).padStart(2, '0')}`).join(', '));
        // calendar.ts (the TypeScript side: empty periods, forecasts) agrees with both engines,
        // Sao Paulo's missing midnight of 2018-11-04 included (the day starts at the change).
        const oracle = INSTANTS.map((ms) => periodStart(ms, period, tz, weekStart));
        expect({ tz, period, weekStart, v: chAnswer }).toEqual({ tz, period, weekStart, v: duck });
        expect({ tz, period, weekStart, v: duck }).toEqual({ tz, period, weekStart, v: oracle });
      }
    }
    // The missing midnight itself: both engines start that day at the change, 03:00 UTC.
    const [duck, chAnswer] = await both((d) => `${d.calendarEpochMs(d.timestamp(SAO_PAULO_GAP), 'day', 'America/Sao_Paulo', 'monday')} AS v`);
    expect(duck).toEqual([Date.parse('2018-11-04T03:00:00Z')]);
    expect(chAnswer).toEqual(duck);
  });

  it('interpolate percentiles linearly (quantile_cont = quantileExactInclusive), NULL over no rows', async () => {
    const values = [12, 3.5, 100, 7, 7, 42.25, 0, 19];
    const rows = (d: Dialect) => `(SELECT CAST(v AS DOUBLE) AS v FROM (SELECT ${values.map((v) => `${v} AS v`).join(' UNION ALL SELECT ')}) x)`;
    const ps = [0, 0.25, 0.5, 0.9, 0.95, 0.99, 1];
    const answers: { single: number[]; several: number[]; empty: unknown }[] = [];
    for (const [d, store] of engines) {
      const single = ps.map((p, i) => `${d.percentile('v', p)} AS p${i}`).join(', ');
      const [row] = await store.read(`SELECT ${single}, ${d.percentiles('v', [0.5, 0.95])} AS ps FROM ${rows(d)} t`);
      const [empty] = await store.read(`SELECT ${d.percentile('v', 0.5)} AS p FROM ${rows(d)} t WHERE v > 1000`);
      answers.push({ single: ps.map((_, i) => Number(row[`p${i}`])), several: (row.ps as number[]).map(Number), empty: empty.p });
    }
    // Sorted: 0, 3.5, 7, 7, 12, 19, 42.25, 100; p = 0.95 sits at rank 0.95 * 7 = 6.65: 42.25 + 0.65 * (100 - 42.25) = 79.7875.
    expect(answers[0].single[4]).toBeCloseTo(79.7875, 10);
    expect(answers[0].single[2]).toBe(9.5);
    expect(answers[0].empty).toBeNull();
    expect(answers[1].empty).toBeNull();
    for (let i = 0; i < ps.length; i++) expect(Math.abs(answers[1].single[i] - answers[0].single[i])).toBeLessThanOrEqual(1e-9 * Math.abs(answers[0].single[i]));
    expect(answers[1].several.map((v, i) => v - answers[0].several[i]).every((x) => Math.abs(x) < 1e-9)).toBe(true);
  });

  it('take the value of the row with the greatest key (arg_max = argMax)', async () => {
    const rows = `(SELECT 'b' AS g, 3 AS v, 30 AS k UNION ALL SELECT 'a', 1, 10 UNION ALL SELECT 'a', 2, 20 UNION ALL SELECT 'b', 4, 5) t`;
    const answers: unknown[] = [];
    for (const [d, store] of engines) answers.push(await store.read(`SELECT g, ${d.argMax('v', 'k')} AS v FROM ${rows} GROUP BY g ORDER BY g`));
    // a: greatest k 20 has v 2; b: greatest k 30 has v 3.
    expect(answers.map((a) => (a as { g: string; v: unknown }[]).map((r) => [r.g, Number(r.v)]))).toEqual([
      [['a', 2], ['b', 3]],
      [['a', 2], ['b', 3]],
    ]);
  });

  it('test membership in a bound list and quote literals (quotes and backslashes)', async () => {
    const [duck, chAnswer] = await both(
      (d) => `${d.inList('[$1, $2]', "'b'")} AS a, ${d.inList('[$1, $2]', "'c'")} AS b, length(${d.quote("it's a\\b")}) AS c`,
      ['a', 'b'],
    );
    expect(duck).toEqual([1, 0, 8]);
    expect(chAnswer).toEqual(duck);
  });
});
