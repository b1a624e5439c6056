/**
 * The query benchmark on ClickHouse (bench/query.ts --storage=clickhouse): the engine, what the
 * chdb test harness adds to its time, its disk use, and the side-by-side table with a DuckDB run.
 *
 * No ClickHouse server can be installed here, so the benchmark measures ClickHouse 26.9 through
 * the test-only harness tests/clickhouse/chdb_http.py (chdb behind ClickHouse's HTTP interface),
 * started here on a data directory that is kept between runs (loaded once with the product's
 * `migrate-to-clickhouse`), or through --clickhouse-url (a real server, or a harness already
 * running). The harness serves one query at a time and is Python: its cost is measured here
 * (a `SELECT 1` round trip, and per query the seconds the harness reports inside chdb) so that
 * readers can separate engine time from harness time.
 */
import { existsSync, readFileSync } from 'node:fs';
import { Store } from '../server/src/store/store';
import { DashboardResult, QueryResult } from './query-report';
import { percentile, r1, summarise, Summary, timeRuns } from './query-timing';

/** The chdb harness on a kept data directory: the tests' own launcher (one definition of it). */
export { launchHarness as startHarness } from '../server/src/test-support/clickhouse';
export type { Harness } from '../server/src/test-support/clickhouse';

/** The harness's cumulative counters (GET /harness/stats); null against a real server. */
export interface HarnessStats {
  queries: number;
  /** Seconds inside chdb on the requests' own statements. */
  engine_s: number;
  /** Seconds on SET / USE statements to bring the session to the request's settings. */
  state_s: number;
  /** Seconds in the request handler from the first byte read to the last byte sent. */
  handler_s: number;
  result_bytes: number;
}

export async function harnessStats(url: string): Promise<HarnessStats | null> {
  try {
    const res = await fetch(`${url}/harness/stats`);
    return res.ok ? ((await res.json()) as HarnessStats) : null;
  } catch {
    return null;
  }
}

export const statsDelta = (a: HarnessStats, b: HarnessStats): HarnessStats => ({
  queries: b.queries - a.queries,
  engine_s: b.engine_s - a.engine_s,
  state_s: b.state_s - a.state_s,
  handler_s: b.handler_s - a.handler_s,
  result_bytes: b.result_bytes - a.result_bytes,
});

/** Per timed run of one benchmark query: the ClickHouse requests it made and where their time went (means). */
export interface EngineShare {
  requests: number;
  /** ms inside chdb (the engine, answer formatted as JSONEachRow included). */
  engineMs: number;
  /** ms of the harness around it: HTTP parsing and sending in Python, session SETs. */
  harnessMs: number;
}

export function engineShare(d: HarnessStats, runs: number): EngineShare {
  const n = Math.max(1, runs);
  return { requests: r1(d.queries / n), engineMs: r1((d.engine_s * 1000) / n), harnessMs: r1(((d.handler_s - d.engine_s) * 1000) / n) };
}

export interface Overhead {
  /** SELECT 1 through the store (client, HTTP, harness, engine): what every query pays at least. */
  storeSelect1: Summary;
  /** SELECT 1 over plain fetch (no client library). */
  fetchSelect1: Summary;
  /** Of one SELECT 1 request: ms inside chdb, and ms in the harness around it. */
  select1Engine?: EngineShare;
  /** A 10,000-row answer of 8 columns through the store: client JSON parsing and harness sending grow with rows. */
  storeRows10k: Summary;
  rows10kEngine?: EngineShare;
  rows10kBytes: number;
}

export async function measureOverhead(store: Store, url: string, repeat = 50): Promise<Overhead> {
  const o = { warmup: 3, repeat, budgetS: 30 };
  const s0 = await harnessStats(url);
  const storeSelect1 = summarise(await timeRuns(o, async () => (await store.read('SELECT 1 AS x')).length === 1));
  const s1 = await harnessStats(url);
  const fetchSelect1 = summarise(
    await timeRuns(o, async () => {
      const res = await fetch(`${url}/?query=${encodeURIComponent('SELECT 1 FORMAT JSONEachRow')}`);
      return res.ok && (await res.text()).length > 0;
    }),
  );
  const s2 = await harnessStats(url);
  const rowsSql = `SELECT number AS n, toString(number) AS s, number * 1.5 AS f, now64(3) AS t, 'production' AS env, number % 7 AS k, NULL AS z, [1, 2] AS a FROM numbers(10000)`;
  let rows10kBytes = 0;
  const storeRows10k = summarise(
    await timeRuns(o, async () => {
      const rows = await store.read(rowsSql);
      rows10kBytes = Buffer.byteLength(JSON.stringify(rows));
      return rows.length === 10000;
    }),
  );
  const s3 = await harnessStats(url);
  const calls = o.warmup + repeat;
  return {
    storeSelect1,
    fetchSelect1,
    ...(s0 && s1 ? { select1Engine: engineShare(statsDelta(s0, s1), calls) } : {}),
    storeRows10k,
    ...(s2 && s3 ? { rows10kEngine: engineShare(statsDelta(s2, s3), calls) } : {}),
    rows10kBytes,
  };
}

export interface DiskRow {
  table: string;
  rows: number;
  parts: number;
  bytesOnDisk: number;
  uncompressed: number;
}

/** Active parts of the store's tables (system.parts). */
export async function diskUse(store: Store): Promise<DiskRow[]> {
  const rows = await store.read(
    `SELECT table, sum(rows) AS rows, count() AS parts, sum(bytes_on_disk) AS disk, sum(data_uncompressed_bytes) AS raw
     FROM system.parts WHERE active AND database = currentDatabase() GROUP BY table ORDER BY disk DESC`,
  );
  return rows.map((r) => ({ table: String(r.table), rows: Number(r.rows), parts: Number(r.parts), bytesOnDisk: Number(r.disk), uncompressed: Number(r.raw) }));
}

const mb = (b: number): string => `${(b / 1e6).toFixed(1)} MB`;

export function diskTable(rows: DiskRow[], spans: number): string {
  const total = rows.reduce((t, r) => ({ disk: t.disk + r.bytesOnDisk, raw: t.raw + r.uncompressed, parts: t.parts + r.parts }), { disk: 0, raw: 0, parts: 0 });
  const lines = ['| table | rows | active parts | on disk | uncompressed | on disk per span |', '| --- | ---: | ---: | ---: | ---: | ---: |'];
  for (const r of rows.filter((x) => x.rows > 0)) lines.push(`| ${r.table} | ${r.rows.toLocaleString('en')} | ${r.parts} | ${mb(r.bytesOnDisk)} | ${mb(r.uncompressed)} | ${(r.bytesOnDisk / spans).toFixed(1)} B |`);
  lines.push(`| all | | ${total.parts} | ${mb(total.disk)} | ${mb(total.raw)} | ${(total.disk / spans).toFixed(1)} B |`);
  return lines.join('\n');
}

export const overheadText = (o: Overhead): string =>
  [
    `- \`SELECT 1\` through the store (client, HTTP, harness, chdb): p50 ${o.storeSelect1.p50} ms, p95 ${o.storeSelect1.p95} ms` +
      (o.select1Engine ? `; of which inside chdb ${o.select1Engine.engineMs} ms and in the harness around it ${o.select1Engine.harnessMs} ms` : '') +
      '.',
    `- \`SELECT 1\` with plain fetch (no client library): p50 ${o.fetchSelect1.p50} ms, p95 ${o.fetchSelect1.p95} ms.`,
    `- 10,000 rows of 8 columns (${(o.rows10kBytes / 1024).toFixed(0)} KiB as JSON) through the store: p50 ${o.storeRows10k.p50} ms, p95 ${o.storeRows10k.p95} ms` +
      (o.rows10kEngine ? `; inside chdb ${o.rows10kEngine.engineMs} ms, harness ${o.rows10kEngine.harnessMs} ms, the rest (client: JSON parsing) ${r1(o.storeRows10k.p50 - o.rows10kEngine.engineMs - o.rows10kEngine.harnessMs)} ms` : '') +
      '.',
  ].join('\n');

// ---------- the side-by-side table ----------

export interface OtherReport {
  path: string;
  startedAt: string;
  loadAverage?: { start: number[]; end: number[] };
  dataset?: { spans: number };
  results: (QueryResult & { engineShare?: EngineShare })[];
  dashboards: DashboardResult[];
  picks?: { runId: string; voiceRunId: string; conversation: string };
}

export function readReport(path: string): OtherReport | null {
  if (!path || !existsSync(path)) return null;
  return { path, ...(JSON.parse(readFileSync(path, 'utf8')) as Omit<OtherReport, 'path'>) };
}

const n = (x: number | undefined): string => (x === undefined || Number.isNaN(x) ? '' : x >= 100 ? Math.round(x).toLocaleString('en') : String(x));
const ratio = (a: number | undefined, b: number | undefined): string => (a && b ? `${(b / a).toFixed(1)}×` : '');

export function sideBySideTable(duck: OtherReport, ch: (QueryResult & { engineShare?: EngineShare })[]): string {
  const lines = [
    '| Query | Window | DuckDB p50 / p95 ms | ClickHouse p50 / p95 ms | ClickHouse ÷ DuckDB (p50) | ClickHouse requests per query | inside chdb ms (mean) | harness ms (mean) |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const c of ch) {
    const d = duck.results.find((x) => x.name === c.name && x.window === c.window);
    const dd = !d ? 'not measured' : d.error ? `error` : `${n(d.p50)} / ${n(d.p95)}`;
    const cc = c.error ? `error: ${c.error.slice(0, 80)}` : `${n(c.p50)} / ${n(c.p95)}`;
    const e = c.engineShare;
    lines.push(`| ${c.name} | ${c.window} | ${dd} | ${cc} | ${d && !d.error && !c.error ? ratio(d.p50, c.p50) : ''} | ${e ? e.requests : ''} | ${e ? n(e.engineMs) : ''} | ${e ? n(e.harnessMs) : ''} |`);
  }
  const both = ch.filter((c) => !c.error && duck.results.some((d) => d.name === c.name && d.window === c.window && !d.error));
  const p50s = both.map((c) => c.p50 / (duck.results.find((d) => d.name === c.name && d.window === c.window)?.p50 ?? NaN));
  if (p50s.length) lines.push('', `Median ratio ClickHouse ÷ DuckDB over the ${p50s.length} queries answered by both: ${percentile(p50s, 0.5).toFixed(1)}× (p50 times).`);
  return lines.join('\n');
}

export function dashboardsSideBySide(duck: OtherReport, ch: DashboardResult[]): string {
  const lines = ['| Dashboard | Window | DuckDB per panel p50 / p95 ms | ClickHouse per panel p50 / p95 ms | DuckDB one request p50 / p95 | ClickHouse one request p50 / p95 |', '| --- | --- | ---: | ---: | ---: | ---: |'];
  const pp = (s?: Summary & { ok: boolean }): string => (s ? `${n(s.p50)} / ${n(s.p95)}${s.ok ? '' : ' (errors)'}` : '');
  for (const c of ch) {
    const d = duck.dashboards.find((x) => x.file === c.file && x.window === c.window);
    lines.push(`| ${c.title} | ${c.window === 'as saved' ? `as saved (${c.range})` : c.window} | ${pp(d?.perPanel)} | ${pp(c.perPanel)} | ${pp(d?.oneRequest)} | ${pp(c.oneRequest)} |`);
  }
  return lines.join('\n');
}
