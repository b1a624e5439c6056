/**
 * The native JSON API: a platform reports a run as running, its steps, and its end; sessions;
 * invalid events are rejected with messages naming the field, valid ones in the same request kept.
 */
import { getJson, INGEST_KEY, postJson, READ_KEY, startTestServer, TestServer, ADMIN_KEY } from '../test-support/server';
import { postOtlp, spanId, traceId, tracesJson } from '../test-support/otlp';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.cleanup());

const events = (body: unknown) => postJson(`${server.url}/api/v1/events`, INGEST_KEY, body);
const runs = async (q = '') => (await getJson<{ runs: any[] }>(`${server.url}/api/v1/runs?limit=1000${q}`, READ_KEY)).runs;

describe('runs reported natively', () => {
  it('running, then steps, then finished; retried events change nothing', async () => {
    const start = Date.now() - 60_000;
    const started = { type: 'run.started', runId: 'job-42', agent: 'invoice-bot', agentVersion: '1.4.0', startTime: new Date(start).toISOString(), conversationId: 'conv-42', userId: 'user-9', environment: 'staging' };
    expect((await events(started)).status).toBe(200);
    let run = (await runs('&runId=job-42'))[0];
    expect(run).toMatchObject({ runId: 'job-42', agent: 'invoice-bot', status: 'running', endTime: null, conversationId: 'conv-42' });
    expect(run.durationMs).toBeGreaterThanOrEqual(60_000); // up to now while running

    const steps = [
      { type: 'step', runId: 'job-42', stepId: 's1', kind: 'llm', name: 'gpt-4o-mini', provider: 'openai', startTime: start + 1000, endTime: start + 2000, tokens: { input: 500, output: 40, cached: 100 }, input: 'Summarise invoice', output: 'Total 30 EUR', reasoning: 'Find the total line.' },
      { type: 'step', runId: 'job-42', stepId: 's2', kind: 'tool', name: 'fetch_invoice', startTime: start + 2000, endTime: start + 2500, status: 'error', error: { type: 'HTTPError', message: '502 from billing' } },
    ];
    const res = await events({ events: steps });
    expect(res.body).toMatchObject({ accepted: 2, stored: 2, rejected: [] });
    const finished = { type: 'run.finished', runId: 'job-42', endTime: start + 5000, status: 'failed', error: { type: 'HTTPError', message: 'billing unavailable' } };
    expect((await events(finished)).status).toBe(200);
    // Retries of everything: no change.
    const retry = await events({ events: [started, ...steps, finished] });
    expect(retry.body).toMatchObject({ accepted: 4, stored: 0, duplicates: 4 });

    run = (await runs('&runId=job-42'))[0];
    expect(run).toMatchObject({ agent: 'invoice-bot', agentVersion: '1.4.0', status: 'failed', errorType: 'HTTPError', errorMessage: 'billing unavailable', llmCalls: 1, toolCalls: 1, inputTokens: 500, outputTokens: 40, cachedTokens: 100, durationMs: 5000, environment: 'staging' });
    const detail = await getJson<any>(`${server.url}/api/v1/runs/job-42`, READ_KEY);
    expect(detail.steps.map((s: any) => [s.role, s.name, s.status])).toEqual([
      ['agent', 'run invoice-bot', 'error'],
      ['llm', 'gpt-4o-mini', 'ok'],
      ['tool', 'fetch_invoice', 'error'],
    ]);
    expect(detail.steps[1]).toMatchObject({ input: 'Summarise invoice', output: 'Total 30 EUR', reasoning: 'Find the total line.', model: 'gpt-4o-mini' });
  });

  it('a timed-out run, and OTLP spans of the same run meeting the native events by trace and span id', async () => {
    const tid = traceId();
    const sid = spanId();
    const t0 = Date.now() - 10_000;
    await events({ type: 'run.started', runId: 'ignored', traceId: tid, spanId: sid, agent: 'mixed', startTime: t0 });
    await postOtlp(
      `${server.url}/v1/traces`,
      INGEST_KEY,
      JSON.stringify(tracesJson([{ traceId: tid, spanId: spanId(), parentSpanId: sid, name: 'chat gpt-4o', start: t0 + 10, end: t0 + 500, attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'gpt-4o', 'gen_ai.usage.input_tokens': 7, 'gen_ai.usage.output_tokens': 3 } }])),
    );
    let run = (await runs()).find((r) => r.traceId === tid);
    expect(run).toMatchObject({ runId: `${tid}-${sid}`, status: 'running', llmCalls: 1, totalTokens: 10, agent: 'mixed' });
    await events({ type: 'run.finished', runId: 'ignored', traceId: tid, spanId: sid, endTime: t0 + 9000, status: 'timed_out' });
    run = (await runs()).find((r) => r.traceId === tid);
    expect(run).toMatchObject({ status: 'timed_out', errorType: 'timeout' });
  });
});

describe('sessions reported natively', () => {
  it('a video session with its statistics', async () => {
    const t0 = Date.now() - 300_000;
    await events({ events: [
      { type: 'session.started', sessionId: 'vid-1', agent: 'tutor', channel: 'video', startTime: t0, userId: 'student-3' },
      { type: 'session.finished', sessionId: 'vid-1', endTime: t0 + 240_000, turns: 18, interruptions: 3, avgResponseLatencyMs: 850, endReason: 'user_left', cost: 0.42 },
    ] });
    const sessions = (await getJson<{ sessions: any[] }>(`${server.url}/api/v1/sessions`, READ_KEY)).sessions;
    expect(sessions.find((s) => s.sessionId === 'vid-1')).toMatchObject({ agent: 'tutor', channel: 'video', status: 'completed', turns: 18, interruptions: 3, avgLatencyMs: 850, endReason: 'user_left', cost: 0.42, durationMs: 240_000, userId: 'student-3' });
  });
});

describe('validation', () => {
  it('names the bad field and the allowed values, and keeps the valid events of the batch', async () => {
    const res = await events({ events: [
      { type: 'run.started', runId: 'ok-1', agent: 'a', startTime: Date.now() },
      { type: 'run.finished', runId: 'bad-1', endTime: 'yesterday', status: 'done' },
      { type: 'run.exploded', runId: 'bad-2' },
      { type: 'step', runId: 'x', stepId: 'y', kind: 'tool', name: 't', startTime: 1, endTime: 2, unexpected: true },
    ] });
    expect(res.status).toBe(200);
    expect(res.body.accepted).toBe(1);
    const errors = Object.fromEntries(res.body.rejected.map((r: any) => [r.index, r.error]));
    expect(errors[1]).toMatch(/events\[1\]\.endTime: must be an ISO 8601 time or epoch milliseconds/);
    expect(errors[1]).toMatch(/events\[1\]\.status: .*"completed".*"failed".*"timed_out"/);
    expect(errors[2]).toMatch(/events\[2\]\.type: .*run\.started.*session\.finished/);
    expect(errors[3]).toMatch(/unexpected/);
    expect((await runs('&runId=ok-1'))).toHaveLength(1);
  });

  it('all invalid: 400; not JSON: 400; wrong content type: 415', async () => {
    expect((await events({ type: 'nope' })).status).toBe(400);
    const notJson = await fetch(`${server.url}/api/v1/events`, { method: 'POST', headers: { authorization: `Bearer ${INGEST_KEY}`, 'content-type': 'application/json' }, body: '{oops' });
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as { error: string }).error).toMatch(/not valid JSON/);
    const text = await fetch(`${server.url}/api/v1/events`, { method: 'POST', headers: { authorization: `Bearer ${INGEST_KEY}`, 'content-type': 'text/plain' }, body: 'x' });
    expect(text.status).toBe(415);
  });
});

describe('deleting a conversation or a user', () => {
  it('removes every span, event, run and session of that conversation, and nothing else', async () => {
    const t0 = Date.now() - 1000;
    await events({ events: [
      { type: 'run.started', runId: 'del-1', agent: 'a', startTime: t0, conversationId: 'forget-me' },
      { type: 'step', runId: 'del-1', stepId: 's', kind: 'llm', name: 'gpt-4o', startTime: t0, endTime: t0 + 10, input: 'private' },
      { type: 'run.started', runId: 'keep-1', agent: 'a', startTime: t0, conversationId: 'keep-me' },
    ] });
    const before = await getJson<any>(`${server.url}/api/v1/stats`, READ_KEY);
    const res = await postJson(`${server.url}/api/v1/admin/delete`, ADMIN_KEY, { conversationId: 'forget-me' });
    expect(res.body).toMatchObject({ tracesDeleted: 1, spansDeleted: 2 });
    const after = await getJson<any>(`${server.url}/api/v1/stats`, READ_KEY);
    expect(after.spans).toBe(before.spans - 2);
    expect(after.runs).toBe(before.runs - 1);
    expect(await runs('&conversationId=forget-me')).toHaveLength(0);
    expect(await runs('&conversationId=keep-me')).toHaveLength(1);
    expect((await postJson(`${server.url}/api/v1/admin/delete`, ADMIN_KEY, {})).status).toBe(400);
    // A deleted run reported again is stored again (deduplication forgot it too).
    await events({ type: 'run.started', runId: 'del-1', agent: 'a', startTime: t0, conversationId: 'forget-me' });
    expect(await runs('&conversationId=forget-me')).toHaveLength(1);
  });
});
