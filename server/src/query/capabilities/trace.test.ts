/**
 * runTrace, runSteps and runEvents against a real server with the hand-checked dataset (see the
 * table in test-support/dataset.ts), plus a log record joined to run 1's first LLM step and a run
 * reported on the native API.
 */
import { anchorMs, rootSpanOf, runIdOf, seedDataset, SeededDataset, traceIdOf } from '../../test-support/dataset';
import { logsJson, postOtlp } from '../../test-support/otlp';
import { column, query, rows } from '../../test-support/query';
import { getJson, INGEST_KEY, postJson, READ_KEY, startTestServer, TestServer } from '../../test-support/server';

let server: TestServer;
let data: SeededDataset;
const H = 3_600_000;
const hex = (n: number): string => n.toString(16).padStart(16, '0');

beforeAll(async () => {
  server = await startTestServer();
  data = await seedDataset(server.url, INGEST_KEY);
  // A prompt sent as a log record (gen_ai.user.message), joined to run 1's first LLM step (span 1001).
  const logs = [{ traceId: traceIdOf(1), spanId: hex(1001), time: data.anchor + H + 20, eventName: 'gen_ai.user.message', body: 'Where is my order 42?' }];
  expect((await postOtlp(`${server.url}/v1/logs`, INGEST_KEY, JSON.stringify(logsJson(logs)))).status).toBe(200);
  // A run reported natively: started, one LLM step, finished.
  const t0 = data.anchor + 30 * H;
  const res = await postJson(`${server.url}/api/v1/events`, INGEST_KEY, {
    events: [
      { type: 'run.started', runId: 'job-7', agent: 'invoice-bot', startTime: t0 },
      { type: 'step', runId: 'job-7', stepId: 's1', kind: 'llm', name: 'gpt-4o-mini', startTime: t0 + 100, endTime: t0 + 900, tokens: { input: 40, output: 8 }, input: 'Total?', output: '30 EUR', reasoning: 'Add the lines.' },
      { type: 'run.finished', runId: 'job-7', endTime: t0 + 1000, status: 'completed' },
      { type: 'run.started', runId: 'job-8', agent: 'invoice-bot', startTime: data.now - 5000 },
    ],
  });
  expect(res.status).toBe(200);
});
afterAll(() => server.cleanup());

const ask = async (queryType: string, runId: string) => {
  const res = await query(server.url, READ_KEY, [{ refId: 'A', queryType, runId, timeRange: { from: anchorMs(data.now), to: data.now } }]);
  return res.results.A;
};
const tag = (tags: { key: string; value: unknown }[], key: string) => tags.find((t) => t.key === key)?.value;

describe('runTrace', () => {
  it('one run as one trace-view frame: ids, parents, times, services, kinds and statuses', async () => {
    const res = await ask('runTrace', runIdOf(1));
    expect(res.status).toBe(200);
    expect(res.frames).toHaveLength(1);
    const f = res.frames[0];
    expect(f.schema.meta.preferredVisualisationType).toBe('trace');
    const types = Object.fromEntries(f.schema.fields.map((x: any) => [x.name, x.typeInfo.frame]));
    expect(types).toEqual({
      traceID: 'string', spanID: 'string', parentSpanID: 'string', operationName: 'string', serviceName: 'string', serviceTags: 'json.RawMessage',
      startTime: 'float64', duration: 'float64', logs: 'json.RawMessage', tags: 'json.RawMessage', kind: 'string', statusCode: 'int64', statusMessage: 'string',
    });
    const r = rows(f);
    // Run 1: the agent span (A+1h, 10 s), two LLM calls of 500 ms, lookup_order 200 ms, create_ticket 300 ms.
    expect(r.map((x) => x.operationName)).toEqual(['invoke_agent support-triage', 'chat gpt-4o', 'chat gpt-4o', 'execute_tool lookup_order', 'execute_tool create_ticket']);
    expect(r.map((x) => x.spanID)).toEqual([rootSpanOf(1), hex(1001), hex(1002), hex(1003), hex(1004)]);
    expect(r.map((x) => x.parentSpanID)).toEqual(['', rootSpanOf(1), rootSpanOf(1), rootSpanOf(1), rootSpanOf(1)]);
    expect(new Set(r.map((x) => x.traceID))).toEqual(new Set([traceIdOf(1)]));
    expect(r.map((x) => x.duration)).toEqual([10_000, 500, 500, 200, 300]);
    expect(r[0].startTime).toBe(data.anchor + H);
    expect(r[1].startTime).toBe(data.anchor + H + 10);
    expect(r.every((x) => x.serviceName === 'support-triage-svc' && x.kind === 'internal')).toBe(true);
    expect(r.map((x) => x.statusCode)).toEqual([1, 0, 0, 1, 1]); // the LLM spans leave their status unset
    expect(r[0].serviceTags).toEqual(expect.arrayContaining([{ key: 'service.name', value: 'support-triage-svc' }, { key: 'deployment.environment.name', value: 'production' }]));
  });

  it('tags carry role, model, tokens, LLM messages and reasoning, tool input and output; logs carry joined log records', async () => {
    const r = rows((await ask('runTrace', runIdOf(1))).frames[0]);
    const root = r[0].tags as any[];
    expect(tag(root, 'role')).toBe('agent');
    expect(tag(root, 'run.id')).toBe(runIdOf(1));
    expect(tag(root, 'run.status')).toBe('completed');
    expect(tag(root, 'conversation')).toBe('c1');
    expect(tag(root, 'run.tokens.total')).toBe(360); // 100+20 + 200+40
    expect(tag(root, 'run.cost') as number).toBeCloseTo(0.0012875, 12); // as the runs table: 0.0003875 + 0.0009 from the price table
    const llm = r[1].tags as any[];
    expect(tag(llm, 'role')).toBe('llm');
    expect(tag(llm, 'model')).toBe('gpt-4o');
    expect(tag(llm, 'provider')).toBe('openai');
    expect([tag(llm, 'tokens.input'), tag(llm, 'tokens.output'), tag(llm, 'tokens.cached')]).toEqual([100, 20, 50]);
    expect(tag(llm, 'input')).toContain('question 1');
    expect(tag(llm, 'output')).toContain('answer 1');
    expect(tag(llm, 'reasoning')).toBe('thinking about 1');
    expect(tag(llm, 'status')).toBe('ok');
    expect(tag(llm, 'cost') as number).toBeCloseTo(0.0003875, 12);
    expect(tag(llm, 'cost.source')).toBe('price table');
    const tool = r[3].tags as any[];
    expect([tag(tool, 'role'), tag(tool, 'tool'), tag(tool, 'input'), tag(tool, 'output')]).toEqual(['tool', 'lookup_order', '{"run":1}', '"ok"']);
    expect(r[1].logs).toEqual([{ timestamp: data.anchor + H + 20, name: 'gen_ai.user.message', fields: [{ key: 'event', value: 'gen_ai.user.message' }, { key: 'body', value: 'Where is my order 42?' }, { key: 'source', value: 'log' }] }]);
    expect(r[0].logs).toEqual([]);
  });

  it('errors: a failed tool has status code 2, its message and error type; an exception is a log of the span', async () => {
    const failed = rows((await ask('runTrace', runIdOf(2))).frames[0]);
    const tool = failed.find((x) => x.operationName === 'execute_tool lookup_order')!;
    expect(tool).toMatchObject({ statusCode: 2, statusMessage: 'lookup_order failed' });
    expect(tag(tool.tags as any[], 'error.type')).toBe('HTTPError');
    expect(tag(tool.tags as any[], 'error')).toBe(true);
    expect(failed[0]).toMatchObject({ statusCode: 2, statusMessage: 'tool failed' });

    const timedOut = rows((await ask('runTrace', runIdOf(3))).frames[0]);
    expect(tag(timedOut[0].tags as any[], 'run.status')).toBe('timed_out');
    const [exception] = timedOut[0].logs as any[];
    expect(exception.timestamp).toBe(data.anchor + 3 * H + 300_000);
    expect(exception.fields).toEqual(expect.arrayContaining([{ key: 'event', value: 'exception' }, { key: 'exception.type', value: 'TimeoutError' }, { key: 'exception.message', value: 'agent deadline exceeded' }]));
  });

  it('a running run by its trace id: the spans that arrived, as roots, lasting until now, with a notice', async () => {
    const res = await ask('runTrace', traceIdOf(5));
    expect(res.status).toBe(200);
    const f = res.frames[0];
    const r = rows(f);
    expect(r.map((x) => [x.operationName, x.parentSpanID, x.duration])).toEqual([['execute_tool web_search', '', 400]]);
    expect(f.schema.meta.notices[0].text).toMatch(/still running/);
  });

  it('finds a finished run by its trace id too (a link taken while it ran), and answers 400 for an unknown run', async () => {
    const byTrace = rows((await ask('runTrace', traceIdOf(4))).frames[0]);
    expect(byTrace[0].spanID).toBe(rootSpanOf(4));
    expect(await ask('runTrace', 'no-such-run')).toEqual({ status: 400, error: expect.stringMatching(/^runId: no run "no-such-run" for this tenant/), errorSource: 'plugin' });
    const missing = await query(server.url, READ_KEY, [{ refId: 'A', queryType: 'runSteps', timeRange: { from: 0, to: 1 } }]);
    expect(missing.results.A).toMatchObject({ status: 400, error: 'runId: is required for runSteps' });
  });

  it('a run reported natively: its records of one span are one span, found by the platform\'s run id', async () => {
    const r = rows((await ask('runTrace', 'job-7')).frames[0]);
    expect(r.map((x) => [x.operationName, x.duration, x.parentSpanID === '' ? 'root' : 'child'])).toEqual([
      ['run invoice-bot', 1000, 'root'],
      ['gpt-4o-mini', 800, 'child'],
    ]);
    expect(tag(r[1].tags as any[], 'reasoning')).toBe('Add the lines.');
    expect(r[0].serviceName).toBe('invoice-bot'); // no service reported: the agent

    const running = (await ask('runTrace', 'job-8')).frames[0];
    const [root] = rows(running);
    expect(root.duration as number).toBeGreaterThanOrEqual(5000); // open: up to now
    expect(tag(root.tags as any[], 'status')).toBe('running');
    expect(running.schema.meta.notices).toEqual([{ severity: 'info', text: 'This run is still running.' }]);
  });

  it('the API\'s run detail lists the same spans as the trace (one derivation, shared)', async () => {
    for (const id of [runIdOf(1), runIdOf(2), 'job-7']) {
      const detail = await getJson<{ steps: { spanId: string }[] }>(`${server.url}/api/v1/runs/${id}`, READ_KEY);
      expect(detail.steps.map((s) => s.spanId)).toEqual(column((await ask('runTrace', id)).frames[0], 'spanID'));
    }
  });
});

describe('runSteps', () => {
  it('a flat table of the run\'s steps, content as text', async () => {
    const f = (await ask('runSteps', runIdOf(1))).frames[0];
    expect(f.schema.fields.every((x: any) => x.typeInfo.frame !== 'json.RawMessage')).toBe(true);
    const r = rows(f);
    expect(r.map((x) => [x.Step, x.Kind, x.Name, x.Status, x.Duration, x['Tokens in'], x['Tokens out']])).toEqual([
      [1, 'agent', 'support-triage', 'ok', 10_000, null, null],
      [2, 'llm', 'gpt-4o', 'ok', 500, 100, 20],
      [3, 'llm', 'gpt-4o', 'ok', 500, 200, 40],
      [4, 'tool', 'lookup_order', 'ok', 200, null, null],
      [5, 'tool', 'create_ticket', 'ok', 300, null, null],
    ]);
    expect(r[0].Started).toBe(data.anchor + H);
    expect(r[1]).toMatchObject({ Reasoning: 'thinking about 1', 'Parent span ID': rootSpanOf(1), Span: 'chat gpt-4o' });
    expect(r[1].Input).toContain('question 1');
    expect(r[3]).toMatchObject({ Input: '{"run":1}', Output: '"ok"', Error: '' });
    // Run 4's LLM step reports its cost: $0.02.
    expect(column((await ask('runSteps', runIdOf(4))).frames[0], 'Cost')).toEqual([null, 0.02, null, null, null]);
    // Run 1's calls report none: gpt-4o at $2.50 input, $1.25 cached, $10 output per million tokens:
    // 50 x 2.5 + 50 x 1.25 + 20 x 10 = 387.5 and 200 x 2.5 + 40 x 10 = 900 (millionths of a dollar).
    const costs = column(f, 'Cost') as (number | null)[];
    expect([costs[0], costs[3], costs[4]]).toEqual([null, null, null]);
    expect(costs[1]).toBeCloseTo(0.0003875, 12);
    expect(costs[2]).toBeCloseTo(0.0009, 12);
    const failed = rows((await ask('runSteps', runIdOf(2))).frames[0]);
    expect(failed.map((x) => [x.Name, x.Status, x.Error])).toEqual([
      ['support-triage', 'error', 'ToolError: tool failed'],
      ['gpt-4o', 'ok', ''],
      ['lookup_order', 'error', 'HTTPError: lookup_order failed'],
    ]);
  });
});

describe('runEvents', () => {
  it('log lines: each step\'s start and end, each event, each error, in time order', async () => {
    const f = (await ask('runEvents', runIdOf(3))).frames[0];
    expect(f.schema.meta).toMatchObject({ type: 'log-lines', preferredVisualisationType: 'logs' });
    expect(f.schema.fields.map((x: any) => [x.name, x.typeInfo.frame])).toEqual([
      ['timestamp', 'time.Time'],
      ['body', 'string'],
      ['severity', 'string'],
      ['id', 'string'],
      ['labels', 'json.RawMessage'],
    ]);
    const r = rows(f);
    const t = data.anchor + 3 * H;
    // Run 3: agent span A+3h for 300 s, LLM call at +10 ms for 500 ms, a TimeoutError exception at the end.
    expect(r.map((x) => [x.timestamp, x.severity])).toEqual([
      [t, 'info'],
      [t + 10, 'info'],
      [t + 510, 'info'],
      [t + 300_000, 'error'],
      [t + 300_000, 'error'],
      [t + 300_000, 'error'],
    ]);
    expect(r[0].body).toBe('agent support-triage started');
    expect(r[1].body).toMatch(/^llm gpt-4o-mini started: input .*question 3/);
    // Cost from the price table: gpt-4o-mini 50 x $0.15 + 5 x $0.60 per million = $0.0000105.
    expect(r[2].body).toMatch(/^llm gpt-4o-mini finished in 500 ms, tokens 50 in \/ 5 out, cost \$0\.0000105: output /);
    expect(r[3].body).toMatch(/^exception: .*TimeoutError/);
    expect(r[4].body).toBe('agent support-triage failed: TimeoutError: agent deadline exceeded');
    expect(r[5].body).toBe('agent support-triage ended with an error in 300000 ms');
    expect(r[1].labels).toEqual({ run: runIdOf(3), step: '2', kind: 'llm', name: 'gpt-4o-mini', span: hex(3001) });
    expect(new Set(r.map((x) => x.id)).size).toBe(6);
  });

  it('a running run: the lines of the steps that arrived', async () => {
    const r = rows((await ask('runEvents', traceIdOf(5))).frames[0]);
    expect(r.map((x) => x.body)).toEqual(['tool web_search started: input {"run":5}', 'tool web_search finished in 400 ms: output "ok"']);
  });
});
