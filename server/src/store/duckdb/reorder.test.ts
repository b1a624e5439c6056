/**
 * Migration 3: the derived tables rewritten in time order (DuckDBStore.reorderDerived). The
 * dataset is seeded, its derived rows put in reverse time order (as re-derivation's hash order
 * scatters them), the task set again, and the store opened: every answer is the one before, and
 * steps, usage and runs now lie in time order (what lets a time range skip storage blocks).
 */
import { rmSync } from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';
import { startServer } from '../../server';
import { INGEST_KEY, READ_KEY, startTestServer, TestServer } from '../../test-support/server';
import { query } from '../../test-support/query';
import { anchorMs, seedDataset, SeededDataset } from '../../test-support/dataset';

let server: TestServer;
let data: SeededDataset;

beforeAll(async () => {
  server = await startTestServer();
  data = await seedDataset(server.url, INGEST_KEY);
});
afterAll(() => server.cleanup().catch(() => rmSync(server.dir, { recursive: true, force: true })));

const panels = () =>
  [
    { queryType: 'runs', limit: 1000, filters: { status: ['completed', 'failed', 'timed_out'] } },
    { queryType: 'llmTokens', period: 'day' },
    { queryType: 'modelShare' },
    { queryType: 'costPerConversation' },
    { queryType: 'toolMetrics' },
    { queryType: 'runStats', filters: { tool: ['search'] } },
  ].map((q, i) => ({ refId: `Q${i}`, timeRange: { from: anchorMs(data.now) - 2 * 86_400_000, to: data.now }, timezone: 'Europe/Berlin', ...q }));

/** Whether a table's rows, in storage order, have non-decreasing times. */
const inTimeOrder = async (c: Awaited<ReturnType<DuckDBInstance['connect']>>, table: string, time: string) => {
  const r = await c.runAndReadAll(`SELECT count(*) AS n, bool_and(d) AS sorted FROM (SELECT ${time} >= lag(${time}, 1, ${time}) OVER (ORDER BY rowid) AS d FROM ${table})`);
  const row = r.getRowObjectsJS()[0];
  return { rows: Number(row.n), sorted: row.sorted };
};

it('answers as before and leaves steps, usage and runs in time order', async () => {
  const before = (await query(server.url, READ_KEY, panels())).results;
  await server.stop();
  const db = await DuckDBInstance.create(server.config.dataPath);
  const c = await db.connect();
  for (const [table, time] of [['steps', 'start_time'], ['usage', 'bucket'], ['runs', 'start_time']]) {
    await c.run(`CREATE TABLE scratch AS SELECT * FROM ${table} ORDER BY ${time} DESC`);
    await c.run(`DELETE FROM ${table}`);
    await c.run(`INSERT INTO ${table} SELECT * FROM scratch`);
    await c.run('DROP TABLE scratch');
    expect((await inTimeOrder(c, table, time)).sorted).toBe(false);
  }
  await c.run("INSERT INTO maintenance_tasks VALUES ('reorder', 0, 1)");
  c.closeSync();
  db.closeSync();
  const restarted = await startServer(server.config);
  try {
    expect((await query(restarted.url, READ_KEY, panels())).results).toEqual(before);
  } finally {
    await restarted.stop();
  }
  const db2 = await DuckDBInstance.create(server.config.dataPath);
  const c2 = await db2.connect();
  for (const [table, time] of [['steps', 'start_time'], ['usage', 'bucket'], ['runs', 'start_time']]) {
    const o = await inTimeOrder(c2, table, time);
    expect(o.rows).toBeGreaterThan(0);
    expect(o.sorted).toBe(true);
  }
  expect((await c2.runAndReadAll("SELECT count(*) AS n FROM maintenance_tasks WHERE name = 'reorder'")).getRowObjectsJS()[0].n).toBe(0n);
  c2.closeSync();
  db2.closeSync();
});
