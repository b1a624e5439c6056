/**
 * Moving a DuckDB store into another store (ClickHouse): `agent-insights migrate-to-clickhouse`.
 *
 * The copy reads the DuckDB file part by part (traces split by a hash of tenant and trace id, so
 * every part holds whole traces and fits in memory), derives each trace's runs, sessions, steps and
 * usage again with the same code as ingest (deriveTrace), and commits the spans, events and derived
 * rows through the target's ordinary commit, in batches of whole traces. The target therefore holds
 * what it would hold had it received the same spans at ingest. API keys are copied as they are.
 *
 * Copying again is harmless: spans and events are the same rows (ClickHouse's FINAL views show
 * each once), and derived rows replace the previous derivation of their trace. So an interrupted
 * copy is resumed by running it again.
 */
import { replacementOf } from '../derive/trace';
import { EventRecord, SpanRecord } from '../domain';
import { DuckDBStore } from './duckdb/duckdb-store';
import { CommitBatch, Store } from './store';

export interface CopyOptions {
  /** About this many span records per part read from DuckDB. */
  spansPerPart?: number;
  /** At most this many traces per commit to the target. */
  tracesPerCommit?: number;
  onProgress?: (p: CopyProgress) => void;
}

export interface CopyProgress {
  part: number;
  parts: number;
  traces: number;
  spans: number;
  events: number;
  keys: number;
}

const traceKey = (r: { tenant: string; traceId: string }) => `${r.tenant}\u0000${r.traceId}`;

export async function copyStore(from: DuckDBStore, to: Store, opts: CopyOptions = {}): Promise<CopyProgress> {
  const spansPerPart = opts.spansPerPart ?? 100_000;
  const tracesPerCommit = opts.tracesPerCommit ?? 500;
  const total = Number((await from.read('SELECT count(*) AS c FROM spans'))[0]?.c ?? 0);
  const parts = Math.max(1, Math.ceil(total / spansPerPart));
  const done: CopyProgress = { part: 0, parts, traces: 0, spans: 0, events: 0, keys: 0 };

  const keys = await from.listKeys();
  for (const k of keys) await to.insertKey(k);
  done.keys = keys.length;

  for (let part = 0; part < parts; part++) {
    const { spans, events } = await from.exportPart(part, parts);
    const traces = new Map<string, { tenant: string; traceId: string; spans: SpanRecord[]; events: EventRecord[] }>();
    for (const s of spans) {
      const k = traceKey(s);
      let t = traces.get(k);
      if (!t) traces.set(k, (t = { tenant: s.tenant, traceId: s.traceId, spans: [], events: [] }));
      t.spans.push(s);
    }
    // Events belong to a trace's spans; one without a stored span of its trace is copied too.
    for (const e of events) {
      const k = traceKey(e);
      let t = traces.get(k);
      if (!t) traces.set(k, (t = { tenant: e.tenant, traceId: e.traceId, spans: [], events: [] }));
      t.events.push(e);
    }
    const all = [...traces.values()];
    for (let i = 0; i < all.length; i += tracesPerCommit) {
      const batch: CommitBatch = { spans: [], events: [], derived: [] };
      for (const t of all.slice(i, i + tracesPerCommit)) {
        batch.spans.push(...t.spans);
        batch.events.push(...t.events);
        if (!t.spans.length) continue;
        batch.derived.push(replacementOf(t.tenant, t.traceId, t.spans, { newTrace: true }));
      }
      await to.commit(batch);
    }
    done.part = part + 1;
    done.traces += all.length;
    done.spans += spans.length;
    done.events += events.length;
    opts.onProgress?.({ ...done });
  }
  return done;
}
