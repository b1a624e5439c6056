/**
 * Time series against a real server with the hand-checked dataset (test-support/dataset.ts).
 * A = the dataset's anchor (midnight UTC). Runs 1-4 start at A+1h, A+2h, A+3h, A+3h30m, run 6 at
 * A+25h; run 5 started a minute ago, outside [A, A+26h] (now is at least A+48h).
 */
import { defaultPricing, lookupPrice, ModelPrice } from '../../pricing';
import { anchorMs, seedDataset, SeededDataset } from '../../test-support/dataset';
import { postOtlp, spanId, traceId, tracesJson } from '../../test-support/otlp';
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
const price = (model: string) => lookupPrice(defaultPricing().table, model) as ModelPrice;

async function series(options: Record<string, unknown>, range?: { from: number; to: number }) {
  const res = await query(server.url, READ_KEY, [{ refId: 'A', queryType: 'timeSeries', timeRange: range ?? { from: A, to: A + 26 * H }, intervalMs: H, ...options }]);
  return res.results.A;
}

/** Each frame as {label of its series: {bucket offset from A in hours: value}}, non-zero values only. */
function byLabel(frames: any[], dim: string, zeros = false): Record<string, Record<number, number | null>> {
  const out: Record<string, Record<number, number | null>> = {};
  for (const f of frames) {
    const values = f.schema.fields[1];
    const times = column(f, 'Time') as number[];
    const vs = f.data.values[1] as (number | null)[];
    out[values.labels?.[dim] ?? ''] = Object.fromEntries(times.map((t, i) => [(t - A) / H, vs[i]]).filter(([, v]) => zeros || v !== 0));
  }
  return out;
}

describe('time series', () => {
  it('runs per hour by agent: one labelled frame per series, every bucket present', async () => {
    const r = await series({ metric: 'runs', groupBy: 'agent' });
    expect(r.status).toBe(200);
    const frames = r.frames;
    expect(frames).toHaveLength(3);
    expect(byLabel(frames, 'agent')).toEqual({ 'billing-bot': { 25: 1 }, 'research-assistant': { 3: 1 }, 'support-triage': { 1: 1, 2: 1, 3: 1 } });
    const st = frames[2];
    // 27 hourly buckets A .. A+26h, zeros included: alerting sees "no runs" as 0.
    expect(column(st, 'Time')).toEqual(Array.from({ length: 27 }, (_, i) => A + i * H));
    expect(st.schema.fields[0]).toMatchObject({ name: 'Time', typeInfo: { frame: 'time.Time' }, config: { interval: H } });
    expect(st.schema.fields[1]).toMatchObject({ name: 'Runs', typeInfo: { frame: 'float64' }, labels: { agent: 'support-triage' }, config: { unit: 'short', displayNameFromDS: 'support-triage' } });
    expect(st.schema.meta).toMatchObject({ type: 'timeseries-multi' });
    // Without a dimension: one unlabelled series; 5 runs in all.
    const all = await series({ metric: 'runs' });
    expect(all.frames).toHaveLength(1);
    expect(all.frames[0].schema.fields[1].labels).toBeUndefined();
    expect((column(all.frames[0], 'Runs') as number[]).reduce((a, b) => a + b)).toBe(5);
  });

  it('timeout rate by agent: over finished runs, buckets without one left out', async () => {
    // support-triage: run 1 completed (A+1h) 0, run 2 failed (A+2h) 0, run 3 timed out (A+3h) 1.
    expect(byLabel((await series({ metric: 'timeoutRate', groupBy: 'agent' })).frames, 'agent', true)).toEqual({
      'billing-bot': { 25: 0 },
      'research-assistant': { 3: 0 },
      'support-triage': { 1: 0, 2: 0, 3: 1 },
    });
    // The three rates per day add up to 1: day A 2/4 completed, 1/4 failed, 1/4 timed out; day A+1 1/1 completed.
    const day = async (metric: string) => column((await series({ metric, intervalMs: DAY })).frames[0], ['Completion rate', 'Error rate', 'Timeout rate'][['completionRate', 'errorRate', 'timeoutRate'].indexOf(metric)]);
    expect(await day('completionRate')).toEqual([0.5, 1]);
    expect(await day('errorRate')).toEqual([0.25, 0]);
    expect(await day('timeoutRate')).toEqual([0.25, 0]);
  });

  it('tool calls, errors, error rate and latency by tool', async () => {
    // lookup_order: run 1 ok (200 ms), run 2 error (500 ms): 1 error of 2 calls = 0.5 on day A.
    const rate = await series({ metric: 'toolErrorRate', groupBy: 'tool', intervalMs: DAY });
    expect(byLabel(rate.frames, 'tool', true)).toEqual({ create_ticket: { 0: 0 }, lookup_order: { 0: 0.5 }, web_search: { 0: 0 } });
    expect(rate.frames.find((f: any) => f.schema.name === 'lookup_order').schema.fields[1].config.unit).toBe('percentunit');
    expect(byLabel((await series({ metric: 'toolCalls', groupBy: 'tool', intervalMs: DAY })).frames, 'tool')).toEqual({ create_ticket: { 0: 1 }, lookup_order: { 0: 2 }, web_search: { 0: 3 } });
    expect(byLabel((await series({ metric: 'toolErrors', groupBy: 'agent', intervalMs: DAY })).frames, 'agent')).toEqual({ 'research-assistant': {}, 'support-triage': { 0: 1 } });
    // web_search 100, 200, 300 ms: p95 at rank 1.9 = 200 + 0.9 * 100 = 290 ms.
    expect(byLabel((await series({ metric: 'toolLatencyP95', groupBy: 'tool', intervalMs: DAY, filters: { tool: ['web_search'] } })).frames, 'tool')).toEqual({ web_search: { 0: 290 } });
  });

  it('duration p95 per day over finished runs', async () => {
    // Day A: 10, 4, 300, 20 s; sorted 4, 10, 20, 300; rank 0.95 * 3 = 2.85: 20 + 0.85 * 280 = 258 s. Day A+1: 2 s.
    const f = (await series({ metric: 'durationP95', intervalMs: DAY })).frames[0];
    expect(column(f, 'Time')).toEqual([A, A + DAY]);
    expect((column(f, 'P95 duration') as number[]).map((v) => Math.round(v))).toEqual([258_000, 2_000]);
    expect(f.schema.fields[1].config.unit).toBe('ms');
  });

  it('tokens and cost by model, from LLM steps', async () => {
    // gpt-4o: run 1 120 + 240 (A+1h), run 2 160 (A+2h), run 6 330 (A+25h); gpt-4o-mini 55 (A+3h);
    // claude-sonnet-4 1000 + 500 (A+3h30m, in the A+3h bucket).
    expect(byLabel((await series({ metric: 'tokensTotal', groupBy: 'model' })).frames, 'model')).toEqual({
      'claude-sonnet-4': { 3: 1500 },
      'gpt-4o': { 1: 360, 2: 160, 25: 330 },
      'gpt-4o-mini': { 3: 55 },
    });
    expect(byLabel((await series({ metric: 'tokensCached', groupBy: 'provider' })).frames, 'provider')).toEqual({ anthropic: {}, openai: { 1: 50 } });
    expect(byLabel((await series({ metric: 'tokensReasoning' })).frames, '')).toEqual({ '': { 3: 100 } });
    // A tool filter on tokens keeps the LLM steps of runs that called the tool: runs 1 and 2.
    expect(byLabel((await series({ metric: 'tokensTotal', filters: { tool: ['lookup_order'] } })).frames, '')).toEqual({ '': { 1: 360, 2: 160 } });
    // Cost: run 4 reported $0.02; the others are priced per million tokens from the shipped table.
    // Day A: gpt-4o (50 uncached + 50 cached in, 20 out) + (200 in, 40 out) + (150 in, 10 out)
    // = 400 in, 50 cached, 70 out; gpt-4o-mini 50 in, 5 out. Day A+1: gpt-4o 300 in, 30 out.
    const [p4, mini] = [price('gpt-4o'), price('gpt-4o-mini')];
    const dayA = 0.02 + (400 * p4.input + 50 * p4.cachedInput + 70 * p4.output + 50 * mini.input + 5 * mini.output) / 1e6;
    const dayB = (300 * p4.input + 30 * p4.output) / 1e6;
    const cost = (await series({ metric: 'cost', intervalMs: DAY })).frames[0];
    expect(column(cost, 'Time')).toEqual([A, A + DAY]);
    expect((column(cost, 'Cost') as number[])[0]).toBeCloseTo(dayA, 12);
    expect((column(cost, 'Cost') as number[])[1]).toBeCloseTo(dayB, 12);
    expect(cost.schema.fields[1].config.unit).toBe('currencyUSD');
    // With the shipped prices (gpt-4o 2.5 / 1.25 / 10, gpt-4o-mini 0.15 / 0.6): 0.021773 and 0.00105.
    expect(dayA).toBeCloseTo(0.021773, 9);
    // Credits at the default 100 per USD, by agent: billing-bot is run 6 only.
    const credits = byLabel((await series({ metric: 'credits', groupBy: 'agent', intervalMs: DAY })).frames, 'agent');
    expect(credits['billing-bot'][24]).toBeCloseTo(dayB * 100, 10);
    expect(credits['research-assistant'][0]).toBeCloseTo(2, 10);
    // Per 5 minutes (calls read one by one and keyed as they are summed, llm-usage.ts usageByTime):
    // the same cost, on bucket starts that are multiples of 5 minutes.
    const fine = (await series({ metric: 'cost', intervalMs: 5 * 60_000, maxDataPoints: 1000 }, { from: A, to: A + 2 * DAY - 1 })).frames[0];
    const fineTimes = column(fine, 'Time') as number[];
    const fineCost = column(fine, 'Cost') as number[];
    expect(fine.schema.fields[0].config.interval).toBe(5 * 60_000);
    expect(fineTimes.every((t) => t % (5 * 60_000) === 0)).toBe(true);
    expect(fineCost.filter((c) => c > 0).length).toBeGreaterThan(2);
    expect(fineCost.reduce((a, c) => a + c, 0)).toBeCloseTo(dayA + dayB, 12);
  });

  it('cost names models without a price in a notice, and leaves their calls out', async () => {
    // One extra call of an unpriced model (a run of its own) at A-10h, before every other test's range.
    const t = A - 10 * H;
    const span = { traceId: traceId(), spanId: spanId(), name: 'chat mystery', start: t, end: t + 100, attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'mystery-model', 'gen_ai.usage.input_tokens': 10, 'gen_ai.usage.output_tokens': 5 } };
    expect((await postOtlp(`${server.url}/v1/traces`, INGEST_KEY, JSON.stringify(tracesJson([span], { 'service.name': 'mystery-svc' })))).status).toBe(200);
    const range = { from: A - 11 * H, to: A - 9 * H };
    const cost = (await series({ metric: 'cost', groupBy: 'model' }, range)).frames;
    expect(byLabel(cost, 'model')).toEqual({ 'mystery-model': {} });
    expect(cost[0].schema.meta.notices[0]).toMatchObject({ severity: 'warning', text: expect.stringContaining('No price for mystery-model (1 call)') });
    expect(byLabel((await series({ metric: 'tokensTotal' }, range)).frames, '')).toEqual({ '': { [-10]: 15 } });
  });

  it('run metrics by tool count a run under each tool it called', async () => {
    expect(byLabel((await series({ metric: 'runs', groupBy: 'tool', intervalMs: DAY })).frames, 'tool')).toEqual({ create_ticket: { 0: 1 }, lookup_order: { 0: 2 }, web_search: { 0: 1 } });
  });

  it('sessions and session minutes by channel', async () => {
    // Voice (receptionist) at A+5h, 120 s; video (tutor) at A+6h, 240 s.
    expect(byLabel((await series({ metric: 'sessions', groupBy: 'channel' })).frames, 'channel')).toEqual({ video: { 6: 1 }, voice: { 5: 1 } });
    expect(byLabel((await series({ metric: 'sessionMinutes', groupBy: 'channel' })).frames, 'channel')).toEqual({ video: { 6: 4 }, voice: { 5: 2 } });
  });

  it('day buckets follow the query time zone', async () => {
    // Kolkata (UTC+5:30): runs 1-4 fall on local day A (06:30-09:00), run 6 on day A+1 (06:30);
    // local midnights are A-5h30m and A+18h30m.
    const kol = (await series({ metric: 'runs', intervalMs: DAY, timezone: 'Asia/Kolkata' })).frames[0];
    expect(column(kol, 'Time')).toEqual([A - 5.5 * H, A + 18.5 * H]);
    expect(column(kol, 'Runs')).toEqual([4, 1]);
    // Honolulu (UTC-10): runs 1-4 fall on local day A-1 (15:00-17:30), run 6 on day A (15:00).
    const hnl = (await series({ metric: 'runs', intervalMs: DAY, timezone: 'Pacific/Honolulu' })).frames[0];
    expect(column(hnl, 'Time')).toEqual([A - 14 * H, A + 10 * H]);
    expect(column(hnl, 'Runs')).toEqual([4, 1]);
  });

  it('widens the interval to stay within max data points', async () => {
    // 26 h at 1 min would be 1561 points; with 100 allowed the interval becomes 30 min (53 points).
    const f = (await series({ metric: 'runs', intervalMs: 60_000, maxDataPoints: 100 })).frames[0];
    expect(f.schema.fields[0].config.interval).toBe(30 * 60_000);
    expect(column(f, 'Time')).toHaveLength(53);
    expect((column(f, 'Runs') as number[]).reduce((a, b) => a + b)).toBe(5);
  });

  it('gives run statistics over time with the same definitions', async () => {
    // One bucket holding [A, now]: the figures of runStats (0.6 completion, 244 s p95, 481 tokens per run).
    const range = { from: A, to: data.now };
    const one = async (metric: string, name: string) => column((await series({ metric, maxDataPoints: 1 }, range)).frames[0], name);
    expect(await one('completionRate', 'Completion rate')).toEqual([0.6]);
    expect((await one('durationP95', 'P95 duration')).map((v) => Math.round(v as number))).toEqual([244_000]);
    expect(await one('avgTokensPerRun', 'Avg tokens per run')).toEqual([481]);
    expect(await one('running', 'Running')).toEqual([1]);
  });

  it('no match with a dimension: one frame without rows; faults of the query are 400s', async () => {
    const none = await series({ metric: 'runs', groupBy: 'agent', filters: { agent: ['nobody'] } });
    expect(none.frames).toHaveLength(1);
    expect(none.frames[0].data.values).toEqual([[], []]);
    expect(await series({ metric: 'tokensTotal', groupBy: 'tool' })).toMatchObject({ status: 400, error: expect.stringMatching(/^tokensTotal cannot be grouped by tool/) });
    expect(await series({ metric: 'sessions', groupBy: 'model' })).toMatchObject({ status: 400 });
  });
});
