/**
 * Commit cost on a large store: what a late span costs once the tables hold millions of rows.
 *
 * Opens a COPY of a DuckDB file (the 10-million-span benchmark file: opening migrates it, so never
 * the original), takes the most recent traces and, per commit, re-derives N of them from their
 * stored records as the writer does when a late span arrives (loadTrace, then replacementOf with
 * newTrace false), and times DuckDBStore.commit: deleting and appending the derived rows, the tool
 * rollups and the conversation costs of the touched rows, and the COMMIT. The stored records do
 * not change, so every commit leaves the tables as they were and runs can be repeated.
 *
 * With --compare=<checkout root> the same commits also go through that checkout's store code (a
 * git worktree of another commit, with node_modules linked), alternated round by round, each
 * round with the other code first, so that both see the same load and caches.
 *
 *   npx tsx --tsconfig server/tsconfig.json bench/commit-at-scale.ts --db=/tmp/me/q.duckdb
 *       [--traces=50] [--rounds=10] [--per-round=3] [--compare=/tmp/me/base]
 */
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { replacementOf } from '../server/src/derive/trace';
import type { DuckDBStore } from '../server/src/store/duckdb/duckdb-store';

function option(name: string, fallback: string): string {
  const flag = process.argv.find((a) => a.startsWith(`--${name}=`));
  return flag ? flag.slice(flag.indexOf('=') + 1) : fallback;
}

const DB = option('db', '');
const TRACES = Number(option('traces', '50'));
const ROUNDS = Number(option('rounds', '10'));
const PER_ROUND = Number(option('per-round', '3'));
const COMPARE = option('compare', '');
if (!DB) throw new Error('--db=<a copy of the benchmark file> is required (opening migrates the file: never the original)');

type StoreClass = typeof DuckDBStore;

async function storeOf(root: string): Promise<StoreClass> {
  const mod = await import(join(root, 'server', 'src', 'store', 'duckdb', 'duckdb-store.ts'));
  return mod.DuckDBStore as StoreClass;
}

const load = (): string =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

function quantile(sorted: number[], q: number): number {
  // Linear interpolation between closest ranks, as the query engine's percentiles.
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  return sorted[lo] + (sorted[Math.min(lo + 1, sorted.length - 1)] - sorted[lo]) * (pos - lo);
}

async function main(): Promise<void> {
  const variants: { name: string; Store: StoreClass }[] = [
    { name: 'this checkout', Store: await storeOf(resolve(__dirname, '..')) },
  ];
  if (COMPARE) variants.push({ name: `compare (${COMPARE})`, Store: await storeOf(resolve(COMPARE)) });
  const quiet = () => undefined;

  // The trace sets: the most recent traces, TRACES per commit, one set per commit of a round.
  const first = new variants[0].Store(DB, 15, 1, (m) => console.log(m));
  await first.open();
  const recent = await first.read(
    `SELECT tenant, trace_id, max(start_time) AS s FROM runs GROUP BY ALL ORDER BY s DESC LIMIT ${TRACES * PER_ROUND}`
  );
  await first.close();
  const sets = Array.from({ length: PER_ROUND }, (_, i) => recent.slice(i * TRACES, (i + 1) * TRACES));
  console.log(
    `${DB}: ${recent.length} recent traces, ${TRACES} per commit, ${ROUNDS} rounds of ${PER_ROUND} commits per variant; load ${load()}`
  );

  const times = new Map<string, number[]>(variants.map((v) => [v.name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? variants : [...variants].reverse();
    for (const v of order) {
      const store = new v.Store(DB, 15, 1, quiet);
      await store.open();
      for (const set of sets) {
        const derived = [];
        for (const t of set) {
          const records = await store.loadTrace(String(t.tenant), String(t.trace_id));
          derived.push(replacementOf(String(t.tenant), String(t.trace_id), records, { newTrace: false }));
        }
        const started = performance.now();
        await store.commit({ spans: [], events: [], derived });
        times.get(v.name)!.push(performance.now() - started);
      }
      await store.close();
    }
  }
  for (const v of variants) {
    const t = times.get(v.name)!.sort((a, b) => a - b);
    console.log(
      `${v.name}: ${t.length} commits of ${TRACES} traces: p50 ${quantile(t, 0.5).toFixed(1)} ms, p95 ${quantile(t, 0.95).toFixed(1)} ms, min ${t[0].toFixed(1)}, max ${t[t.length - 1].toFixed(1)}`
    );
  }
  console.log(`load at the end ${load()}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
