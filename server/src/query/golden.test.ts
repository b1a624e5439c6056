/**
 * Golden frame files: the answer of POST /api/v1/query to each sample query (golden-queries.ts),
 * kept in tests/golden/frames/<name>.json exactly as the response body {"results": {...}}. The Go
 * test in pkg/golden unmarshals every file with grafana-plugin-sdk-go, which proves that the
 * plugin backend can pass the server's answers through unchanged.
 *
 *   UPDATE_GOLDEN=1 npx jest src/query/golden.test.ts   (re)writes the files
 *   npx jest src/query/golden.test.ts                   compares and fails on any difference
 *
 * Deterministic: the dataset is seeded at FIXED_NOW (retention off, so January 2026 is kept) and
 * the queries run through runQueries() with FIXED_NOW as their clock. The running run 5 reads as
 * timed_out with its duration capped at the 15-minute deadline, because the wall clock is past
 * FIXED_NOW + 15 min. The HTTP route is checked to answer the same body (whole body where the
 * answer does not depend on the query clock, same frame schemas where it does).
 *
 * A query type whose capability is not registered yet is reported as a todo, not silently
 * skipped; a registered type without its golden file fails.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { QUERY_TYPES } from '@agent-insights/model';
import { parseQuery } from '@agent-insights/model';
import { BUCKETED_QUERY_TYPES, CAPABILITIES } from './capabilities';
import { dialectOf } from './dialect';
import { QueryResponseJson, runQueries } from './engine';
import { FIXED_NOW, GOLDEN_QUERIES, GoldenQuery } from './golden-queries';
import { seedDataset } from '../test-support/dataset';
import { query } from '../test-support/query';
import { INGEST_KEY, READ_KEY, startTestServer, TestServer } from '../test-support/server';

const UPDATE = process.env.UPDATE_GOLDEN === '1';
const FRAMES_DIR = join(__dirname, '..', '..', '..', 'tests', 'golden', 'frames');
const fileOf = (name: string) => join(FRAMES_DIR, `${name}.json`);

const registered = (g: GoldenQuery) => CAPABILITIES[g.queryType] !== undefined;
const active = GOLDEN_QUERIES.filter(registered);
const skipped = GOLDEN_QUERIES.filter((g) => !registered(g));

/** The file text of a response: pretty-printed, refIds sorted, a final newline. */
function goldenText(body: QueryResponseJson): string {
  const results = Object.fromEntries(Object.keys(body.results).sort().map((k) => [k, body.results[k]]));
  return `${JSON.stringify({ results }, null, 2)}\n`;
}

/**
 * Differences between two JSON values, as paths. Numbers compare with a relative tolerance of
 * 1e-9, so that a sum added up in another order (last bit of a float) is not a difference.
 */
function differences(a: unknown, b: unknown, path = '$', out: string[] = []): string[] {
  if (out.length >= 20) return out;
  if (typeof a === 'number' && typeof b === 'number') {
    if (a !== b && Math.abs(a - b) > 1e-9 * Math.max(Math.abs(a), Math.abs(b))) out.push(`${path}: ${b} (golden) vs ${a} (now)`);
    return out;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) out.push(`${path}: length ${b.length} (golden) vs ${a.length} (now)`);
    for (let i = 0; i < Math.min(a.length, b.length); i++) differences(a[i], b[i], `${path}[${i}]`, out);
    return out;
  }
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const ka = Object.keys(a as object);
    const kb = Object.keys(b as object);
    for (const k of kb) if (!ka.includes(k)) out.push(`${path}.${k}: in the golden file, missing now`);
    for (const k of ka) if (!kb.includes(k)) out.push(`${path}.${k}: new, not in the golden file`);
    for (const k of ka) if (kb.includes(k)) differences((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`, out);
    return out;
  }
  if (JSON.stringify(a) !== JSON.stringify(b)) out.push(`${path}: ${JSON.stringify(b)} (golden) vs ${JSON.stringify(a)} (now)`);
  return out;
}

/** The frame schemas of a response without their values (for answers that depend on the clock). */
function shapes(body: QueryResponseJson) {
  return Object.fromEntries(
    Object.entries(body.results).map(([refId, r]) => [
      refId,
      { status: r.status, error: r.error, frames: (r.frames ?? []).map((f) => ({ name: f.schema.name, meta: f.schema.meta?.type, fields: f.schema.fields.map((x) => `${x.name}:${x.typeInfo.frame}`) })) },
    ]),
  );
}

let server: TestServer;
const answers = new Map<string, QueryResponseJson>();
const answer = async (g: GoldenQuery, nowMs = FIXED_NOW): Promise<QueryResponseJson> =>
  // Through JSON and back, as the HTTP route sends it (drops undefined members).
  JSON.parse(JSON.stringify(await runQueries(server.store, server.config.tenant, [{ ...g.query, refId: 'A' }], nowMs)));

beforeAll(async () => {
  server = await startTestServer({ AGENT_INSIGHTS_RETENTION_DAYS: '0' });
  await seedDataset(server.url, INGEST_KEY, FIXED_NOW);
  if (skipped.length) {
    const types = [...new Set(skipped.map((g) => g.queryType))];
    console.warn(`golden frames: no capability registered yet for ${types.join(', ')}: ${skipped.length} sample queries skipped (${skipped.map((g) => g.name).join(', ')})`);
  }
  if (UPDATE) mkdirSync(FRAMES_DIR, { recursive: true });
});
afterAll(() => server?.cleanup());

describe('the sample queries', () => {
  it('cover every query type of the query model', () => {
    const covered = new Set(GOLDEN_QUERIES.map((g) => g.queryType));
    expect(QUERY_TYPES.filter((t) => !covered.has(t))).toEqual([]);
  });

  it('have unique, file-safe names', () => {
    const names = GOLDEN_QUERIES.map((g) => g.name);
    expect(new Set(names).size).toBe(names.length);
    for (const n of names) expect(n).toMatch(/^[a-z0-9][a-z0-9-]*$/);
  });

  it('are named after their query type (the Go test tells the kind of answer by the name)', () => {
    const kebab = (t: string) => t.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
    for (const g of GOLDEN_QUERIES) expect(`${g.name}-`.startsWith(`${kebab(g.queryType)}-`)).toBe(true);
    // "-by-" in a time series' name means grouped, whose series must carry labels.
    for (const g of GOLDEN_QUERIES.filter((x) => x.queryType === 'timeSeries')) expect(g.name.includes('-by-')).toBe(g.query.groupBy !== undefined);
  });
});

describe(`golden frame files (${UPDATE ? 'writing' : 'comparing'} tests/golden/frames)`, () => {
  for (const g of skipped) test.todo(`${g.name}: query type ${g.queryType} has no capability registered yet, so no golden file`);

  for (const g of active) {
    it(`${g.name} (${g.queryType})`, async () => {
      const body = await answer(g);
      answers.set(g.name, body);
      // A golden file of an error would be a bug: every sample query must succeed, with frames.
      expect(Object.keys(body.results)).toEqual(['A']);
      const r = body.results.A;
      if (r.status !== 200) throw new Error(`${g.name}: status ${r.status}: ${r.error}`);
      expect(r.frames?.length).toBeGreaterThan(0);

      const text = goldenText(body);
      const file = fileOf(g.name);
      if (UPDATE) {
        writeFileSync(file, text);
        return;
      }
      if (!existsSync(file)) throw new Error(`${g.name}: no golden file ${file}; run UPDATE_GOLDEN=1 npx jest src/query/golden.test.ts and commit it`);
      const golden = JSON.parse(readFileSync(file, 'utf8'));
      const diff = differences(body, golden);
      if (diff.length) throw new Error(`${g.name}: the answer differs from ${file} (UPDATE_GOLDEN=1 rewrites it if the change is intended):\n  ${diff.join('\n  ')}`);
    });
  }

  it('differ by interval and max data points only for time series (shared answers rely on it)', async () => {
    // Each capability run directly (not through runQueries, which would share the answers), with
    // two panel widths far apart.
    const env = { store: server.store, dialect: dialectOf(server.store.engine), tenant: 'acme', nowMs: FIXED_NOW };
    const ask = (g: GoldenQuery, intervalMs: number, maxDataPoints: number) => {
      const { timeRange, timezone, ...item } = g.query as { timeRange: { from: number; to: number }; timezone: string };
      return CAPABILITIES[g.queryType]!(parseQuery({ ...item, refId: 'A' }, { range: timeRange, intervalMs, maxDataPoints, timezone }), env);
    };
    let compared = 0;
    for (const g of active.filter((x) => !BUCKETED_QUERY_TYPES.has(x.queryType))) {
      expect([g.name, await ask(g, 60_000, 50)]).toEqual([g.name, await ask(g, 86_400_000, 5000)]);
      compared++;
    }
    expect(compared).toBeGreaterThan(20);
    // Not vacuous: a time series does change.
    const series = active.find((x) => x.queryType === 'timeSeries')!;
    expect(await ask(series, 60_000, 50)).not.toEqual(await ask(series, 3_600_000, 5000));
  });

  it('has no file without a registered sample query', () => {
    const expected = new Set(active.map((g) => `${g.name}.json`));
    const present = existsSync(FRAMES_DIR) ? readdirSync(FRAMES_DIR).filter((f) => f.endsWith('.json')) : [];
    const orphans = present.filter((f) => !expected.has(f));
    if (UPDATE) for (const f of orphans) unlinkSync(join(FRAMES_DIR, f));
    else expect(orphans).toEqual([]);
  });
});

describe('POST /api/v1/query', () => {
  it('answers each sample query as runQueries does: the same body, or the same frames where the answer depends on the clock', async () => {
    expect(active.length).toBeGreaterThan(0);
    for (const g of active) {
      const golden = answers.get(g.name) ?? (await answer(g));
      const http = await query(server.url, READ_KEY, [{ ...g.query, refId: 'A' }]);
      expect(http.status).toBe(200);
      const body = { results: http.results } as QueryResponseJson;
      const clockFree = differences(await answer(g, Date.now()), golden).length === 0 && differences(await answer(g, FIXED_NOW + 7 * 86_400_000), golden).length === 0;
      if (clockFree) {
        const diff = differences(body, golden);
        if (diff.length) throw new Error(`${g.name}: the HTTP answer differs from runQueries:\n  ${diff.join('\n  ')}`);
      } else {
        expect({ name: g.name, shapes: shapes(body) }).toEqual({ name: g.name, shapes: shapes(golden) });
      }
    }
  });
});
