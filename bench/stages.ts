/**
 * Stage timings of the ingest pipeline in one process, without HTTP: decode, normalise (with and
 * without the default redaction patterns), the writer (dedup, derive) and the store commit, split
 * into appending rows and the COMMIT statement (WAL write and fsync, plus DuckDB's automatic
 * checkpoints). Uses the same payloads as bench/ingest.ts and the server's own modules.
 *
 *   npm run bench:stages -- [--requests=60] [--batch=4] [--spans=512] [--prefill-runs=N] [--always-delete]
 *                           [--set="duckdb_setting=value"]
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../server/src/config';
import { ContentPolicy } from '../server/src/content/policy';
import { normaliseSpan, spanEvents } from '../server/src/conventions/normalise';
import { EventRecord, SpanRecord } from '../server/src/domain';
import { decodeTraces } from '../server/src/ingest/otlp/decode';
import { IngestWriter } from '../server/src/ingest/writer';
import { Metrics } from '../server/src/observability/metrics';
import { DuckDBStore } from '../server/src/store/duckdb/duckdb-store';
import { CommitBatch } from '../server/src/store/store';
import { buildTemplates, Format, instantiate } from './payload';

function option(name: string, fallback: string): number {
  const flag = process.argv.find((a) => a.startsWith(`--${name}=`));
  return Number(flag ? flag.slice(flag.indexOf('=') + 1) : (process.env[`BENCH_${name.toUpperCase().replace(/-/g, '_')}`] ?? fallback));
}

const REQUESTS = option('requests', '60');
const BATCH = option('batch', '4'); // requests per commit: what group commit gathered in the HTTP benchmark
const SPANS = option('spans', '512');

function time<T>(fn: () => T): [T, number] {
  const s = performance.now();
  const r = fn();
  return [r, performance.now() - s];
}

async function main(): Promise<void> {
  const formats: Format[] = ['protobuf', 'json'];
  const nonce = randomBytes(4);
  nonce[0] |= 1;
  const templates = Array.from({ length: 8 }, (_, i) => buildTemplates(1000 + i, SPANS, nonce, formats));
  const bodies = (f: Format, base: number) => Array.from({ length: REQUESTS }, (_, i) => instantiate(templates[i % templates.length][formats.indexOf(f)], base + i));
  const totalSpans = REQUESTS * SPANS;
  const us = (ms: number) => `${((ms * 1000) / totalSpans).toFixed(1).padStart(7)} µs/span`;
  const line = (label: string, ms: number) => console.log(`  ${label.padEnd(44)} ${ms.toFixed(0).padStart(7)} ms ${us(ms)}`);
  console.log(`${REQUESTS} requests of ${SPANS} spans (${totalSpans} spans), commits of ${BATCH} requests`);

  const config = loadConfig({});
  const policy = new ContentPolicy(config);
  const noRedaction = new ContentPolicy({ ...config, redactDefaults: false });

  let decodedProtobuf: ReturnType<typeof decodeTraces>[] = [];
  for (const f of formats) {
    const input = bodies(f, 1);
    // warm the code paths first
    for (const b of input.slice(0, 4)) decodeTraces(b, f);
    const [decoded, ms] = time(() => input.map((b) => decodeTraces(b, f)));
    line(`decode ${f}`, ms);
    if (f === 'protobuf') decodedProtobuf = decoded;
  }

  const normaliseAll = (p: ContentPolicy) => {
    const out: { spans: SpanRecord[]; events: EventRecord[] }[] = [];
    for (const d of decodedProtobuf) {
      const spans: SpanRecord[] = [];
      const events: EventRecord[] = [];
      for (const s of d.items) {
        spans.push(normaliseSpan('bench', s, p));
        for (const e of spanEvents('bench', s, p)) events.push(e);
      }
      out.push({ spans, events });
    }
    return out;
  };
  normaliseAll(policy);
  const [normalised, nMs] = time(() => normaliseAll(policy));
  line('normalise (default redaction)', nMs);
  normaliseAll(noRedaction);
  const [, nnMs] = time(() => normaliseAll(noRedaction));
  line('normalise without the default patterns', nnMs);
  console.log(`  ${'  -> default redaction patterns cost'.padEnd(44)} ${(nMs - nnMs).toFixed(0).padStart(7)} ms ${us(nMs - nnMs)}`);

  // Writer and store: the real IngestWriter on a fresh DuckDB file, one batch of BATCH requests at a time.
  const dir = mkdtempSync(join(tmpdir(), 'agent-insights-stages-'));
  try {
    const store = new DuckDBStore(join(dir, 'stages.duckdb'));
    await store.open();
    // Experiments only: --set="checkpoint_threshold='1GB'" runs SET on the writer connection first.
    const setting = process.argv.find((a) => a.startsWith('--set='));
    if (setting) await (store as unknown as { writer: { run: (sql: string) => Promise<unknown> } }).writer.run(`SET ${setting.slice(6)}`);
    const timings = { commit: 0, begin: 0, commitStatement: 0, deletes: 0, appendRows: 0 };
    // Time the SQL the store runs on its writer connection, and its commit() as a whole.
    const conn = (store as unknown as { writer: { run: (sql: string, ...rest: unknown[]) => Promise<unknown> } }).writer;
    const run = conn.run.bind(conn);
    conn.run = async (sql: string, ...rest: unknown[]) => {
      const s = performance.now();
      try {
        return await run(sql, ...rest);
      } finally {
        const ms = performance.now() - s;
        if (sql === 'COMMIT') timings.commitStatement += ms;
        else if (sql.startsWith('BEGIN')) timings.begin += ms;
        else if (sql.startsWith('DELETE')) timings.deletes += ms;
      }
    };
    // --prefill-runs=N: N stored runs of other traces first (a server that has been running a while).
    const prefill = option('prefill-runs', '0');
    if (prefill > 0) {
      const w = (store as unknown as { writer: { run: (sql: string) => Promise<unknown> } }).writer;
      await w.run(
        `INSERT INTO runs SELECT 'bench', md5(i::VARCHAR) || '-r', md5(i::VARCHAR), 'r', 'agent', '', 'svc', '', 'text', '', '', 'completed',
           now()::TIMESTAMP, now()::TIMESTAMP, 1, 1, 0, 0, 0, 0, 0, NULL, '', '', '', 10 FROM range(${prefill}) t(i)`,
      );
      await w.run('CHECKPOINT');
    }
    // --always-delete: every commit deletes the derived rows of every trace in it (the behaviour
    // before new traces skipped that), to compare.
    const alwaysDelete = process.argv.includes('--always-delete');
    const commit = store.commit.bind(store);
    store.commit = async (batch: CommitBatch) => {
      const s = performance.now();
      if (alwaysDelete) for (const d of batch.derived) d.newTrace = false;
      await commit(batch);
      timings.commit += performance.now() - s;
    };
    const writer = new IngestWriter(store, new Metrics(), { maxQueuedSpans: 1_000_000, maxBatchSpans: 1_000_000 });
    await writer.start();
    const started = performance.now();
    for (let i = 0; i < normalised.length; i += BATCH) {
      await Promise.all(normalised.slice(i, i + BATCH).map((n) => writer.submit(n.spans, n.events)));
    }
    const writerMs = performance.now() - started;
    timings.appendRows = timings.commit - timings.begin - timings.commitStatement - timings.deletes;
    line('writer total (dedup, derive, commit)', writerMs);
    line('  dedup + derive + caches (writer JS)', writerMs - timings.commit);
    line('  store.commit: BEGIN', timings.begin);
    line('  store.commit: append rows (main thread)', timings.appendRows);
    line('  store.commit: DELETE derived rows', timings.deletes);
    line('  store.commit: COMMIT (WAL, fsync, checkpoint)', timings.commitStatement);
    // What is still in the WAL gets checkpointed some time: at the latest when the store closes.
    const [, ckMs] = [0, await (async () => {
      const s = performance.now();
      await (store as unknown as { writer: { run: (sql: string) => Promise<unknown> } }).writer.run('CHECKPOINT');
      return performance.now() - s;
    })()];
    line('  final CHECKPOINT (rest of the WAL)', ckMs);
    line('writer total + final checkpoint', writerMs + ckMs);
    // DuckDB's own memory (buffer manager) after the writes, by tag, and the process RSS.
    const rows = await store.read(`SELECT tag, memory_usage_bytes::DOUBLE AS bytes FROM duckdb_memory() WHERE memory_usage_bytes > 0 ORDER BY 2 DESC`);
    const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
    console.log(`  DuckDB memory ${mib(rows.reduce((t, r) => t + Number(r.bytes), 0))} (${rows.map((r) => `${r.tag} ${mib(Number(r.bytes))}`).join(', ')}); process RSS ${mib(process.memoryUsage().rss)}`);
    const counts = await store.counts('bench');
    console.log(`  stored ${counts.spans} spans, ${counts.events} events, ${counts.runs} runs`);
    await writer.close();
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
