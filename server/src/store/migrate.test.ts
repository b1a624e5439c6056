/**
 * agent-insights migrate-to-clickhouse: a DuckDB store holding the hand-checked dataset
 * (test-support/dataset.ts, ingested through the real server) copied into ClickHouse (the chdb
 * harness) by the CLI command, then asked the same questions on both stores.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../cli';
import { runQueries } from '../query/engine';
import { differences } from '../test-support/differences';
import { FIXED_NOW, GOLDEN_QUERIES } from '../query/golden-queries';
import { startClickHouse, TestClickHouse } from '../test-support/clickhouse';
import { seedDataset } from '../test-support/dataset';
import { INGEST_KEY, startTestServer } from '../test-support/server';
import { ClickHouseStore } from './clickhouse/clickhouse-store';
import { DuckDBStore } from './duckdb/duckdb-store';
import { copyStore } from './migrate';

let ch: TestClickHouse;
let dir: string;
let file: string;
let duck: DuckDBStore;
let click: ClickHouseStore;
const lines: string[] = [];
const env = () => ({ AGENT_INSIGHTS_CLICKHOUSE_URL: ch.url, AGENT_INSIGHTS_CLICKHOUSE_DATABASE: 'migrated', AGENT_INSIGHTS_RETENTION_DAYS: '0' });

beforeAll(async () => {
  ch = await startClickHouse();
  const server = await startTestServer({ AGENT_INSIGHTS_RETENTION_DAYS: '0' });
  dir = server.dir;
  file = join(dir, 'test.duckdb');
  await seedDataset(server.url, INGEST_KEY, FIXED_NOW);
  // Keys of a second tenant exist too (startTestServer creates them): they move with the data.
  await server.stop();
  await run(['migrate-to-clickhouse', '--from', file], env(), (s) => lines.push(s));
  duck = new DuckDBStore(file, 15, 1, () => undefined);
  await duck.open();
  click = new ClickHouseStore({ url: ch.url, username: 'default', password: '', database: 'migrated', cluster: '', runTimeoutMinutes: 15, retentionDays: 0 });
  await click.open();
}, 180_000);
afterAll(async () => {
  await duck?.close();
  await click?.close();
  await ch?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('migrate-to-clickhouse', () => {
  it('copies every span, event, run and session of every tenant, and the API keys', async () => {
    // The dataset (acme): runs 1-6 and two sessions (8 traces); span and event counts as DuckDB has them.
    const acme = await duck.counts('acme');
    expect(acme.runs).toBe(6);
    expect(acme.sessions).toBe(2);
    expect(await click.counts('acme')).toEqual(acme);
    expect(await click.counts('globex')).toEqual(await duck.counts('globex'));
    const keyIds = async (s: DuckDBStore | ClickHouseStore) => (await s.listKeys()).map((k) => [k.id, k.tenant, k.scopes.join(','), k.hash, k.revokedUs]).sort();
    expect(await keyIds(click)).toEqual(await keyIds(duck));
    // acme's three pre-shared keys of the configuration (stored at start) and globex's two.
    expect((await click.listKeys('acme')).length).toBe(3);
    expect((await click.listKeys('globex')).length).toBe(2);
    expect(lines.at(-1)).toMatch(new RegExp(`^copied ${acme.spans} spans, ${acme.events} events and 8 traces .* and 5 API keys from `));
  });

  it('answers the golden sample queries as the DuckDB store does', async () => {
    const names = ['runs', 'run-trace', 'run-stats', 'time-series-duration-p95', 'tool-metrics', 'llm-tokens-day-new-york', 'cost-per-conversation', 'session-stats'];
    for (const g of GOLDEN_QUERIES.filter((x) => names.includes(x.name))) {
      const a = await runQueries(duck, 'acme', [{ ...g.query, refId: 'A' }], FIXED_NOW);
      const b = await runQueries(click, 'acme', [{ ...g.query, refId: 'A' }], FIXED_NOW);
      expect(a.results.A.status).toBe(200);
      expect({ name: g.name, diff: differences(JSON.parse(JSON.stringify(a)), JSON.parse(JSON.stringify(b))) }).toEqual({ name: g.name, diff: [] });
    }
  });

  it('copies again harmlessly: an interrupted copy is resumed by running it again', async () => {
    const before = await click.counts('acme');
    await run(['migrate-to-clickhouse', '--from', file], env(), () => undefined);
    expect(await click.counts('acme')).toEqual(before);
    expect((await click.listRuns('acme', {}, 15)).length).toBe(6);
  });

  it('copies in parts and in small commits alike (traces never split)', async () => {
    const small = new ClickHouseStore({ url: ch.url, username: 'default', password: '', database: 'migrated_small', cluster: '', runTimeoutMinutes: 15, retentionDays: 0 });
    await small.open();
    try {
      const parts: number[] = [];
      const done = await copyStore(duck, small, { spansPerPart: 5, tracesPerCommit: 2, onProgress: (p) => parts.push(p.part) });
      expect(done.parts).toBeGreaterThan(1);
      expect(parts).toEqual(Array.from({ length: done.parts }, (_, i) => i + 1));
      expect(await small.counts('acme')).toEqual(await duck.counts('acme'));
      const g = GOLDEN_QUERIES.find((x) => x.name === 'run-stats')!;
      const a = await runQueries(duck, 'acme', [{ ...g.query, refId: 'A' }], FIXED_NOW);
      const b = await runQueries(small, 'acme', [{ ...g.query, refId: 'A' }], FIXED_NOW);
      expect(differences(JSON.parse(JSON.stringify(a)), JSON.parse(JSON.stringify(b)))).toEqual([]);
    } finally {
      await small.close();
    }
  });

  it('explains a missing file', async () => {
    await expect(run(['migrate-to-clickhouse', '--from', join(dir, 'nothing.duckdb')], env(), () => undefined)).rejects.toThrow(/no DuckDB store at .*nothing.duckdb/);
  });
});
