/**
 * The write stage of the ingest pipeline: deduplicate, derive, commit.
 *
 * Requests hand their normalised records to submit(), which resolves only when they are durable.
 * One loop takes everything queued (up to maxBatchSpans) and writes it in one transaction (group
 * commit), so many small requests share one fsync. The queue is bounded: when it is full submit()
 * throws OverloadedError (429 with Retry-After), so memory stays bounded and nothing acknowledged
 * is ever dropped.
 *
 * Deduplication and derivation both need the facts already stored for a trace. Recent traces are
 * kept in memory without content (an LRU bounded by span count); the set of every stored trace key
 * tells a new trace (nothing to load) from an evicted one (loaded back from storage).
 *
 * When other processes write the same storage (store.sharedWriters: ClickHouse replicas), the cache
 * may miss spans of a trace that another replica stored, so derivation never trusts it: the batch's
 * spans are inserted first, then each touched trace's facts are loaded from storage (which now holds
 * every span acknowledged anywhere before the load, and this batch's), derived, and written with the
 * version of the facts loaded. The store keeps the derivation of the highest version, which has seen
 * every span stored before it (docs/clickhouse.md, "Several replicas"). The cache then serves only
 * to count duplicates this replica has stored before; storage removes the others.
 */
import { EventRecord, SpanRecord } from '../domain';
import { replacementOf } from '../derive/trace';
import { Metrics } from '../observability/metrics';
import { DerivedReplacement, Store, TraceFacts as StoredFacts } from '../store/store';
import { OverloadedError, ShuttingDownError, StorageError } from './errors';

interface Job {
  spans: SpanRecord[];
  events: EventRecord[];
  size: number;
  resolve: (r: WriteResult) => void;
  reject: (e: Error) => void;
}

export interface WriteResult {
  stored: number;
  duplicates: number;
}

interface TraceFacts {
  records: SpanRecord[];
  recordKeys: Set<string>;
  eventKeys: Set<string>;
}

export interface WriterOptions {
  maxQueuedSpans: number;
  maxBatchSpans: number;
  /** Spans of facts kept in memory for recent traces. */
  cacheSpans?: number;
}

const traceKey = (tenant: string, traceId: string): string => `${tenant}\u0000${traceId}`;
const recordKey = (r: SpanRecord): string => `${r.spanId}/${r.record}`;

/** Facts kept in memory carry no content: derivation does not need it. */
function withoutContent(r: SpanRecord): SpanRecord {
  return { ...r, inputContent: null, outputContent: null, reasoningContent: null, systemContent: null, attributes: '{}', resource: '{}' };
}

export class IngestWriter {
  private queue: Job[] = [];
  private queued = 0;
  private running = false;
  private closed = false;
  private idle: Promise<void> = Promise.resolve();
  private readonly known = new Set<string>();
  private readonly cache = new Map<string, TraceFacts>();
  private cachedSpans = 0;
  private readonly cacheLimit: number;
  private readonly commitListeners = new Set<(tenants: ReadonlySet<string>) => void>();

  constructor(
    private readonly store: Store,
    private readonly metrics: Metrics,
    private readonly options: WriterOptions,
  ) {
    this.cacheLimit = options.cacheSpans ?? 200_000;
  }

  /** Learns which traces are stored already (after a restart, their spans may be retried). */
  async start(): Promise<void> {
    // With shared writers nothing is derived from the cache, so which traces are stored is not needed.
    if (this.store.sharedWriters) return;
    for (const k of await this.store.listTraceKeys()) this.known.add(traceKey(k.tenant, k.traceId));
  }

  /**
   * Calls fn after each successful commit with the tenants whose data it changed (live streams
   * refresh on it). Returns the function that stops the calls. A listener's failure is its own.
   */
  onCommit(fn: (tenants: ReadonlySet<string>) => void): () => void {
    this.commitListeners.add(fn);
    return () => void this.commitListeners.delete(fn);
  }

  get queueDepth(): number {
    return this.queued;
  }

  submit(spans: SpanRecord[], events: EventRecord[]): Promise<WriteResult> {
    if (this.closed) return Promise.reject(new ShuttingDownError());
    const size = spans.length + events.length;
    if (size === 0) return Promise.resolve({ stored: 0, duplicates: 0 });
    if (this.queued > 0 && this.queued + size > this.options.maxQueuedSpans) {
      return Promise.reject(new OverloadedError(1));
    }
    return new Promise<WriteResult>((resolve, reject) => {
      this.queue.push({ spans, events, size, resolve, reject });
      this.queued += size;
      this.metrics.queueDepth.set(this.queued);
      if (!this.running) this.idle = this.drain();
    });
  }

  /** Runs fn between batches, with the caches dropped afterwards (deletes, retention). */
  async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    while (this.running) await this.idle;
    this.running = true;
    try {
      return await fn();
    } finally {
      this.cache.clear();
      this.cachedSpans = 0;
      this.known.clear();
      await this.start();
      this.running = false;
      if (this.queue.length) this.idle = this.drain();
    }
  }

  /** Stops taking work and waits until everything accepted is written. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.running || this.queue.length) await this.idle;
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.length) {
        const jobs: Job[] = [];
        let size = 0;
        while (this.queue.length && (jobs.length === 0 || size + this.queue[0].size <= this.options.maxBatchSpans)) {
          const job = this.queue.shift() as Job;
          jobs.push(job);
          size += job.size;
        }
        await this.writeBatch(jobs);
        this.queued -= size;
        this.metrics.queueDepth.set(this.queued);
      }
    } finally {
      this.running = false;
    }
  }

  private async factsOf(tenant: string, traceId: string): Promise<TraceFacts> {
    const key = traceKey(tenant, traceId);
    const cached = this.cache.get(key);
    if (cached) {
      // Refresh its place in the LRU order.
      this.cache.delete(key);
      this.cache.set(key, cached);
      return cached;
    }
    const facts: TraceFacts = { records: [], recordKeys: new Set(), eventKeys: new Set() };
    if (this.known.has(key) && !this.store.sharedWriters) {
      facts.records = (await this.store.loadTrace(tenant, traceId)).map(withoutContent);
      for (const r of facts.records) facts.recordKeys.add(recordKey(r));
      for (const k of await this.store.loadEventKeys(tenant, traceId)) facts.eventKeys.add(k);
    }
    return facts;
  }

  private async writeBatch(jobs: Job[]): Promise<void> {
    const started = process.hrtime.bigint();
    const perJob: WriteResult[] = jobs.map(() => ({ stored: 0, duplicates: 0 }));
    const newSpans: SpanRecord[] = [];
    const newEvents: EventRecord[] = [];
    const touched = new Map<string, { tenant: string; traceId: string; facts: TraceFacts; added: SpanRecord[]; addedKeys: Set<string>; addedEvents: Set<string> }>();
    let loaded = new Map<string, StoredFacts>();

    try {
      const entry = async (tenant: string, traceId: string) => {
        const key = traceKey(tenant, traceId);
        let t = touched.get(key);
        if (!t) touched.set(key, (t = { tenant, traceId, facts: await this.factsOf(tenant, traceId), added: [], addedKeys: new Set(), addedEvents: new Set() }));
        return t;
      };
      for (let i = 0; i < jobs.length; i++) {
        for (const span of jobs[i].spans) {
          const t = await entry(span.tenant, span.traceId);
          const k = recordKey(span);
          if (t.facts.recordKeys.has(k) || t.addedKeys.has(k)) {
            perJob[i].duplicates++;
            continue;
          }
          t.added.push(span);
          t.addedKeys.add(k);
          newSpans.push(span);
          perJob[i].stored++;
        }
        for (const ev of jobs[i].events) {
          const t = await entry(ev.tenant, ev.traceId);
          if (t.facts.eventKeys.has(ev.key) || t.addedEvents.has(ev.key)) {
            perJob[i].duplicates++;
            continue;
          }
          t.addedEvents.add(ev.key);
          newEvents.push(ev);
          perJob[i].stored++;
        }
      }

      const derived: DerivedReplacement[] = [];
      for (const t of touched.values()) {
        if (t.added.length === 0 || this.store.sharedWriters) continue;
        // A trace not yet known has nothing in storage (cached traces are known): no rows to replace.
        derived.push(replacementOf(t.tenant, t.traceId, [...t.facts.records, ...t.added], { newTrace: !this.known.has(traceKey(t.tenant, t.traceId)) }));
      }

      if (newSpans.length || newEvents.length) await this.store.commit({ spans: newSpans, events: newEvents, derived });
      if (this.store.sharedWriters) loaded = await this.deriveFromStorage([...touched.values()].filter((t) => t.added.length));
    } catch (e) {
      // Nothing of this batch is stored and the caches were not changed: every request fails whole.
      const err = new StorageError(e as Error);
      for (const job of jobs) job.reject(err);
      return;
    }

    // Committed: now the in-memory facts may learn what storage has.
    for (const t of touched.values()) {
      const key = traceKey(t.tenant, t.traceId);
      const wasCached = this.cache.delete(key);
      if (wasCached) this.cachedSpans -= t.facts.records.length;
      const stored = loaded.get(key);
      if (stored) {
        // What storage holds (this batch's spans and other replicas'), not only what this replica saw.
        t.facts.records = stored.records;
        for (const r of stored.records) t.facts.recordKeys.add(recordKey(r));
      } else {
        for (const r of t.added) {
          t.facts.records.push(withoutContent(r));
          t.facts.recordKeys.add(recordKey(r));
        }
      }
      for (const k of t.addedEvents) t.facts.eventKeys.add(k);
      this.known.add(key);
      this.cache.set(key, t.facts);
      this.cachedSpans += t.facts.records.length;
    }
    this.evict();

    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    this.metrics.commitSeconds.observe(seconds);
    this.metrics.batchSize.observe(newSpans.length + newEvents.length);
    this.metrics.stored.inc({ kind: 'span' }, newSpans.length);
    this.metrics.stored.inc({ kind: 'event' }, newEvents.length);
    const dups = perJob.reduce((t, r) => t + r.duplicates, 0);
    if (dups) this.metrics.duplicates.inc(dups);
    jobs.forEach((job, i) => job.resolve(perJob[i]));
    if (newSpans.length || newEvents.length) {
      const tenants = new Set([...touched.values()].filter((t) => t.added.length || t.addedEvents.size).map((t) => t.tenant));
      for (const fn of this.commitListeners) {
        try {
          fn(tenants);
        } catch {
          /* a listener's failure must not fail ingest */
        }
      }
    }
  }

  /**
   * With shared writers, after the batch's spans are durable: each trace derived from its facts as
   * stored now, written with their version (the store keeps the highest). Returns the facts loaded.
   */
  private async deriveFromStorage(traces: { tenant: string; traceId: string }[]): Promise<Map<string, StoredFacts>> {
    const out = new Map<string, StoredFacts>();
    if (!traces.length) return out;
    if (!this.store.loadFacts) throw new Error(`the ${this.store.engine} store has shared writers but cannot load facts`);
    const facts = await this.store.loadFacts(traces.map((t) => ({ tenant: t.tenant, traceId: t.traceId })));
    const derived: DerivedReplacement[] = facts.map((f) => {
      out.set(traceKey(f.tenant, f.traceId), f);
      return replacementOf(f.tenant, f.traceId, f.records, { factsVersion: f.version });
    });
    await this.store.commit({ spans: [], events: [], derived });
    return out;
  }

  private evict(): void {
    for (const [key, facts] of this.cache) {
      if (this.cachedSpans <= this.cacheLimit) break;
      this.cache.delete(key);
      this.cachedSpans -= facts.records.length;
    }
  }
}
