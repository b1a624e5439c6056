/**
 * Live streams across replicas: each server's hub hears of its own commits at once (the writer's
 * onCommit); commits of the other replicas sharing ClickHouse are found by polling the runs
 * table's changed_at (ClickHouse's clock at insert) every interval. The poll looks back over a
 * window longer than any insert takes to become visible, and reports a tenant when its latest
 * change moved on, so a commit is seen once even though the windows overlap.
 */
import { ChangeFeed } from '../../live/runs-hub';
import { ClickHouseStore } from './clickhouse-store';

export interface PollOptions {
  intervalMs: number;
  windowSeconds: number;
  onError?: (e: Error) => void;
}

export const POLL_DEFAULTS: PollOptions = { intervalMs: 500, windowSeconds: 30 };

export function pollingChangeFeed(store: Pick<ClickHouseStore, 'recentChanges'>, options: Partial<PollOptions> = {}): ChangeFeed {
  const o = { ...POLL_DEFAULTS, ...options };
  return (listener) => {
    const seen = new Map<string, number>();
    let first = true;
    let stopped = false;
    let timer: NodeJS.Timeout | null = null;
    const poll = async (): Promise<void> => {
      try {
        const latest = await store.recentChanges(o.windowSeconds);
        const changed = new Set<string>();
        for (const [tenant, at] of latest) {
          if ((seen.get(tenant) ?? 0) < at && !first) changed.add(tenant);
          seen.set(tenant, Math.max(at, seen.get(tenant) ?? 0));
        }
        first = false;
        if (changed.size && !stopped) listener(changed);
      } catch (e) {
        o.onError?.(e as Error);
      } finally {
        if (!stopped) {
          timer = setTimeout(() => void poll(), o.intervalMs);
          timer.unref();
        }
      }
    };
    void poll();
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    };
  };
}
