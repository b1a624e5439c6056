/**
 * Live playback and scheduling: spans end at their planned times, so a long run is visible as
 * running (children exported, agent span not yet) before it completes; backfill lands in the past.
 */
import { emitRun } from './emit';
import { SeededIdGenerator } from './ids';
import { Rng } from './random';
import { World } from './scenario';
import { diurnalFactor, TrafficScheduler } from './scheduler';
import { createInMemorySink } from './telemetry';

describe('realtime playback', () => {
  const T0 = Date.UTC(2026, 2, 10, 14, 0, 0);

  beforeEach(() => jest.useFakeTimers({ now: T0, doNotFake: ['nextTick', 'queueMicrotask'] }));
  afterEach(() => jest.useRealTimers());

  test('a long-running run streams its children before the agent span ends', async () => {
    const sink = createInMemorySink({ idGenerator: new SeededIdGenerator(new Rng('live')) });
    const r = emitRun(sink, 'otel-genai', { seed: 'long', agent: 'code-reviewer', longRunning: true, outcome: 'completed', realtime: true });
    expect(r.longRunning).toBe(true);
    const duration = (r.endTime as Date).getTime() - T0;
    expect(duration).toBeGreaterThan(120_000);
    expect(sink.spans()).toHaveLength(0); // everything lies in the future

    jest.advanceTimersByTime(60_000);
    const midway = sink.spans().map((s) => s.spanContext().spanId);
    expect(midway.length).toBeGreaterThan(0); // the first LLM call has been exported...
    expect(midway).not.toContain(r.rootSpanId); // ...while the run is still open: "running"

    jest.advanceTimersByTime(duration);
    await r.done;
    const all = sink.spans();
    expect(all).toHaveLength(r.spanCount);
    expect(all[all.length - 1].spanContext().spanId).toBe(r.traceRootSpanId); // the root ends last
    // Planned timestamps are kept exactly, whenever end() happens.
    const root = all.find((s) => s.spanContext().spanId === r.rootSpanId);
    expect(root?.endTime[0]).toBe(Math.floor((r.endTime as Date).getTime() / 1000));
  });

  test('cancel abandons spans that have not ended', async () => {
    const sink = createInMemorySink();
    const r = emitRun(sink, 'openinference', { seed: 'cancel', agent: 'code-reviewer', longRunning: true, outcome: 'completed', realtime: true });
    jest.advanceTimersByTime(30_000);
    const before = sink.spans().length;
    expect(r.pending()).toBeGreaterThan(0);
    r.cancel();
    await r.done;
    jest.advanceTimersByTime(3_600_000);
    expect(sink.spans()).toHaveLength(before);
  });
});

describe('scheduler', () => {
  test('backfill spreads runs over the past hours and exports them', async () => {
    const sink = createInMemorySink();
    const world = new World('backfill');
    const now = new Date(2026, 2, 11, 16, 0).getTime(); // a Wednesday afternoon: a fixed traffic level
    const scheduler = new TrafficScheduler(sink, world, {
      runsPerMinute: 30, durationSeconds: 0, backfillHours: 1, backfillRunsPerMinute: 5,
      conventions: [['otel-genai', 1], ['vercel-ai', 1]], voiceShare: 0.1, noiseShare: 0.05, verbose: false,
    }, () => undefined);
    const count = await scheduler.backfill(now);
    expect(count).toBeGreaterThan(50);
    expect(count).toBeLessThan(600);
    const starts = sink.spans().map((s) => s.startTime[0] * 1000);
    expect(Math.min(...starts)).toBeGreaterThanOrEqual(now - 3_600_000 - 1_000);
    const traces = new Set(sink.spans().map((s) => s.spanContext().traceId));
    expect(traces.size).toBeGreaterThan(count * 0.8);
    await scheduler.drain(0);
    expect(scheduler.inFlightCount()).toBe(0);
  });

  test('live traffic stops after the configured duration', async () => {
    const sink = createInMemorySink();
    const lines: string[] = [];
    const scheduler = new TrafficScheduler(sink, new World('live'), {
      runsPerMinute: 600, durationSeconds: 1, backfillHours: 0, backfillRunsPerMinute: 600,
      conventions: [['openllmetry', 1]], voiceShare: 0, noiseShare: 0, verbose: true,
    }, (line) => lines.push(line));
    const started = Date.now();
    await scheduler.runLive();
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(lines.filter((l) => l.startsWith('[demo] run ')).length).toBeGreaterThan(0);
    // Live runs end on timers: whatever is still open when we stop is abandoned.
    await scheduler.drain(0);
    expect(scheduler.inFlightCount()).toBe(0);
  });

  test('traffic follows a daily rhythm', () => {
    const afternoon = new Date(2026, 2, 11, 14, 0).getTime(); // a Wednesday
    const night = new Date(2026, 2, 11, 3, 0).getTime();
    const saturday = new Date(2026, 2, 14, 14, 0).getTime();
    expect(diurnalFactor(afternoon)).toBeGreaterThan(diurnalFactor(night) * 3);
    expect(diurnalFactor(saturday)).toBeCloseTo(diurnalFactor(afternoon) / 2, 5);
  });
});
