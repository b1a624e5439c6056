/**
 * Ingest benchmark: end-to-end OTLP/HTTP trace ingest with durable acknowledgement.
 *
 * For each wire format (protobuf, JSON) it starts the server as its own process with a fresh
 * DuckDB file, sends pre-encoded 512-span requests from N keep-alive clients for a warm-up and then
 * a fixed measurement window, and reports acknowledged spans per second, request latency,
 * the server's peak resident memory and CPU use, and 429s. At the end it checks that the stored
 * span, event and run counts equal what was acknowledged, and that re-sending a request stores
 * nothing (deduplication).
 *
 *   npm run bench:ingest -- [--duration=30] [--warmup=5] [--clients=8] [--spans=512]
 *                           [--formats=protobuf,json] [--templates=16] [--profile] [--out=file.json]
 *                           [--server-node-args="--max-semi-space-size=64"] [--server-main=path/main.js] [--keep]
 *
 * Each option can also be given as an environment variable: BENCH_DURATION, BENCH_WARMUP, ...
 * AGENT_INSIGHTS_* variables in the environment are passed to the server (e.g. batch size).
 * --profile runs the server under `node --cpu-prof` and prints where its main thread spent time
 * (profiling slows the server down: take throughput figures from runs without it).
 */
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildTemplates, Format, instantiate, Template } from './payload';
import { summariseProfile, formatProfileSummary, ProfileSummary } from './profile-summary';
import { MemorySampler, readCpuSeconds, readMachineCpu, startServerProcess } from './server-process';

// ---------- options ----------

function option(name: string, fallback: string): string {
  const flag = process.argv.find((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (flag) return flag.includes('=') ? flag.slice(flag.indexOf('=') + 1) : 'true';
  return process.env[`BENCH_${name.toUpperCase().replace(/-/g, '_')}`] ?? fallback;
}

const opts = {
  duration: Number(option('duration', '30')),
  warmup: Number(option('warmup', '5')),
  clients: Number(option('clients', '8')),
  spans: Number(option('spans', '512')),
  templates: Number(option('templates', '16')),
  formats: option('formats', 'protobuf,json').split(',').map((f) => f.trim()) as Format[],
  profile: ['1', 'true', 'yes'].includes(option('profile', 'false')),
  keep: ['1', 'true', 'yes'].includes(option('keep', 'false')),
  out: option('out', ''),
  /** Extra node flags for the server process, e.g. "--max-semi-space-size=64". */
  serverNodeArgs: option('server-node-args', '').split(/\s+/).filter(Boolean),
  /** Another server build to measure (default: server/dist/main.js of this checkout). */
  serverMain: option('server-main', ''),
};
for (const f of opts.formats) if (f !== 'protobuf' && f !== 'json') throw new Error(`unknown format "${f}" (protobuf, json)`);
if (!(opts.duration > 0 && opts.warmup >= 0 && opts.clients >= 1 && opts.spans >= 10 && opts.templates >= 1)) {
  throw new Error(`invalid options: ${JSON.stringify(opts)}`);
}

const REPO = resolve(__dirname, '..');
const SERVER_MAIN = resolve(opts.serverMain || join(REPO, 'server', 'dist', 'main.js'));
const TENANT = 'bench';
const INGEST_KEY = `bench-ingest-${randomBytes(12).toString('hex')}`;
const READ_KEY = `bench-read-${randomBytes(12).toString('hex')}`;

// ---------- HTTP ----------

interface Response {
  status: number;
  retryAfter: string | undefined;
  body: Buffer;
}

function post(agent: Agent, url: URL, body: Buffer, contentType: string): Promise<Response> {
  return new Promise((resolveP, reject) => {
    const req = request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        method: 'POST',
        path: '/v1/traces',
        headers: { 'content-type': contentType, 'content-length': body.length, authorization: `Bearer ${INGEST_KEY}` },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolveP({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'] as string | undefined, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function getJson(url: string, key?: string): Promise<unknown> {
  const res = await fetch(url, { headers: key ? { authorization: `Bearer ${key}` } : {} });
  if (res.status !== 200) throw new Error(`GET ${url}: ${res.status} ${await res.text()}`);
  return res.json();
}

/** The sums of a few server metrics (Prometheus text), to see the writer's share of the window. */
async function scrapeMetrics(base: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const want = [
    'agent_insights_commit_duration_seconds_sum',
    'agent_insights_commit_duration_seconds_count',
    'agent_insights_commit_batch_items_sum',
    'agent_insights_commit_batch_items_count',
    'agent_insights_nodejs_gc_duration_seconds_sum',
    'agent_insights_nodejs_heap_size_total_bytes',
    'agent_insights_nodejs_external_memory_bytes',
  ];
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-z_]+)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (m && want.includes(m[1])) out[m[1]] = (out[m[1]] ?? 0) + Number(m[3]);
  }
  return out;
}

// ---------- statistics ----------

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------- one format ----------

export interface FormatResult {
  format: Format;
  durationSeconds: number;
  requestBytes: number;
  spansPerSecond: number;
  requestsPerSecond: number;
  mbPerSecond: number;
  latencyMs: { p50: number; p95: number; p99: number; max: number; mean: number };
  requestsInWindow: number;
  responses429: number;
  /** 429s over the whole run, warm-up and drain included. */
  responses429Total: number;
  errors: number;
  partialSuccess: number;
  serverPeakRssMiB: number;
  serverVmHwmMiB: number;
  /** V8 heap and external (Buffers) memory at the end of the window; the rest of RSS is mostly DuckDB. */
  serverHeapMiB: number;
  serverExternalMiB: number;
  serverCpuPercent: number;
  machineCpuPercent: number;
  clientCpuPercent: number;
  /** CPU of every other process on the machine during the window (percent of one core): noise. */
  otherCpuPercent: number;
  writer: { commits: number; avgBatchItems: number; avgCommitMs: number; busyPercent: number; gcSeconds: number };
  acknowledged: { spans: number; events: number; traces: number; requests: number };
  stored: { spans: number; events: number; runs: number; sessions: number };
  verified: boolean;
  duplicateResendStoredNothing: boolean;
  profile?: ProfileSummary;
}

async function runFormat(format: Format, templates: Template[], baseDir: string): Promise<FormatResult> {
  const dir = join(baseDir, format);
  const extraEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (k.startsWith('AGENT_INSIGHTS_') && v !== undefined) extraEnv[k] = v;
  const server = await startServerProcess({ dir, ingestKey: INGEST_KEY, readKey: READ_KEY, tenant: TENANT, cpuProfile: opts.profile, nodeArgs: opts.serverNodeArgs, main: SERVER_MAIN, extraEnv });
  const url = new URL(server.url);
  const contentType = format === 'protobuf' ? 'application/x-protobuf' : 'application/json';
  const sampler = new MemorySampler(server.pid);
  sampler.start(100);
  const agent = new Agent({ keepAlive: true, maxSockets: opts.clients, maxFreeSockets: opts.clients });

  let seq = 1;
  const ack = { spans: 0, events: 0, traces: 0, requests: 0 };
  let win = { spans: 0, requests: 0 };
  const latencies: number[] = [];
  let count429 = 0;
  let errors = 0;
  let partial = 0;
  let lastAcked: Buffer | null = null;
  let windowStart = Infinity;
  let windowEnd = Infinity;
  let stopping = false;

  const client = async (id: number): Promise<void> => {
    for (let k = id; !stopping; k += opts.clients) {
      const t = templates[k % templates.length];
      const body = instantiate(t, seq++);
      for (let attempt = 0; ; attempt++) {
        const started = performance.now();
        let res: Response;
        try {
          res = await post(agent, url, body, contentType);
        } catch (e) {
          // Unknown outcome (connection error): counted, not retried, and flagged by the final check.
          errors++;
          console.error(`  request failed: ${(e as Error).message}`);
          break;
        }
        const done = performance.now();
        if (res.status === 200) {
          const emptyAnswer = format === 'protobuf' ? res.body.length === 0 : res.body.toString().trim() === '{}';
          if (!emptyAnswer) {
            partial++;
            if (partial <= 3) console.error(`  partial success: ${res.body.toString().slice(0, 300)}`);
          }
          ack.spans += t.spans;
          ack.events += t.events;
          ack.traces += t.traces;
          ack.requests++;
          lastAcked = body;
          if (done >= windowStart && done <= windowEnd) {
            win.spans += t.spans;
            win.requests++;
            latencies.push(done - started);
          }
          break;
        }
        if (res.status === 429) {
          count429++;
          const after = Number(res.retryAfter ?? '1');
          await sleep((Number.isFinite(after) && after > 0 ? after : 1) * 1000);
          if (attempt < 1000) continue;
        }
        errors++;
        if (errors <= 5) console.error(`  HTTP ${res.status}: ${res.body.toString().slice(0, 300)}`);
        break;
      }
    }
  };

  const t0 = performance.now();
  windowStart = t0 + opts.warmup * 1000;
  windowEnd = windowStart + opts.duration * 1000;
  const running = Array.from({ length: opts.clients }, (_, i) => client(i));

  await sleep(opts.warmup * 1000);
  const cpu0 = readCpuSeconds(server.pid);
  const machine0 = readMachineCpu();
  const client0 = process.cpuUsage();
  const metrics0 = await scrapeMetrics(server.url);
  win = { spans: 0, requests: 0 };
  latencies.length = 0;
  const count429AtStart = count429;
  await sleep(windowEnd - performance.now());
  const cpu1 = readCpuSeconds(server.pid);
  const machine1 = readMachineCpu();
  const clientCpu = process.cpuUsage(client0);
  const metrics1 = await scrapeMetrics(server.url);
  const windowSpans = win.spans;
  const windowRequests = win.requests;
  const window429 = count429 - count429AtStart;
  stopping = true;
  await Promise.all(running); // in-flight requests finish; they count for the final check only

  // Everything acknowledged must be stored, and nothing else.
  const stats = (await getJson(`${server.url}/api/v1/stats`, READ_KEY)) as FormatResult['stored'];
  const verified = stats.spans === ack.spans && stats.events === ack.events && stats.runs === ack.traces && errors === 0 && partial === 0;
  // A retried request (same ids) must store nothing new.
  let dedupOk = false;
  if (lastAcked) {
    const res = await post(agent, url, lastAcked, contentType);
    const after = (await getJson(`${server.url}/api/v1/stats`, READ_KEY)) as FormatResult['stored'];
    dedupOk = res.status === 200 && after.spans === stats.spans && after.events === stats.events && after.runs === stats.runs;
  }
  agent.destroy();
  sampler.stop();
  const code = await server.stop();
  if (code !== 0) console.error(`  server exited with code ${code}; see ${server.logPath}`);

  let profile: ProfileSummary | undefined;
  if (server.profileDir && existsSync(server.profileDir)) {
    const file = readdirSync(server.profileDir).find((f) => f.endsWith('.cpuprofile'));
    if (file) {
      const kept = join(tmpdir(), `agent-insights-bench-${format}-${Date.now()}.cpuprofile`);
      copyFileSync(join(server.profileDir, file), kept);
      profile = summariseProfile(kept);
    }
  }

  const seconds = opts.duration;
  const sorted = latencies.slice().sort((a, b) => a - b);
  const d = (k: string) => (metrics1[k] ?? 0) - (metrics0[k] ?? 0);
  const commits = d('agent_insights_commit_duration_seconds_count');
  const bytes = templates.reduce((t, x) => t + x.body.length, 0) / templates.length;
  return {
    format,
    durationSeconds: seconds,
    requestBytes: Math.round(bytes),
    spansPerSecond: windowSpans / seconds,
    requestsPerSecond: windowRequests / seconds,
    mbPerSecond: (windowRequests * bytes) / seconds / 1e6,
    latencyMs: {
      p50: percentile(sorted, 50),
      p95: percentile(sorted, 95),
      p99: percentile(sorted, 99),
      max: sorted[sorted.length - 1] ?? NaN,
      mean: sorted.reduce((a, b) => a + b, 0) / (sorted.length || 1),
    },
    requestsInWindow: windowRequests,
    responses429: window429,
    responses429Total: count429,
    errors,
    partialSuccess: partial,
    serverPeakRssMiB: sampler.peakRssKiB / 1024,
    serverVmHwmMiB: sampler.hwmKiB / 1024,
    serverHeapMiB: (metrics1.agent_insights_nodejs_heap_size_total_bytes ?? NaN) / 2 ** 20,
    serverExternalMiB: (metrics1.agent_insights_nodejs_external_memory_bytes ?? NaN) / 2 ** 20,
    serverCpuPercent: ((cpu1 - cpu0) / seconds) * 100,
    machineCpuPercent: ((machine1.busy - machine0.busy) / (machine1.total - machine0.total)) * 100,
    clientCpuPercent: ((clientCpu.user + clientCpu.system) / 1e6 / seconds) * 100,
    otherCpuPercent: (((machine1.busy - machine0.busy) / 100 - (cpu1 - cpu0) - (clientCpu.user + clientCpu.system) / 1e6) / seconds) * 100,
    writer: {
      commits,
      avgBatchItems: commits ? d('agent_insights_commit_batch_items_sum') / commits : 0,
      avgCommitMs: commits ? (d('agent_insights_commit_duration_seconds_sum') / commits) * 1000 : 0,
      busyPercent: (d('agent_insights_commit_duration_seconds_sum') / seconds) * 100,
      gcSeconds: d('agent_insights_nodejs_gc_duration_seconds_sum'),
    },
    acknowledged: ack,
    stored: stats,
    verified,
    duplicateResendStoredNothing: dedupOk,
    profile,
  };
}

// ---------- report ----------

const f0 = (x: number) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '-');
const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '-');

function report(results: FormatResult[]): string {
  const rows: [string, (r: FormatResult) => string][] = [
    ['spans/s (acknowledged, durable)', (r) => f0(r.spansPerSecond)],
    ['requests/s', (r) => f1(r.requestsPerSecond)],
    ['request body', (r) => `${(r.requestBytes / 1e6).toFixed(2)} MB`],
    ['body MB/s', (r) => f1(r.mbPerSecond)],
    ['latency p50 / p95 / p99 (ms)', (r) => `${f0(r.latencyMs.p50)} / ${f0(r.latencyMs.p95)} / ${f0(r.latencyMs.p99)}`],
    ['latency max (ms)', (r) => f0(r.latencyMs.max)],
    ['429 answers (window / whole run)', (r) => `${r.responses429} / ${r.responses429Total}`],
    ['errors / partial successes', (r) => `${r.errors} / ${r.partialSuccess}`],
    ['server peak RSS (sampled / VmHWM)', (r) => `${f0(r.serverPeakRssMiB)} / ${f0(r.serverVmHwmMiB)} MiB`],
    ['server V8 heap / external at window end', (r) => `${f0(r.serverHeapMiB)} / ${f0(r.serverExternalMiB)} MiB`],
    ['server CPU (all threads)', (r) => `${f0(r.serverCpuPercent)} %`],
    ['bench client CPU', (r) => `${f0(r.clientCpuPercent)} %`],
    ['machine busy (all cores) / other procs', (r) => `${f0(r.machineCpuPercent)} % / ${f0(r.otherCpuPercent)} %`],
    ['commits, avg items per commit', (r) => `${r.writer.commits}, ${f0(r.writer.avgBatchItems)}`],
    ['avg writeBatch (ms), writer busy', (r) => `${f0(r.writer.avgCommitMs)}, ${f0(r.writer.busyPercent)} %`],
    ['GC pause in window (s)', (r) => f1(r.writer.gcSeconds)],
    ['acknowledged spans / events / traces', (r) => `${r.acknowledged.spans} / ${r.acknowledged.events} / ${r.acknowledged.traces}`],
    ['stored spans / events / runs', (r) => `${r.stored.spans} / ${r.stored.events} / ${r.stored.runs}`],
    ['stored == acknowledged', (r) => (r.verified ? 'yes' : 'NO')],
    ['re-sent request stored nothing', (r) => (r.duplicateResendStoredNothing ? 'yes' : 'NO')],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  const lines = [`${''.padEnd(width)}  ${results.map((r) => r.format.padStart(22)).join('')}`];
  for (const [k, fn] of rows) lines.push(`${k.padEnd(width)}  ${results.map((r) => fn(r).padStart(22)).join('')}`);
  return lines.join('\n');
}

async function main(): Promise<void> {
  if (!existsSync(SERVER_MAIN)) throw new Error(`${SERVER_MAIN} is missing: run \`npm run build -w server\` first`);
  const baseDir = join(tmpdir(), `agent-insights-bench-${process.pid}-${Date.now()}`);
  mkdirSync(baseDir, { recursive: true });
  // Interrupted: the 'exit' handlers stop the server; its temporary files go too.
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      console.error(`\n${sig}: stopping`);
      process.exit(130);
    });
  }
  process.on('exit', () => {
    if (!opts.keep) rmSync(baseDir, { recursive: true, force: true });
  });
  console.log(
    `ingest benchmark: ${opts.formats.join(', ')}; ${opts.clients} clients, ${opts.spans} spans per request, ` +
      `${opts.warmup} s warm-up + ${opts.duration} s measured${opts.profile ? ', server under --cpu-prof' : ''}` +
      (opts.serverNodeArgs.length ? `, server node flags: ${opts.serverNodeArgs.join(' ')}` : ''),
  );
  const built = performance.now();
  const runNonce = randomBytes(4);
  runNonce[0] |= 1;
  const byFormat = new Map<Format, Template[]>(opts.formats.map((f) => [f, []]));
  for (let i = 0; i < opts.templates; i++) {
    for (const t of buildTemplates(1000 + i, opts.spans, runNonce, opts.formats)) byFormat.get(t.format)?.push(t);
  }
  const tp = byFormat.get(opts.formats[0])?.[0];
  console.log(
    `built ${opts.templates} request templates per format in ${((performance.now() - built) / 1000).toFixed(1)} s ` +
      `(${tp?.traces} traces, ${tp?.events} exception events in the first; ` +
      opts.formats.map((f) => `${f} ${((byFormat.get(f) ?? []).reduce((t, x) => t + x.body.length, 0) / opts.templates / 1e6).toFixed(2)} MB`).join(', ') +
      ' per request)',
  );

  const results: FormatResult[] = [];
  try {
    for (const format of opts.formats) {
      console.log(`\n[${format}] fresh server and DuckDB file in ${join(baseDir, format)}`);
      const r = await runFormat(format, byFormat.get(format) ?? [], baseDir);
      console.log(`[${format}] ${f0(r.spansPerSecond)} spans/s, p50 ${f0(r.latencyMs.p50)} ms, p99 ${f0(r.latencyMs.p99)} ms, peak RSS ${f0(r.serverPeakRssMiB)} MiB, verified: ${r.verified}`);
      if (r.otherCpuPercent > 20) console.log(`[${format}] WARNING: other processes used ${f0(r.otherCpuPercent)} % CPU (of one core) during the window: figures are disturbed`);
      if (r.profile) console.log(formatProfileSummary(r.profile, r.acknowledged.spans));
      results.push(r);
    }
  } finally {
    if (!opts.keep) rmSync(baseDir, { recursive: true, force: true });
    else console.log(`\nkept ${baseDir}`);
  }

  console.log(`\n${report(results)}`);
  const out = opts.out || join(tmpdir(), `agent-insights-bench-${Date.now()}.json`);
  writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), options: opts, results }, null, 2));
  console.log(`\nresults written to ${out}`);
  if (results.some((r) => !r.verified || !r.duplicateResendStoredNothing)) {
    console.error('VERIFICATION FAILED: stored counts differ from what was acknowledged');
    process.exitCode = 1;
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
