/**
 * Tool metrics and tool series read from the DuckDB store's rollup (tool calls summed per 15
 * minutes, store/duckdb/tool-rollup.ts) must answer what reading every call answers: after late
 * spans, a run that finishes, deletion, and a rebuild; on ranges that cut a bucket at both ends.
 * Beyond exactPercentileCalls calls, latency percentiles come from the histogram, within 1%.
 */
import { rmSync } from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';
import { QueryRequestItem, runQueries } from '../engine';
import { INGEST_KEY, postJson, ADMIN_KEY, READ_KEY, startTestServer, TestServer } from '../../test-support/server';
import { llmCallSpan, postOtlp, SpanSpec, tracesJson } from '../../test-support/otlp';
import { query, rows } from '../../test-support/query';
import { recordingReads } from '../../test-support/recording-store';
import { Store } from '../../store/store';
import { DuckDBStore } from '../../store/duckdb/duckdb-store';
import { toolMetrics } from './tools';
import { dialectOf } from '../dialect';
import { parseQuery } from '@agent-insights/model';

const MIN = 60_000;
const HOUR = 60 * MIN;
const BUCKET = 15 * MIN;
let server: TestServer;

let stopped = false;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  if (stopped) rmSync(server.dir, { recursive: true, force: true });
  else await server.cleanup();
});

async function post(spans: SpanSpec[]): Promise<void> {
  const res = await postOtlp(`${server.url}/v1/traces`, INGEST_KEY, JSON.stringify(tracesJson(spans)));
  expect(res.status).toBe(200);
}

const agent = (traceId: string, spanId: string, start: number, name: string, end = start + 10 * MIN, attrs: Record<string, string> = {}): SpanSpec => ({
  traceId,
  spanId,
  name: `invoke_agent ${name}`,
  start,
  end,
  attributes: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': name, ...attrs },
});
const tool = (traceId: string, spanId: string, parent: string, start: number, ms: number, name: string, error?: string): SpanSpec => ({
  traceId,
  spanId,
  parentSpanId: parent,
  name: `execute_tool ${name}`,
  start,
  end: start + ms,
  attributes: { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': name, ...(error ? { 'error.type': error } : {}) },
  ...(error ? { status: { code: 2, message: `${error} in ${name}` } } : {}),
});

async function frameOf(q: Record<string, unknown>, range: { from: number; to: number }) {
  const res = await query(server.url, READ_KEY, [{ refId: 'A', timeRange: range, timezone: 'UTC', ...q }]);
  expect(res.results.A).toMatchObject({ status: 200 });
  return res.results.A.frames;
}

/** The store with its rollup hidden: every tool query then reads calls one by one (the reference). */
function perCall(store: Store): Store {
  return new Proxy(store, {
    get(target, key) {
      if (key === 'toolRollup') return false;
      const v = Reflect.get(target, key, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

const span = (id: number, width = 16) => id.toString(16).padStart(width, '0');


it('a late tool call and a failure move the rolled-up figures as they move the calls', async () => {
  // Two hours ago, 7 minutes into a bucket; the range cuts a bucket at each end.
  const t = Math.floor(Date.now() / BUCKET) * BUCKET - 2 * HOUR + 7 * MIN;
  const trace = 'cd' + '1'.repeat(30);
  const root = span(0xa1);
  const range = { from: t - 50 * MIN, to: t + 40 * MIN };
  await post([agent(trace, root, t, 'rollup-bot', t + 30 * MIN), tool(trace, span(0xa2), root, t + MIN, 100, 'lookup'), tool(trace, span(0xa3), root, t + 20 * MIN, 300, 'lookup')]);
  // (100 + 300) / 2 = 200 ms; p50 between them: 200; p95: 100 + 0.95 x 200 = 290
  const done = rows((await frameOf({ queryType: 'toolMetrics', filters: { agent: ['rollup-bot'] } }, range))[0]);
  expect(done).toEqual([expect.objectContaining({ Tool: 'lookup', Calls: 2, Errors: 0, 'Avg latency': 200, P50: 200, P95: 290 })]);

  // A late failed call in another bucket: 3 calls, 1 error, avg (100 + 300 + 800) / 3 = 400.
  await post([tool(trace, span(0xa4), root, t + 35 * MIN, 800, 'lookup', 'Timeout')]);
  const late = rows((await frameOf({ queryType: 'toolMetrics', filters: { agent: ['rollup-bot'] } }, range))[0]);
  expect(late).toEqual([expect.objectContaining({ Tool: 'lookup', Calls: 3, Errors: 1, 'Error rate': 1 / 3, 'Avg latency': 400, 'Top error': 'Timeout' })]);
  const errors = rows((await frameOf({ queryType: 'toolErrors', filters: { agent: ['rollup-bot'] } }, range))[0]);
  expect(errors).toEqual([{ Tool: 'lookup', 'Error type': 'Timeout', Count: 1, 'Last seen': t + 35 * MIN, 'Last message': 'Timeout in lookup' }]);
  // Per 15 minutes: the calls at t+1, t+20 and t+35 minutes fall in three buckets.
  const series = (await frameOf({ queryType: 'timeSeries', metric: 'toolCalls', groupBy: 'tool', intervalMs: BUCKET, filters: { agent: ['rollup-bot'] } }, range))[0];
  const counts = rows(series).filter((r) => Number(r['Tool calls']) > 0);
  expect(counts.map((r) => [r.Time, r['Tool calls']])).toEqual([
    [t - 7 * MIN, 1],
    [t + 8 * MIN, 1],
    [t + 23 * MIN, 1],
  ]);
});

it('a late call moves the p95 per hour read from the sorted duration lists', async () => {
  // A whole hour three hours ago, read from the lists; the range cuts the hours around it.
  const h = Math.floor(Date.now() / HOUR) * HOUR - 3 * HOUR;
  const trace = 'cd' + '4'.repeat(30);
  const root = span(0xe1);
  const range = { from: h - 20 * MIN, to: h + HOUR + 10 * MIN };
  const p95 = async () => {
    const read: string[] = [];
    const recording = recordingReads(server.store, read);
    const res = await runQueries(recording, 'acme', [{ refId: 'A', queryType: 'timeSeries', metric: 'toolLatencyP95', groupBy: 'tool', intervalMs: HOUR, filters: { tool: ['hourly_probe'] }, timeRange: range, timezone: 'UTC' } as QueryRequestItem], Date.now());
    expect(read.some((sql) => sql.includes('FROM tool_durations'))).toBe(true);
    const frame = res.results.A.frames![0];
    return rows(frame).filter((r) => r['Tool latency p95'] !== null).map((r) => [r.Time, r['Tool latency p95']]);
  };
  await post([agent(trace, root, h + 5 * MIN, 'hourly-bot', h + 50 * MIN), ...[100, 200, 300].map((ms, i) => tool(trace, span(0xe2 + i), root, h + (10 + i) * MIN, ms, 'hourly_probe'))]);
  // n = 3: rank 0.95 x 2 = 1.9, between 200 and 300: 200 x 0.1 + 300 x 0.9 = 290.
  expect(await p95()).toEqual([[h, 290]]);
  // A late 1,000 ms call in the same hour: n = 4, rank 2.85: 300 x 0.15 + 1000 x 0.85 = 895;
  // and one in the partial hour after it (read call by call): 40 ms alone.
  await post([tool(trace, span(0xe6), root, h + 40 * MIN, 1000, 'hourly_probe'), tool(trace, span(0xe7), root, h + HOUR + 5 * MIN, 40, 'hourly_probe')]);
  const late = await p95();
  expect(late.map(([t]) => t)).toEqual([h, h + HOUR]);
  expect(late[0][1]).toBeCloseTo(895, 9);
  expect(late[1][1]).toBe(40);
});

it("a run's status moves its tool calls: running, completed, and timed out once past the deadline", async () => {
  const now = Date.now();
  const range = { from: now - 2 * HOUR, to: now };
  const calls = async (status: string) =>
    rows((await frameOf({ queryType: 'toolMetrics', filters: { status: [status], tool: ['status_probe'] } }, range))[0]).reduce((n, r) => n + Number(r.Calls), 0);
  // Its agent span has not arrived: a provisional run, running (started 5 minutes ago).
  const trace = 'cd' + '2'.repeat(30);
  await post([llmCallSpan(trace, span(0xc2), span(0xc1), now - 5 * MIN, 10, 1), tool(trace, span(0xc3), span(0xc1), now - 4 * MIN, 50, 'status_probe')]);
  expect([await calls('running'), await calls('completed')]).toEqual([1, 0]);
  await post([agent(trace, span(0xc1), now - 5 * MIN, 'status-bot', now - MIN)]);
  expect([await calls('running'), await calls('completed')]).toEqual([0, 1]);
  // Another, started 40 minutes ago and never finished: past the 15-minute deadline it reads timed out.
  const stale = 'cd' + '3'.repeat(30);
  await post([llmCallSpan(stale, span(0xd2), span(0xd1), now - 40 * MIN, 10, 1), tool(stale, span(0xd3), span(0xd1), now - 39 * MIN, 50, 'status_probe')]);
  expect([await calls('running'), await calls('completed'), await calls('timed_out')]).toEqual([0, 1, 1]);
});

it('answers the same from the rollup as from every call, on every tool query of the hand-checked kind', async () => {
  // Three agents, four tools, failures of two kinds, over 30 hours; one run still running.
  const base = Math.floor(Date.now() / HOUR) * HOUR - 30 * HOUR;
  const spans: SpanSpec[] = [];
  let id = 0x1000;
  for (let r = 0; r < 60; r++) {
    const trace = 'ce' + span(r, 30);
    const root = span(id++);
    const start = base + r * 29 * MIN + (r % 7) * 1000;
    const agentName = ['triage', 'billing', 'search'][r % 3];
    spans.push(agent(trace, root, start, agentName, r === 59 ? start + 40 * MIN : start + 20 * MIN, { 'deployment.environment.name': r % 2 ? 'prod' : 'staging' }));
    for (let c = 0; c < 6; c++) {
      const name = ['lookup', 'refund', 'search_kb', 'notify'][(r + c) % 4];
      const error = (r * 6 + c) % 9 === 0 ? 'Timeout' : (r * 6 + c) % 13 === 0 ? 'RateLimit' : undefined;
      spans.push(tool(trace, span(id++), root, start + c * 3 * MIN + 500, 20 + ((r * 37 + c * 101) % 900), name, error));
    }
  }
  if (spans.length) await post(spans.filter((s) => !(s.name.startsWith('invoke_agent') && s.traceId.endsWith(span(59, 30)))));
  await post(spans.filter((s) => s.name.startsWith('invoke_agent') && s.traceId.endsWith(span(59, 30))));

  const from = base + 7 * MIN + 13_000;
  const to = base + 29 * HOUR + 52 * MIN;
  const items: QueryRequestItem[] = [];
  const add = (q: Record<string, unknown>) => items.push({ refId: `Q${items.length}`, timeRange: { from, to }, timezone: 'Asia/Kolkata', ...q } as QueryRequestItem);
  const filterSets = [
    {},
    { agent: ['billing'] },
    { tool: ['refund', 'lookup'] },
    { agent: ['billing', 'search'], environment: ['prod'] },
    { environment: ['staging'], tool: ['lookup'] },
    { environment: ['prod'], status: ['completed'] },
    { status: ['running'] },
  ];
  for (const filters of filterSets) {
    add({ queryType: 'toolMetrics', filters });
    add({ queryType: 'toolErrors', filters });
    for (const metric of ['toolCalls', 'toolErrors', 'toolErrorRate', 'toolLatencyP95']) {
      add({ queryType: 'timeSeries', metric, groupBy: 'tool', intervalMs: HOUR, filters });
      add({ queryType: 'timeSeries', metric, groupBy: 'agent', intervalMs: 3 * HOUR, filters });
      add({ queryType: 'timeSeries', metric, intervalMs: 24 * HOUR, filters });
    }
    // Latency per hour from the sorted duration lists: one list per key (by tool), lists joined
    // (all tools, or keys of two hours), and one tool's alone.
    add({ queryType: 'timeSeries', metric: 'toolLatencyP95', intervalMs: HOUR, filters });
    add({ queryType: 'timeSeries', metric: 'toolLatencyP95', groupBy: 'tool', intervalMs: 2 * HOUR, filters });
  }
  add({ queryType: 'timeSeries', metric: 'toolLatencyP95', intervalMs: HOUR, filters: { tool: ['refund'] } });
  const now = Date.now();
  // Which relations the rollup side read: the comparison means nothing if it never used the rollup.
  const read: string[] = [];
  const recording = recordingReads(server.store, read);
  const viaRollup = await runQueries(recording, 'acme', items, now);
  expect(read.filter((sql) => sql.includes('tool_rollup_v')).length).toBeGreaterThan(items.length / 2);
  // The hourly-by-tool, hourly and two-hourly series of the 5 scopes filtered by tool, agent or
  // environment only (or not at all), and one tool's: 3 x 5 + 1.
  expect(read.filter((sql) => sql.includes('tool_durations')).length).toBe(16);
  const viaCalls = await runQueries(perCall(server.store), 'acme', items, now);
  let calls = 0;
  for (const item of items) {
    const a = viaRollup.results[item.refId!];
    expect(a.status).toBe(200);
    expect(a).toEqual(viaCalls.results[item.refId!]);
    if (item.queryType === 'toolMetrics') calls += rows(a.frames![0]).reduce((n, r) => n + Number(r.Calls), 0);
  }
  // Not vacuous: the unfiltered range holds most of the 360 calls (the ends cut a few).
  expect(calls).toBeGreaterThan(300);
});

it('estimates percentiles from the histogram beyond the exact limit, within 1% of the exact values, and says so', async () => {
  // 40 hours: at least one whole UTC day (read from the day table) and buckets around it.
  const base = Math.floor(Date.now() / HOUR) * HOUR - 41 * HOUR;
  const spans: SpanSpec[] = [];
  let id = 0x90000;
  for (let r = 0; r < 160; r++) {
    const trace = 'cf' + span(r, 30);
    const root = span(id++);
    const start = base + r * 15 * MIN;
    spans.push(agent(trace, root, start, 'histogram-bot', start + 9 * MIN));
    // Durations spread over three decades (5 ms to 5 s), as real tool latencies are.
    for (let c = 0; c < 20; c++) spans.push(tool(trace, span(id++), root, start + c * 20_000, 5 * 1000 ** (((r * 20 + c) * 7919) % 2000 / 2000), c % 2 ? 'slow_api' : 'fast_cache'));
  }
  await post(spans);
  const range = { range: { from: base - 5 * MIN, to: base + 40 * HOUR + 3 * MIN }, timezone: 'UTC' };
  const q = parseQuery({ refId: 'A', queryType: 'toolMetrics', filters: { tool: ['slow_api', 'fast_cache'] } }, range);
  const env = { store: server.store, dialect: dialectOf('duckdb'), tenant: 'acme', nowMs: Date.now() };
  const exact = (await toolMetrics(q, env))[0];
  const estimated = (await toolMetrics(q, { ...env, exactPercentileCalls: 100 }))[0];
  // Filtered by the run's agent too, the histogram (kept per agent and environment) still serves;
  // by its status, every call is read, exactly.
  const byAgent = parseQuery({ refId: 'A', queryType: 'toolMetrics', filters: { tool: ['slow_api', 'fast_cache'], agent: ['histogram-bot'] } }, range);
  const byStatus = parseQuery({ refId: 'A', queryType: 'toolMetrics', filters: { tool: ['slow_api', 'fast_cache'], status: ['completed'] } }, range);
  expect(rows((await toolMetrics(byAgent, { ...env, exactPercentileCalls: 100 }))[0])).toEqual(rows(estimated));
  const exactByStatus = (await toolMetrics(byStatus, { ...env, exactPercentileCalls: 100 }))[0];
  expect(rows(exactByStatus)).toEqual(rows(exact));
  expect(exactByStatus.schema.meta?.notices).toBeUndefined();
  const er = rows(exact).filter((r) => r.Tool === 'slow_api' || r.Tool === 'fast_cache');
  const es = rows(estimated).filter((r) => r.Tool === 'slow_api' || r.Tool === 'fast_cache');
  expect(er).toHaveLength(2);
  expect(er.map((r) => r.Calls)).toEqual([1600, 1600]);
  for (const [i, r] of er.entries()) {
    expect(es[i].Calls).toBe(r.Calls);
    for (const p of ['P50', 'P95', 'P99']) expect(Math.abs(Number(es[i][p]) / Number(r[p]) - 1)).toBeLessThanOrEqual(0.01);
  }
  // The exact frame has no notice; the estimated one says so.
  expect(exact.schema.meta?.notices).toBeUndefined();
  expect(estimated.schema.meta?.notices?.[0].text).toMatch(/estimated from a latency histogram \(within 0\.99%/);
});

it('deleting a conversation and rebuilding the rollup keep it equal to the calls', async () => {
  const t = Math.floor(Date.now() / BUCKET) * BUCKET - 5 * HOUR + 3 * MIN;
  const trace = 'd0' + '2'.repeat(30);
  const root = span(0xb1);
  await post([agent(trace, root, t, 'forget-bot', t + 10 * MIN, { 'gen_ai.conversation.id': 'conv-forget' }), tool(trace, span(0xb2), root, t + MIN, 50, 'wipe')]);
  const range = { from: t - HOUR, to: t + HOUR };
  const wipe = async () => rows((await frameOf({ queryType: 'toolMetrics', filters: { tool: ['wipe'] } }, range))[0]);
  expect(await wipe()).toEqual([expect.objectContaining({ Tool: 'wipe', Calls: 1 })]);
  const res = await postJson(`${server.url}/api/v1/admin/delete`, ADMIN_KEY, { conversationId: 'conv-forget' });
  expect(res.status).toBe(200);
  expect(await wipe()).toEqual([]);

  // A rebuild (migration 4's task) from the steps gives the rows incremental upkeep gave.
  const dump = async (s: Store) =>
    (await s.read(`SELECT 'r' AS t, * FROM tool_rollup ORDER BY ALL`))
      .concat(
        await s.read(`SELECT 'l' AS t, * FROM tool_latency ORDER BY ALL`),
        await s.read(`SELECT 'd' AS t, * FROM tool_latency_day ORDER BY ALL`),
        await s.read(`SELECT 'h' AS t, * FROM tool_durations ORDER BY ALL`),
      )
      .map((r) => JSON.stringify(r, (_, v) => (typeof v === 'bigint' ? Number(v) : v)));
  const before = await dump(server.store);
  expect(before.length).toBeGreaterThan(100);
  expect(before.filter((r) => r.startsWith('{"t":"d"')).length).toBeGreaterThan(100);
  expect(before.filter((r) => r.startsWith('{"t":"h"')).length).toBeGreaterThan(100);
  await server.stop();
  stopped = true;
  const path = server.config.dataPath;
  const db = await DuckDBInstance.create(path);
  const c = await db.connect();
  await c.run('DELETE FROM tool_rollup');
  await c.run('DELETE FROM tool_latency');
  await c.run('DELETE FROM tool_latency_day');
  await c.run('DELETE FROM tool_durations');
  await c.run("INSERT INTO maintenance_tasks VALUES ('tool_rollup', 0, 1)");
  c.closeSync();
  db.closeSync();
  const reopened = new DuckDBStore(path, 15, 1, () => undefined);
  await reopened.open();
  expect(await dump(reopened)).toEqual(before);
  await reopened.close();
});
