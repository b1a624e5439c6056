/**
 * The storage contract, asked of both engines: DuckDB (embedded) and ClickHouse (through the real
 * @clickhouse/client against the chdb harness, tests/clickhouse/chdb_http.py). Every test runs the
 * same calls on each engine and expects the same answers, derived by hand from the records below.
 */
import { emptySpanRecord, EventRecord, SpanRecord } from '../../domain';
import { deriveTrace } from '../../derive/trace';
import { startClickHouse, TestClickHouse } from '../../test-support/clickhouse';
import { DuckDBStore } from '../duckdb/duckdb-store';
import { CommitBatch, Store } from '../store';
import { ClickHouseStore } from './clickhouse-store';

const NOW_US = Date.now() * 1000;
const MIN = 60e6;

function span(tenant: string, traceId: string, spanId: string, over: Partial<SpanRecord>): SpanRecord {
  return { ...emptySpanRecord(tenant, 'otel'), traceId, spanId, record: 'span', name: spanId, statusCode: 1, ...over };
}

/**
 * Trace tA (acme): agent "planner" in conversation conv-1 of user u-1, one LLM call (gpt-4o,
 * 100 input and 20 output tokens) and one failed tool call (search) with one event.
 */
const A_START = NOW_US - 30 * MIN;
const tA = [
  span('acme', 'tA', 'a1', { role: 'agent', agentName: 'planner', conversationId: 'conv-1', userId: 'u-1', startUs: A_START, endUs: A_START + 10e6 }),
  span('acme', 'tA', 'a2', { parentSpanId: 'a1', role: 'llm', model: 'gpt-4o', inputTokens: 100, outputTokens: 20, startUs: A_START + 1e6, endUs: A_START + 3e6 }),
  span('acme', 'tA', 'a3', { parentSpanId: 'a1', role: 'tool', toolName: 'search', statusCode: 2, errorType: 'HTTPError', startUs: A_START + 4e6, endUs: A_START + 5e6 }),
];
const evA: EventRecord = { tenant: 'acme', traceId: 'tA', spanId: 'a3', timeUs: A_START + 4.5e6, name: 'exception', source: 'span_event', body: 'HTTP 503', attributes: '{}', key: 'evA' };
/** Trace tB (acme): an LLM call first (a provisional run "tB"), then its agent span b1 arrives (run "tB-b1"). */
const B_START = NOW_US - 20 * MIN;
const tB_llm = span('acme', 'tB', 'b2', { parentSpanId: 'b1', role: 'llm', model: 'claude', inputTokens: 7, outputTokens: 3, startUs: B_START + 1e6, endUs: B_START + 2e6 });
const tB_root = span('acme', 'tB', 'b1', { role: 'agent', agentName: 'writer', startUs: B_START, endUs: B_START + 5e6 });
/** Trace tS (acme): a voice session with one turn. */
const S_START = NOW_US - 10 * MIN;
const tS = [
  span('acme', 'tS', 's1', { role: 'session', name: 'agent_session', channel: 'voice', agentName: 'concierge', startUs: S_START, endUs: S_START + 60e6 }),
  span('acme', 'tS', 's2', { parentSpanId: 's1', role: 'turn', name: 'turn', channel: 'voice', startUs: S_START + 5e6, endUs: S_START + 9e6 }),
];
/** Trace tC (globex, another tenant) and trace tD (acme, 40 days old). */
const tC = [span('globex', 'tC', 'c1', { role: 'agent', agentName: 'other', startUs: NOW_US - 5 * MIN, endUs: NOW_US - 4 * MIN })];
const tD = [span('acme', 'tD', 'd1', { role: 'agent', agentName: 'planner', startUs: NOW_US - 40 * 1440 * MIN, endUs: NOW_US - 40 * 1440 * MIN + 1e6 })];

function batch(tenant: string, traceId: string, stored: SpanRecord[], added: SpanRecord[], events: EventRecord[] = []): CommitBatch {
  const d = deriveTrace(traceId, [...stored, ...added]);
  return { spans: added, events, derived: [{ tenant, traceId, runs: d.runs, sessions: d.sessions, steps: d.steps, usage: d.usage, newTrace: stored.length === 0 }] };
}

async function seed(store: Store): Promise<void> {
  await store.commit(batch('acme', 'tA', [], tA, [evA]));
  await store.commit(batch('acme', 'tB', [], [tB_llm]));
  await store.commit(batch('acme', 'tB', [tB_llm], [tB_root]));
  await store.commit(batch('acme', 'tS', [], tS));
  await store.commit(batch('globex', 'tC', [], tC));
  await store.commit(batch('acme', 'tD', [], tD));
}

let ch: TestClickHouse;
let databases = 0;
beforeAll(async () => {
  ch = await startClickHouse();
}, 120_000);
afterAll(async () => ch?.stop());

const ENGINES: [string, () => Store][] = [
  ['duckdb', () => new DuckDBStore(':memory:')],
  [
    'clickhouse',
    () =>
      new ClickHouseStore({ url: ch.url, username: 'default', password: '', database: `contract_${++databases}`, cluster: '', runTimeoutMinutes: 15, retentionDays: 0 }),
  ],
];

describe.each(ENGINES)('the %s store', (_engine, make) => {
  let store: Store;
  beforeEach(async () => {
    store = make();
    await store.open();
    await seed(store);
  });
  afterEach(async () => store.close());

  it('counts what was committed, per tenant', async () => {
    // acme: tA 3 spans + tB 2 + tS 2 + tD 1 = 8 spans; 1 event; runs tA, tB, tD (the session is no run); 1 session.
    expect(await store.counts('acme')).toEqual({ spans: 8, events: 1, runs: 3, sessions: 1 });
    expect(await store.counts('globex')).toEqual({ spans: 1, events: 0, runs: 1, sessions: 0 });
  });

  it('lists runs newest first with their derived figures; a late agent span replaces the provisional run', async () => {
    const runs = await store.listRuns('acme', {}, 15);
    expect(runs.map((r) => [r.runId, r.agent, r.status, r.llmCalls, r.toolCalls, r.inputTokens, r.outputTokens])).toEqual([
      ['tB-b1', 'writer', 'completed', 1, 0, 7, 3],
      ['tA-a1', 'planner', 'completed', 1, 1, 100, 20],
      ['tD-d1', 'planner', 'completed', 0, 0, 0, 0],
    ]);
    expect(runs[1]).toMatchObject({ conversationId: 'conv-1', userId: 'u-1', startUs: A_START, endUs: A_START + 10e6, spanCount: 3 });
    expect((await store.listRuns('acme', { fromUs: A_START, toUs: A_START }, 15)).map((r) => r.runId)).toEqual(['tA-a1']);
    expect((await store.listRuns('acme', { runId: 'tB-b1' }, 15)).map((r) => r.runId)).toEqual(['tB-b1']);
    expect((await store.listRuns('acme', { userId: 'u-1' }, 15)).map((r) => r.runId)).toEqual(['tA-a1']);
    expect((await store.listRuns('acme', { limit: 1 }, 15)).map((r) => r.runId)).toEqual(['tB-b1']);
  });

  it('lists sessions', async () => {
    const sessions = await store.listSessions('acme', {});
    expect(sessions.map((s) => [s.sessionId, s.channel, s.agent, s.startUs, s.endUs])).toEqual([['tS-s1', 'voice', 'concierge', S_START, S_START + 60e6]]);
  });

  it('loads a trace for derivation, its event keys, and every stored trace key', async () => {
    const facts = await store.loadTrace('acme', 'tA');
    expect(facts.map((f) => f.spanId).sort()).toEqual(['a1', 'a2', 'a3']);
    const llm = facts.find((f) => f.spanId === 'a2');
    expect(llm).toMatchObject({ role: 'llm', model: 'gpt-4o', inputTokens: 100, outputTokens: 20, startUs: A_START + 1e6, endUs: A_START + 3e6, inputContent: null });
    const windowed = await store.loadTrace('acme', 'tA', { fromUs: A_START, toUs: A_START + 4e6 });
    expect(windowed.map((f) => f.spanId).sort()).toEqual(['a1', 'a2', 'a3']);
    expect(await store.loadEventKeys('acme', 'tA')).toEqual(['evA']);
    const keys = (await store.listTraceKeys()).map((k) => `${k.tenant}/${k.traceId}`).sort();
    expect(keys).toEqual(['acme/tA', 'acme/tB', 'acme/tD', 'acme/tS', 'globex/tC']);
  });

  it("loads a trace's steps with status, tokens and events", async () => {
    const steps = await store.loadTraceSteps('acme', 'tA');
    expect(steps.map((s) => [s.spanId, s.role, s.status, s.startUs, s.durationMs])).toEqual([
      ['a1', 'agent', 'ok', A_START, 10000],
      ['a2', 'llm', 'ok', A_START + 1e6, 2000],
      ['a3', 'tool', 'error', A_START + 4e6, 1000],
    ]);
    expect(steps[2].events).toEqual([{ timeUs: A_START + 4.5e6, name: 'exception', source: 'span_event', body: 'HTTP 503', attributes: '{}' }]);
  });

  it('splits stored records into disjoint parts for re-derivation, with none pending on a fresh store', async () => {
    const parts = await Promise.all([0, 1, 2].map((p) => store.loadFactsPart(p, 3)));
    const all = parts.flat().map((r) => `${r.tenant}/${r.traceId}/${r.spanId}`);
    expect(all.length).toBe(9);
    expect(new Set(all).size).toBe(9);
    for (const part of parts) {
      // Each trace lies within one part.
      for (const r of part) expect(parts.filter((p) => p.some((x) => x.traceId === r.traceId)).length).toBe(1);
    }
    // A fresh store has every trace derived with the current schema: nothing to re-derive.
    expect(await store.rederivation()).toBeNull();
  });

  it('answers read() through the shared views (steps_v, runs_v) with positional parameters', async () => {
    const rows = await store.read('SELECT count(*) AS n FROM steps_v WHERE tenant = $1 AND run_id = $2', ['acme', 'tA-a1']);
    expect(Number(rows[0].n)).toBe(3);
    const runs = await store.read('SELECT run_id, status, duration_ms FROM runs_v WHERE tenant = $1 ORDER BY run_id', ['acme']);
    expect(runs.map((r) => [r.run_id, r.status, Number(r.duration_ms)])).toEqual([
      ['tA-a1', 'completed', 10000],
      ['tB-b1', 'completed', 5000],
      ['tD-d1', 'completed', 1000],
    ]);
  });

  it('deletes everything of a conversation, and data older than a cutoff', async () => {
    expect(await store.deleteBy('acme', 'conversation', 'conv-1')).toEqual({ traces: ['tA'], spans: 3 });
    expect(await store.counts('acme')).toEqual({ spans: 5, events: 0, runs: 2, sessions: 1 });
    expect(await store.loadTrace('acme', 'tA')).toEqual([]);
    // tD is 40 days old: its one span and its run go.
    expect(await store.deleteOlderThan(NOW_US - 30 * 1440 * MIN)).toBe(1);
    expect((await store.listRuns('acme', {}, 15)).map((r) => r.runId)).toEqual(['tB-b1']);
    expect(await store.counts('globex')).toEqual({ spans: 1, events: 0, runs: 1, sessions: 0 });
  });

  it('stores, finds and revokes API keys', async () => {
    const key = { id: 'k1', tenant: 'acme', name: 'ci', scopes: ['read', 'ingest'] as ('read' | 'ingest')[], hash: 'h-1', prefix: 'ai_k1', createdUs: NOW_US, revokedUs: null };
    await store.insertKey(key);
    await store.insertKey({ ...key, id: 'k2', tenant: 'globex', hash: 'h-2', createdUs: NOW_US + 1 });
    expect(await store.findKeyByHash('h-1')).toEqual(key);
    expect(await store.findKeyByHash('nope')).toBeNull();
    expect((await store.listKeys('acme')).map((k) => k.id)).toEqual(['k1']);
    expect((await store.listKeys()).map((k) => k.id)).toEqual(['k1', 'k2']);
    expect(await store.revokeKey('k1', NOW_US + 5)).toBe(true);
    expect(await store.revokeKey('k1', NOW_US + 6)).toBe(false);
    expect((await store.findKeyByHash('h-1'))?.revokedUs).toBe(NOW_US + 5);
  });
});
