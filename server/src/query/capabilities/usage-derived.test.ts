/**
 * The derived steps and usage tables (derive/steps-usage.ts) stay right when a trace changes:
 * they are replaced with the trace's runs, so a late LLM call or a run that finishes moves every
 * figure; a range that cuts a 15-minute bucket counts exactly the calls inside it; and a store
 * whose derived rows are missing (as after the schema migration) gets the same answers once
 * re-derived. Prices (shipped table): gpt-4o 2.5 USD per million input tokens, 10 per million output.
 */
import { rmSync } from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';
import { startServer } from '../../server';
import { INGEST_KEY, READ_KEY, startTestServer, TestServer } from '../../test-support/server';
import { llmCallSpan as llm, postOtlp, SpanSpec, tracesJson } from '../../test-support/otlp';
import { query, rows } from '../../test-support/query';
import { seedDataset, SeededDataset, anchorMs } from '../../test-support/dataset';

const MIN = 60_000;
const BUCKET = 15 * MIN;
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.cleanup());

async function post(spans: SpanSpec[]): Promise<void> {
  const res = await postOtlp(`${server.url}/v1/traces`, INGEST_KEY, JSON.stringify(tracesJson(spans)));
  expect(res.status).toBe(200);
}

async function frameOf(q: Record<string, unknown>, range: { from: number; to: number }) {
  const res = await query(server.url, READ_KEY, [{ refId: 'A', timeRange: range, timezone: 'UTC', ...q }]);
  expect(res.results.A).toMatchObject({ status: 200 });
  return res.results.A.frames[0];
}

const agent = (traceId: string, spanId: string, start: number, name: string): SpanSpec => ({
  traceId,
  spanId,
  name: `invoke_agent ${name}`,
  start,
  end: start + 60_000,
  attributes: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': name },
});

async function totals(agentName: string, range: { from: number; to: number }, extra: Record<string, unknown> = {}) {
  const f = await frameOf({ queryType: 'llmTokens', period: 'day', filters: { agent: [agentName] }, ...extra }, range);
  const r = rows(f);
  return { total: r.reduce((a, x) => a + Number(x.Total), 0), calls: r.reduce((a, x) => a + Number(x['LLM calls']), 0), cost: r.reduce((a, x) => a + Number(x.Cost ?? 0), 0) };
}

it('a late LLM call of a stored run changes its tokens and its cost in the runs table', async () => {
  const t = Math.floor(Date.now() / BUCKET) * BUCKET - 2 * 3_600_000;
  const trace = 'ab' + '1'.repeat(30);
  await post([agent(trace, 'a100000000000001', t, 'late-bot'), llm(trace, 'a100000000000002', 'a100000000000001', t + 1000, 100, 10)]);
  const range = { from: t - 3_600_000, to: Date.now() };
  // (100 x 2.5 + 10 x 10) / 1e6 = 0.00035
  expect(await totals('late-bot', range)).toEqual({ total: 110, calls: 1, cost: expect.closeTo(0.00035, 12) });
  await post([llm(trace, 'a100000000000003', 'a100000000000001', t + 30_000, 200, 20)]);
  // + (200 x 2.5 + 20 x 10) / 1e6 = 0.0007: 0.00105 in all
  expect(await totals('late-bot', range)).toEqual({ total: 330, calls: 2, cost: expect.closeTo(0.00105, 12) });
  const runs = rows(await frameOf({ queryType: 'runs', filters: { agent: ['late-bot'] } }, range));
  expect(runs).toHaveLength(1);
  expect(runs[0]).toMatchObject({ 'LLM calls': 2, Tokens: 330 });
  expect(runs[0].Cost).toBeCloseTo(0.00105, 12);
});

it('a run that goes from running to completed moves its usage from one status to the other', async () => {
  // Started 5 minutes ago: within the 15-minute deadline, so still running rather than timed out.
  const t = Date.now() - 5 * MIN;
  const trace = 'ab' + '2'.repeat(30);
  const range = { from: t - 3_600_000, to: Date.now() };
  // The LLM call's parent (the agent span) has not arrived: a provisional running run, named after the service.
  await post([llm(trace, 'a200000000000002', 'a200000000000001', t + 1000, 40, 2)]);
  const status = async (s: string) => (await totals('test-service', range, { filters: { status: [s] } })).total;
  expect([await status('running'), await status('completed')]).toEqual([42, 0]);
  await post([{ ...agent(trace, 'a200000000000001', t, 'test-service') }]);
  expect([await status('running'), await status('completed')]).toEqual([0, 42]);
});

it('counts exactly the calls inside a range that cuts a 15-minute bucket', async () => {
  const b = Math.floor(Date.now() / BUCKET) * BUCKET - 4 * BUCKET;
  const trace = 'ab' + '3'.repeat(30);
  // Calls at 1, 6 and 11 minutes into one bucket, 10 + 100 + 1000 tokens.
  await post([
    agent(trace, 'a300000000000001', b, 'cut-bot'),
    llm(trace, 'a300000000000002', 'a300000000000001', b + 1 * MIN, 9, 1),
    llm(trace, 'a300000000000003', 'a300000000000001', b + 6 * MIN, 90, 10),
    llm(trace, 'a300000000000004', 'a300000000000001', b + 11 * MIN, 900, 100),
  ]);
  expect((await totals('cut-bot', { from: b + 5 * MIN, to: Date.now() })).total).toBe(1100);
  expect((await totals('cut-bot', { from: b - BUCKET, to: b + 6 * MIN })).total).toBe(110);
  expect((await totals('cut-bot', { from: b + 2 * MIN, to: b + 10 * MIN })).total).toBe(100);
  expect((await totals('cut-bot', { from: b, to: b + BUCKET })).total).toBe(1110);
  // A 5-minute series reads the calls one by one: one per bucket.
  const f = await frameOf({ queryType: 'timeSeries', metric: 'tokensTotal', intervalMs: 5 * MIN, maxDataPoints: 1000, filters: { agent: ['cut-bot'] } }, { from: b, to: b + BUCKET - 1 });
  expect(f.data.values[1]).toEqual([10, 100, 1000]);
});

describe('re-derivation of a store without derived rows', () => {
  let other: TestServer;
  let data: SeededDataset;
  const panels = (d: SeededDataset) => {
    const range = { from: anchorMs(d.now) - 2 * 86_400_000, to: d.now };
    return [
      // Finished runs only: a running run's duration grows with the clock.
      { queryType: 'runs', limit: 1000, filters: { status: ['completed', 'failed', 'timed_out'] } },
      { queryType: 'llmTokens', period: 'day' },
      { queryType: 'modelShare' },
      { queryType: 'costPerConversation' },
      { queryType: 'toolMetrics' },
      { queryType: 'toolErrors' },
      { queryType: 'runStats' },
      { queryType: 'timeSeries', metric: 'cost', groupBy: 'model', intervalMs: 3_600_000, maxDataPoints: 1000 },
      { queryType: 'timeSeries', metric: 'toolCalls', groupBy: 'tool', intervalMs: 3_600_000, maxDataPoints: 1000 },
    ].map((q, i) => ({ refId: `Q${i}`, timeRange: range, timezone: 'Europe/Berlin', ...q }));
  };
  const answers = async (s: { url: string }) => (await query(s.url, READ_KEY, panels(data))).results;

  beforeAll(async () => {
    other = await startTestServer();
    data = await seedDataset(other.url, INGEST_KEY);
  });
  // The test stops the server itself: remove its folder whatever cleanup's second stop says.
  afterAll(() => other.cleanup().catch(() => rmSync(other.dir, { recursive: true, force: true })));

  it('answers as before once every trace is derived again', async () => {
    const before = await answers(other);
    await other.stop();
    // What a store written before schema version 2 holds: runs without the new columns, no steps, no usage.
    const db = await DuckDBInstance.create(other.config.dataPath);
    const c = await db.connect();
    for (const sql of ['DELETE FROM steps', 'DELETE FROM usage', 'UPDATE runs SET runs_in_trace = NULL, trace_start = NULL, trace_end = NULL', "INSERT INTO maintenance_tasks VALUES ('rederive', 0, 0)"]) await c.run(sql);
    const counts = await c.runAndReadAll('SELECT (SELECT count(*) FROM steps) AS steps, (SELECT count(*) FROM usage) AS usage');
    expect(counts.getRowObjectsJS()[0]).toEqual({ steps: 0n, usage: 0n });
    c.closeSync();
    db.closeSync();
    const restarted = await startServer(other.config);
    try {
      expect(await answers(restarted)).toEqual(before);
    } finally {
      await restarted.stop();
    }
  });
});

it('prices a model first stored after an earlier query (the model names are read again after a write)', async () => {
  const t = Math.floor(Date.now() / BUCKET) * BUCKET - 3 * 3_600_000;
  const range = { from: t - 3_600_000, to: Date.now() };
  const trace = 'ab' + '7'.repeat(30);
  await post([agent(trace, 'a700000000000001', t, 'names-bot'), llm(trace, 'a700000000000002', 'a700000000000001', t + 1000, 1000, 100)]);
  // 1000 x 2.5 / 1e6 + 100 x 10 / 1e6 = 0.0035
  expect((await totals('names-bot', range)).cost).toBeCloseTo(0.0035, 12);
  const other = 'ab' + '8'.repeat(30);
  const sonnet = llm(other, 'a800000000000002', 'a800000000000001', t + 2000, 1000, 100, 'claude-sonnet-4');
  await post([agent(other, 'a800000000000001', t + 1500, 'names-bot'), sonnet]);
  // + 1000 x 3 / 1e6 + 100 x 15 / 1e6 = 0.0045: 0.008 in all, with no model left unpriced
  const f = await frameOf({ queryType: 'llmTokens', period: 'day', filters: { agent: ['names-bot'] } }, range);
  expect(rows(f).reduce((a, x) => a + Number(x.Cost ?? 0), 0)).toBeCloseTo(0.008, 12);
  expect(JSON.stringify(f.schema.meta?.notices ?? [])).not.toMatch(/claude-sonnet-4/);
});
