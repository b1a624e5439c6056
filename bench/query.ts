/**
 * Query benchmark (issue 3, Performance): how fast the query engine answers every panel, at 1 and
 * 10 million spans over 30 days.
 *
 * In one run on one dataset (bench/query-dataset.ts, made once and reused):
 * 1. Every capability registered in CAPABILITIES, through the real engine function runQueries():
 *    representative queries of each query type over the last 24 hours and over 30 days (the
 *    one-run views once); warm-up runs, then --repeat timed runs: p50/p95, CPU time, answer size.
 * 2. The same main aggregates as one hand-written DuckDB query each on the raw spans table
 *    (bench/query-raw-sql.ts), timed on the same connection, beside the engine's figure.
 * 3. EXPLAIN ANALYZE of the slowest statement of each query slower than --slow-ms.
 * 4. Over HTTP (startServer on the same file): every provisioned dashboard (dashboards/*.json) with
 *    its panel queries as the plugin fills them (bench/query-dashboards.ts), sent one request per
 *    panel, --concurrency at a time, as Grafana sends them, and all in one request: wall time
 *    p50/p95 per dashboard, as saved and over 30 days.
 * Writes report.json and report.md (the markdown tables for docs/benchmarks.md, targets marked).
 *
 * --storage=clickhouse runs the same queries, windows and dashboards on ClickHouse
 * (bench/query-clickhouse.ts): the data loaded once with `agent-insights migrate-to-clickhouse`
 * from the dataset's DuckDB file, served by the chdb test harness on --clickhouse-dir (kept between
 * runs; default <db dir>/ch-<spans>) or by the server at --clickhouse-url. The dataset's anchor comes
 * from the DuckDB file's sidecar (<db>.json); the DuckDB file is not opened. The raw SQL and EXPLAIN
 * steps are DuckDB's and are left out. report.md adds the harness overhead, disk use (system.parts)
 * and a side-by-side table with the DuckDB run's report.json (--compare, default
 * <db dir>/query-results-<spans>/report.json), whose one-run picks it reuses so both engines
 * answer the same run.
 *
 *   npm run bench:query -- [--spans=10000000] [--db=path] [--repeat=20] [--warmup=1] [--budget=30]
 *                          [--timezone=Europe/Berlin] [--only=name,type] [--windows=24h,30d] [--raw=true]
 *                          [--http=true] [--dashboards=all] [--dashboard-windows=as saved,30d]
 *                          [--dashboard-vars=agent=support-triage;environment=production]
 *                          [--concurrency=6] [--explain=true] [--slow-ms=1000] [--out=dir]
 *                          [--storage=duckdb|clickhouse] [--clickhouse-url=http://...] [--clickhouse-dir=dir]
 *                          [--clickhouse-database=agent_insights] [--compare=report.json]
 *
 * Each option can also be given as an environment variable (BENCH_SPANS, BENCH_REPEAT, ...).
 * A quick run: npm run bench:query -- --spans=1000000 (the dataset takes about a minute).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CAPABILITIES } from '../server/src/query/capabilities';
import { QueryRequestItem, QueryResponseJson, runQueries } from '../server/src/query/engine';
import { FrameJson } from '../server/src/query/frame';
import { loadConfig } from '../server/src/config';
import { startServer } from '../server/src/server';
import { ClickHouseStore } from '../server/src/store/clickhouse/clickhouse-store';
import { DuckDBStore } from '../server/src/store/duckdb/duckdb-store';
import { Row, Store } from '../server/src/store/store';
import { BenchQuery, capabilityQueries, Window } from './query-capabilities';
import { dashboardRequests } from './query-dashboards';
import {
  dashboardsSideBySide,
  diskTable,
  DiskRow,
  diskUse,
  EngineShare,
  engineShare,
  Harness,
  harnessStats,
  measureOverhead,
  Overhead,
  overheadText,
  readReport,
  sideBySideTable,
  startHarness,
  statsDelta,
} from './query-clickhouse';
import { DatasetMeta, datasetOptions, existingDataset, mib, option, sidecarPath, TENANT } from './query-dataset';
import { rawQueries } from './query-raw-sql';
import { capabilitiesTable, DashboardResult, dashboardsTable, QueryResult, RawResult, rawTable } from './query-report';
import { r1, summarise, timeRuns, TimingOptions } from './query-timing';

const list = (s: string): string[] =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

/** "agent=support-triage;tool=a,b" as variable values (several values: a multi-value variable). */
function variableValues(s: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const pair of s.split(';').filter((x) => x.trim())) {
    const [name, value = ''] = pair.split('=');
    const values = list(value);
    if (!name.trim() || !values.length) throw new Error(`--dashboard-vars: expected name=value, got "${pair}"`);
    out[name.trim()] = values.length === 1 ? values[0] : values;
  }
  return out;
}

const opts = {
  repeat: Number(option('repeat', '20')),
  warmup: Number(option('warmup', '1')),
  /** Seconds per measured query or dashboard: past this, no further timed runs (at least one is made). */
  budgetS: Number(option('budget', '30')),
  timezone: option('timezone', 'Europe/Berlin'),
  only: list(option('only', '')),
  windows: list(option('windows', '24h,30d')) as Window[],
  raw: option('raw', 'true') === 'true',
  http: option('http', 'true') === 'true',
  /** 'all', 'none', or dashboard files without .json (overview,tools). */
  dashboards: list(option('dashboards', 'all')),
  dashboardWindows: list(option('dashboard-windows', 'as saved,30d')),
  /** Dashboard variables set instead of "All" (name=value;name=v1,v2): a dashboard as filtered by a user. */
  dashboardVars: variableValues(option('dashboard-vars', '')),
  /** Requests in flight at once for one-request-per-panel: a browser opens 6 connections to one host over HTTP/1.1. */
  concurrency: Number(option('concurrency', '6')),
  explain: option('explain', 'true') === 'true',
  slowMs: Number(option('slow-ms', '1000')),
  out: option('out', ''),
  storage: option('storage', 'duckdb'),
  clickhouseUrl: option('clickhouse-url', ''),
  clickhouseDir: option('clickhouse-dir', ''),
  clickhouseDatabase: option('clickhouse-database', 'agent_insights'),
  compare: option('compare', ''),
};
if (opts.storage !== 'duckdb' && opts.storage !== 'clickhouse') throw new Error(`--storage must be duckdb or clickhouse, got "${opts.storage}"`);
const onClickHouse = opts.storage === 'clickhouse';
const dataset = datasetOptions(option);
const BENCH_DIR = resolve(dataset.db, '..');
const OUT = resolve(opts.out || join(BENCH_DIR, `query-results-${dataset.spans}${onClickHouse ? '-clickhouse' : ''}`));
const COMPARE = opts.compare || join(BENCH_DIR, `query-results-${dataset.spans}`, 'report.json');
const timing: TimingOptions = { warmup: opts.warmup, repeat: opts.repeat, budgetS: opts.budgetS };

// ---------- a store that records the SQL each capability issues ----------

interface SqlCall {
  sql: string;
  params: unknown[];
  ms: number;
}

class RecordingStore {
  calls: SqlCall[] = [];
  constructor(readonly inner: Store) {}
  /** The store, with every call timed: read() with its SQL, the other methods (loadTrace, ...) by name. */
  asStore(): Store {
    return new Proxy(this.inner, {
      get: (target, prop, receiver) => {
        // No write generation: every timed run of a query executes it, never a shared answer
        // (query/shared-answers.ts reuses finished answers only when the store reports one).
        if (prop === 'writeGeneration') return undefined;
        const v = Reflect.get(target, prop, receiver);
        if (typeof v !== 'function') return v;
        return async (...args: unknown[]): Promise<unknown> => {
          const t0 = performance.now();
          const result = await (v as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          const ms = performance.now() - t0;
          this.calls.push(prop === 'read' ? { sql: args[0] as string, params: (args[1] as unknown[]) ?? [], ms } : { sql: `store.${String(prop)}()`, params: args, ms });
          return result;
        };
      },
    }) as unknown as Store;
  }
}

// ---------- measuring ----------

function answerSize(res: QueryResponseJson): { frames: number; rows: number; bytes: number; error?: string } {
  const a = res.results.A;
  if (!a || a.status !== 200) return { frames: 0, rows: 0, bytes: 0, error: a?.error ?? 'no answer' };
  const frames = a.frames ?? [];
  return { frames: frames.length, rows: frames.reduce((t, f) => t + (f.data.values[0]?.length ?? 0), 0), bytes: Buffer.byteLength(JSON.stringify(res)) };
}

type Measured = QueryResult & { lastCalls?: SqlCall[]; answer?: FrameJson[]; engineShare?: EngineShare };

/** `harnessUrl`: the chdb harness whose counters split each timed run into engine and harness time. */
async function measure(rec: RecordingStore, bq: BenchQuery, anchor: number, harnessUrl?: string): Promise<Measured> {
  const store = rec.asStore();
  let size = { frames: 0, rows: 0, bytes: 0 } as ReturnType<typeof answerSize>;
  let calls: SqlCall[] = [];
  let answer: FrameJson[] = [];
  const action = async (): Promise<boolean> => {
    rec.calls = [];
    const res = await runQueries(store, TENANT, [bq.item], anchor);
    size = answerSize(res);
    calls = rec.calls;
    answer = res.results.A?.frames ?? [];
    return !size.error;
  };
  // With the harness's counters: warm-up first, then counters around the timed runs only (read outside them).
  const before = harnessUrl ? await (async () => {
    for (let i = 0; i < timing.warmup; i++) if (!(await action())) break;
    return harnessStats(harnessUrl);
  })() : null;
  const t = await timeRuns(before ? { ...timing, warmup: 0 } : timing, action);
  const after = before && harnessUrl ? await harnessStats(harnessUrl) : null;
  const share = before && after ? engineShare(statsDelta(before, after), t.ms.length) : undefined;
  return { name: bq.name, window: bq.window, what: bq.what, queryType: String(bq.item.queryType), ...summarise(t), storageCalls: calls.length, ...size, lastCalls: calls, answer, ...(share ? { engineShare: share } : {}) };
}

async function measureRaw(store: DuckDBStore, anchor: number, windows: ('24h' | '30d')[], engineAnswers: Measured[]): Promise<RawResult[]> {
  const out: RawResult[] = [];
  for (const w of windows) {
    for (const rq of rawQueries(anchor, TENANT, opts.timezone, w)) {
      let rows: Row[] = [];
      let error: string | undefined;
      const t = await timeRuns(timing, async () => {
        try {
          rows = await store.read(rq.sql, rq.params);
          return true;
        } catch (e) {
          error = (e as Error).message;
          return false;
        }
      });
      const engine = engineAnswers.find((e) => e.name === rq.engine && e.window === w && !e.error);
      const check = error ? undefined : { label: rq.headline.label, raw: rq.headline.raw(rows), engine: engine?.answer ? rq.headline.engine(engine.answer) : undefined };
      out.push({ name: rq.name, window: w, what: rq.what, engine: rq.engine, rows: rows.length, ...summarise(t), ...(check ? { check } : {}), ...(error ? { error } : {}) });
    }
  }
  return out;
}

/** Runs `fns` with at most `n` in flight. */
async function pool<T>(n: number, fns: (() => Promise<T>)[]): Promise<T[]> {
  const out: T[] = new Array(fns.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < fns.length) {
      const i = next++;
      out[i] = await fns[i]();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(n, fns.length)) }, worker));
  return out;
}

interface ProfileNode {
  operator_name?: string;
  operator_type?: string;
  operator_timing?: number;
  operator_cardinality?: number;
  extra_info?: Record<string, unknown>;
  children?: ProfileNode[];
}

/** EXPLAIN ANALYZE of the slowest statement of a slow query: the text plan to a file, the top operators. */
async function explain(store: DuckDBStore, m: { name: string; window: string; lastCalls?: SqlCall[] }, dir: string): Promise<{ file: string; hot: string[] }> {
  const slowest = [...(m.lastCalls ?? [])].filter((c) => !c.sql.startsWith('store.')).sort((a, b) => b.ms - a.ms)[0];
  if (!slowest) return { file: '', hot: [] };
  const base = join(dir, `plan-${`${m.name} ${m.window}`.replace(/[^A-Za-z0-9]+/g, '-')}`);
  const text = await store.read(`EXPLAIN ANALYZE ${slowest.sql}`, slowest.params);
  writeFileSync(`${base}.txt`, `-- ${m.name} (${m.window}): ${slowest.ms.toFixed(0)} ms\n${slowest.sql}\n-- params: ${JSON.stringify(slowest.params)}\n\n${text.map((r) => String(r.explain_value ?? Object.values(r).join('\n'))).join('\n')}\n`);
  // The same statement profiled as JSON, for operator timings a program can sort (no session setting changes).
  const json = await store.read(`EXPLAIN (ANALYZE, FORMAT JSON) ${slowest.sql}`, slowest.params);
  const jsonPath = `${base}.json`;
  writeFileSync(jsonPath, String(json[0]?.explain_value ?? '{}'));
  const ops: { name: string; s: number; rows: number; info: string }[] = [];
  const walk = (n: ProfileNode): void => {
    if (n.operator_timing !== undefined && (n.operator_name || n.operator_type)) {
      const info = n.extra_info ? Object.entries(n.extra_info).map(([k, v]) => `${k}=${String(v).replace(/\s+/g, ' ').slice(0, 80)}`).join('; ') : '';
      ops.push({ name: String(n.operator_name || n.operator_type).trim(), s: n.operator_timing, rows: n.operator_cardinality ?? 0, info });
    }
    for (const c of n.children ?? []) walk(c);
  };
  try {
    walk(JSON.parse(readFileSync(jsonPath, 'utf8')) as ProfileNode);
  } catch {
    /* no JSON profile: the text plan is still there */
  }
  const total = ops.reduce((t, o) => t + o.s, 0) || 1;
  const hot = ops
    .sort((a, b) => b.s - a.s)
    .slice(0, 4)
    .map((o) => `${o.name} ${(o.s * 1000).toFixed(0)} ms (${((o.s / total) * 100).toFixed(0)}%, ${o.rows.toLocaleString('en')} rows)${o.info ? ` [${o.info.slice(0, 160)}]` : ''}`);
  return { file: `${base}.txt`, hot };
}

function status(): { rssMiB: number; hwmMiB: number } {
  const s = readFileSync('/proc/self/status', 'utf8');
  const kb = (k: string): number => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)?.[1] ?? 0);
  return { rssMiB: Math.round(kb('VmRSS') / 1024), hwmMiB: Math.round(kb('VmHWM') / 1024) };
}

function machine(): Record<string, string> {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /model name\s*:\s*(.*)/.exec(cpuinfo)?.[1] ?? cpus()[0]?.model ?? 'unknown';
  return { nproc: String(cpus().length), memory: `${(totalmem() / 2 ** 30).toFixed(1)} GiB`, cpu: model, node: process.version };
}

// ---------- main ----------

async function ensureDataset(): Promise<DatasetMeta> {
  const existing = await existingDataset(dataset);
  if (existing) return existing;
  console.log(`no dataset of ${dataset.spans.toLocaleString('en')} spans at ${dataset.db}: generating it (in a child process) ...`);
  // A child process, so that generation leaves nothing behind in this process's memory.
  const r = spawnSync(process.execPath, [...process.execArgv, join(__dirname, 'query-dataset.ts'), `--spans=${dataset.spans}`, `--db=${dataset.db}`, `--batch=${dataset.batch}`, `--seed=${dataset.seed}`, '--force=true'], { stdio: 'inherit', env: process.env });
  if (r.status !== 0) throw new Error(`dataset generation failed (exit ${r.status})`);
  const meta = await existingDataset(dataset);
  if (!meta) throw new Error('dataset generation finished but the file does not hold what its sidecar says');
  return meta;
}

const la = (): string =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

/**
 * On ClickHouse: the dataset's meta from the DuckDB file's sidecar only (the file may be in use by a
 * DuckDB run), checked against the counts ClickHouse holds.
 */
function sidecarMeta(): DatasetMeta {
  const path = sidecarPath(dataset.db);
  if (!existsSync(path)) throw new Error(`no ${path}: the ClickHouse run takes the dataset's anchor from the DuckDB dataset's sidecar (--db)`);
  return JSON.parse(readFileSync(path, 'utf8')) as DatasetMeta;
}

async function openClickHouse(): Promise<{ store: ClickHouseStore; harness: Harness | null; url: string }> {
  const dir = resolve(opts.clickhouseDir || join(BENCH_DIR, `ch-${dataset.spans}`));
  const harness = opts.clickhouseUrl ? null : await startHarness(dir);
  const url = opts.clickhouseUrl || harness!.url;
  if (harness) console.log(`chdb harness (tests/clickhouse/chdb_http.py) on ${dir}/db at ${url}, pid ${harness.pid}`);
  const store = new ClickHouseStore({ url, username: 'default', password: '', database: opts.clickhouseDatabase, cluster: '', runTimeoutMinutes: loadConfig({} as NodeJS.ProcessEnv).runTimeoutMinutes, retentionDays: 0 });
  await store.open();
  return { store, harness, url };
}

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const meta = onClickHouse ? sidecarMeta() : await ensureDataset();
  const m = machine();
  const startedAt = new Date().toISOString();
  const loadStart = loadavg();
  // Other work shares the machine: the load while this run lasts, not only at its ends.
  const loadSamples: number[] = [loadStart[0]];
  const loadTimer = setInterval(() => loadSamples.push(loadavg()[0]), 15_000);
  loadTimer.unref();
  console.log(`started ${startedAt}; machine: ${m.nproc} cores (${m.cpu}), ${m.memory}, node ${m.node}; load average ${la()}`);
  console.log(
    `dataset: ${meta.spans.toLocaleString('en')} spans, ${meta.events.toLocaleString('en')} events, ${meta.runs.toLocaleString('en')} runs, ${meta.sessions.toLocaleString('en')} sessions in ${meta.traces.toLocaleString('en')} traces; ` +
      `file ${mib(statSync(dataset.db).size)}; generated in ${meta.generationSeconds.toFixed(0)} s (${Math.round(meta.spans / meta.generationSeconds).toLocaleString('en')} spans/s); anchor ${new Date(meta.anchorMs).toISOString()}`,
  );

  // Opening runs the server's migrations: a file made on an older schema is brought up to date here.
  const t0 = performance.now();
  const ch = onClickHouse ? await openClickHouse() : null;
  const inner: Store = ch ? ch.store : new DuckDBStore(dataset.db);
  if (!ch) await inner.open();
  const duck = inner instanceof DuckDBStore ? inner : null;
  const openMs = performance.now() - t0;
  const engineVersion = String((await inner.read('SELECT version() AS v'))[0].v);
  const size = duck ? (await duck.read('PRAGMA database_size'))[0] : {};
  const compare = onClickHouse ? readReport(COMPARE) : null;
  let clickhouse: { url: string; counts: Record<string, number>; overhead?: Overhead; disk?: DiskRow[] } | null = null;
  if (ch) {
    const c = await inner.counts(TENANT);
    clickhouse = { url: ch.url, counts: { ...c } as unknown as Record<string, number> };
    const complete = c.spans === meta.spans && c.runs === meta.runs;
    console.log(`ClickHouse ${engineVersion} at ${ch.url}: ${c.spans.toLocaleString('en')} spans, ${c.runs.toLocaleString('en')} runs (${complete ? 'the whole dataset' : `NOT the whole dataset: ${meta.spans.toLocaleString('en')} spans, ${meta.runs.toLocaleString('en')} runs expected`})`);
    if (!complete && option('allow-partial', 'false') !== 'true') throw new Error('ClickHouse does not hold the whole dataset: load it with migrate-to-clickhouse (or pass --allow-partial=true)');
    console.log(`comparing with ${compare ? `${COMPARE} (DuckDB run of ${compare.startedAt})` : `nothing: no ${COMPARE}`}`);
  }
  let picks = compare?.picks;
  if (!picks) {
    const [run] = await inner.read(
      `SELECT run_id, conversation_id FROM runs WHERE tenant = $1 AND status = 'completed' AND span_count BETWEEN 16 AND 19 AND channel = 'text'
       ORDER BY start_time DESC LIMIT 1 OFFSET 200`,
      [TENANT],
    );
    const [voice] = await inner.read(`SELECT run_id FROM runs WHERE tenant = $1 AND channel <> 'text' ORDER BY start_time DESC LIMIT 1 OFFSET 20`, [TENANT]);
    picks = { runId: String(run.run_id), voiceRunId: String(voice?.run_id ?? run.run_id), conversation: String(run.conversation_id) };
  }
  const registered = Object.keys(CAPABILITIES);
  const { queries: all, unknownTypes } = capabilityQueries(meta.anchorMs, picks, opts.timezone, registered);
  const selected = all.filter(
    (q) => (q.window === 'one run' || opts.windows.includes(q.window)) && (!opts.only.length || opts.only.some((o) => q.name === o || `${q.name} ${q.window}` === o || q.item.queryType === o)),
  );
  console.log(duck ? `DuckDB ${engineVersion}; store opened in ${openMs.toFixed(0)} ms; database ${String(size.database_size)} (${String(size.used_blocks)} of ${String(size.total_blocks)} blocks used)` : `ClickHouse store opened in ${openMs.toFixed(0)} ms`);
  if (ch) {
    clickhouse!.overhead = await measureOverhead(inner, ch.url);
    console.log(`what every ClickHouse request costs here:\n${overheadText(clickhouse!.overhead)}`);
  }
  console.log(`capabilities registered: ${registered.join(', ')}${unknownTypes.length ? `; without a representative query (measured with defaults): ${unknownTypes.join(', ')}` : ''}`);
  console.log(`${opts.warmup} warm-up + up to ${opts.repeat} timed runs per query (budget ${opts.budgetS} s), time zone ${opts.timezone}, through runQueries()\n`);

  const rec = new RecordingStore(inner);
  const results: Measured[] = [];
  for (const bq of selected) {
    const r = await measure(rec, bq, meta.anchorMs, ch?.harness ? ch.url : undefined);
    results.push(r);
    const e = r.engineShare ? `  [${r.engineShare.requests} request(s): chdb ${r.engineShare.engineMs} ms, harness ${r.engineShare.harnessMs} ms]` : '';
    console.log(
      r.error
        ? `  ${`${bq.name} (${bq.window})`.padEnd(44)} ERROR ${r.error}`
        : `  ${`${bq.name} (${bq.window})`.padEnd(44)} ${String(r.runs).padStart(2)}x p50 ${String(r.p50).padStart(8)}  p95 ${String(r.p95).padStart(8)} ms  cpu ${String(r.cpuP50).padStart(8)} ms  ${r.storageCalls} storage call(s)  ${r.frames} frame(s) ${r.rows} rows ${(r.bytes / 1024).toFixed(1)} KiB${e}`,
    );
  }

  let raw: RawResult[] = [];
  if (opts.raw && duck) {
    console.log('\nraw SQL on spans (no derived tables, no views), same connection:');
    raw = await measureRaw(
      duck,
      meta.anchorMs,
      opts.windows.filter((w): w is '24h' | '30d' => w === '24h' || w === '30d'),
      results,
    );
    for (const r of raw) {
      const e = results.find((x) => x.name === r.engine && x.window === r.window && !x.error);
      if (e) Object.assign(r, { engineP50: e.p50, engineP95: e.p95 });
      console.log(r.error ? `  ${r.name} (${r.window}) ERROR ${r.error}` : `  ${`${r.name} (${r.window})`.padEnd(44)} ${String(r.runs).padStart(2)}x p50 ${String(r.p50).padStart(8)}  p95 ${String(r.p95).padStart(8)} ms  cpu ${String(r.cpuP50).padStart(8)} ms  ${r.rows} rows; engine (${r.engine}) p50 ${r.engineP50 ?? '-'} p95 ${r.engineP95 ?? '-'} ms; ${r.check ? `${r.check.label} raw ${r.check.raw} engine ${r.check.engine ?? '-'}` : ''}`);
    }
  }
  const afterQueries = status();
  const duckMem = duck ? await duck.read(`SELECT sum(memory_usage_bytes)::DOUBLE AS b FROM duckdb_memory()`).catch((): Row[] => [{ b: NaN }]) : [{ b: NaN }];
  console.log(`\nprocess memory after the queries: RSS ${afterQueries.rssMiB} MiB (peak ${afterQueries.hwmMiB} MiB)${duck ? `; DuckDB buffer manager ${mib(Number(duckMem[0].b))}` : ''}`);
  if (ch) {
    clickhouse!.disk = await diskUse(inner);
    console.log(`\nClickHouse disk use (system.parts, active parts):\n${diskTable(clickhouse!.disk, meta.spans)}`);
  }

  const slow = results.filter((r) => !r.error && r.p50 > opts.slowMs);
  if (opts.explain && duck && slow.length) {
    console.log(`\nqueries slower than ${opts.slowMs} ms (p50): profile of the slowest SQL statement of each (plans in ${OUT})`);
    for (const r of slow) {
      r.plan = await explain(duck, r, OUT);
      console.log(`  ${r.name} (${r.window}):`);
      for (const h of r.plan.hot) console.log(`    ${h}`);
    }
  }
  await inner.close();

  // ---------- over HTTP: one query, and whole dashboards ----------
  let http: Record<string, unknown> | null = null;
  const dashboards: DashboardResult[] = [];
  if (opts.http) {
    const readKey = 'bench-query-read-key-0123456789';
    const config = loadConfig({
      ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AGENT_INSIGHTS_'))),
      AGENT_INSIGHTS_HOST: '127.0.0.1',
      AGENT_INSIGHTS_PORT: '0',
      AGENT_INSIGHTS_DATA: dataset.db,
      ...(ch ? { AGENT_INSIGHTS_STORAGE: 'clickhouse', AGENT_INSIGHTS_CLICKHOUSE_URL: ch.url, AGENT_INSIGHTS_CLICKHOUSE_DATABASE: opts.clickhouseDatabase } : {}),
      AGENT_INSIGHTS_TENANT: TENANT,
      AGENT_INSIGHTS_READ_KEY: readKey,
      // The dataset's 30 days must survive the server's retention sweep at start.
      AGENT_INSIGHTS_RETENTION_DAYS: '0',
      AGENT_INSIGHTS_LOG_LEVEL: 'warn',
    } as NodeJS.ProcessEnv);
    const s0 = performance.now();
    const server = await startServer(config);
    const startMs = performance.now() - s0;
    const afterStart = status();
    const post = async (items: QueryRequestItem[]): Promise<{ bytes: number; ok: boolean }> => {
      const res = await fetch(`${server.url}/api/v1/query`, { method: 'POST', headers: { authorization: `Bearer ${readKey}`, 'content-type': 'application/json' }, body: JSON.stringify({ queries: items }) });
      const body = await res.text();
      const parsed = JSON.parse(body) as QueryResponseJson;
      return { bytes: Buffer.byteLength(body), ok: res.status === 200 && Object.values(parsed.results).every((x) => x.status === 200) };
    };
    const runsItem = (selected.find((q) => q.name === 'runs') ?? all[0]).item;
    // Each load (of the runs table, of a dashboard) is a new refresh, as in Grafana: its panels share one "now" (and so
    // may share answers: query/shared-answers.ts), but a later load must not be answered from the
    // previous load's answers. Shifting the whole range by one millisecond per load does that.
    let load = 0;
    const refreshed = (items: QueryRequestItem[]): QueryRequestItem[] => {
      load++;
      return items.map((it) => {
        const r = it.timeRange as { from: number; to: number } | undefined;
        return r ? { ...it, timeRange: { from: Number(r.from) + load, to: Number(r.to) + load } } : it;
      });
    };
    let runsAnswer = { bytes: 0, ok: false };
    const runsHttp = summarise(
      await timeRuns(timing, async () => {
        runsAnswer = await post(refreshed([runsItem]));
        return true;
      }),
    );
    console.log(`\nHTTP (startServer on the same file, started in ${startMs.toFixed(0)} ms; RSS after start ${afterStart.rssMiB} MiB):`);
    console.log(`  POST /api/v1/query runs table (${runsItem.timeRange === undefined ? '' : 'as measured above'}) p50 ${runsHttp.p50}  p95 ${runsHttp.p95} ms, ${(runsAnswer.bytes / 1024).toFixed(1)} KiB${runsAnswer.ok ? '' : ' (NOT OK)'}`);

    const wanted = opts.dashboards.includes('none') ? [] : opts.dashboards;
    const requests = wanted.length ? dashboardRequests(meta.anchorMs, opts.timezone, picks.runId, opts.dashboardWindows, opts.dashboardVars).filter((d) => wanted.includes('all') || wanted.includes(d.file.replace(/\.json$/, ''))) : [];
    if (Object.keys(opts.dashboardVars).length) console.log(`dashboard variables set (the others on "All"): ${JSON.stringify(opts.dashboardVars)}`);
    if (requests.length) console.log(`\ndashboards: one request per panel (${opts.concurrency} at a time), then all panels in one request; wall time of the whole dashboard`);
    for (const d of requests) {
      const types = Object.entries(d.items.reduce<Record<string, number>>((acc, it) => ({ ...acc, [String(it.queryType)]: (acc[String(it.queryType)] ?? 0) + 1 }), {}))
        .map(([t, n]) => `${t} ×${n}`)
        .join(', ');
      let perOk = true;
      let perBytes = 0;
      const per = summarise(
        await timeRuns(timing, async () => {
          const answers = await pool(
            opts.concurrency,
            refreshed(d.items).map((it) => () => post([it])),
          );
          perOk = answers.every((a) => a.ok);
          perBytes = answers.reduce((t, a) => t + a.bytes, 0);
          return true;
        }),
      );
      let one = { bytes: 0, ok: false };
      const oneS = summarise(
        await timeRuns(timing, async () => {
          one = await post(refreshed(d.items));
          return true;
        }),
      );
      // Queries with the same answer: only time series read intervalMs and maxDataPoints (capabilities/timeseries.ts).
      const distinct = new Set(d.items.map(({ refId: _r, intervalMs, maxDataPoints, ...rest }) => JSON.stringify(rest.queryType === 'timeSeries' ? { ...rest, intervalMs, maxDataPoints } : rest))).size;
      const r: DashboardResult = { file: d.file, title: d.title, window: d.window, range: d.range, panels: d.items.length, distinct, types, perPanel: { ...per, concurrency: opts.concurrency, ok: perOk, bytes: perBytes }, oneRequest: { ...oneS, ok: one.ok, bytes: one.bytes } };
      dashboards.push(r);
      console.log(
        `  ${`${d.title} (${d.window === 'as saved' ? d.range : d.window})`.padEnd(44)} ${String(d.items.length).padStart(2)} panel queries (${distinct} distinct)  per panel ${per.runs}x p50 ${String(per.p50).padStart(8)} p95 ${String(per.p95).padStart(8)} ms${perOk ? '' : ' (ERRORS)'}  one request ${oneS.runs}x p50 ${String(oneS.p50).padStart(8)} p95 ${String(oneS.p95).padStart(8)} ms${one.ok ? '' : ' (ERRORS)'}  [${types}]`,
      );
    }
    const afterHttp = status();
    await server.stop();
    http = { serverStartMs: r1(startMs), runs: { ...runsHttp, bytes: runsAnswer.bytes, ok: runsAnswer.ok }, rssAfterStartMiB: afterStart.rssMiB, rssAfterQueriesMiB: afterHttp.rssMiB, peakRssMiB: afterHttp.hwmMiB };
    console.log(`  process memory after the HTTP queries: RSS ${afterHttp.rssMiB} MiB (peak ${afterHttp.hwmMiB} MiB)`);
  }

  if (ch?.harness) await ch.harness.stop();
  clearInterval(loadTimer);
  const finishedAt = new Date().toISOString();
  const loadMean = loadSamples.reduce((t, x) => t + x, 0) / Math.max(1, loadSamples.length);
  const cmp = compare
    ? [
        '',
        `Side by side with the DuckDB run of ${compare.startedAt} (${compare.path}; load average ${compare.loadAverage?.start.map((x) => x.toFixed(2)).join(' ') ?? '?'} at its start, ${compare.loadAverage?.end.map((x) => x.toFixed(2)).join(' ') ?? '?'} at its end). "inside chdb" is the engine's own time per run of the query (all its ClickHouse requests), "harness" the Python HTTP layer around it; the rest of the ClickHouse time is the server's code, the client library and JSON parsing in Node.`,
        '',
        sideBySideTable(compare, results),
        ...(dashboards.length ? ['', dashboardsSideBySide(compare, dashboards)] : []),
      ]
    : [];
  const markdown = [
    `Run ${startedAt} to ${finishedAt} on ${onClickHouse ? `ClickHouse ${engineVersion}${ch?.harness ? ' (chdb test harness)' : ''}` : `DuckDB ${engineVersion}`}; load average ${loadStart.map((x) => x.toFixed(2)).join(' ')} at the start, ${la()} at the end (1-minute load sampled every 15 s: mean ${loadMean.toFixed(2)}, max ${Math.max(0, ...loadSamples).toFixed(2)}); ${meta.spans.toLocaleString('en')} spans, ${meta.runs.toLocaleString('en')} runs; ${opts.warmup} warm-up + up to ${opts.repeat} timed runs (budget ${opts.budgetS} s each); time zone ${opts.timezone}.`,
    ...(clickhouse?.overhead ? ['', 'What every ClickHouse request costs here:', '', overheadText(clickhouse.overhead)] : []),
    '',
    capabilitiesTable(results),
    ...(raw.length ? ['', rawTable(raw)] : []),
    ...(dashboards.length ? ['', dashboardsTable(dashboards)] : []),
    ...cmp,
    ...(clickhouse?.disk ? ['', `ClickHouse disk use (system.parts, active parts; per span of ${meta.spans.toLocaleString('en')}):`, '', diskTable(clickhouse.disk, meta.spans)] : []),
  ].join('\n');
  const report = {
    startedAt,
    finishedAt,
    machine: m,
    loadAverage: { start: loadStart, end: loadavg(), sampledMean: loadMean, sampledMax: Math.max(0, ...loadSamples) },
    storage: opts.storage,
    engineVersion,
    ...(duck ? { duckdbVersion: engineVersion } : {}),
    clickhouse,
    picks,
    comparedWith: compare?.path ?? null,
    options: { ...opts, spans: dataset.spans, db: dataset.db },
    dataset: { ...meta, fileBytesNow: statSync(dataset.db).size, ...(duck ? { databaseSize: String(size.database_size) } : {}) },
    capabilities: registered,
    withoutRepresentativeQuery: unknownTypes,
    storeOpenMs: r1(openMs),
    results: results.map(({ lastCalls, answer: _answer, ...r }) => ({ ...r, sql: lastCalls?.map((c) => ({ ms: r1(c.ms), sql: c.sql.replace(/\s+/g, ' ').slice(0, 400) })) })),
    raw,
    dashboards,
    memoryAfterQueries: afterQueries,
    http,
  };
  writeFileSync(join(OUT, 'report.json'), JSON.stringify(report, null, 2));
  writeFileSync(join(OUT, 'report.md'), `${markdown}\n`);
  console.log(`\nreport: ${join(OUT, 'report.json')}, tables: ${join(OUT, 'report.md')}\n`);
  console.log(markdown);
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
