/**
 * Disk per span on ClickHouse (for docs/clickhouse.md's sizing guide): synthetic agent traces
 * (1 agent span, 5 LLM calls and 5 tool calls each, ~1 KB of content per LLM call and ~300 B of
 * attributes per span) committed through ClickHouseStore into the chdb harness, merged, then
 * system.parts read. Run: npx tsx --tsconfig server/tsconfig.json tests/clickhouse/measure-size.ts [traces]
 */
import { deriveTrace } from '../../server/src/derive/trace';
import { emptySpanRecord, SpanRecord } from '../../server/src/domain';
import { ClickHouseStore } from '../../server/src/store/clickhouse/clickhouse-store';
import { CommitBatch } from '../../server/src/store/store';
import { startClickHouse } from '../../server/src/test-support/clickhouse';

const TRACES = Number(process.argv[2] ?? 2000);
const words = 'the agent looked up the order and called the refund tool with the customer id then summarised'.split(' ');
const text = (n: number, seed: number) => Array.from({ length: n }, (_, i) => words[(i * 7 + seed) % words.length]).join(' ');

function trace(i: number, t0: number): SpanRecord[] {
  const traceId = i.toString(16).padStart(32, '0');
  const base = { ...emptySpanRecord('acme', 'otel'), traceId, record: 'span', statusCode: 1, service: 'support-svc', environment: 'production' };
  const attrs = JSON.stringify({ 'gen_ai.system': 'openai', 'server.address': 'api.openai.com', 'http.status_code': 200, note: text(30, i) });
  const out: SpanRecord[] = [{ ...base, spanId: `${i}-root`, name: 'invoke_agent support', role: 'agent', agentName: `agent-${i % 7}`, conversationId: `conv-${i % 500}`, userId: `user-${i % 300}`, startUs: t0, endUs: t0 + 20e6, attributes: attrs }];
  for (let k = 0; k < 5; k++) {
    out.push({ ...base, spanId: `${i}-llm-${k}`, parentSpanId: `${i}-root`, name: 'chat gpt-4o', role: 'llm', model: 'gpt-4o', provider: 'openai', inputTokens: 800 + k, outputTokens: 120 + k, startUs: t0 + k * 3e6, endUs: t0 + k * 3e6 + 1.5e6, inputContent: text(120, i + k), outputContent: text(60, i * 3 + k), attributes: attrs });
    out.push({ ...base, spanId: `${i}-tool-${k}`, parentSpanId: `${i}-root`, name: 'execute_tool lookup', role: 'tool', toolName: `tool-${k}`, startUs: t0 + k * 3e6 + 1.6e6, endUs: t0 + k * 3e6 + 2e6, inputContent: text(15, k), outputContent: text(25, i), attributes: attrs });
  }
  return out;
}

(async () => {
  const ch = await startClickHouse();
  const store = new ClickHouseStore({ url: ch.url, username: 'default', password: '', database: 'size', cluster: '', runTimeoutMinutes: 15, retentionDays: 0 });
  await store.open();
  const t0 = Date.now() * 1000 - 86_400e6;
  const started = Date.now();
  let spans = 0;
  for (let b = 0; b < TRACES; b += 200) {
    const batch: CommitBatch = { spans: [], events: [], derived: [] };
    for (let i = b; i < Math.min(TRACES, b + 200); i++) {
      const recs = trace(i, t0 + i * 40e6);
      const d = deriveTrace(recs[0].traceId, recs);
      batch.spans.push(...recs);
      batch.derived.push({ tenant: 'acme', traceId: recs[0].traceId, runs: d.runs, sessions: d.sessions, steps: d.steps, usage: d.usage, newTrace: true });
    }
    spans += batch.spans.length;
    await store.commit(batch);
  }
  const seconds = (Date.now() - started) / 1000;
  for (const t of ['spans', 'runs', 'steps', 'usage', 'events', 'sessions']) await store.read(`OPTIMIZE TABLE ${t}_store FINAL`);
  const parts = await store.read(
    `SELECT table, sum(rows) AS rows, sum(bytes_on_disk) AS disk, sum(data_uncompressed_bytes) AS raw FROM system.parts
     WHERE database = 'size' AND active GROUP BY table ORDER BY table`,
  );
  let disk = 0;
  for (const p of parts) disk += Number(p.disk);
  console.log(JSON.stringify({ traces: TRACES, spans, commitSeconds: seconds, spansPerSecond: Math.round(spans / seconds), bytesPerSpanAllTables: Math.round(disk / spans), parts }, null, 1));
  const time = async (sql: string) => {
    const s = process.hrtime.bigint();
    for (let k = 0; k < 5; k++) await store.read(sql);
    return Number(process.hrtime.bigint() - s) / 5e6;
  };
  console.log('count via FINAL view ms', (await time('SELECT count() FROM spans')).toFixed(1), 'raw table ms', (await time('SELECT count() FROM spans_store')).toFixed(1));
  await store.close();
  await ch.stop();
})();
