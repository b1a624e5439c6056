/**
 * Peak-usage heatmaps against a real server with the hand-checked dataset, in three time zones.
 * A = the dataset's anchor (midnight UTC). Runs 1-4 start at A+1h, A+2h, A+3h, A+3h30m, run 6 at
 * A+25h; the range [A, A+26h] leaves out run 5 (started a minute ago).
 */
import { defaultPricing, lookupPrice, ModelPrice } from '../../pricing';
import { anchorMs, seedDataset, SeededDataset } from '../../test-support/dataset';
import { column, query } from '../../test-support/query';
import { INGEST_KEY, READ_KEY, startTestServer, TestServer } from '../../test-support/server';

let server: TestServer;
let data: SeededDataset;
let A: number;
beforeAll(async () => {
  server = await startTestServer();
  data = await seedDataset(server.url, INGEST_KEY);
  A = anchorMs(data.now);
});
afterAll(() => server.cleanup());

const H = 3_600_000;
const DAY = 24 * H;
const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

async function heatmap(options: Record<string, unknown>) {
  const res = await query(server.url, READ_KEY, [{ refId: 'A', queryType: 'heatmap', timeRange: { from: A, to: A + 26 * H }, ...options }]);
  return res.results.A;
}

/** Non-zero cells as {"<row time - A in hours>/<field>": value}. */
function cells(f: any): Record<string, number> {
  const times = column(f, 'Time') as number[];
  const out: Record<string, number> = {};
  f.schema.fields.slice(1).forEach((field: any, c: number) => {
    (f.data.values[c + 1] as number[]).forEach((v, r) => {
      if (v !== 0) out[`${(times[r] - A) / H}/${field.name}`] = v;
    });
  });
  return out;
}

describe('heatmap', () => {
  it('hour of day by day in UTC: a heatmap-rows frame with fields 00..23', async () => {
    const r = await heatmap({ heatmap: 'hourOfDay', timezone: 'UTC' });
    expect(r.status).toBe(200);
    const f = r.frames[0];
    expect(f.schema.meta.type).toBe('heatmap-rows');
    expect(f.schema.fields.map((x: any) => x.name)).toEqual(['Time', ...Array.from({ length: 24 }, (_, h) => String(h).padStart(2, '0'))]);
    expect(f.schema.fields[0].typeInfo.frame).toBe('time.Time');
    // Days A and A+1; runs 3 and 4 share the 03 cell.
    expect(column(f, 'Time')).toEqual([A, A + DAY]);
    expect(cells(f)).toEqual({ '0/01': 1, '0/02': 1, '0/03': 2, '24/01': 1 });
  });

  it('hour of day in Asia/Kolkata (UTC+5:30): run 1 at A+1h is 06:30 local on day A', async () => {
    // Local midnights A-5h30m and A+18h30m; runs 1-4 at 06:30, 07:30, 08:30, 09:00; run 6 at 06:30 on day A+1.
    const f = (await heatmap({ heatmap: 'hourOfDay', timezone: 'Asia/Kolkata' })).frames[0];
    expect(column(f, 'Time')).toEqual([A - 5.5 * H, A + 18.5 * H]);
    expect(cells(f)).toEqual({ '-5.5/06': 1, '-5.5/07': 1, '-5.5/08': 1, '-5.5/09': 1, '18.5/06': 1 });
  });

  it('hour of day in Pacific/Honolulu (UTC-10): run 1 at A+1h is 15:00 on the previous local day', async () => {
    // Local midnights A-14h (day A-1) and A+10h (day A); runs 1-4 at 15:00, 16:00, 17:00, 17:30 of day A-1.
    const f = (await heatmap({ heatmap: 'hourOfDay', timezone: 'Pacific/Honolulu' })).frames[0];
    expect(column(f, 'Time')).toEqual([A - 14 * H, A + 10 * H]);
    expect(cells(f)).toEqual({ '-14/15': 1, '-14/16': 1, '-14/17': 2, '10/15': 1 });
  });

  it('tokens by day of week, weeks starting Monday or Sunday', async () => {
    // Day A: 360 + 160 + 55 + 1500 = 2075 tokens; day A+1: 330.
    const dayA = WEEKDAYS[(new Date(A).getUTCDay() + 6) % 7];
    const dayB = WEEKDAYS[(new Date(A + DAY).getUTCDay() + 6) % 7];
    const weekStart = (t: number, first: number) => t - ((new Date(t).getUTCDay() - first + 7) % 7) * DAY;
    for (const [ws, first, names] of [['monday', 1, WEEKDAYS], ['sunday', 0, ['Sun', ...WEEKDAYS.slice(0, 6)]]] as const) {
      const f = (await heatmap({ heatmap: 'dayOfWeek', heatmapMetric: 'tokensTotal', timezone: 'UTC', weekStart: ws })).frames[0];
      expect(f.schema.fields.map((x: any) => x.name)).toEqual(['Time', ...names]);
      expect(f.schema.fields[1].config.unit).toBe('short');
      const [wa, wb] = [weekStart(A, first), weekStart(A + DAY, first)];
      expect(column(f, 'Time')).toEqual(wa === wb ? [wa] : [wa, wb]);
      expect(cells(f)).toEqual({ [`${(wa - A) / H}/${dayA}`]: 2075, [`${(wb - A) / H}/${dayB}`]: 330 });
    }
  });

  it('cost and credits per hour: reported, else priced from the table', async () => {
    // Per million tokens at the table's prices: 01 run 1 gpt-4o (50 uncached + 50 cached in, 20 out)
    // + (200 in, 40 out); 02 run 2 gpt-4o 150 in, 10 out; 03 run 3 gpt-4o-mini 50 in, 5 out + run 4's
    // reported $0.02; day A+1 01 run 6 gpt-4o 300 in, 30 out.
    const table = defaultPricing().table;
    const [p4, mini] = [lookupPrice(table, 'gpt-4o') as ModelPrice, lookupPrice(table, 'gpt-4o-mini') as ModelPrice];
    const expected: Record<string, number> = {
      '0/01': (250 * p4.input + 50 * p4.cachedInput + 60 * p4.output) / 1e6,
      '0/02': (150 * p4.input + 10 * p4.output) / 1e6,
      '0/03': 0.02 + (50 * mini.input + 5 * mini.output) / 1e6,
      '24/01': (300 * p4.input + 30 * p4.output) / 1e6,
    };
    for (const [metric, factor, unit] of [['cost', 1, 'currencyUSD'], ['credits', 100, 'suffix: credits']] as const) {
      const f = (await heatmap({ heatmap: 'hourOfDay', heatmapMetric: metric })).frames[0];
      const got = cells(f);
      expect(Object.keys(got).sort()).toEqual(Object.keys(expected).sort());
      for (const k of Object.keys(expected)) expect(got[k]).toBeCloseTo(expected[k] * factor, 12);
      expect(f.schema.fields[1].config.unit).toBe(unit);
    }
  });
});
