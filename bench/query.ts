/**
 * Query benchmark: how fast the query engine answers every panel at ten million spans.
 *
 * Makes (or reuses) the dataset of bench/query-dataset.ts, opens it with the server's DuckDBStore
 * and runs one representative query per capability registered in CAPABILITIES at the time of the
 * run, through the real engine function runQueries(): a warm-up and then --repeat timed runs each,
 * reporting min/median/max milliseconds, the SQL statements the capability issued and the size of
 * its answer. Then it starts the real server (startServer) on the same file and measures
 * POST /api/v1/query end to end over HTTP, and reports the process's resident memory.
 * Queries slower than --slow-ms are profiled with DuckDB (EXPLAIN ANALYZE, written to the output
 * folder) and their most expensive operators are printed.
 *
 *   npm run bench:query -- [--spans=10000000] [--db=path] [--repeat=5] [--warmup=1] [--timezone=Europe/Berlin]
 *                          [--only=name,name] [--http=true] [--explain=true] [--slow-ms=1000] [--budget=60] [--out=dir]
 *
 * --budget caps the seconds spent on one query: once past it, no further timed runs are made
 * (at least one is), so the table says how many runs each figure rests on.
 * Each option can also be given as an environment variable (BENCH_SPANS, BENCH_REPEAT, ...).
 * A quick run: BENCH_SPANS=200000 npm run bench:query.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CAPABILITIES } from '../server/src/query/capabilities';
import { QueryRequestItem, QueryResponseJson, runQueries } from '../server/src/query/engine';
import { loadConfig } from '../server/src/config';
import { startServer } from '../server/src/server';
import { DuckDBStore } from '../server/src/store/duckdb/duckdb-store';
import { Row, Store } from '../server/src/store/store';
import { DatasetMeta, datasetOptions, existingDataset, mib, option, TENANT } from './query-dataset';

const opts = {
  repeat: Number(option('repeat', '5')),
  warmup: Number(option('warmup', '1')),
  timezone: option('timezone', 'Europe/Berlin'),
  only: option('only', '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
  http: option('http', 'true') === 'true',
  explain: option('explain', 'true') === 'true',
  slowMs: Number(option('slow-ms', '1000')),
  /** Seconds per query: past this, no further timed runs (at least one is made). */
  budgetS: Number(option('budget', '60')),
  out: option('out', ''),
};
const dataset = datasetOptions(option);
const OUT = resolve(opts.out || join(resolve(dataset.db, '..'), `query-results-${dataset.spans}`));

const H = 3_600_000;
const D = 86_400_000;

// ---------- a store that records the SQL each capability issues ----------

interface SqlCall {
  sql: string;
  params: unknown[];
  ms: number;
}

class RecordingStore {
  calls: SqlCall[] = [];
  constructor(readonly inner: DuckDBStore) {}
  /** The store, with every call timed: read() with its SQL, the other methods (loadTrace, ...) by name. */
  asStore(): Store {
    return new Proxy(this.inner, {
      get: (target, prop, receiver) => {
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

// ---------- the queries: one or more per capability ----------

export interface BenchQuery {
  name: string;
  /** What a person would call the panel. */
  what: string;
  item: QueryRequestItem;
}

export function queries(anchor: number, runId: string, voiceRunId: string, conversation: string): BenchQuery[] {
  const tz = opts.timezone;
  const d30 = { from: anchor - 30 * D, to: anchor };
  const h24 = { from: anchor - D, to: anchor };
  const q = (name: string, what: string, queryType: string, extra: Record<string, unknown> = {}, timeRange = d30): BenchQuery => ({
    name,
    what,
    item: { refId: 'A', queryType, timeRange, timezone: tz, maxDataPoints: 1000, ...extra },
  });
  const series = (metric: string, groupBy: string | undefined, range: '30d' | '24h'): BenchQuery =>
    q(
      `timeSeries ${metric}${groupBy ? ` by ${groupBy}` : ''} ${range}`,
      `time series of ${metric}${groupBy ? ` per ${groupBy}` : ''}, ${range === '30d' ? '30 days in 1 h buckets' : '24 h in 1 min buckets'}`,
      'timeSeries',
      { metric, ...(groupBy ? { groupBy } : {}), intervalMs: range === '30d' ? H : 60_000 },
      range === '30d' ? d30 : h24,
    );
  return [
    q('runs', 'runs table, newest 100 of 30 days', 'runs', { limit: 100 }),
    q('runs filtered', 'runs table, agent + status + environment filters', 'runs', { limit: 100, filters: { agent: ['support-triage', 'billing-bot'], status: ['failed', 'timed_out'], environment: ['production'] } }),
    q('runs by tool', 'runs table, tool filter (a step dimension)', 'runs', { limit: 100, filters: { tool: ['refund_payment'] } }),
    q('runs search', 'runs table, search by conversation id', 'runs', { limit: 100, search: conversation }),
    q('runTrace', 'one run as a trace frame (~17 spans)', 'runTrace', { runId }),
    q('runTrace voice', 'one run inside a voice session trace', 'runTrace', { runId: voiceRunId }),
    q('runSteps', "one run's steps table", 'runSteps', { runId }),
    q('runEvents', "one run's log lines", 'runEvents', { runId }),
    q('runStats', 'run statistics, 30 days', 'runStats'),
    q('runStats by model', 'run statistics, 30 days, model filter (a step dimension)', 'runStats', { filters: { model: ['claude-sonnet-4'] } }),
    series('runs', 'agent', '30d'),
    series('errorRate', 'agent', '30d'),
    series('durationP95', 'agent', '30d'),
    series('tokensTotal', 'agent', '30d'),
    series('runs', 'agent', '24h'),
    series('errorRate', 'agent', '24h'),
    series('durationP95', 'agent', '24h'),
    series('tokensTotal', 'agent', '24h'),
    series('toolCalls', 'tool', '30d'),
    series('toolErrorRate', 'tool', '30d'),
    series('cost', 'model', '30d'),
    series('sessions', 'channel', '30d'),
    q('toolMetrics', 'tool metrics, 30 days', 'toolMetrics'),
    q('toolErrors', 'most frequent tool errors, 30 days', 'toolErrors'),
    q('llmTokens day', 'tokens per day, 30 days', 'llmTokens', { period: 'day' }),
    q('llmTokens week', 'tokens per week, 30 days', 'llmTokens', { period: 'week' }),
    q('llmTokens month', 'tokens per month, 30 days', 'llmTokens', { period: 'month' }),
    q('creditForecast month', 'credit forecast to the end of the month', 'creditForecast', { period: 'month', budget: 5000 }),
    q('modelShare', 'model share of tokens and cost, 30 days', 'modelShare'),
    q('costPerConversation', 'cost per conversation by agent, 30 days', 'costPerConversation'),
    q('heatmap hourOfDay runs', 'runs by hour of day x day, 30 days', 'heatmap', { heatmap: 'hourOfDay', heatmapMetric: 'runs' }),
    q('heatmap dayOfWeek tokens', 'tokens by day of week x week, 30 days', 'heatmap', { heatmap: 'dayOfWeek', heatmapMetric: 'tokensTotal' }),
    q('sessionStats', 'voice and video sessions, 30 days', 'sessionStats'),
  ];
}

// ---------- measuring ----------

interface Measured {
  name: string;
  what: string;
  queryType: string;
  ms: number[];
  min: number;
  median: number;
  max: number;
  /** Median CPU time (user + system, all threads) of the timed runs. */
  cpuMedian: number;
  sqlStatements: number;
  sqlMs: number;
  frames: number;
  rows: number;
  bytes: number;
  error?: string;
  plan?: { file: string; hot: string[] };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const r1 = (x: number): number => Math.round(x * 10) / 10;

function answerSize(res: QueryResponseJson): { frames: number; rows: number; bytes: number; error?: string } {
  const a = res.results.A;
  if (!a || a.status !== 200) return { frames: 0, rows: 0, bytes: 0, error: a?.error ?? 'no answer' };
  const frames = a.frames ?? [];
  return { frames: frames.length, rows: frames.reduce((t, f) => t + (f.data.values[0]?.length ?? 0), 0), bytes: Buffer.byteLength(JSON.stringify(res)) };
}

async function measure(rec: RecordingStore, bq: BenchQuery, anchor: number): Promise<Measured> {
  const store = rec.asStore();
  const ms: number[] = [];
  /** CPU time of this process (all DuckDB threads included) per timed run. */
  const cpu: number[] = [];
  let size = { frames: 0, rows: 0, bytes: 0 } as ReturnType<typeof answerSize>;
  let calls: SqlCall[] = [];
  const started = performance.now();
  for (let i = 0; i < opts.warmup + opts.repeat; i++) {
    if (ms.length >= 1 && performance.now() - started > opts.budgetS * 1000) break;
    rec.calls = [];
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const res = await runQueries(store, TENANT, [bq.item], anchor);
    const t = performance.now() - t0;
    const c = process.cpuUsage(c0);
    size = answerSize(res);
    calls = rec.calls;
    if (size.error) break;
    if (i >= opts.warmup) {
      ms.push(t);
      cpu.push((c.user + c.system) / 1000);
    }
  }
  return {
    name: bq.name,
    what: bq.what,
    queryType: String(bq.item.queryType),
    ms: ms.map(r1),
    min: ms.length ? r1(Math.min(...ms)) : NaN,
    median: ms.length ? r1(median(ms)) : NaN,
    max: ms.length ? r1(Math.max(...ms)) : NaN,
    cpuMedian: cpu.length ? r1(median(cpu)) : NaN,
    sqlStatements: calls.length,
    sqlMs: r1(calls.reduce((t, c) => t + c.ms, 0)),
    ...size,
    ...(calls.length ? { lastCalls: calls } : {}),
  } as Measured & { lastCalls?: SqlCall[] };
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
async function explain(store: DuckDBStore, m: Measured & { lastCalls?: SqlCall[] }, dir: string): Promise<{ file: string; hot: string[] }> {
  const slowest = [...(m.lastCalls ?? [])].filter((c) => !c.sql.startsWith('store.')).sort((a, b) => b.ms - a.ms)[0];
  if (!slowest) return { file: '', hot: [] };
  const base = join(dir, `plan-${m.name.replace(/[^A-Za-z0-9]+/g, '-')}`);
  const text = await store.read(`EXPLAIN ANALYZE ${slowest.sql}`, slowest.params);
  writeFileSync(`${base}.txt`, `-- ${m.name}: ${slowest.ms.toFixed(0)} ms\n${slowest.sql}\n-- params: ${JSON.stringify(slowest.params)}\n\n${text.map((r) => String(r.explain_value ?? Object.values(r).join('\n'))).join('\n')}\n`);
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

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const meta = await ensureDataset();
  const m = machine();
  console.log(`machine: ${m.nproc} cores (${m.cpu}), ${m.memory}, node ${m.node}; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  console.log(
    `dataset: ${meta.spans.toLocaleString('en')} spans, ${meta.events.toLocaleString('en')} events, ${meta.runs.toLocaleString('en')} runs, ${meta.sessions.toLocaleString('en')} sessions in ${meta.traces.toLocaleString('en')} traces; ` +
      `file ${mib(statSync(dataset.db).size)}; generated in ${meta.generationSeconds.toFixed(0)} s (${Math.round(meta.spans / meta.generationSeconds).toLocaleString('en')} spans/s); anchor ${new Date(meta.anchorMs).toISOString()}`,
  );

  const inner = new DuckDBStore(dataset.db);
  const t0 = performance.now();
  await inner.open();
  const openMs = performance.now() - t0;
  const duckdbVersion = String((await inner.read('SELECT version() AS v'))[0].v);
  const size = (await inner.read('PRAGMA database_size'))[0];
  const [run] = await inner.read(
    `SELECT run_id, conversation_id FROM runs WHERE tenant = $1 AND status = 'completed' AND span_count BETWEEN 16 AND 19 AND channel = 'text'
     ORDER BY start_time DESC LIMIT 1 OFFSET 200`,
    [TENANT],
  );
  const [voice] = await inner.read(`SELECT run_id FROM runs WHERE tenant = $1 AND channel <> 'text' ORDER BY start_time DESC LIMIT 1 OFFSET 20`, [TENANT]);
  const all = queries(meta.anchorMs, String(run.run_id), String(voice?.run_id ?? run.run_id), String(run.conversation_id));
  const selected = opts.only.length ? all.filter((q) => opts.only.some((o) => q.name === o || q.item.queryType === o)) : all;
  const registered = selected.filter((q) => CAPABILITIES[q.item.queryType as keyof typeof CAPABILITIES]);
  const missing = [...new Set(selected.filter((q) => !registered.includes(q)).map((q) => String(q.item.queryType)))];
  console.log(`DuckDB ${duckdbVersion}; store opened in ${openMs.toFixed(0)} ms; database ${String(size.database_size)} (${String(size.used_blocks)} of ${String(size.total_blocks)} blocks used)`);
  console.log(`capabilities registered: ${Object.keys(CAPABILITIES).join(', ')}${missing.length ? `; not registered yet (not measured): ${missing.join(', ')}` : ''}`);
  console.log(`${opts.warmup} warm-up + ${opts.repeat} timed runs per query, time zone ${opts.timezone}, through runQueries()\n`);

  const rec = new RecordingStore(inner);
  const results: (Measured & { lastCalls?: SqlCall[] })[] = [];
  for (const bq of registered) {
    const r = await measure(rec, bq, meta.anchorMs);
    results.push(r);
    console.log(
      r.error
        ? `  ${bq.name.padEnd(34)} ERROR ${r.error}`
        : `  ${bq.name.padEnd(34)} ${r.ms.length}x min ${String(r.min).padStart(8)}  median ${String(r.median).padStart(8)}  max ${String(r.max).padStart(8)} ms  cpu ${String(r.cpuMedian).padStart(8)} ms  ${r.sqlStatements} storage call(s) ${String(r.sqlMs).padStart(7)} ms  ${r.frames} frame(s) ${r.rows} rows ${(r.bytes / 1024).toFixed(1)} KiB`,
    );
  }
  const afterQueries = status();
  const duckMem = await inner.read(`SELECT sum(memory_usage_bytes)::DOUBLE AS b FROM duckdb_memory()`).catch(() => [{ b: NaN }]);
  console.log(`\nprocess memory after the queries: RSS ${afterQueries.rssMiB} MiB (peak ${afterQueries.hwmMiB} MiB); DuckDB buffer manager ${mib(Number(duckMem[0].b))}`);

  const slow = results.filter((r) => !r.error && r.median > opts.slowMs);
  if (opts.explain && slow.length) {
    console.log(`\nqueries slower than ${opts.slowMs} ms (median): profile of the slowest SQL statement of each (plans in ${OUT})`);
    for (const r of slow) {
      r.plan = await explain(inner, r, OUT);
      console.log(`  ${r.name}:`);
      for (const h of r.plan.hot) console.log(`    ${h}`);
    }
  }
  await inner.close();

  // ---------- end to end over HTTP ----------
  let http: Record<string, unknown> | null = null;
  if (opts.http) {
    const readKey = 'bench-query-read-key-0123456789';
    const config = loadConfig({
      ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AGENT_INSIGHTS_'))),
      AGENT_INSIGHTS_HOST: '127.0.0.1',
      AGENT_INSIGHTS_PORT: '0',
      AGENT_INSIGHTS_DATA: dataset.db,
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
    const post = async (items: QueryRequestItem[]): Promise<{ ms: number; bytes: number; ok: boolean }> => {
      const t = performance.now();
      const res = await fetch(`${server.url}/api/v1/query`, { method: 'POST', headers: { authorization: `Bearer ${readKey}`, 'content-type': 'application/json' }, body: JSON.stringify({ queries: items }) });
      const body = await res.text();
      const ms = performance.now() - t;
      const parsed = JSON.parse(body) as QueryResponseJson;
      return { ms, bytes: Buffer.byteLength(body), ok: res.status === 200 && Object.values(parsed.results).every((x) => x.status === 200) };
    };
    const timed = async (items: QueryRequestItem[]): Promise<{ ms: number[]; bytes: number; ok: boolean }> => {
      const ms: number[] = [];
      let last = { ms: 0, bytes: 0, ok: false };
      const started = performance.now();
      for (let i = 0; i < opts.warmup + opts.repeat; i++) {
        if (ms.length >= 1 && performance.now() - started > opts.budgetS * 1000) break;
        last = await post(items);
        if (i >= opts.warmup) ms.push(last.ms);
      }
      return { ms, bytes: last.bytes, ok: last.ok };
    };
    const runsItem = registered.find((q) => q.name === 'runs')?.item ?? all[0].item;
    const runsHttp = await timed([runsItem]);
    // A dashboard's worth of panels in one request (the engine runs them concurrently).
    const dashboard = registered.filter((q) => !q.name.startsWith('runTrace') && !q.name.startsWith('runSteps') && !q.name.startsWith('runEvents') && !q.name.endsWith('24h')).map((q, i) => ({ ...q.item, refId: `Q${i}` }));
    const dash = await timed(dashboard);
    const afterHttp = status();
    await server.stop();
    http = {
      serverStartMs: r1(startMs),
      runs: { min: r1(Math.min(...runsHttp.ms)), median: r1(median(runsHttp.ms)), max: r1(Math.max(...runsHttp.ms)), bytes: runsHttp.bytes, ok: runsHttp.ok },
      dashboard: { queries: dashboard.length, min: r1(Math.min(...dash.ms)), median: r1(median(dash.ms)), max: r1(Math.max(...dash.ms)), bytes: dash.bytes, ok: dash.ok },
      rssAfterStartMiB: afterStart.rssMiB,
      rssAfterQueriesMiB: afterHttp.rssMiB,
      peakRssMiB: afterHttp.hwmMiB,
    };
    console.log(`\nHTTP (startServer on the same file, started in ${startMs.toFixed(0)} ms; RSS after start ${afterStart.rssMiB} MiB):`);
    console.log(`  POST /api/v1/query runs table        min ${r1(Math.min(...runsHttp.ms))}  median ${r1(median(runsHttp.ms))}  max ${r1(Math.max(...runsHttp.ms))} ms, ${(runsHttp.bytes / 1024).toFixed(1)} KiB${runsHttp.ok ? '' : ' (NOT OK)'}`);
    console.log(`  POST /api/v1/query ${dashboard.length} panels at once  min ${r1(Math.min(...dash.ms))}  median ${r1(median(dash.ms))}  max ${r1(Math.max(...dash.ms))} ms, ${(dash.bytes / 1024).toFixed(1)} KiB${dash.ok ? '' : ' (NOT OK)'}`);
    console.log(`  server process memory after the queries: RSS ${afterHttp.rssMiB} MiB (peak ${afterHttp.hwmMiB} MiB)`);
  }

  const report = {
    date: new Date().toISOString(),
    machine: m,
    loadAverage: loadavg(),
    duckdbVersion,
    options: { ...opts, spans: dataset.spans, db: dataset.db },
    dataset: { ...meta, fileBytesNow: statSync(dataset.db).size, databaseSize: String(size.database_size) },
    capabilities: Object.keys(CAPABILITIES),
    notRegistered: missing,
    storeOpenMs: r1(openMs),
    results: results.map(({ lastCalls, ...r }) => ({ ...r, sql: lastCalls?.map((c) => ({ ms: r1(c.ms), sql: c.sql.replace(/\s+/g, ' ').slice(0, 400) })) })),
    memoryAfterQueries: afterQueries,
    http,
  };
  writeFileSync(join(OUT, 'report.json'), JSON.stringify(report, null, 2));
  console.log(`\nreport: ${join(OUT, 'report.json')}`);
  console.log('\n| Query | Panel | runs | min ms | median ms | max ms | CPU ms (median) | storage calls | answer |');
  console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
  for (const r of results) {
    console.log(r.error ? `| ${r.name} | ${r.what} | | | | | | | error: ${r.error} |` : `| ${r.name} | ${r.what} | ${r.ms.length} | ${r.min} | ${r.median} | ${r.max} | ${r.cpuMedian} | ${r.sqlStatements} | ${r.frames} frame(s), ${r.rows} rows, ${(r.bytes / 1024).toFixed(1)} KiB |`);
  }
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
