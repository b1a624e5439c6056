/**
 * Credit forecast with data whose credit use is known: a server of its own with its own price file
 * (test-model: 1 USD per million input tokens) and 100 credits per USD, so 10,000 input tokens are
 * 1 credit. "Now" is fixed at Wednesday 2026-06-17 12:00 in Berlin (10:00 UTC); the week runs from
 * Monday 2026-06-15 00:00 to Monday 2026-06-22 00:00 local time.
 *
 * | call | local time (Berlin)  | credits | counts for                                        |
 * |------|----------------------|---------|---------------------------------------------------|
 * | A    | Tue 2026-06-09 12:00 | 100     | nothing: before the week and the 7-day window      |
 * | B    | Thu 2026-06-11 12:00 | 70      | the rate (last 7 days), not the week               |
 * | C    | Mon 2026-06-15 10:00 | 20      | week, rate                                         |
 * | D    | Tue 2026-06-16 10:00 | 50      | week, rate                                         |
 * | E    | Wed 2026-06-17 09:00 | 28      | week, rate, day                                    |
 * | F    | Wed 2026-06-17 13:00 | 1000    | nothing: after now                                 |
 *
 * Week: used 20 + 50 + 28 = 98; rate (70 + 20 + 50 + 28) / 7 days = 24 per day = 1 per hour;
 * 108 hours left (Wed 12:00 to Mon 00:00): projected 98 + 108 = 206.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseQuery } from '@agent-insights/model';
import { loadPricing } from '../../pricing';
import { query, rows } from '../../test-support/query';
import { INGEST_KEY, postJson, READ_KEY, startTestServer, TestServer } from '../../test-support/server';
import { duckdb } from '../dialect';
import { creditForecast } from './credit-forecast';

const H = 3_600_000;
const TZ = 'Europe/Berlin';
/** Berlin is UTC+2 in June. */
const berlin = (iso: string): number => Date.parse(`${iso}:00+02:00`);
const NOW = berlin('2026-06-17T12:00');

let dir: string;
let pricesFile: string;
let server: TestServer;

const CALLS: [string, string, number][] = [
  ['A', '2026-06-09T12:00', 100],
  ['B', '2026-06-11T12:00', 70],
  ['C', '2026-06-15T10:00', 20],
  ['D', '2026-06-16T10:00', 50],
  ['E', '2026-06-17T09:00', 28],
  ['F', '2026-06-17T13:00', 1000],
];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'forecast-'));
  pricesFile = join(dir, 'prices.json');
  writeFileSync(pricesFile, JSON.stringify({ takenOn: '2026-06-01', source: 'test', models: { 'test-model': { input: 1, cachedInput: 0.5, output: 2 } } }));
  server = await startTestServer({ AGENT_INSIGHTS_PRICES_FILE: pricesFile, AGENT_INSIGHTS_CREDITS_PER_USD: '100', AGENT_INSIGHTS_RETENTION_DAYS: '0' });
  // One native run per call, each with one LLM step: 10,000 input tokens of test-model per credit.
  const events = CALLS.flatMap(([id, at, credits]) => {
    const t = berlin(at);
    return [
      { type: 'run.finished', runId: `run-${id}`, agent: id === 'E' ? 'night-bot' : 'forecaster', startTime: t, endTime: t + 1000, status: 'completed' },
      { type: 'step', runId: `run-${id}`, stepId: 'llm', kind: 'llm', name: 'chat', model: 'test-model', startTime: t + 10, endTime: t + 500, tokens: { input: credits * 10_000, output: 0 } },
    ];
  });
  const res = await postJson(`${server.url}/api/v1/events`, INGEST_KEY, { events });
  expect(res.status).toBe(200);
});
afterAll(async () => {
  await server.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

async function forecast(options: Record<string, unknown>): Promise<any> {
  const q = parseQuery({ refId: 'A', queryType: 'creditForecast', ...options }, { range: { from: NOW - 30 * 24 * H, to: NOW }, timezone: TZ });
  const [f] = await creditForecast(q, { store: server.store, dialect: duckdb, tenant: 'acme', nowMs: NOW, pricing: loadPricing({ pricesFile, creditsPerUsd: 100 }) });
  return f;
}

describe('creditForecast', () => {
  it('shows the week so far and its projection from the last 7 days', async () => {
    const f = await forecast({ period: 'week' });
    const d = (iso: string) => berlin(iso);
    const r = rows(f);
    expect(r.map((x) => x.Time)).toEqual([
      d('2026-06-15T00:00'),
      d('2026-06-16T00:00'),
      d('2026-06-17T00:00'),
      NOW,
      d('2026-06-18T00:00'),
      d('2026-06-19T00:00'),
      d('2026-06-20T00:00'),
      d('2026-06-21T00:00'),
      d('2026-06-22T00:00'),
    ]);
    // Actual: cumulative credits at each local midnight, and at now.
    const actual = r.map((x) => x.Actual as number | null);
    expect(actual.slice(4)).toEqual([null, null, null, null, null]);
    [0, 20, 70, 98].forEach((v, i) => expect(actual[i]).toBeCloseTo(v, 9));
    // Projected: 98 at now, then 1 credit per hour (12 h to Thursday's midnight, then 24 a day).
    const projected = r.map((x) => x.Projected as number | null);
    expect(projected.slice(0, 3)).toEqual([null, null, null]);
    [98, 110, 134, 158, 182, 206].forEach((v, i) => expect(projected[3 + i]).toBeCloseTo(v, 9));
    expect(f.schema.fields.map((x: any) => [x.name, x.config?.unit])).toEqual([
      ['Time', undefined],
      ['Actual', 'suffix: credits'],
      ['Projected', 'suffix: credits'],
    ]);
    expect(f.schema.meta.custom).toMatchObject({ period: 'week', timezone: TZ, periodStart: d('2026-06-15T00:00'), periodEnd: d('2026-06-22T00:00'), budget: null, budgetRunsOutAt: null, rateWindowHours: 168 });
    expect(f.schema.meta.custom.creditsUsed).toBeCloseTo(98, 9);
    expect(f.schema.meta.custom.projectedTotal).toBeCloseTo(206, 9);
    expect(f.schema.meta.custom.creditsPerHour).toBeCloseTo(1, 12);
    expect(f.schema.meta.notices).toBeUndefined();
  });

  it('says when the projection crosses the budget', async () => {
    const f = await forecast({ period: 'week', budget: 150 });
    // 150 - 98 = 52 credits left at 1 per hour: Friday 2026-06-19 16:00 Berlin.
    const runsOut = berlin('2026-06-19T16:00');
    expect(f.schema.meta.custom).toMatchObject({ budget: 150, budgetRunsOutAt: runsOut });
    expect(rows(f).every((x) => x.Budget === 150)).toBe(true);
    expect(f.schema.meta.notices).toEqual([
      { severity: 'warning', text: 'At the recent rate the budget of 150 credits runs out on 2026-06-19 16:00 (Europe/Berlin), before the week ends (projected 206.00 credits).' },
    ]);
    // A budget the projection stays under: no run-out, no notice.
    const ample = await forecast({ period: 'week', budget: 500 });
    expect(ample.schema.meta.custom.budgetRunsOutAt).toBeNull();
    expect(ample.schema.meta.notices).toBeUndefined();
    // A budget already used up.
    const spent = await forecast({ period: 'week', budget: 90 });
    expect(spent.schema.meta.notices[0].text).toMatch(/^The budget of 90 credits is used up: it ran out on 2026-06-17 12:00 \(Europe\/Berlin\)\.$/);
  });

  it('projects a day from the last 24 hours, hour by hour', async () => {
    const f = await forecast({ period: 'day' });
    // Today: E (28 credits at 09:00). Last 24 h: only E, so 28 / 24 per hour; 12 h left: 28 + 14 = 42.
    const r = rows(f);
    expect(r).toHaveLength(25); // 00:00 .. 23:00 and the end (now is 12:00, a step)
    const at = (hhmm: string) => r.find((x) => x.Time === berlin(`2026-06-17T${hhmm}`))!;
    expect(at('09:00').Actual).toBe(0);
    expect(at('10:00').Actual).toBeCloseTo(28, 9);
    expect(at('12:00').Actual).toBeCloseTo(28, 9);
    expect(at('12:00').Projected).toBeCloseTo(28, 9);
    expect(r[24].Time).toBe(berlin('2026-06-18T00:00'));
    expect(r[24].Projected as number).toBeCloseTo(42, 9);
    expect(f.schema.meta.custom.projectedTotal).toBeCloseTo(42, 9);
  });

  it('covers the month, and follows filters', async () => {
    const month = await forecast({ period: 'month' });
    // June so far: A + B + C + D + E = 100 + 70 + 20 + 50 + 28 = 268; 13.5 days left (Jun 17 12:00 to
    // Jul 1 00:00) at 24 a day: 268 + 324 = 592.
    expect(month.schema.meta.custom.creditsUsed).toBeCloseTo(268, 9);
    expect(month.schema.meta.custom.periodEnd).toBe(berlin('2026-07-01T00:00'));
    expect(rows(month)).toHaveLength(30 + 1 + 1); // 30 local day starts, now (between two of them), the end
    expect(month.schema.meta.custom.projectedTotal).toBeCloseTo(592, 9);
    const night = await forecast({ period: 'week', filters: { agent: ['night-bot'] } });
    expect(night.schema.meta.custom.creditsUsed).toBeCloseTo(28, 9);
  });
});

describe('configured prices reach the query API', () => {
  it('prices with AGENT_INSIGHTS_PRICES_FILE and AGENT_INSIGHTS_CREDITS_PER_USD', async () => {
    const res = await query(server.url, READ_KEY, [
      { refId: 'A', queryType: 'modelShare', timeRange: { from: berlin('2026-06-15T00:00'), to: NOW } },
    ]);
    const [share] = rows(res.results.A.frames[0]);
    // C + D + E: 980,000 input tokens at 1 USD per million = 0.98 USD = 98 credits.
    expect(share).toMatchObject({ Model: 'test-model', Tokens: 980_000 });
    expect(share.Cost as number).toBeCloseTo(0.98, 12);
    expect(share.Credits as number).toBeCloseTo(98, 9);
    expect(res.results.A.frames[0].schema.meta.custom).toMatchObject({ pricesTakenOn: '2026-06-01', creditsPerUsd: 100 });
  });
});
