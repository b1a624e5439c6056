/**
 * Identical queries answered once. A dashboard often asks the same query from several panels (the
 * Tools dashboard draws nine panels from one toolMetrics query), and Grafana sends each panel as
 * its own request, a few at a time. Here a query that is already running is joined rather than
 * run again, and a finished answer is reused for a short while, but only while the store reports
 * that nothing was written since (writeGeneration): a reused answer is never older than the data.
 *
 * A store that cannot tell (ClickHouse, where other replicas write too) gets only the joining of
 * queries in flight, which needs no such promise.
 */
import { Store } from '../store/store';
import { FrameJson } from './frame';

interface Entry {
  answer: Promise<FrameJson[]>;
  /** The store's write generation when the query started; undefined when it cannot tell. */
  generation: number | undefined;
  nowMs: number;
  done: boolean;
  failed: boolean;
}

export class SharedAnswers {
  private readonly entries = new Map<string, Entry>();

  constructor(
    /** How long a finished answer may be reused; "now" of the reusing query may differ by this much. */
    private readonly maxAgeMs = 2000,
    private readonly maxEntries = 500,
  ) {}

  /**
   * The frames of `run()`, or of an identical query (same key) that is running or finished
   * recently with nothing written since. Each caller gets its own copy, so callers can set their
   * refId on the frames.
   */
  async answer(store: Store, key: string, nowMs: number, run: () => Promise<FrameJson[]>): Promise<FrameJson[]> {
    const generation = store.writeGeneration?.();
    const found = this.entries.get(key);
    if (found && this.reusable(found, generation, nowMs)) return structuredClone(await found.answer);

    const entry: Entry = { answer: run(), generation, nowMs, done: false, failed: false };
    this.entries.set(key, entry);
    this.evict();
    entry.answer.then(
      () => {
        entry.done = true;
        // Without a write generation a finished answer cannot be trusted for later callers.
        if (generation === undefined && this.entries.get(key) === entry) this.entries.delete(key);
      },
      () => {
        entry.failed = true;
        if (this.entries.get(key) === entry) this.entries.delete(key);
      },
    );
    return structuredClone(await entry.answer);
  }

  private reusable(e: Entry, generation: number | undefined, nowMs: number): boolean {
    if (e.failed || Math.abs(nowMs - e.nowMs) > this.maxAgeMs) return false;
    // A query in flight started from the same data as far as any caller can know.
    if (!e.done) return e.generation === generation;
    return generation !== undefined && e.generation === generation;
  }

  /** Drops the oldest entries (Map keeps insertion order) beyond the limit. */
  private evict(): void {
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }
}
