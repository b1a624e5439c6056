/**
 * The query API against a real server with the hand-checked dataset: the response shape the Go
 * SDK reads, per-query errors, and the runs table.
 */
import { anchorMs, runIdOf, seedDataset, SeededDataset } from '../test-support/dataset';
import { column, query, rows } from '../test-support/query';
import { INGEST_KEY, READ_KEY, startTestServer, TestServer } from '../test-support/server';

let server: TestServer;
let data: SeededDataset;
beforeAll(async () => {
  server = await startTestServer();
  data = await seedDataset(server.url, INGEST_KEY);
});
afterAll(() => server.cleanup());

const range = () => ({ from: anchorMs(data.now), to: data.now });

describe('POST /api/v1/query', () => {
  it('answers each refId on its own: frames for a good query, a 400 for a bad one', async () => {
    const res = await query(server.url, READ_KEY, [
      { refId: 'A', queryType: 'runs', timeRange: range() },
      { refId: 'B', queryType: 'timeSeries', metric: 'latency', timeRange: range() },
    ]);
    expect(res.status).toBe(200);
    expect(res.results.A.status).toBe(200);
    expect(res.results.A.frames[0].schema.refId).toBe('A');
    expect(res.results.B).toEqual({ status: 400, error: expect.stringMatching(/^metric: unknown value "latency"; allowed: runs/), errorSource: 'plugin' });
  });

  it('needs the read scope and a body of queries', async () => {
    expect((await query(server.url, INGEST_KEY, [])).status).toBe(403);
    const bad = await fetch(`${server.url}/api/v1/query`, { method: 'POST', headers: { authorization: `Bearer ${READ_KEY}`, 'content-type': 'application/json' }, body: '{"query": {}}' });
    expect(bad.status).toBe(400);
  });

  it('a query without a time range is that query\'s error', async () => {
    const res = await query(server.url, READ_KEY, [{ refId: 'A', queryType: 'runs' }]);
    expect(res.results.A).toMatchObject({ status: 400, error: 'timeRange: is required ({from, to} in epoch milliseconds)' });
  });
});

describe('runs table', () => {
  it('lists runs newest first with status, duration up to now, counts, tokens and cost', async () => {
    const res = await query(server.url, READ_KEY, [{ refId: 'A', queryType: 'runs', timeRange: range() }]);
    const f = res.results.A.frames[0];
    const r = rows(f);
    expect(r.map((x) => x.Run)).toEqual([`${'da7a5e7' + (5).toString(16).padStart(25, '0')}`, runIdOf(6), runIdOf(4), runIdOf(3), runIdOf(2), runIdOf(1)]);
    expect(r.map((x) => x.Status)).toEqual(['running', 'completed', 'completed', 'timed_out', 'failed', 'completed']);
    expect(r[1]).toMatchObject({ Agent: 'billing-bot', Duration: 2000, 'Tool calls': 0, 'LLM calls': 1, Tokens: 330, Environment: 'production', Conversation: 'c4', User: 'u1' });
    expect(r[2]).toMatchObject({ Agent: 'research-assistant', 'Tool calls': 3, Tokens: 1500, Cost: 0.02, Models: 'claude-sonnet-4' });
    expect(r[3]).toMatchObject({ Error: 'TimeoutError', 'Error message': 'agent deadline exceeded' });
    expect(r[0].Duration as number).toBeGreaterThanOrEqual(59_000); // running: up to now
    expect(f.schema.fields.find((x: any) => x.name === 'Started').typeInfo).toEqual({ frame: 'time.Time' });
    expect(f.schema.fields.find((x: any) => x.name === 'Cost').typeInfo).toEqual({ frame: 'float64', nullable: true });
    expect(f.schema.meta.preferredVisualisationType).toBe('table');
  });

  it('filters by agent, environment, status and tool (multi-valued), and finds a run by conversation', async () => {
    const ids = async (q: Record<string, unknown>) => column((await query(server.url, READ_KEY, [{ refId: 'A', queryType: 'runs', timeRange: range(), ...q }])).results.A.frames[0], 'Run');
    expect(await ids({ filters: { agent: ['support-triage'], environment: ['staging'] } })).toEqual([runIdOf(3)]);
    expect(await ids({ filters: { status: ['failed', 'timed_out'] } })).toEqual([runIdOf(3), runIdOf(2)]);
    expect(await ids({ filters: { tool: ['create_ticket'] } })).toEqual([runIdOf(1)]);
    expect(await ids({ filters: { agent: ['$__all'], model: ['gpt-4o-mini'] } })).toEqual([runIdOf(3)]);
    expect(await ids({ search: 'c1' })).toEqual([runIdOf(2), runIdOf(1)]);
    expect(await ids({ search: runIdOf(4) })).toEqual([runIdOf(4)]);
    expect(await ids({ limit: 2 })).toHaveLength(2);
  });
});
