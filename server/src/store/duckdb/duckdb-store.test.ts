/** The DuckDB store on its own: migrations, retention, and what survives a reopen. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { deriveTrace } from '../../derive/trace';
import { nativeToRecord } from '../../ingest/native/events';
import { ContentPolicy } from '../../content/policy';
import { loadConfig } from '../../config';
import { DuckDBStore } from './duckdb-store';
import { MIGRATIONS } from './migrations';

const policy = new ContentPolicy(loadConfig({}));
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'agent-insights-store-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function run(runId: string, startMs: number) {
  const rec = nativeToRecord('acme', { type: 'run.started', runId, agent: 'a', startTime: startMs }, policy);
  return { rec, derived: deriveTrace(rec.traceId, [rec]) };
}

it('applies every migration once and records its version', async () => {
  const path = join(dir, 'm.duckdb');
  const store = new DuckDBStore(path);
  await store.open();
  expect(await store.schemaVersion()).toBe(MIGRATIONS[MIGRATIONS.length - 1].version);
  await store.close();
  const again = new DuckDBStore(path);
  await again.open(); // reopening must not try to create the tables again
  await again.close();
  const db = await DuckDBInstance.create(path);
  const c = await db.connect();
  const rows = (await c.runAndReadAll('SELECT count(*)::INTEGER AS n FROM schema_migrations')).getRowObjectsJS();
  expect(rows[0].n).toBe(MIGRATIONS.length);
  c.closeSync();
  db.closeSync();
});

it('retention deletes spans, runs and events older than the cutoff and keeps the rest', async () => {
  const store = new DuckDBStore(join(dir, 'r.duckdb'));
  await store.open();
  const now = Date.now();
  const old = run('old-run', now - 40 * 86_400_000);
  const fresh = run('fresh-run', now - 60_000);
  await store.commit({
    spans: [old.rec, fresh.rec],
    events: [],
    derived: [
      { tenant: 'acme', traceId: old.rec.traceId, runs: old.derived.runs, sessions: [], steps: old.derived.steps, usage: old.derived.usage },
      { tenant: 'acme', traceId: fresh.rec.traceId, runs: fresh.derived.runs, sessions: [], steps: fresh.derived.steps, usage: fresh.derived.usage },
    ],
  });
  expect(await store.counts('acme')).toMatchObject({ spans: 2, runs: 2 });
  const deleted = await store.deleteOlderThan((now - 30 * 86_400_000) * 1000);
  expect(deleted).toBe(1);
  expect(await store.counts('acme')).toMatchObject({ spans: 1, runs: 1 });
  expect((await store.listRuns('acme', {}, 15)).map((r) => r.runId)).toEqual(['fresh-run']);
  await store.close();
});
