/**
 * Cost per conversation read from the stored per-conversation costs (DuckDB conversation_costs,
 * store/duckdb/conversation-costs.ts) stays right when conversations change: a late LLM call in
 * one of a conversation's traces (also in its newest and its oldest run, days apart), a run that is still running or
 * past its deadline, a range that holds only part of a conversation, a run moving into another conversation, a deleted
 * conversation (and a run of another one in its trace), and a server started with other prices. Every figure is
 * also asked of the same store with the stored costs hidden (read from usage), which must agree.
 *
 * Prices (shipped table): gpt-4o 2.5 USD per million input tokens, 10 per million output.
 * A call of i input and o output tokens costs (2.5 i + 10 o) / 1e6 USD.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, RunningServer } from '../../server';
import { runQueries } from '../engine';
import { ADMIN_KEY, INGEST_KEY, READ_KEY, postJson, startTestServer, testConfig, TestServer } from '../../test-support/server';
import { llmCallSpan as llm, postOtlp, SpanSpec, tracesJson } from '../../test-support/otlp';
import { query, rows } from '../../test-support/query';
import { Store } from '../../store/store';
import { defaultPricing, loadPricing, Pricing } from '../../pricing';
import { pricesFingerprint } from '../../pricing/fingerprint';

const MIN = 60_000;
const H = 3_600_000;
let server: TestServer;
/** Three hours ago, on a whole minute: every run below has finished by now. */
const t0 = Math.floor(Date.now() / MIN) * MIN - 3 * H;

beforeAll(async () => {
  server = await startTestServer({ AGENT_INSIGHTS_RETENTION_DAYS: '0' });
});
afterAll(() => server.cleanup());

async function post(url: string, spans: SpanSpec[]): Promise<void> {
  const res = await postOtlp(`${url}/v1/traces`, INGEST_KEY, JSON.stringify(tracesJson(spans)));
  expect(res.status).toBe(200);
}

const agent = (traceId: string, spanId: string, start: number, name: string, conversation: string): SpanSpec => ({
  traceId,
  spanId,
  name: `invoke_agent ${name}`,
  start,
  end: start + MIN,
  attributes: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': name, 'gen_ai.conversation.id': conversation },
});

/** One run (trace) of an agent in a conversation with one LLM call. */
const run = (n: number, name: string, conversation: string, start: number, input: number, output: number): SpanSpec[] => {
  const trace = `cc${String(n).padStart(30, '0')}`;
  const root = `c${String(n).padStart(15, '0')}`;
  return [agent(trace, root, start, name, conversation), llm(trace, `d${String(n).padStart(15, '0')}`, root, start + 1000, input, output)];
};

interface Figures {
  conversations: number;
  runs: number;
  total: number;
  avg: number;
  min: number;
  max: number;
}

function figuresOf(frame: any, agentName: string): Figures | undefined {
  const r = rows(frame).find((x) => x.Agent === agentName);
  if (!r) return undefined;
  return {
    conversations: Number(r.Conversations),
    runs: Number(r.Runs),
    total: Number(r['Total cost']),
    avg: Number(r['Avg cost per conversation']),
    min: Number(r['Min conversation cost']),
    max: Number(r['Max conversation cost']),
  };
}

/** The store with its stored conversation costs hidden: the capability reads usage. */
function withoutStoredCosts(store: Store): Store {
  return new Proxy(store, {
    get: (target, prop) => {
      if (prop === 'conversationCostPrices') return undefined;
      const v = Reflect.get(target, prop, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

/**
 * The agent's figures over HTTP, checked equal to those read from usage. The store keeps costs
 * for the server's prices (so the HTTP answer is read from them).
 */
async function figures(s: RunningServer, agentName: string, range: { from: number; to: number }, pricing: Pricing = defaultPricing()): Promise<Figures | undefined> {
  expect((s.store as unknown as { conversationCostPrices: string | null }).conversationCostPrices).toBe(pricesFingerprint(pricing.table));
  const item = { refId: 'A', queryType: 'costPerConversation', timeRange: range, timezone: 'UTC', filters: { agent: [agentName] } };
  const res = await query(s.url, READ_KEY, [item]);
  expect(res.results.A).toMatchObject({ status: 200 });
  const stored = figuresOf(res.results.A.frames[0], agentName);
  const fromUsage = await runQueries(withoutStoredCosts(s.store), 'acme', [item], Date.now(), pricing);
  const usage = figuresOf(fromUsage.results.A.frames![0], agentName);
  if (stored && usage) {
    expect(stored.conversations).toBe(usage.conversations);
    expect(stored.runs).toBe(usage.runs);
    for (const k of ['total', 'avg', 'min', 'max'] as const) expect(stored[k]).toBeCloseTo(usage[k], 15);
  } else expect(stored).toEqual(usage);
  return stored;
}

const close = (f: Figures | undefined, want: Figures) => {
  expect(f).toBeDefined();
  expect({ conversations: f!.conversations, runs: f!.runs }).toEqual({ conversations: want.conversations, runs: want.runs });
  for (const k of ['total', 'avg', 'min', 'max'] as const) expect(f![k]).toBeCloseTo(want[k], 12);
};

describe('stored conversation costs', () => {
  const all = () => ({ from: t0 - H, to: Date.now() });

  it('follow a late LLM call in one of the traces of a conversation', async () => {
    // c-late: run 1 (100 in, 10 out: 0.00035) and run 2 an hour later in another trace
    // (1000 in, 100 out: 0.0035); c-one: run 3 (200 in, 20 out: 0.0007).
    await post(server.url, [...run(1, 'late-bot', 'c-late', t0, 100, 10), ...run(2, 'late-bot', 'c-late', t0 + H, 1000, 100), ...run(3, 'late-bot', 'c-one', t0 + 2 * H, 200, 20)]);
    // c-late 0.00385, c-one 0.0007: total 0.00455, average 0.002275.
    close(await figures(server, 'late-bot', all()), { conversations: 2, runs: 3, total: 0.00455, avg: 0.002275, min: 0.0007, max: 0.00385 });
    // A second call arrives late in run 1's trace: + (200 x 2.5 + 20 x 10) / 1e6 = 0.0007.
    await post(server.url, [llm(`cc${'1'.padStart(30, '0')}`, 'e000000000000001', `c${'1'.padStart(15, '0')}`, t0 + 5000, 200, 20)]);
    // c-late 0.00455, c-one 0.0007: total 0.00525, average 0.002625.
    close(await figures(server, 'late-bot', all()), { conversations: 2, runs: 3, total: 0.00525, avg: 0.002625, min: 0.0007, max: 0.00455 });
  });

  it('count only the runs a range holds of a conversation that began before it', async () => {
    // From 30 minutes after run 1: c-late is run 2 alone (0.0035), c-one 0.0007.
    close(await figures(server, 'late-bot', { from: t0 + 30 * MIN, to: Date.now() }), { conversations: 2, runs: 2, total: 0.0042, avg: 0.0021, min: 0.0007, max: 0.0035 });
    // Up to 30 minutes after run 1: c-late is run 1 alone (0.00105 with its late call).
    close(await figures(server, 'late-bot', { from: t0 - H, to: t0 + 30 * MIN }), { conversations: 1, runs: 1, total: 0.00105, avg: 0.00105, min: 0.00105, max: 0.00105 });
  });

  it('leave out a run still running, count one past the deadline as timed out, and one that finished', async () => {
    // c-open: run 4 finished (400 in, 40 out: 0.0014); native run 9 started at t0 + 30 min and never
    // finished (read as timed out: the 15-minute deadline has passed), 40 in, 4 out: 0.00014; native
    // run 10 started 2 minutes ago, running, 40 in, 4 out: 0.00014, not counted yet.
    const now = Date.now();
    await post(server.url, run(4, 'open-bot', 'c-open', t0, 400, 40));
    const native = (id: string, start: number) => [
      { type: 'run.started', runId: id, agent: 'open-bot', startTime: start, conversationId: 'c-open' },
      { type: 'step', runId: id, stepId: 'llm', kind: 'llm', name: 'chat', model: 'gpt-4o', startTime: start + 10, endTime: start + 500, tokens: { input: 40, output: 4 } },
    ];
    expect((await postJson(`${server.url}/api/v1/events`, INGEST_KEY, { events: [...native('run-9', t0 + 30 * MIN), ...native('run-10', now - 2 * MIN)] })).status).toBe(200);
    const range = { from: t0 - H, to: now + MIN };
    close(await figures(server, 'open-bot', range), { conversations: 1, runs: 2, total: 0.00154, avg: 0.00154, min: 0.00154, max: 0.00154 });
    // Run 10 finishes: 3 runs, 0.00168.
    expect((await postJson(`${server.url}/api/v1/events`, INGEST_KEY, { events: [{ type: 'run.finished', runId: 'run-10', endTime: now - MIN, status: 'completed' }] })).status).toBe(200);
    close(await figures(server, 'open-bot', range), { conversations: 1, runs: 3, total: 0.00168, avg: 0.00168, min: 0.00168, max: 0.00168 });
  });

  it('forget a deleted conversation', async () => {
    await post(server.url, [...run(6, 'gone-bot', 'c-gone', t0, 100, 10), ...run(7, 'gone-bot', 'c-kept', t0, 1000, 100)]);
    close(await figures(server, 'gone-bot', all()), { conversations: 2, runs: 2, total: 0.00385, avg: 0.001925, min: 0.00035, max: 0.0035 });
    const res = await postJson(`${server.url}/api/v1/admin/delete`, ADMIN_KEY, { conversationId: 'c-gone' });
    expect(res.status).toBe(200);
    close(await figures(server, 'gone-bot', all()), { conversations: 1, runs: 1, total: 0.0035, avg: 0.0035, min: 0.0035, max: 0.0035 });
  });

  it('follow late calls in the newest and the oldest run of a conversation that spans days', async () => {
    // c-long: run 21 two days before t0 (1000 in, 100 out: 0.0035), run 22 a day before (100 in,
    // 10 out: 0.00035), run 23 at t0 (200 in, 20 out: 0.0007), each its own trace: 0.00455.
    const D = 24 * H;
    await post(server.url, [...run(21, 'long-bot', 'c-long', t0 - 2 * D, 1000, 100), ...run(22, 'long-bot', 'c-long', t0 - D, 100, 10), ...run(23, 'long-bot', 'c-long', t0, 200, 20)]);
    const range = { from: t0 - 3 * D, to: Date.now() };
    close(await figures(server, 'long-bot', range), { conversations: 1, runs: 3, total: 0.00455, avg: 0.00455, min: 0.00455, max: 0.00455 });
    // A late call in run 23's trace (400 in, 40 out: 0.0014): the conversation computed again
    // keeps runs 21 and 22, two days and one day before the trace derived again. 0.00595.
    await post(server.url, [llm(`cc${'23'.padStart(30, '0')}`, 'e000000000000023', `c${'23'.padStart(15, '0')}`, t0 + 5000, 400, 40)]);
    close(await figures(server, 'long-bot', range), { conversations: 1, runs: 3, total: 0.00595, avg: 0.00595, min: 0.00595, max: 0.00595 });
    // A late call in the oldest run, 21 (100 in, 10 out: 0.00035): 0.0063.
    await post(server.url, [llm(`cc${'21'.padStart(30, '0')}`, 'e000000000000021', `c${'21'.padStart(15, '0')}`, t0 - 2 * D + 5000, 100, 10)]);
    close(await figures(server, 'long-bot', range), { conversations: 1, runs: 3, total: 0.0063, avg: 0.0063, min: 0.0063, max: 0.0063 });
  });

  it('move a run from a conversation of its own into the one a late span of its trace names', async () => {
    // Run 24 names no conversation (a conversation of its own): 1000 in, 100 out, 0.0035. Run 25
    // an hour later in c-move: 100 in, 10 out, 0.00035.
    const trace24 = `cc${'24'.padStart(30, '0')}`;
    const root24 = `c${'24'.padStart(15, '0')}`;
    const alone: SpanSpec = { ...agent(trace24, root24, t0, 'move-bot', ''), attributes: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'move-bot' } };
    await post(server.url, [alone, llm(trace24, `d${'24'.padStart(15, '0')}`, root24, t0 + 1000, 1000, 100), ...run(25, 'move-bot', 'c-move', t0 + H, 100, 10)]);
    close(await figures(server, 'move-bot', all()), { conversations: 2, runs: 2, total: 0.00385, avg: 0.001925, min: 0.00035, max: 0.0035 });
    // A late call in run 24's trace names c-move (200 in, 20 out: 0.0007): run 24 (now 0.0042)
    // joins c-move and its own conversation is gone. c-move: 0.0042 + 0.00035 = 0.00455.
    const late = llm(trace24, 'e000000000000024', root24, t0 + 5000, 200, 20);
    await post(server.url, [{ ...late, attributes: { ...late.attributes, 'gen_ai.conversation.id': 'c-move' } }]);
    close(await figures(server, 'move-bot', all()), { conversations: 1, runs: 2, total: 0.00455, avg: 0.00455, min: 0.00455, max: 0.00455 });
  });

  it('take out of a kept conversation its run in the trace of a deleted one', async () => {
    // Trace 26 holds two runs: one in c-del (100 in, 10 out: 0.00035) and one in c-stay (1000 in,
    // 100 out: 0.0035); run 27, another trace, is in c-stay too (200 in, 20 out: 0.0007).
    const trace26 = `cc${'26'.padStart(30, '0')}`;
    const [a, b] = ['c00000000000026a', 'c00000000000026b'];
    await post(server.url, [
      agent(trace26, a, t0, 'del-bot', 'c-del'),
      llm(trace26, 'd00000000000026a', a, t0 + 1000, 100, 10),
      agent(trace26, b, t0 + 2000, 'del-bot', 'c-stay'),
      llm(trace26, 'd00000000000026b', b, t0 + 3000, 1000, 100),
      ...run(27, 'del-bot', 'c-stay', t0 + H, 200, 20),
    ]);
    // c-del 0.00035, c-stay 0.0042: total 0.00455, average 0.002275.
    close(await figures(server, 'del-bot', all()), { conversations: 2, runs: 3, total: 0.00455, avg: 0.002275, min: 0.00035, max: 0.0042 });
    // Deleting c-del deletes trace 26 whole, with c-stay's run in it: c-stay is run 27 alone.
    expect((await postJson(`${server.url}/api/v1/admin/delete`, ADMIN_KEY, { conversationId: 'c-del' })).status).toBe(200);
    close(await figures(server, 'del-bot', all()), { conversations: 1, runs: 1, total: 0.0007, avg: 0.0007, min: 0.0007, max: 0.0007 });
  });

  it('keep the later runs of a conversation that retention cuts (runs before the cutoff go)', async () => {
    // c-ret: run 11 at t0 (1000 in, 100 out: 0.0035), run 12 at t0 + 2 h (100 in, 10 out: 0.00035).
    await post(server.url, [...run(11, 'ret-bot', 'c-ret', t0, 1000, 100), ...run(12, 'ret-bot', 'c-ret', t0 + 2 * H, 100, 10)]);
    close(await figures(server, 'ret-bot', all()), { conversations: 1, runs: 2, total: 0.00385, avg: 0.00385, min: 0.00385, max: 0.00385 });
    // Retention at t0 + 1 h (last test here: it removes the earlier runs of every agent).
    await server.writer.exclusive(() => server.store.deleteOlderThan((t0 + H) * 1000));
    close(await figures(server, 'ret-bot', all()), { conversations: 1, runs: 1, total: 0.00035, avg: 0.00035, min: 0.00035, max: 0.00035 });
  });
});

describe('stored conversation costs and the price table', () => {
  let dir: string;
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('are computed again when the server starts with other prices', async () => {
    dir = mkdtempSync(join(tmpdir(), 'conversation-prices-'));
    const pricesFile = join(dir, 'prices.json');
    // Twice the shipped gpt-4o prices: 5 USD per million input, 20 per million output.
    writeFileSync(pricesFile, JSON.stringify({ takenOn: '2026-06-01', source: 'test', models: { 'gpt-4o': { input: 5, cachedInput: 2.5, output: 20 } } }));
    const config = testConfig(dir, { AGENT_INSIGHTS_PRICES_FILE: pricesFile, AGENT_INSIGHTS_RETENTION_DAYS: '0' });
    const first = await startServer(config);
    try {
      await post(first.url, [...run(8, 'price-bot', 'c-p', t0, 1000, 100)]);
      // (1000 x 5 + 100 x 20) / 1e6 = 0.007
      close(await figures(first, 'price-bot', { from: t0 - H, to: Date.now() }, loadPricing({ pricesFile })), { conversations: 1, runs: 1, total: 0.007, avg: 0.007, min: 0.007, max: 0.007 });
    } finally {
      await first.stop();
    }
    // The same data, the shipped prices: (1000 x 2.5 + 100 x 10) / 1e6 = 0.0035.
    const second = await startServer({ ...config, pricesFile: '' });
    try {
      close(await figures(second, 'price-bot', { from: t0 - H, to: Date.now() }), { conversations: 1, runs: 1, total: 0.0035, avg: 0.0035, min: 0.0035, max: 0.0035 });
    } finally {
      await second.stop();
    }
  });
});
