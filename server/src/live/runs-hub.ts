/**
 * Live runs: complete snapshots of the runs table for every open stream (design.md, "The live
 * stream sends complete snapshots of the runs table"; Grafana Live then replaces the table,
 * StreamingFrameAction.Replace).
 *
 * Streams asking for the same thing (tenant, filters, limit, range, search) share one feed: one
 * query per refresh, whatever the number of watchers. A feed refreshes
 * - at once when its first stream opens (a later stream gets the feed's last snapshot at once);
 * - every tick (1 s) while a run in its snapshot is running, so that durations tick;
 * - shortly (debounce, well within a second) after a commit that touched its tenant;
 * - every heartbeat interval (15 s) otherwise, since a relative time range moves on by itself.
 * A snapshot equal to the last one sent is not sent again; a stream that received nothing for a
 * heartbeat interval gets a heartbeat, so that proxies keep the connection open.
 *
 * What a snapshot is (the runs capability) and where changes come from (the ingest writer's
 * commits) are given to the hub, not known by it: with several replicas sharing ClickHouse
 * (issue 6) commits of other replicas arrive through another change feed (or by polling), and the
 * hub stays as it is.
 */
import { Filters } from '@agent-insights/model';

export interface StreamParams {
  filters: Filters;
  limit: number;
  /** The snapshot holds runs started in the last rangeMs. */
  rangeMs: number;
  search?: string;
}

export interface Snapshot {
  /** The frame JSON to send. */
  json: string;
  /** A run of the snapshot is running: refresh every tick. */
  running: boolean;
}

export type SnapshotFn = (tenant: string, params: StreamParams, nowMs: number) => Promise<Snapshot>;

/** Subscribes to changes of stored data: the listener gets the tenants changed. Returns unsubscribe. */
export type ChangeFeed = (listener: (tenants: ReadonlySet<string>) => void) => () => void;

/** Where one stream's output goes (the SSE response). */
export interface StreamSink {
  snapshot(json: string): void;
  heartbeat(): void;
  error(message: string): void;
  /** The hub is closing (server stop): end the stream. */
  end(): void;
}

export interface LiveRunsOptions {
  tickMs: number;
  heartbeatMs: number;
  /** Wait after a commit before refreshing, so that a burst of commits makes one refresh. */
  debounceMs: number;
}

export const LIVE_DEFAULTS: LiveRunsOptions = { tickMs: 1000, heartbeatMs: 15_000, debounceMs: 100 };

interface Feed {
  key: string;
  tenant: string;
  params: StreamParams;
  sinks: Set<StreamSink>;
  last: string | null;
  running: boolean;
  /** A refresh is under way; another was asked for meanwhile. */
  busy: boolean;
  again: boolean;
  /** When a refresh last found new data or the feed last wrote anything, per sink below. */
  lastWrite: Map<StreamSink, number>;
  lastRefresh: number;
  ticker: NodeJS.Timeout;
  debounce: NodeJS.Timeout | null;
}

/** Filters in a canonical order, so that equal subscriptions share a feed. */
function feedKey(tenant: string, p: StreamParams): string {
  const filters = Object.keys(p.filters)
    .sort()
    .map((k) => [k, [...(p.filters[k as keyof Filters] ?? [])].sort()]);
  return JSON.stringify([tenant, filters, p.limit, p.rangeMs, p.search ?? '']);
}

export class LiveRuns {
  private readonly feeds = new Map<string, Feed>();
  private readonly stopChanges: () => void;
  private closed = false;
  private readonly options: LiveRunsOptions;

  constructor(
    private readonly snapshot: SnapshotFn,
    changes: ChangeFeed,
    options: Partial<LiveRunsOptions> = {},
    private readonly now: () => number = Date.now,
  ) {
    this.options = { ...LIVE_DEFAULTS, ...options };
    this.stopChanges = changes((tenants) => this.changed(tenants));
  }

  /** Open streams (for tests and metrics). */
  get size(): number {
    let n = 0;
    for (const f of this.feeds.values()) n += f.sinks.size;
    return n;
  }

  /** Feeds (distinct subscriptions) being refreshed. */
  get feedCount(): number {
    return this.feeds.size;
  }

  /** Opens a stream; returns the function that closes it (client gone). */
  subscribe(tenant: string, params: StreamParams, sink: StreamSink): () => void {
    if (this.closed) {
      sink.end();
      return () => undefined;
    }
    const key = feedKey(tenant, params);
    let feed = this.feeds.get(key);
    if (!feed) {
      const f: Feed = {
        key,
        tenant,
        params,
        sinks: new Set(),
        last: null,
        running: false,
        busy: false,
        again: false,
        lastWrite: new Map(),
        lastRefresh: 0,
        ticker: setInterval(() => this.tick(f), this.options.tickMs),
        debounce: null,
      };
      this.feeds.set(key, (feed = f));
      feed.sinks.add(sink);
      feed.lastWrite.set(sink, this.now());
      void this.refresh(feed);
    } else {
      feed.sinks.add(sink);
      feed.lastWrite.set(sink, this.now());
      if (feed.last !== null) sink.snapshot(feed.last);
      else if (!feed.busy) void this.refresh(feed);
    }
    const f = feed;
    return () => this.unsubscribe(f, sink);
  }

  /** Ends every stream and stops listening (server stop). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopChanges();
    for (const feed of this.feeds.values()) {
      this.stop(feed);
      for (const sink of feed.sinks) sink.end();
      feed.sinks.clear();
    }
    this.feeds.clear();
  }

  private unsubscribe(feed: Feed, sink: StreamSink): void {
    feed.sinks.delete(sink);
    feed.lastWrite.delete(sink);
    if (feed.sinks.size === 0 && this.feeds.get(feed.key) === feed) {
      this.stop(feed);
      this.feeds.delete(feed.key);
    }
  }

  private stop(feed: Feed): void {
    clearInterval(feed.ticker);
    if (feed.debounce) clearTimeout(feed.debounce);
    feed.debounce = null;
  }

  private changed(tenants: ReadonlySet<string>): void {
    for (const feed of this.feeds.values()) {
      if (!tenants.has(feed.tenant) || feed.debounce) continue;
      feed.debounce = setTimeout(() => {
        feed.debounce = null;
        void this.refresh(feed);
      }, this.options.debounceMs);
    }
  }

  private tick(feed: Feed): void {
    const now = this.now();
    if (feed.running || now - feed.lastRefresh >= this.options.heartbeatMs) {
      void this.refresh(feed);
      return;
    }
    this.heartbeats(feed, now);
  }

  private heartbeats(feed: Feed, now: number): void {
    for (const [sink, at] of feed.lastWrite) {
      if (now - at < this.options.heartbeatMs) continue;
      sink.heartbeat();
      feed.lastWrite.set(sink, now);
    }
  }

  private async refresh(feed: Feed): Promise<void> {
    if (feed.busy) {
      feed.again = true;
      return;
    }
    feed.busy = true;
    try {
      const now = this.now();
      feed.lastRefresh = now;
      let snap: Snapshot | null = null;
      try {
        snap = await this.snapshot(feed.tenant, feed.params, now);
      } catch (e) {
        for (const sink of feed.sinks) sink.error(`the runs snapshot failed: ${(e as Error).message}`);
        // Try again at the next tick.
        feed.running = true;
      }
      if (snap && !this.closed && this.feeds.get(feed.key) === feed) {
        feed.running = snap.running;
        if (snap.json !== feed.last) {
          feed.last = snap.json;
          const at = this.now();
          for (const sink of feed.sinks) {
            sink.snapshot(snap.json);
            feed.lastWrite.set(sink, at);
          }
        }
        this.heartbeats(feed, this.now());
      }
    } finally {
      feed.busy = false;
      if (feed.again && !this.closed && this.feeds.get(feed.key) === feed) {
        feed.again = false;
        void this.refresh(feed);
      }
    }
  }
}
