/**
 * The live hub's timing rules with a stand-in snapshot and change feed (short intervals): at once
 * on subscribe, every tick while running, shortly after a change, heartbeats when idle, one feed
 * per subscription, clean ends.
 */
import { LiveRuns, Snapshot, StreamParams, StreamSink } from './runs-hub';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Waits until cond holds (a busy machine may delay timers), failing after timeoutMs. */
async function waitFor(cond: () => boolean, timeoutMs = 2000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await sleep(5);
  }
}

class Recorder implements StreamSink {
  events: { kind: 'snapshot' | 'heartbeat' | 'error' | 'end'; data?: string; at: number }[] = [];
  snapshot(json: string) {
    this.events.push({ kind: 'snapshot', data: json, at: Date.now() });
  }
  heartbeat() {
    this.events.push({ kind: 'heartbeat', at: Date.now() });
  }
  error(message: string) {
    this.events.push({ kind: 'error', data: message, at: Date.now() });
  }
  end() {
    this.events.push({ kind: 'end', at: Date.now() });
  }
  of(kind: string) {
    return this.events.filter((e) => e.kind === kind);
  }
}

function setup(state: { json: string; running: boolean; fail?: boolean }) {
  let listener: ((tenants: ReadonlySet<string>) => void) | null = null;
  const calls: { tenant: string; params: StreamParams }[] = [];
  const snapshot = async (tenant: string, params: StreamParams): Promise<Snapshot> => {
    calls.push({ tenant, params });
    if (state.fail) throw new Error('storage down');
    return { json: state.json, running: state.running };
  };
  const hub = new LiveRuns(snapshot, (l) => {
    listener = l;
    return () => (listener = null);
  }, { tickMs: 50, heartbeatMs: 300, debounceMs: 10 });
  return { hub, calls, commit: (...tenants: string[]) => listener?.(new Set(tenants)), listening: () => listener !== null };
}

const params = (agent?: string): StreamParams => ({ filters: agent ? { agent: [agent] } : {}, limit: 100, rangeMs: 3_600_000 });

describe('LiveRuns', () => {
  it('sends a snapshot at once, then every tick while a run runs, and only changes once nothing runs', async () => {
    const state = { json: '{"n":0}', running: true };
    const { hub } = setup(state);
    const sink = new Recorder();
    const stop = hub.subscribe('acme', params(), sink);
    await waitFor(() => sink.of('snapshot').length === 1);
    expect(sink.of('snapshot').map((e) => e.data)).toEqual(['{"n":0}']);
    // Durations tick: each refresh gives a new snapshot.
    for (let i = 1; i <= 3; i++) {
      state.json = `{"n":${i}}`;
      await waitFor(() => sink.of('snapshot').length === i + 1);
    }
    expect(sink.of('snapshot').map((e) => e.data)).toEqual(['{"n":0}', '{"n":1}', '{"n":2}', '{"n":3}']);
    // Nothing running and nothing changed: no more snapshots.
    state.running = false;
    await sleep(120);
    const count = sink.of('snapshot').length;
    await sleep(150);
    expect(sink.of('snapshot')).toHaveLength(count);
    stop();
    hub.close();
  });

  it('refreshes shortly after a commit of its tenant, not of another', async () => {
    const state = { json: '{"v":1}', running: false };
    const { hub, calls, commit } = setup(state);
    const sink = new Recorder();
    hub.subscribe('acme', params(), sink);
    await sleep(5);
    const before = calls.length;
    state.json = '{"v":2}';
    commit('globex');
    await sleep(40);
    expect(calls.length).toBe(before);
    const t0 = Date.now();
    commit('acme');
    commit('acme'); // a burst makes one refresh
    await waitFor(() => calls.length > before);
    await sleep(20);
    expect(calls.length).toBe(before + 1);
    const last = sink.of('snapshot').at(-1)!;
    expect(last.data).toBe('{"v":2}');
    expect(last.at - t0).toBeLessThan(1000);
    hub.close();
  });

  it('idle: a heartbeat when nothing was sent for the heartbeat interval', async () => {
    const { hub } = setup({ json: '{}', running: false });
    const sink = new Recorder();
    hub.subscribe('acme', params(), sink);
    await sleep(200);
    expect(sink.of('heartbeat')).toHaveLength(0);
    await waitFor(() => sink.of('heartbeat').length >= 1);
    expect(sink.of('snapshot')).toHaveLength(1);
    hub.close();
  });

  it('streams asking the same share one feed; the second gets the last snapshot at once', async () => {
    const { hub, calls } = setup({ json: '{"same":true}', running: false });
    const a = new Recorder();
    const b = new Recorder();
    const c = new Recorder();
    const stopA = hub.subscribe('acme', { ...params(), filters: { agent: ['x', 'y'], tool: ['t'] } }, a);
    await waitFor(() => a.of('snapshot').length === 1);
    const stopB = hub.subscribe('acme', { ...params(), filters: { tool: ['t'], agent: ['y', 'x'] } }, b);
    const stopC = hub.subscribe('acme', params('other'), c);
    await sleep(5);
    expect(b.of('snapshot').map((e) => e.data)).toEqual(['{"same":true}']);
    expect(hub.feedCount).toBe(2);
    expect(hub.size).toBe(3);
    expect(calls.filter((x) => x.params.filters.tool)).toHaveLength(1);
    stopA();
    stopB();
    expect(hub.feedCount).toBe(1);
    stopC();
    expect(hub.feedCount).toBe(0);
    const n = calls.length;
    await sleep(120);
    expect(calls.length).toBe(n); // stopped feeds query nothing
    hub.close();
  });

  it('a failed refresh is an error event, retried at the next tick', async () => {
    const state = { json: '{"ok":1}', running: false, fail: true };
    const { hub } = setup(state);
    const sink = new Recorder();
    hub.subscribe('acme', params(), sink);
    await waitFor(() => sink.of('error').length > 0);
    expect(sink.of('error')[0].data).toBe('the runs snapshot failed: storage down');
    state.fail = false;
    await waitFor(() => sink.of('snapshot').length > 0);
    expect(sink.of('snapshot').map((e) => e.data)).toEqual(['{"ok":1}']);
    hub.close();
  });

  it('close ends every stream and stops listening for changes', async () => {
    const { hub, listening } = setup({ json: '{}', running: true });
    const a = new Recorder();
    const b = new Recorder();
    hub.subscribe('acme', params(), a);
    hub.subscribe('acme', params('x'), b);
    await sleep(5);
    hub.close();
    expect(a.of('end')).toHaveLength(1);
    expect(b.of('end')).toHaveLength(1);
    expect(listening()).toBe(false);
    expect(hub.size).toBe(0);
    const n = a.events.length;
    await sleep(80);
    expect(a.events).toHaveLength(n);
    const late = new Recorder();
    hub.subscribe('acme', params(), late);
    expect(late.of('end')).toHaveLength(1);
  });
});
