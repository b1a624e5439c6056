/**
 * sessionStats against a real server with the hand-checked dataset (receptionist: LiveKit voice,
 * 120 s, 3 agent turns, 1 interrupted, latencies 0.8/1.0/1.2 s; tutor: native video, 240 s, 18 turns,
 * 3 interruptions, 850 ms), plus, in this server only, three native voice sessions of "concierge":
 * completed (120 s, 6 turns, 2 interruptions, 900 ms), dropped (60 s, 4 turns, 0, 700 ms) and one
 * still running (started 30 s before seeding).
 */
import { anchorMs, seedDataset, SeededDataset } from '../../test-support/dataset';
import { query, rows } from '../../test-support/query';
import { INGEST_KEY, postJson, READ_KEY, startTestServer, TestServer } from '../../test-support/server';
import { postOtlp, tracesJson } from '../../test-support/otlp';

let server: TestServer;
let data: SeededDataset;
const H = 3_600_000;

beforeAll(async () => {
  server = await startTestServer();
  data = await seedDataset(server.url, INGEST_KEY);
  const t = data.anchor + 8 * H;
  const res = await postJson(`${server.url}/api/v1/events`, INGEST_KEY, {
    events: [
      { type: 'session.started', sessionId: 'c-ok', agent: 'concierge', channel: 'voice', startTime: t },
      { type: 'session.finished', sessionId: 'c-ok', endTime: t + 120_000, turns: 6, interruptions: 2, avgResponseLatencyMs: 900 },
      { type: 'session.started', sessionId: 'c-drop', agent: 'concierge', channel: 'voice', startTime: t + H },
      { type: 'session.finished', sessionId: 'c-drop', endTime: t + H + 60_000, status: 'dropped', turns: 4, avgResponseLatencyMs: 700 },
      { type: 'session.started', sessionId: 'c-live', agent: 'concierge', channel: 'voice', startTime: data.now - 30_000 },
    ],
  });
  expect(res.status).toBe(200);
  // A LiveKit session still running: its turns have arrived, its agent_session span has not (so it
  // has no end). Two hours before the anchor, outside every other test's time range.
  const start = data.anchor - 2 * H;
  const traceId = 'feed0000000000000000000000000001';
  const session = 'feed000000000001';
  const turn = (i: number, latency: number, interrupted: boolean) => ({ traceId, spanId: `feed00000000010${i}`, parentSpanId: session, name: 'agent_turn', start: start + i * 20_000, end: start + i * 20_000 + 5_000, attributes: { 'lk.e2e_latency': latency, 'lk.interrupted': interrupted } });
  const otlp = await postOtlp(`${server.url}/v1/traces`, INGEST_KEY, JSON.stringify(tracesJson([turn(1, 0.6, false), turn(2, 0.9, true), turn(3, 1.5, false)], { 'service.name': 'doorman' })));
  expect(otlp.status).toBe(200);
});
afterAll(() => server.cleanup());

const stats = async (extra: Record<string, unknown> = {}) => {
  const res = await query(server.url, READ_KEY, [{ refId: 'A', queryType: 'sessionStats', timeRange: { from: anchorMs(data.now), to: data.now }, ...extra }]);
  expect(res.results.A.status).toBe(200);
  return res.results.A.frames[0];
};

describe('sessionStats', () => {
  it('by agent and channel: sessions, minutes, average duration, turns, interruption rate, latency percentiles, drop rate', async () => {
    const f = await stats();
    expect(f.schema.meta.preferredVisualisationType).toBe('table');
    const byAgent = Object.fromEntries(rows(f).map((r) => [r.Agent, r]));
    expect(Object.keys(byAgent)).toEqual(['concierge', 'receptionist', 'tutor']); // most sessions first
    expect(byAgent.receptionist).toMatchObject({
      Channel: 'voice',
      Sessions: 1,
      Minutes: 2, // 120 s
      'Avg duration': 120_000,
      Turns: 3,
      'Interruption rate': 1 / 3,
      // Over the three turns 800, 1000, 1200 ms: p50 1000; p95 at rank 0.95 x 2 = 1.9: 1000 + 0.9 x 200.
      'Response latency p50': 1000,
      'Response latency p95': 1180,
      'Drop/failure rate': 0,
    });
    expect(byAgent.tutor).toMatchObject({
      Channel: 'video',
      Sessions: 1,
      Minutes: 4, // 240 s
      'Avg duration': 240_000,
      Turns: 18,
      'Interruption rate': 3 / 18, // 1/6
      'Response latency p50': 850, // reported as the session's average, counted once
      'Response latency p95': 850,
      'Drop/failure rate': 0,
    });
    const c = byAgent.concierge;
    // Three sessions; minutes 2 + 1 + the running one's ~0.5 up to now; average over the two finished.
    expect(c).toMatchObject({ Channel: 'voice', Sessions: 3, Finished: 2, 'Avg duration': 90_000, Turns: 10, Interruptions: 2, 'Interruption rate': 0.2 });
    expect(c.Minutes as number).toBeGreaterThanOrEqual(3.5);
    expect(c.Minutes as number).toBeLessThan(4.5);
    // Latencies 700 and 900: p50 800; p95 700 + 0.95 x 200 = 890.
    expect(c['Response latency p50']).toBe(800);
    expect(c['Response latency p95']).toBeCloseTo(890, 6);
    expect(c['Drop/failure rate']).toBe(0.5); // 1 dropped of 2 finished; the running one is not counted
    const units = Object.fromEntries(f.schema.fields.map((x: any) => [x.name, x.config?.unit]));
    expect(units).toMatchObject({ 'Avg duration': 'ms', 'Interruption rate': 'percentunit', 'Response latency p95': 'ms', 'Drop/failure rate': 'percentunit' });
  });

  it('filters: channel, agent, status; dimensions sessions do not carry match through their spans', async () => {
    expect(rows(await stats({ filters: { channel: ['video'] } })).map((r) => r.Agent)).toEqual(['tutor']);
    expect(rows(await stats({ filters: { agent: ['receptionist', 'tutor'] } })).map((r) => r.Agent)).toEqual(['receptionist', 'tutor']);
    expect(rows(await stats({ filters: { status: ['failed'] } })).map((r) => [r.Agent, r.Sessions])).toEqual([['concierge', 1]]);
    expect(rows(await stats({ filters: { model: ['gpt-4o'] } }))).toEqual([]);
  });

  it('a running session (no end yet) takes all its turns for the response latency', async () => {
    const res = await query(server.url, READ_KEY, [{ refId: 'A', queryType: 'sessionStats', timeRange: { from: data.anchor - 3 * H, to: data.anchor - H } }]);
    expect(res.results.A.status).toBe(200);
    const r = rows(res.results.A.frames[0]);
    expect(r).toHaveLength(1);
    expect(r[0]).toMatchObject({ Channel: 'voice', Sessions: 1, Finished: 0, 'Avg duration': null, Turns: 3, Interruptions: 1 });
    // Latencies 600, 900, 1500 ms: p50 900; p95 at rank 0.95 x 2 = 1.9: 900 + 0.9 x 600 = 1440.
    expect(r[0]['Response latency p50']).toBe(900);
    expect(r[0]['Response latency p95']).toBeCloseTo(1440, 6);
  });

  it('the time range holds sessions by their start', async () => {
    const res = await query(server.url, READ_KEY, [{ refId: 'A', queryType: 'sessionStats', timeRange: { from: data.anchor + 5 * H, to: data.anchor + 5 * H + 1 } }]);
    expect(rows(res.results.A.frames[0]).map((r) => r.Agent)).toEqual(['receptionist']);
  });
});
