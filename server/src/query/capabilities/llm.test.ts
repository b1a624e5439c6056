/**
 * LLM usage against the hand-checked dataset (test-support/dataset.ts), priced with the shipped
 * table (USD per million tokens: gpt-4o 2.5 input / 1.25 cached / 10 output; gpt-4o-mini 0.15 /
 * 0.075 / 0.6) and 100 credits per USD. LLM calls, all in the range [anchor A, now]:
 *
 * | run | day  | agent              | conv | model           | in   | out | cached | reasoning | cost (USD)                                  |
 * |-----|------|--------------------|------|-----------------|------|-----|--------|-----------|---------------------------------------------|
 * | 1   | A    | support-triage     | c1   | gpt-4o          | 100  | 20  | 50     |           | (50x2.5 + 50x1.25 + 20x10)/1e6 = 0.0003875  |
 * | 1   | A    | support-triage     | c1   | gpt-4o          | 200  | 40  |        |           | (200x2.5 + 40x10)/1e6 = 0.0009              |
 * | 2   | A    | support-triage     | c1   | gpt-4o          | 150  | 10  |        |           | (150x2.5 + 10x10)/1e6 = 0.000475            |
 * | 3   | A    | support-triage     | c2   | gpt-4o-mini     | 50   | 5   |        |           | (50x0.15 + 5x0.6)/1e6 = 0.0000105           |
 * | 4   | A    | research-assistant | c3   | claude-sonnet-4 | 1000 | 500 |        | 100       | 0.02 reported (wins over the table)         |
 * | 6   | A+1d | billing-bot        | c4   | gpt-4o          | 300  | 30  |        |           | (300x2.5 + 30x10)/1e6 = 0.00105             |
 *
 * A second tenant (globex) holds calls the table cannot price, to see the notice; it changes
 * no figure of the dataset's tenant.
 */
import { postOtlp, tracesJson } from '../../test-support/otlp';
import { anchorMs, runIdOf, seedDataset, SeededDataset } from '../../test-support/dataset';
import { query, rows } from '../../test-support/query';
import { INGEST_KEY, postJson, READ_KEY, startTestServer, TestServer } from '../../test-support/server';

const H = 3_600_000;
const DAY = 24 * H;
let server: TestServer;
let data: SeededDataset;

/** Globex: an OTLP run with an unknown model, a dated snapshot and a reported cost; two native runs with run-level totals only. */
async function seedGlobex(anchor: number): Promise<void> {
  const t = anchor + 10 * H;
  const traceId = 'b10be7' + '0'.repeat(25) + '1';
  const llm = (spanId: string, model: string, input: number, output: number, cost?: number) => ({
    traceId,
    spanId,
    parentSpanId: 'a000000000000001',
    name: `chat ${model}`,
    start: t + 100,
    end: t + 200,
    attributes: {
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': model,
      'gen_ai.usage.input_tokens': input,
      'gen_ai.usage.output_tokens': output,
      ...(cost !== undefined ? { 'llm.cost.total': cost } : {}),
    },
  });
  const spans = [
    llm('a000000000000002', 'mystery-model', 1000, 100),
    llm('a000000000000003', 'mystery-model', 10, 10, 0.5),
    llm('a000000000000004', 'gpt-4o-2024-08-06', 1000, 0),
    { traceId, spanId: 'a000000000000001', name: 'invoke_agent globex-bot', start: t, end: t + 1000, attributes: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'globex-bot' } },
  ];
  const res = await postOtlp(`${server.url}/v1/traces`, server.other.ingest, JSON.stringify(tracesJson(spans)));
  expect(res.status).toBe(200);
  const native = await postJson(`${server.url}/api/v1/events`, server.other.ingest, {
    events: [
      { type: 'run.finished', runId: 'native-1', agent: 'native-bot', startTime: t, endTime: t + 1000, status: 'completed', tokens: { input: 2000, output: 1000 } },
      { type: 'run.finished', runId: 'native-2', agent: 'native-bot', startTime: t + 2000, endTime: t + 3000, status: 'completed', tokens: { input: 100, output: 0 }, cost: 0.3 },
    ],
  });
  expect(native.status).toBe(200);
}

beforeAll(async () => {
  server = await startTestServer();
  data = await seedDataset(server.url, INGEST_KEY);
  await seedGlobex(data.anchor);
});
afterAll(() => server.cleanup());

const range = () => ({ from: anchorMs(data.now), to: data.now });
async function frameOf(q: Record<string, unknown>, key = READ_KEY) {
  const res = await query(server.url, key, [{ refId: 'A', timeRange: range(), ...q }]);
  expect(res.results.A).toMatchObject({ status: 200 });
  return res.results.A.frames[0];
}
const unit = (f: any, name: string) => f.schema.fields.find((x: any) => x.name === name).config?.unit;

describe('llmTokens', () => {
  it('gives tokens, cost and credits per day as one wide time series, empty days as zero', async () => {
    const f = await frameOf({ queryType: 'llmTokens', period: 'day' });
    const A = data.anchor;
    // Day A: input 100+200+150+50+1000 = 1500, output 20+40+10+5+500 = 575, cached 50, reasoning 100,
    // total 1500+575 = 2075, cost 0.0003875+0.0009+0.000475+0.0000105+0.02 = 0.021773 USD = 2.1773 credits.
    // Day A+1: run 6 only. Day A+2 (today): run 5 made no LLM call.
    const r = rows(f);
    expect(r.map((x) => x.Time)).toEqual([A, A + DAY, A + 2 * DAY]);
    expect(r[0]).toMatchObject({ Input: 1500, Output: 575, Cached: 50, Reasoning: 100, Total: 2075, 'LLM calls': 5 });
    expect(r[0].Cost as number).toBeCloseTo(0.021773, 10);
    expect(r[0].Credits as number).toBeCloseTo(2.1773, 8);
    expect(r[1]).toMatchObject({ Input: 300, Output: 30, Cached: 0, Reasoning: 0, Total: 330, 'LLM calls': 1 });
    expect(r[1].Cost as number).toBeCloseTo(0.00105, 10);
    expect(r[2]).toMatchObject({ Input: 0, Output: 0, Total: 0, Cost: 0, Credits: 0 });
    expect(f.schema.fields.map((x: any) => x.name)).toEqual(['Time', 'Input', 'Output', 'Cached', 'Reasoning', 'Total', 'LLM calls', 'Cost', 'Credits']);
    expect([unit(f, 'Input'), unit(f, 'Reasoning'), unit(f, 'Cost'), unit(f, 'Credits')]).toEqual(['short', 'short', 'currencyUSD', 'suffix: credits']);
    expect(f.schema.meta).toMatchObject({ preferredVisualisationType: 'graph', custom: { period: 'day', creditsPerUsd: 100, pricesTakenOn: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/) } });
    expect(f.schema.meta.custom.totalCost).toBeCloseTo(0.022823, 10);
    expect(f.schema.meta.notices).toBeUndefined(); // every call is priced
  });

  it('buckets days in the query time zone', async () => {
    // Bogota is UTC-5 all year: runs 1-4 (A+1h .. A+3h30 UTC) fall on the local day before A, whose
    // midnight is A-19h; run 6 (A+25h UTC) on local day A, from A+5h.
    const f = await frameOf({ queryType: 'llmTokens', period: 'day', timezone: 'America/Bogota' });
    const byTime = new Map(rows(f).map((x) => [x.Time, x]));
    expect(rows(f)[0].Time).toBe(data.anchor - 19 * H);
    expect(byTime.get(data.anchor - 19 * H)).toMatchObject({ Total: 2075, 'LLM calls': 5 });
    expect(byTime.get(data.anchor + 5 * H)).toMatchObject({ Total: 330, 'LLM calls': 1 });
  });

  it('sums the same per week and per month, and follows filters', async () => {
    for (const period of ['week', 'month']) {
      const r = rows(await frameOf({ queryType: 'llmTokens', period }));
      expect(r.reduce((a, x) => a + (x.Total as number), 0)).toBe(2405);
    }
    const mini = rows(await frameOf({ queryType: 'llmTokens', period: 'day', filters: { model: ['gpt-4o-mini'] } }));
    expect(mini[0]).toMatchObject({ Input: 50, Output: 5, Total: 55, 'LLM calls': 1 });
    expect(mini[0].Cost as number).toBeCloseTo(0.0000105, 12);
  });

  it('leaves calls without a price out of the cost and names their models in a notice', async () => {
    const f = await frameOf({ queryType: 'llmTokens', period: 'month' }, server.other.read);
    // Priced: gpt-4o-2024-08-06 (base gpt-4o) 1000 input = 0.0025; reported: 0.5 and the native run's 0.3.
    // Unpriced: mystery-model 1000/100 and native-1's run totals (2000/1000, no model).
    const total = rows(f).reduce((a, x) => a + (x.Cost as number), 0);
    expect(total).toBeCloseTo(0.0025 + 0.5 + 0.3, 10);
    expect(rows(f).reduce((a, x) => a + (x.Total as number), 0)).toBe(1100 + 20 + 1000 + 3000 + 100);
    expect(f.schema.meta.notices).toEqual([{ severity: 'warning', text: expect.stringMatching(/^No price for \(no model\) \(1 call\), mystery-model \(1 call\): their cost is left out/) }]);
    expect(f.schema.meta.notices[0].text).toContain('AGENT_INSIGHTS_PRICES_FILE');
  });
});

describe('modelShare', () => {
  it('shares tokens and cost per model, most tokens first', async () => {
    const f = await frameOf({ queryType: 'modelShare' });
    const r = rows(f);
    // Tokens: claude-sonnet-4 1500; gpt-4o 100+20+200+40+150+10+300+30 = 850; gpt-4o-mini 55; all 2405.
    // Cost: 0.02; 0.0003875+0.0009+0.000475+0.00105 = 0.0028125; 0.0000105; all 0.022823.
    expect(r.map((x) => [x.Model, x.Provider, x['LLM calls'], x.Tokens])).toEqual([
      ['claude-sonnet-4', 'anthropic', 1, 1500],
      ['gpt-4o', 'openai', 4, 850],
      ['gpt-4o-mini', 'openai', 1, 55],
    ]);
    expect(r[0]['Share of tokens'] as number).toBeCloseTo(1500 / 2405, 12);
    expect(r[1]['Share of tokens'] as number).toBeCloseTo(850 / 2405, 12);
    expect(r[0].Cost as number).toBeCloseTo(0.02, 12);
    expect(r[1].Cost as number).toBeCloseTo(0.0028125, 12);
    expect(r[2].Cost as number).toBeCloseTo(0.0000105, 12);
    expect(r[0]['Share of cost'] as number).toBeCloseTo(0.02 / 0.022823, 10);
    expect(r[1]['Share of cost'] as number).toBeCloseTo(0.0028125 / 0.022823, 10);
    expect(r[1].Credits as number).toBeCloseTo(0.28125, 10);
    expect([unit(f, 'Tokens'), unit(f, 'Share of tokens'), unit(f, 'Cost'), unit(f, 'Share of cost')]).toEqual(['short', 'percentunit', 'currencyUSD', 'percentunit']);
  });

  it('shows no cost (not a guess) for a model without a price', async () => {
    const r = rows(await frameOf({ queryType: 'modelShare' }, server.other.read));
    const by = Object.fromEntries(r.map((x) => [x.Model, x]));
    expect(r.map((x) => x.Model)).toEqual(['(no model)', 'mystery-model', 'gpt-4o-2024-08-06']);
    expect(by['(no model)']).toMatchObject({ Tokens: 3100, Cost: null, 'Share of cost': null });
    expect(by['mystery-model']).toMatchObject({ Tokens: 1120, Cost: null, 'Share of cost': null });
    expect(by['gpt-4o-2024-08-06'].Cost as number).toBeCloseTo(0.0025, 12);
    expect(by['gpt-4o-2024-08-06']['Share of cost']).toBe(1);
  });
});

describe('costPerConversation', () => {
  it('compares agents by average conversation cost, highest first', async () => {
    const f = await frameOf({ queryType: 'costPerConversation' });
    const r = rows(f);
    // research-assistant: c3 = 0.02. billing-bot: c4 = 0.00105.
    // support-triage: c1 = runs 1+2 = 0.0003875+0.0009+0.000475 = 0.0017625, c2 = run 3 = 0.0000105;
    // total 0.001773, average 0.0008865. Run 5 (running) is not counted.
    expect(r.map((x) => [x.Agent, x.Conversations, x.Runs])).toEqual([
      ['research-assistant', 1, 1],
      ['billing-bot', 1, 1],
      ['support-triage', 2, 3],
    ]);
    expect(r[0]['Avg cost per conversation'] as number).toBeCloseTo(0.02, 12);
    expect(r[1]['Avg cost per conversation'] as number).toBeCloseTo(0.00105, 12);
    expect(r[2]['Total cost'] as number).toBeCloseTo(0.001773, 12);
    expect(r[2]['Avg cost per conversation'] as number).toBeCloseTo(0.0008865, 12);
    expect(r[2]['Min conversation cost'] as number).toBeCloseTo(0.0000105, 12);
    expect(r[2]['Max conversation cost'] as number).toBeCloseTo(0.0017625, 12);
    expect(unit(f, 'Avg cost per conversation')).toBe('currencyUSD');
  });

  it('counts a run without a conversation id as a conversation of its own', async () => {
    // Globex: native-1 and native-2 have no conversation id: two conversations of native-bot.
    const r = rows(await frameOf({ queryType: 'costPerConversation' }, server.other.read));
    const native = r.find((x) => x.Agent === 'native-bot');
    expect(native).toMatchObject({ Conversations: 2, Runs: 2 });
    expect(native!['Total cost'] as number).toBeCloseTo(0.3, 12); // native-1 has no price: left out, with a notice
  });
});

describe('runs table cost', () => {
  it('is the reported cost, else computed from tokens and prices, else empty', async () => {
    const r = rows(await frameOf({ queryType: 'runs' }));
    const cost = Object.fromEntries(r.map((x) => [x.Run, x.Cost]));
    expect(cost[runIdOf(1)] as number).toBeCloseTo(0.0012875, 12);
    expect(cost[runIdOf(2)] as number).toBeCloseTo(0.000475, 12);
    expect(cost[runIdOf(3)] as number).toBeCloseTo(0.0000105, 12);
    expect(cost[runIdOf(4)]).toBe(0.02);
    expect(cost[runIdOf(6)] as number).toBeCloseTo(0.00105, 12);
    expect(r[0].Cost).toBeNull(); // the running run 5 made no LLM call
    const globex = rows(await frameOf({ queryType: 'runs' }, server.other.read));
    const byAgent = (a: string) => globex.filter((x) => x.Agent === a).map((x) => x.Cost);
    expect(byAgent('globex-bot')).toEqual([null]); // one call without a price: no partial sum
    expect(byAgent('native-bot')).toEqual([0.3, null]); // reported run cost; run totals without a model
  });
});

describe('a tool filter on LLM usage', () => {
  it('selects the LLM calls of runs that called the tool (runs 1 and 2 called lookup_order)', async () => {
    const res = await query(server.url, READ_KEY, [{ refId: 'A', queryType: 'modelShare', timeRange: { from: data.anchor, to: data.now }, filters: { tool: ['lookup_order'] } }]);
    const byModel = Object.fromEntries(rows(res.results.A.frames[0]).map((r) => [r.Model, r.Tokens]));
    // Run 1: 100+20 + 200+40 = 360; run 2: 150+10 = 160; both gpt-4o.
    expect(byModel).toEqual({ 'gpt-4o': 520 });
  });
});
