/**
 * Variable values and ad hoc filter keys, against a real server with the hand-checked dataset
 * (test-support/dataset.ts): runs of support-triage (1-3), research-assistant (4, 5), billing-bot
 * (6, A+25h); a LiveKit session of receptionist (service front-desk) and a native video session of
 * tutor.
 */
import { DIMENSIONS } from '@agent-insights/model';
import { seedDataset, SeededDataset } from '../test-support/dataset';
import { bearer, INGEST_KEY, READ_KEY, startTestServer, TestServer } from '../test-support/server';

let server: TestServer;
let data: SeededDataset;

beforeAll(async () => {
  server = await startTestServer();
  data = await seedDataset(server.url, INGEST_KEY);
});
afterAll(() => server.cleanup());

async function get(path: string, key = READ_KEY): Promise<{ status: number; body: any }> {
  const res = await fetch(`${server.url}${path}`, { headers: bearer(key) });
  return { status: res.status, body: await res.json() };
}
const values = async (path: string) => {
  const res = await get(`/api/v1/values/${path}`);
  expect(res.status).toBe(200);
  return res.body.values;
};

describe('GET /api/v1/values/:dimension', () => {
  it('distinct, sorted values of runs and sessions, in the time range', async () => {
    expect(await values('agent')).toEqual(['billing-bot', 'receptionist', 'research-assistant', 'support-triage', 'tutor']);
    // The first day after the anchor: runs 1-4, both sessions; not billing-bot (A+25h) nor run 5 (now).
    const day = `from=${data.anchor}&to=${data.anchor + 86_400_000}`;
    expect(await values(`agent?${day}`)).toEqual(['receptionist', 'research-assistant', 'support-triage', 'tutor']);
    expect(await values(`agent?from=${new Date(data.anchor + 25 * 3_600_000).toISOString()}`)).toEqual(['billing-bot', 'research-assistant']);
    expect(await values('model')).toEqual(['claude-sonnet-4', 'gpt-4o', 'gpt-4o-mini']);
    expect(await values('provider')).toEqual(['anthropic', 'openai']);
    expect(await values('environment')).toEqual(['production', 'staging']);
    expect(await values('channel')).toEqual(['text', 'video', 'voice']);
    expect(await values('service')).toEqual(['billing-bot-svc', 'front-desk', 'research-assistant-svc', 'support-triage-svc']);
    expect(await values('conversation')).toEqual(['c1', 'c2', 'c3', 'c4']);
    expect(await values('agentVersion')).toEqual([]);
    expect(await values('status')).toEqual(['completed', 'failed', 'running', 'timed_out']);
  });

  it('narrowed by the other filters, as repeated parameters or JSON; a filter on the dimension itself is ignored', async () => {
    expect(await values('tool?agent=support-triage')).toEqual(['create_ticket', 'lookup_order']);
    expect(await values('tool?agent=research-assistant')).toEqual(['web_search']);
    expect(await values('tool?agent=support-triage&agent=research-assistant')).toEqual(['create_ticket', 'lookup_order', 'web_search']);
    expect(await values('tool?status=failed')).toEqual(['lookup_order']);
    expect(await values('model?environment=staging')).toEqual(['gpt-4o-mini']);
    expect(await values(`model?filters=${encodeURIComponent(JSON.stringify({ agent: ['billing-bot'] }))}`)).toEqual(['gpt-4o']);
    expect(await values('conversation?user=u1')).toEqual(['c1', 'c4']);
    expect(await values('user?agent=support-triage')).toEqual(['u1', 'u2']);
    expect(await values('agent?channel=video')).toEqual(['tutor']);
    expect(await values('agent?tool=web_search')).toEqual(['research-assistant']);
    expect(await values('agent?agent=billing-bot')).toEqual(['billing-bot', 'receptionist', 'research-assistant', 'support-triage', 'tutor']);
    expect(await values('agent?agent=$__all&environment=staging')).toEqual(['support-triage']);
    expect(await values('agent?limit=2')).toEqual(['billing-bot', 'receptionist']);
  });

  it('400 for an unknown dimension, parameter or closed value, naming what is allowed', async () => {
    const unknown = await get('/api/v1/values/latency');
    expect(unknown).toEqual({ status: 400, body: { error: `unknown dimension "latency"; allowed: ${DIMENSIONS.join(', ')}` } });
    expect(await get('/api/v1/values/agent?status=done')).toEqual({ status: 400, body: { error: 'filters.status: unknown value(s) "done"; allowed: running, completed, failed, timed_out' } });
    expect((await get('/api/v1/values/agent?colour=red')).body.error).toMatch(/^unknown parameter "colour"; allowed: from, to, limit, filters, agent, /);
    expect((await get('/api/v1/values/agent?from=yesterday')).status).toBe(400);
    expect((await get('/api/v1/values/agent?filters=nope')).status).toBe(400);
  });

  it('needs the read scope, and shows one tenant its own values only', async () => {
    expect((await get('/api/v1/values/agent', INGEST_KEY)).status).toBe(403);
    expect(await get('/api/v1/values/agent', server.other.read)).toEqual({ status: 200, body: { values: [] } });
  });
});

describe('GET /api/v1/values', () => {
  it('the ad hoc filter keys: every dimension with its label', async () => {
    const res = await get('/api/v1/values');
    expect(res.status).toBe(200);
    expect(res.body.keys.map((k: any) => k.key)).toEqual([...DIMENSIONS]);
    expect(res.body.keys[0]).toEqual({ key: 'agent', label: 'Agent' });
    expect(res.body.keys.find((k: any) => k.key === 'agentVersion')).toEqual({ key: 'agentVersion', label: 'Agent version' });
  });
});
