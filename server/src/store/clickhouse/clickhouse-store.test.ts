/**
 * What only the ClickHouse store has to prove (the shared contract is store-contract.test.ts):
 * retried spans are the same rows whether or not parts have merged, migrations run once, cluster
 * DDL is generated and parsed by the engine, positional parameters become typed placeholders, and
 * the real server ingests into ClickHouse with a 200 meaning the rows are readable.
 */
import { createClient } from '@clickhouse/client';
import { emptySpanRecord, SpanRecord } from '../../domain';
import { deriveTrace } from '../../derive/trace';
import { startClickHouse, TestClickHouse } from '../../test-support/clickhouse';
import { postOtlp, tracesJson } from '../../test-support/otlp';
import { INGEST_KEY, startTestServer, TestServer } from '../../test-support/server';
import { CommitBatch } from '../store';
import { ClickHouseStore } from './clickhouse-store';
import { toClickHouseParams } from './params';
import { allDdl, MIGRATIONS } from './schema';

let ch: TestClickHouse;
beforeAll(async () => {
  ch = await startClickHouse();
}, 120_000);
afterAll(async () => ch?.stop());

let n = 0;
const newStore = (over: Partial<ConstructorParameters<typeof ClickHouseStore>[0]> = {}) =>
  new ClickHouseStore({ url: ch.url, username: 'default', password: '', database: `chs_${++n}`, cluster: '', runTimeoutMinutes: 15, retentionDays: 0, ...over });

const NOW = Date.now() * 1000;
function span(spanId: string, over: Partial<SpanRecord>): SpanRecord {
  return { ...emptySpanRecord('acme', 'otel'), traceId: 't1', spanId, record: 'span', name: spanId, statusCode: 1, ...over };
}
const records = [
  span('r', { role: 'agent', agentName: 'planner', startUs: NOW - 10e6, endUs: NOW }),
  span('l', { parentSpanId: 'r', role: 'llm', model: 'gpt-4o', inputTokens: 10, outputTokens: 5, startUs: NOW - 9e6, endUs: NOW - 8e6 }),
];
function batch(spans: SpanRecord[]): CommitBatch {
  const d = deriveTrace('t1', records);
  return { spans, events: [], derived: [{ tenant: 'acme', traceId: 't1', runs: d.runs, sessions: d.sessions, steps: d.steps, usage: d.usage }] };
}

it('a batch committed twice (a retry that reached storage) counts once, before and after parts merge', async () => {
  const store = newStore();
  await store.open();
  try {
    await store.commit(batch(records));
    await store.commit(batch(records));
    // Unmerged: two parts of each table hold the rows twice; the FINAL views show them once.
    const raw = await store.read('SELECT count() AS c FROM spans_store');
    expect(Number(raw[0].c)).toBe(4);
    const expected = { spans: 2, events: 0, runs: 1, sessions: 0 };
    expect(await store.counts('acme')).toEqual(expected);
    const tokens = async () => (await store.read('SELECT sum(input_tokens) AS i, count() AS c FROM steps_v WHERE tenant = $1', ['acme']))[0];
    expect(await tokens()).toMatchObject({ i: 10, c: 2 });
    expect((await store.listRuns('acme', {}, 15)).map((r) => [r.runId, r.inputTokens])).toEqual([['t1-r', 10]]);
    // After a merge the answers are the same.
    for (const t of ['spans', 'runs', 'steps', 'usage']) await store.read(`OPTIMIZE TABLE ${t}_store FINAL`);
    expect(Number((await store.read('SELECT count() AS c FROM spans_store'))[0].c)).toBe(2);
    expect(await store.counts('acme')).toEqual(expected);
    expect(await tokens()).toMatchObject({ i: 10, c: 2 });
  } finally {
    await store.close();
  }
});

it('applies each migration once, also when opened again (another replica starting)', async () => {
  const a = newStore();
  await a.open();
  const b = newStore({ database: `chs_${n}` });
  await b.open();
  try {
    expect(await b.schemaVersion()).toBe(MIGRATIONS[MIGRATIONS.length - 1].version);
    const rows = await b.read('SELECT count() AS c FROM schema_migrations FINAL');
    expect(Number(rows[0].c)).toBe(MIGRATIONS.length);
  } finally {
    await a.close();
    await b.close();
  }
});

it("migration 3 fills the trace's tool, model and provider lists of runs stored before it", async () => {
  const a = newStore();
  await a.open();
  const database = `chs_${n}`;
  await a.commit(batch(records));
  await a.close();
  // The store as version 2 left it: runs without the lists.
  const client = createClient({ url: ch.url, database });
  try {
    await client.command({ query: 'ALTER TABLE runs_store DROP COLUMN trace_tools, DROP COLUMN trace_models, DROP COLUMN trace_providers' });
    await client.command({ query: 'ALTER TABLE schema_migrations DELETE WHERE version = 3 SETTINGS mutations_sync = 2' });
  } finally {
    await client.close();
  }
  const b = newStore({ database });
  await b.open();
  try {
    expect(await b.schemaVersion()).toBe(3);
    // The trace's one LLM span names gpt-4o and no provider; no span names a tool.
    const runs = await b.listRuns('acme', {}, 15);
    expect(runs.map((r) => [r.runId, r.traceTools, r.traceModels, r.traceProviders])).toEqual([['t1-r', [], ['gpt-4o'], []]]);
    const byModel = await b.read('SELECT run_id FROM runs_v WHERE tenant = $1 AND hasAny(trace_models, [$2])', ['acme', 'gpt-4o']);
    expect(byModel.map((r) => r.run_id)).toEqual(['t1-r']);
  } finally {
    await b.close();
  }
});

it('retention sets a TTL on every table with data and removes it when retention is off', async () => {
  const store = newStore({ retentionDays: 7 });
  await store.open();
  const ttl = async () =>
    (await store.read(`SELECT name FROM system.tables WHERE database = currentDatabase() AND create_table_query LIKE '%TTL toDateTime(%) + toIntervalDay(7)%' ORDER BY name`)).map((r) => r.name);
  // derivations_store too: its rows expire by the time of the trace's last derivation.
  expect(await ttl()).toEqual(['derivations_store', 'events_store', 'runs_store', 'sessions_store', 'spans_store', 'steps_store', 'usage_store']);
  await store.close();
  const off = newStore({ database: `chs_${n}`, retentionDays: 0 });
  await off.open();
  expect((await off.read(`SELECT count() AS c FROM system.tables WHERE database = currentDatabase() AND create_table_query LIKE '% TTL %'`))[0].c).toBe(0);
  await off.close();
});

it('generates cluster DDL (ON CLUSTER, Replicated tables behind Distributed ones) that the engine parses', async () => {
  // No Keeper and no second server exist here, so the statements are parsed (formatQuery), not run.
  const ddl = allDdl({ database: 'agent_insights', cluster: 'prod' }, 15, 30);
  expect(ddl.every((s) => s.includes("ON CLUSTER prod"))).toBe(true);
  expect(ddl.filter((s) => s.includes('ENGINE = ReplicatedReplacingMergeTree')).length).toBe(10); // 9 tables (with derivations) + schema_migrations
  expect(ddl.filter((s) => s.includes('ENGINE = Distributed(prod, agent_insights,')).length).toBe(9);
  const client = createClient({ url: ch.url });
  try {
    for (const statement of ddl) {
      const rs = await client.query({ query: 'SELECT formatQuery({q:String}) AS f', query_params: { q: statement }, format: 'JSONEachRow' });
      const [row] = (await rs.json()) as { f: string }[];
      expect(row.f).toContain('ON CLUSTER prod');
    }
  } finally {
    await client.close();
  }
});

it('binds positional parameters as typed placeholders, leaving quoted text alone', () => {
  expect(toClickHouseParams("SELECT '$1', x FROM t WHERE a = $1 AND has($2, b) AND c > $3 AND d = $4", ['acme', ['x', 'y'], 1.5, 7])).toEqual({
    sql: "SELECT '$1', x FROM t WHERE a = {p1:String} AND has({p2:Array(String)}, b) AND c > {p3:Float64} AND d = {p4:Int64}",
    params: { p1: 'acme', p2: ['x', 'y'], p3: 1.5, p4: 7 },
  });
  expect(() => toClickHouseParams('SELECT $2', [1])).toThrow('SQL parameter $2 has no value (1 given)');
  // An apostrophe inside a comment does not open a string: the parameters after it are bound.
  expect(toClickHouseParams("SELECT -- each tool's calls\n a FROM t /* it's */ WHERE a = $1", ['acme']).sql).toBe(
    "SELECT -- each tool's calls\n a FROM t /* it's */ WHERE a = {p1:String}",
  );
});

describe('the server on ClickHouse', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ AGENT_INSIGHTS_STORAGE: 'clickhouse', AGENT_INSIGHTS_CLICKHOUSE_URL: ch.url, AGENT_INSIGHTS_CLICKHOUSE_DATABASE: 'server_ingest' });
  }, 120_000);
  afterAll(async () => server?.cleanup());

  it('a 200 means the spans are readable at once, and a retried request changes no count', async () => {
    const t = 'c0ffee00c0ffee00c0ffee00c0ffee01';
    const start = Date.now() - 60_000;
    const body = JSON.stringify(
      tracesJson([
        { traceId: t, spanId: 'aaaaaaaaaaaaaaa1', name: 'invoke_agent triage', start, end: start + 4000, attributes: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'triage' } },
        {
          traceId: t,
          spanId: 'aaaaaaaaaaaaaaa2',
          parentSpanId: 'aaaaaaaaaaaaaaa1',
          name: 'chat gpt-4o',
          start: start + 100,
          end: start + 1100,
          attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'gpt-4o', 'gen_ai.usage.input_tokens': 120, 'gen_ai.usage.output_tokens': 30 },
        },
      ]),
    );
    const first = await postOtlp(`${server.url}/v1/traces`, INGEST_KEY, body);
    expect(first.status).toBe(200);
    // Read right after the answer, from storage (not the writer's memory).
    expect(await server.store.counts('acme')).toMatchObject({ spans: 2, runs: 1 });
    const retry = await postOtlp(`${server.url}/v1/traces`, INGEST_KEY, body);
    expect(retry.status).toBe(200);
    expect(await server.store.counts('acme')).toMatchObject({ spans: 2, runs: 1 });
    const [run] = await server.store.listRuns('acme', {}, 15);
    expect(run).toMatchObject({ runId: `${t}-aaaaaaaaaaaaaaa1`, agent: 'triage', status: 'completed', llmCalls: 1, inputTokens: 120, outputTokens: 30 });
  });
});
