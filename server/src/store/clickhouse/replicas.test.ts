/**
 * Two server replicas on one ClickHouse: what one ingests, the other answers at once, and the
 * other's live-stream change feed (polling ClickHouse, change-feed.ts) reports the tenant without
 * having seen the commit itself.
 */
import { startClickHouse, TestClickHouse } from '../../test-support/clickhouse';
import { postOtlp, tracesJson } from '../../test-support/otlp';
import { INGEST_KEY, startTestServer, TestServer } from '../../test-support/server';
import { pollingChangeFeed } from './change-feed';
import { ClickHouseStore } from './clickhouse-store';

let ch: TestClickHouse;
let a: TestServer;
let b: TestServer;
beforeAll(async () => {
  ch = await startClickHouse();
  const env = { AGENT_INSIGHTS_STORAGE: 'clickhouse', AGENT_INSIGHTS_CLICKHOUSE_URL: ch.url, AGENT_INSIGHTS_CLICKHOUSE_DATABASE: 'replicas' };
  a = await startTestServer(env);
  b = await startTestServer(env);
}, 120_000);
afterAll(async () => {
  await a?.cleanup();
  await b?.cleanup();
  await ch?.stop();
});

it("a run ingested by replica A is in replica B's answers, and B's change feed reports its tenant", async () => {
  expect(b.store).toBeInstanceOf(ClickHouseStore);
  const heard: string[][] = [];
  const stop = pollingChangeFeed(b.store as ClickHouseStore, { intervalMs: 100 })((tenants) => heard.push([...tenants]));
  try {
    await new Promise((r) => setTimeout(r, 300)); // the first poll only learns where things stand
    expect(heard).toEqual([]);
    const t = 'b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b1';
    const start = Date.now() - 5_000;
    const spans = [{ traceId: t, spanId: 'cccccccccccccc01', name: 'invoke_agent replica-test', start, end: start + 1000, attributes: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'replica-test' } }];
    expect((await postOtlp(`${a.url}/v1/traces`, INGEST_KEY, JSON.stringify(tracesJson(spans)))).status).toBe(200);
    expect((await b.store.listRuns('acme', {}, 15)).map((r) => [r.runId, r.agent, r.status])).toEqual([[`${t}-cccccccccccccc01`, 'replica-test', 'completed']]);
    const deadline = Date.now() + 5_000;
    while (!heard.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(heard).toEqual([['acme']]);
    // Polls after that find nothing new: one change, one notice, although the windows overlap.
    await new Promise((r) => setTimeout(r, 400));
    expect(heard).toEqual([['acme']]);
  } finally {
    stop();
  }
});
