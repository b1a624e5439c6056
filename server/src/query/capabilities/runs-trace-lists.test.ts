/**
 * Runs filtered by a step dimension (tool, model, provider) and found by search, on both engines.
 * A run matches a tool, model or provider when its TRACE has a span record of it, whichever run of
 * the trace the span belongs to; the runs carry their trace's lists (derive/trace.ts), kept when a
 * late span adds a value and filled by the schema migration for runs stored before it.
 *
 * Seeded here (all within the last hour):
 *   trace A: run A1 (agent "billing", user u-1) calls the tool refund_payment;
 *            run A2 (agent "writer", a second root span) calls gpt-4o of openai.
 *   trace B: run B1 (agent "support", conversation conv-b) calls claude-sonnet-4 of anthropic.
 *   trace C: run C1 (agent "orders") calls lookup_order; a late span adds refund_payment.
 * So: tool refund_payment -> A1, A2 (then C1 too); model gpt-4o -> A1, A2; provider anthropic -> B1;
 * tool lookup_order and model gpt-4o together -> none (no one span has both, the existing meaning).
 */
import { rmSync } from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';
import { postOtlp, SpanSpec, tracesJson } from '../../test-support/otlp';
import { column, query } from '../../test-support/query';
import { INGEST_KEY, READ_KEY, startTestServer, TestServer } from '../../test-support/server';
import { startClickHouse, TestClickHouse } from '../../test-support/clickhouse';
import { DuckDBStore } from '../../store/duckdb/duckdb-store';
import { runQueries } from '../engine';

const NOW = Date.now();
const T0 = NOW - 30 * 60_000;
const TA = 'a'.repeat(32);
const TB = 'b'.repeat(32);
const TC = 'c'.repeat(32);
const span = (traceId: string, spanId: string, parentSpanId: string, offsetMs: number, attributes: SpanSpec['attributes']): SpanSpec => ({
  traceId,
  spanId: spanId.padEnd(16, '0'),
  parentSpanId: parentSpanId ? parentSpanId.padEnd(16, '0') : '',
  name: String(attributes?.['gen_ai.operation.name'] ?? 'span'),
  start: T0 + offsetMs,
  end: T0 + offsetMs + 1000,
  attributes,
});
const agent = (name: string, extra: Record<string, string> = {}) => ({ 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': name, ...extra });
const tool = (name: string) => ({ 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': name });
const chat = (model: string, provider: string) => ({ 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': model, 'gen_ai.provider.name': provider, 'gen_ai.usage.input_tokens': 10, 'gen_ai.usage.output_tokens': 5 });

const SPANS: SpanSpec[] = [
  span(TA, 'a1', '', 0, agent('billing', { 'user.id': 'u-1' })),
  span(TA, 'a11', 'a1', 100, tool('refund_payment')),
  span(TA, 'a2', '', 2000, agent('writer')),
  span(TA, 'a21', 'a2', 2100, chat('gpt-4o', 'openai')),
  span(TB, 'b1', '', 4000, agent('support', { 'gen_ai.conversation.id': 'conv-b' })),
  span(TB, 'b11', 'b1', 4100, chat('claude-sonnet-4', 'anthropic')),
  span(TC, 'c1', '', 6000, agent('orders')),
  span(TC, 'c11', 'c1', 6100, tool('lookup_order')),
];
const LATE = span(TC, 'c12', 'c1', 6200, tool('refund_payment'));

async function send(url: string, spans: SpanSpec[]): Promise<void> {
  const res = await postOtlp(`${url}/v1/traces`, INGEST_KEY, JSON.stringify(tracesJson(spans)));
  expect(res.status).toBe(200);
}

const RANGE = { from: NOW - 3_600_000, to: NOW };
const ask = (options: Record<string, unknown>) => ({ refId: 'A', queryType: 'runs', timeRange: RANGE, timezone: 'UTC', ...options });

/** The agents of the runs table's answer, sorted. */
async function agentsOf(url: string, options: Record<string, unknown>): Promise<string[]> {
  const res = await query(url, READ_KEY, [ask(options)]);
  expect(res.results.A.status).toBe(200);
  return (column(res.results.A.frames[0], 'Agent') as string[]).sort();
}

describe.each(['duckdb', 'clickhouse'])('runs filtered by tool, model and provider, and searched (%s)', (engine) => {
  let ch: TestClickHouse | undefined;
  let server: TestServer;
  beforeAll(async () => {
    if (engine === 'clickhouse') ch = await startClickHouse();
    server = await startTestServer(
      ch ? { AGENT_INSIGHTS_STORAGE: 'clickhouse', AGENT_INSIGHTS_CLICKHOUSE_URL: ch.url, AGENT_INSIGHTS_CLICKHOUSE_DATABASE: 'trace_lists' } : {},
    );
    await send(server.url, SPANS);
  }, 120_000);
  afterAll(async () => {
    await server?.cleanup();
    await ch?.stop();
  });

  it('matches every run of a trace that has a span of the tool, model or provider', async () => {
    // A1's subtree calls refund_payment; A2 is matched through its trace.
    expect(await agentsOf(server.url, { filters: { tool: ['refund_payment'] } })).toEqual(['billing', 'writer']);
    expect(await agentsOf(server.url, { filters: { model: ['gpt-4o'] } })).toEqual(['billing', 'writer']);
    expect(await agentsOf(server.url, { filters: { model: ['claude-sonnet-4', 'gpt-4o'] } })).toEqual(['billing', 'support', 'writer']);
    expect(await agentsOf(server.url, { filters: { provider: ['anthropic'] } })).toEqual(['support']);
    expect(await agentsOf(server.url, { filters: { tool: ['lookup_order'], agent: ['orders', 'billing'] } })).toEqual(['orders']);
    expect(await agentsOf(server.url, { filters: { tool: ['no_such_tool'] } })).toEqual([]);
    // Two step dimensions ask for one span with both values: none has a tool and a model.
    expect(await agentsOf(server.url, { filters: { tool: ['lookup_order'], model: ['gpt-4o'] } })).toEqual([]);
    expect(await agentsOf(server.url, { filters: { model: ['gpt-4o'], provider: ['openai'] } })).toEqual(['billing', 'writer']);
  });

  it('finds runs by run id, trace id, conversation or user, each run once', async () => {
    expect(await agentsOf(server.url, { search: 'conv-b' })).toEqual(['support']);
    expect(await agentsOf(server.url, { search: 'u-1' })).toEqual(['billing']);
    expect(await agentsOf(server.url, { search: TA })).toEqual(['billing', 'writer']);
    expect(await agentsOf(server.url, { search: `${TA}-${'a2'.padEnd(16, '0')}` })).toEqual(['writer']);
    expect(await agentsOf(server.url, { search: TA, filters: { agent: ['writer'] } })).toEqual(['writer']);
    expect(await agentsOf(server.url, { search: 'nobody' })).toEqual([]);
  });

  it('a late span that adds a tool to a trace makes its run match', async () => {
    expect(await agentsOf(server.url, { filters: { tool: ['refund_payment'] } })).toEqual(['billing', 'writer']);
    await send(server.url, [LATE]);
    expect(await agentsOf(server.url, { filters: { tool: ['refund_payment'] } })).toEqual(['billing', 'orders', 'writer']);
    expect(await agentsOf(server.url, { filters: { tool: ['lookup_order'] } })).toEqual(['orders']);
  });
});

describe('the DuckDB migration that adds the lists', () => {
  it("fills the stored runs' lists from the spans (no re-derivation)", async () => {
    const server = await startTestServer();
    try {
      await send(server.url, [...SPANS, LATE]);
      await server.stop();
      // The store as it was before version 5: no lists, no indexes.
      const db = await DuckDBInstance.create(server.config.dataPath);
      const c = await db.connect();
      for (const index of ['runs_run_id', 'runs_trace_id', 'runs_conversation_id', 'runs_user_id']) await c.run(`DROP INDEX ${index}`);
      for (const col of ['trace_tools', 'trace_models', 'trace_providers']) await c.run(`ALTER TABLE runs DROP COLUMN ${col}`);
      await c.run('DELETE FROM schema_migrations WHERE version = 5');
      c.closeSync();
      db.closeSync();

      const store = new DuckDBStore(server.config.dataPath);
      await store.open();
      try {
        const lists = await store.read('SELECT run_id, trace_tools, trace_models, trace_providers FROM runs ORDER BY run_id');
        expect(lists.map((r) => [r.trace_tools, r.trace_models, r.trace_providers])).toEqual([
          [['refund_payment'], ['gpt-4o'], ['openai']], // A1
          [['refund_payment'], ['gpt-4o'], ['openai']], // A2
          [[], ['claude-sonnet-4'], ['anthropic']], // B1
          [['lookup_order', 'refund_payment'], [], []], // C1
        ]);
        const agents = async (options: Record<string, unknown>) => {
          const res = await runQueries(store, 'acme', [ask(options)], NOW);
          return (column(res.results.A.frames![0], 'Agent') as string[]).sort();
        };
        expect(await agents({ filters: { tool: ['refund_payment'] } })).toEqual(['billing', 'orders', 'writer']);
        expect(await agents({ filters: { provider: ['anthropic'] } })).toEqual(['support']);
        expect(await agents({ search: 'conv-b' })).toEqual(['support']);
        const indexes = await store.read("SELECT index_name FROM duckdb_indexes() WHERE table_name = 'runs' ORDER BY index_name");
        expect(indexes.map((r) => r.index_name)).toEqual(['runs_conversation_id', 'runs_run_id', 'runs_trace_id', 'runs_user_id']);
      } finally {
        await store.close();
      }
    } finally {
      rmSync(server.dir, { recursive: true, force: true });
    }
  }, 60_000);
});
