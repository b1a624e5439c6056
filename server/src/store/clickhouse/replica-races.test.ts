/**
 * Two server replicas on one ClickHouse, each receiving half of every trace's spans, at the same
 * time and in many orders: the stored derivation (runs, sessions, steps, usage) must end up the
 * one of all the spans, whatever the interleaving, without routing by trace id. The oracle is one
 * DuckDB server given all the spans: every answer (runs table, run statistics, LLM tokens, tool
 * metrics, session statistics, the store's run and session lists) must be equal.
 *
 * The rounds differ in order: both halves sent at once (requests race inside both writers), one
 * replica's half before the other's, requests alternating between replicas, and the agent span
 * (which turns a provisional run `T` into `T-<agent span>`, so a stored run must disappear) sent
 * last to the replica that did not see the trace's first spans.
 */
import { runQueries, QueryResponseJson } from '../../query/engine';
import { startClickHouse, TestClickHouse } from '../../test-support/clickhouse';
import { differences } from '../../test-support/differences';
import { postOtlp, SpanSpec, tracesJson } from '../../test-support/otlp';
import { INGEST_KEY, startTestServer, TestServer } from '../../test-support/server';
import { ClickHouseStore } from './clickhouse-store';

let ch: TestClickHouse;
let a: TestServer;
let b: TestServer;
let duck: TestServer;

const NOW = Math.floor(Date.now() / 60_000) * 60_000;
const H = 3_600_000;
const hex = (n: number, len: number): string => n.toString(16).padStart(len, '0');

/** A seeded generator (mulberry32), so that a failing order can be replayed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const shuffle = <T>(xs: T[], r: () => number): T[] => {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
};

interface Trace {
  spans: SpanSpec[];
  /** The span that, sent last to the other replica, changes which runs exist (an agent or session root). */
  root: SpanSpec | null;
}

/** Agent traces of five shapes; shape and sizes vary with n. */
function trace(round: number, n: number): Trace {
  const traceId = `ace${hex(round, 4)}${hex(n, 25)}`;
  const sid = (i: number) => hex(1 + round * 1_000_000 + n * 1000 + i, 16); // an all-zero span id is invalid
  const start = NOW - 5 * H + round * 30 * 60_000 + n * 61_000;
  const shape = n % 5;
  const agent = ['planner', 'researcher', 'support', 'receptionist', 'billing'][shape];
  const root = sid(0);
  const spans: SpanSpec[] = [];
  const llm = (i: number, parent: string, t: number, model: string, input: number, output: number): SpanSpec => ({
    traceId,
    spanId: sid(i),
    parentSpanId: parent,
    name: `chat ${model}`,
    start: t,
    end: t + 400 + i * 10,
    attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': model, 'gen_ai.provider.name': model.startsWith('claude') ? 'anthropic' : 'openai', 'gen_ai.usage.input_tokens': input, 'gen_ai.usage.output_tokens': output },
  });
  const tool = (i: number, parent: string, t: number, name: string, error: boolean): SpanSpec => ({
    traceId,
    spanId: sid(i),
    parentSpanId: parent,
    name: `execute_tool ${name}`,
    start: t,
    end: t + 100 + i * 7,
    attributes: { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': name, ...(error ? { 'error.type': 'HTTPError' } : {}) },
    status: error ? { code: 2, message: 'failed' } : { code: 1 },
  });
  const agentSpan = (spanId: string, parent: string | undefined, name: string, t: number, ms: number, failed: boolean): SpanSpec => ({
    traceId,
    spanId,
    parentSpanId: parent,
    name: `invoke_agent ${name}`,
    start: t,
    end: t + ms,
    attributes: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': name, 'gen_ai.conversation.id': `c${round}-${n % 3}`, 'user.id': `u${n % 2}` },
    status: failed ? { code: 2, message: 'tool failed' } : { code: 1 },
  });
  if (shape === 3) {
    // A voice session: its session span, turns and an LLM call; the session row needs them all.
    const turn = (i: number, latency: number, interrupted: boolean): SpanSpec => ({ traceId, spanId: sid(i), parentSpanId: root, name: 'agent_turn', start: start + i * 5000, end: start + i * 5000 + 2000, attributes: { 'lk.e2e_latency': latency, 'lk.interrupted': interrupted } });
    spans.push(turn(1, 0.8, false), turn(2, 1.1, true), turn(3, 0.9 + round / 10, false), llm(4, root, start + 1000, 'gpt-4o-mini', 40 + n, 8));
    const session: SpanSpec = { traceId, spanId: root, name: 'agent_session', start, end: start + 30_000, attributes: { 'lk.agent_name': agent, 'lk.room_sid': `RM_${round}_${n}`, 'lk.close_reason': 'user_hangup' } };
    spans.push(session);
    return { spans, root: session };
  }
  let t = start + 50;
  let i = 1;
  const calls = 2 + ((n + round) % 3);
  const parent = shape === 1 ? sid(900) : root;
  if (shape === 1) spans.push(agentSpan(sid(900), root, 'sub-researcher', start + 10, 8000, false));
  for (let k = 0; k < calls; k++) {
    spans.push(llm(i++, parent, t, k % 2 ? 'claude-sonnet-4' : 'gpt-4o', 100 * (k + 1) + n, 10 * (k + 1) + round));
    t += 500;
    spans.push(tool(i++, parent, t, ['lookup_order', 'web_search', 'create_ticket'][k % 3], shape === 4 && k === 0));
    t += 200;
  }
  if (shape === 2) {
    // No agent span ever arrives: a provisional run named by its children.
    for (const s of spans) s.attributes = { ...s.attributes, 'gen_ai.agent.name': agent };
    return { spans, root: null };
  }
  const rootSpan = agentSpan(root, undefined, agent, start, 9000 + n * 100, shape === 4);
  spans.push(rootSpan);
  return { spans, root: rootSpan };
}

type Send = { to: 'a' | 'b'; spans: SpanSpec[] };
type Mode = 'at once' | 'a then b' | 'b then a' | 'alternating' | 'root last elsewhere';
const MODES: Mode[] = ['at once', 'root last elsewhere', 'a then b', 'b then a', 'alternating', 'at once', 'root last elsewhere', 'at once'];

/** Each trace's spans split in two halves, one per replica, in requests of one or two spans. */
function sends(traces: Trace[], mode: Mode, r: () => number): Send[][] {
  const firsts: Send[] = [];
  const lasts: Send[] = [];
  for (const tr of traces) {
    const others = shuffle(tr.spans.filter((s) => s !== tr.root), r);
    const half = { a: [] as SpanSpec[], b: [] as SpanSpec[] };
    others.forEach((s, i) => half[i % 2 ? 'b' : 'a'].push(s));
    const chunks = (to: 'a' | 'b'): Send[] => {
      const out: Send[] = [];
      const xs = half[to];
      for (let i = 0; i < xs.length; ) {
        const k = r() < 0.5 ? 1 : 2;
        out.push({ to, spans: xs.slice(i, i + k) });
        i += k;
      }
      return out;
    };
    if (tr.root) {
      // The root goes to the replica with fewer spans: in 'root last elsewhere', B, after A had all the rest.
      if (mode === 'root last elsewhere') {
        half.a.push(...half.b.splice(0));
        lasts.push({ to: 'b', spans: [tr.root] });
      } else half[half.a.length <= half.b.length ? 'a' : 'b'].push(tr.root);
    }
    firsts.push(...chunks('a'), ...chunks('b'));
  }
  const of = (to: 'a' | 'b') => firsts.filter((s) => s.to === to);
  switch (mode) {
    case 'at once':
      return [shuffle(firsts, r)];
    case 'root last elsewhere':
      return [shuffle(firsts, r), lasts];
    case 'a then b':
      return [of('a'), of('b')];
    case 'b then a':
      return [of('b'), of('a')];
    case 'alternating': {
      // One request at a time, switching replicas each time.
      const xs = of('a');
      const ys = of('b');
      const out: Send[][] = [];
      for (let i = 0; i < Math.max(xs.length, ys.length); i++) {
        if (xs[i]) out.push([xs[i]]);
        if (ys[i]) out.push([ys[i]]);
      }
      return out;
    }
  }
}

const post = async (url: string, spans: SpanSpec[]): Promise<void> => {
  const res = await postOtlp(`${url}/v1/traces`, INGEST_KEY, JSON.stringify(tracesJson(spans, { 'service.name': 'race-svc' })));
  if (res.status !== 200) throw new Error(`ingest answered ${res.status}`);
};

const ROUNDS = MODES.length;
const TRACES_PER_ROUND = 6;
let allTraces: Trace[] = [];

beforeAll(async () => {
  ch = await startClickHouse();
  const env = { AGENT_INSIGHTS_RETENTION_DAYS: '0', AGENT_INSIGHTS_STORAGE: 'clickhouse', AGENT_INSIGHTS_CLICKHOUSE_URL: ch.url, AGENT_INSIGHTS_CLICKHOUSE_DATABASE: 'races' };
  [a, b, duck] = await Promise.all([startTestServer(env), startTestServer(env), startTestServer({ AGENT_INSIGHTS_RETENTION_DAYS: '0' })]);
  const r = rng(20261128);
  for (let round = 0; round < ROUNDS; round++) {
    const traces = Array.from({ length: TRACES_PER_ROUND }, (_, n) => trace(round, n));
    allTraces.push(...traces);
    // Waves run one after the other; the requests of a wave are all in flight at once.
    for (const wave of sends(traces, MODES[round], r)) await Promise.all(wave.map((s) => post(s.to === 'a' ? a.url : b.url, s.spans)));
  }
  // The oracle: one server, all spans of each trace in one request.
  for (const tr of allTraces) await post(duck.url, tr.spans);
}, 240_000);

afterAll(async () => {
  await a?.cleanup();
  await b?.cleanup();
  await duck?.cleanup();
  await ch?.stop();
});

const RANGE = { from: NOW - 6 * H, to: NOW };
const QUERIES: [string, Record<string, unknown>][] = [
  ['runs table', { queryType: 'runs', limit: 1000 }],
  ['run statistics', { queryType: 'runStats' }],
  ['LLM tokens per day', { queryType: 'llmTokens', period: 'day' }],
  ['tool metrics', { queryType: 'toolMetrics' }],
  ['session statistics', { queryType: 'sessionStats' }],
  ['runs per hour by agent', { queryType: 'timeSeries', metric: 'runs', groupBy: 'agent', intervalMs: H }],
];

const answer = async (server: TestServer, q: Record<string, unknown>): Promise<QueryResponseJson> => {
  const res = JSON.parse(JSON.stringify(await runQueries(server.store, server.config.tenant, [{ refId: 'A', timeRange: RANGE, timezone: 'UTC', ...q }], NOW)));
  if (res.results.A.status !== 200) throw new Error(`${server.store.engine}: ${res.results.A.status} ${res.results.A.error}`);
  return res;
};

it('both replicas store ClickHouse and the oracle DuckDB, with every span', async () => {
  expect(a.store).toBeInstanceOf(ClickHouseStore);
  expect(b.store).toBeInstanceOf(ClickHouseStore);
  expect(duck.store.engine).toBe('duckdb');
  const spans = allTraces.reduce((t, tr) => t + tr.spans.length, 0);
  expect({ a: (await a.store.counts('acme')).spans, b: (await b.store.counts('acme')).spans, duck: (await duck.store.counts('acme')).spans }).toEqual({ a: spans, b: spans, duck: spans });
});

it.each(QUERIES)('%s: both replicas answer as one DuckDB server given all spans', async (_name, q) => {
  const want = await answer(duck, q);
  for (const server of [a, b]) {
    const diff = differences(want, await answer(server, q));
    expect(diff).toEqual([]);
  }
});

it('the stored runs and sessions are those of all spans (no stale provisional run, no half-derived row)', async () => {
  const runs = async (s: TestServer) => (await s.store.listRuns('acme', { limit: 10000 }, 15)).map((r) => JSON.stringify(r)).sort();
  const sessions = async (s: TestServer) => (await s.store.listSessions('acme', { limit: 10000 })).map((r) => JSON.stringify(r)).sort();
  const want = await runs(duck);
  // 6 traces a round, shapes 0 1 2 3 4 0: each gives one run (shape 1's sub-agent is part of the
  // outermost agent's run) except the voice session (shape 3): 5 runs a round, 8 rounds.
  expect(want.length).toBe(40);
  expect(await runs(b)).toEqual(want);
  expect(await runs(a)).toEqual(want);
  expect(await sessions(a)).toEqual(await sessions(duck));
  expect((await sessions(duck)).length).toBeGreaterThan(0);
});

describe('the store keeps the derivation that saw the most records, in whatever order they finish', () => {
  // Three derivations of one trace, as three replicas might finish them: from 2 records (an LLM
  // call and a tool call, so a provisional run `T`), from 3 (the agent span too: run `T-root`), and
  // from 3 again (a replica that loaded the same records). Every order of their commits must leave
  // the run of 3 records and nothing of the provisional run.
  const T = 'ace0ffff000000000000000000000001';
  const start = NOW - 2 * H;
  const spans: SpanSpec[] = [
    { traceId: T, spanId: '00000000000000a1', parentSpanId: '00000000000000a0', name: 'chat gpt-4o', start: start + 100, end: start + 600, attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'gpt-4o', 'gen_ai.usage.input_tokens': 10, 'gen_ai.usage.output_tokens': 2 } },
    { traceId: T, spanId: '00000000000000a2', parentSpanId: '00000000000000a0', name: 'execute_tool lookup', start: start + 700, end: start + 800, attributes: { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'lookup' } },
    { traceId: T, spanId: '00000000000000a0', name: 'invoke_agent planner', start, end: start + 1000, attributes: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'planner' } },
  ];
  const orders = [
    [0, 1, 2],
    [0, 2, 1],
    [1, 0, 2],
    [1, 2, 0],
    [2, 0, 1],
    [2, 1, 0],
  ];
  it.each(orders)('commits in the order %s, %s, %s', async (...order) => {
    const server = a;
    const store = server.store as ClickHouseStore;
    const tenant = `order-${order.join('')}`;
    // The records as ingest normalises them: posted once to learn them, then derived by hand.
    const { deriveTrace } = await import('../../derive/trace');
    await post(server.url, spans);
    const all = (await store.loadFacts([{ tenant: 'acme', traceId: T }]))[0].records.map((r) => ({ ...r, tenant }));
    const version = (records: typeof all) => {
      const d = deriveTrace(T, records);
      return { tenant, traceId: T, runs: d.runs.map((r) => ({ ...r, tenant })), sessions: d.sessions, steps: d.steps.map((s) => ({ ...s, tenant })), usage: d.usage.map((u) => ({ ...u, tenant })), factsVersion: records.length };
    };
    const partial = all.filter((r) => r.role !== 'agent');
    const derivations = [version(partial), version(all), version(all)];
    for (const i of order) await store.commit({ spans: [], events: [], derived: [derivations[i]] });
    const runs = await store.listRuns(tenant, {}, 15);
    expect(runs.map((r) => [r.runId, r.agent, r.toolCalls, r.llmCalls])).toEqual([[`${T}-00000000000000a0`, 'planner', 1, 1]]);
    const usage = await store.read(`SELECT run_id FROM usage WHERE tenant = $1`, [tenant]);
    expect(usage.map((u) => u.run_id)).toEqual([`${T}-00000000000000a0`]);
  });
});
