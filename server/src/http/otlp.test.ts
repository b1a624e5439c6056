/**
 * The OTLP/HTTP receiver against a real server: every kind of bad input gets its status and
 * message, valid spans in the same batch are kept, retried batches change no count, and content
 * sent as log records is joined to its span.
 */
import { gzipSync } from 'node:zlib';
import { LogsResponse, RpcStatus, TraceResponse } from '../ingest/otlp/schema';
import { getJson, INGEST_KEY, READ_KEY, startTestServer, TestServer } from '../test-support/server';
import { logsJson, logsProtobuf, postOtlp, SpanSpec, spanId, traceId, tracesJson, tracesProtobuf } from '../test-support/otlp';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ AGENT_INSIGHTS_MAX_BODY_BYTES: String(256 * 1024), AGENT_INSIGHTS_ATTRIBUTE_MAX_BYTES: '1024' });
});
afterAll(() => server.cleanup());

const now = Date.now();

function agentRun(tid = traceId(), name = 'support'): SpanSpec[] {
  const root = spanId();
  return [
    { traceId: tid, spanId: root, name: `invoke_agent ${name}`, start: now - 5000, end: now - 1000, attributes: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': name } },
    { traceId: tid, spanId: spanId(), parentSpanId: root, name: 'chat gpt-4o', start: now - 4000, end: now - 3000, attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'gpt-4o', 'gen_ai.usage.input_tokens': 100, 'gen_ai.usage.output_tokens': 20 } },
    { traceId: tid, spanId: spanId(), parentSpanId: root, name: 'execute_tool search', start: now - 2900, end: now - 2000, attributes: { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'search' } },
  ];
}

const stats = () => getJson<{ spans: number; events: number; runs: number; sessions: number }>(`${server.url}/api/v1/stats`, READ_KEY);
const runsOf = async (tid: string) => (await getJson<{ runs: any[] }>(`${server.url}/api/v1/runs?limit=1000`, READ_KEY)).runs.filter((r) => r.traceId === tid);

describe('accepted batches', () => {
  it('protobuf: 200 with an empty ExportTraceServiceResponse, run stored', async () => {
    const spans = agentRun();
    const res = await postOtlp(`${server.url}/v1/traces`, INGEST_KEY, tracesProtobuf(spans), 'application/x-protobuf');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/application\/x-protobuf/);
    expect(TraceResponse.toObject(TraceResponse.decode(res.body))).toEqual({});
    const runs = await runsOf(spans[0].traceId);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ agent: 'support', status: 'completed', toolCalls: 1, llmCalls: 1, totalTokens: 120 });
  });

  it('gzip-compressed JSON is accepted on the same endpoint', async () => {
    const spans = agentRun(traceId(), 'gzipped');
    const res = await postOtlp(`${server.url}/v1/traces`, INGEST_KEY, gzipSync(JSON.stringify(tracesJson(spans))), 'application/json', { 'content-encoding': 'gzip' });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body.toString())).toEqual({});
    expect((await runsOf(spans[0].traceId))[0].agent).toBe('gzipped');
  });

  it('a retried batch changes no count', async () => {
    const spans = agentRun();
    const body = tracesProtobuf(spans);
    await postOtlp(`${server.url}/v1/traces`, INGEST_KEY, body, 'application/x-protobuf');
    const before = await stats();
    for (let i = 0; i < 3; i++) expect((await postOtlp(`${server.url}/v1/traces`, INGEST_KEY, body, 'application/x-protobuf')).status).toBe(200);
    // The same spans as JSON are the same facts too.
    expect((await postOtlp(`${server.url}/v1/traces`, INGEST_KEY, JSON.stringify(tracesJson(spans)))).status).toBe(200);
    expect(await stats()).toEqual(before);
    expect(await runsOf(spans[0].traceId)).toHaveLength(1);
  });
});

describe('bad input', () => {
  it('ids of the wrong length: 200 with partialSuccess, the valid spans kept', async () => {
    const spans = agentRun();
    const bad: SpanSpec = { ...spans[1], spanId: 'abcd', name: 'short id' };
    const res = await postOtlp(`${server.url}/v1/traces`, INGEST_KEY, JSON.stringify(tracesJson([...spans, bad])));
    expect(res.status).toBe(200);
    const body = JSON.parse(res.body.toString());
    expect(body.partialSuccess.rejectedSpans).toBe(1);
    expect(body.partialSuccess.errorMessage).toMatch(/short id.*spanId must be 8 bytes/);
    expect((await runsOf(spans[0].traceId))[0]).toMatchObject({ llmCalls: 1, toolCalls: 1 });
  });

  it('partialSuccess in protobuf for a protobuf request', async () => {
    const spans = agentRun();
    const res = await postOtlp(`${server.url}/v1/traces`, INGEST_KEY, tracesProtobuf([...spans.slice(0, 2), { ...spans[1], spanId: spanId(), end: spans[1].start - 1 }]), 'application/x-protobuf');
    expect(res.status).toBe(200);
    const decoded = TraceResponse.toObject(TraceResponse.decode(res.body), { longs: Number });
    expect(decoded.partialSuccess.rejectedSpans).toBe(1);
    expect(decoded.partialSuccess.errorMessage).toMatch(/before startTimeUnixNano/);
  });

  it('truncated protobuf: 400 with a google.rpc.Status in protobuf', async () => {
    const body = tracesProtobuf(agentRun());
    const res = await postOtlp(`${server.url}/v1/traces`, INGEST_KEY, body.subarray(0, body.length - 9), 'application/x-protobuf');
    expect(res.status).toBe(400);
    const status = RpcStatus.toObject(RpcStatus.decode(res.body));
    expect(status.code).toBe(3);
    expect(status.message).toMatch(/not a valid protobuf ExportTraceServiceRequest/);
  });

  it('invalid JSON: 400 with a JSON google.rpc.Status', async () => {
    const res = await postOtlp(`${server.url}/v1/traces`, INGEST_KEY, '{"resourceSpans": [ {');
    expect(res.status).toBe(400);
    const status = JSON.parse(res.body.toString());
    expect(status).toMatchObject({ code: 3 });
    expect(status.message).toMatch(/not valid JSON/);
  });

  it('wrong content type: 415 naming the accepted types', async () => {
    const res = await postOtlp(`${server.url}/v1/traces`, INGEST_KEY, 'hello', 'text/plain');
    expect(res.status).toBe(415);
    expect(JSON.parse(res.body.toString()).message).toMatch(/application\/x-protobuf or application\/json/);
  });

  it('over the size limit: 413', async () => {
    const res = await postOtlp(`${server.url}/v1/traces`, INGEST_KEY, Buffer.alloc(300 * 1024, 32), 'application/json');
    expect(res.status).toBe(413);
  });

  it('a gzip bomb: 413 after decompression, without expanding it', async () => {
    const bomb = gzipSync(Buffer.alloc(50 * 1024 * 1024, 32)); // 50 MiB of spaces, about 50 KiB compressed
    expect(bomb.length).toBeLessThan(256 * 1024);
    const res = await postOtlp(`${server.url}/v1/traces`, INGEST_KEY, bomb, 'application/json', { 'content-encoding': 'gzip' });
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body.toString()).message).toMatch(/after decompression/);
  });

  it('corrupt gzip: 400', async () => {
    const res = await postOtlp(`${server.url}/v1/traces`, INGEST_KEY, Buffer.from('not gzip at all'), 'application/json', { 'content-encoding': 'gzip' });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body.toString()).message).toMatch(/not valid gzip/);
  });

  it('huge attributes are cut, not refused; content up to its own limit', async () => {
    const spans = agentRun();
    spans[1].attributes = { ...spans[1].attributes, 'app.blob': 'x'.repeat(100_000), 'gen_ai.input.messages': 'y'.repeat(100_000) };
    const res = await postOtlp(`${server.url}/v1/traces`, INGEST_KEY, JSON.stringify(tracesJson(spans)));
    expect(res.status).toBe(200);
    const run = (await runsOf(spans[0].traceId))[0];
    const detail = await getJson<{ steps: any[] }>(`${server.url}/api/v1/runs/${run.runId}`, READ_KEY);
    const llm = detail.steps.find((s) => s.role === 'llm');
    expect(Buffer.byteLength(JSON.parse(llm.attributes)['app.blob'])).toBeLessThanOrEqual(1024);
    expect(llm.input.length).toBeLessThanOrEqual(16384);
    expect(llm.input).toMatch(/truncated 100000 bytes/);
  });
});

describe('logs', () => {
  it('content sent as log records is joined to its LLM step; retried logs are not doubled', async () => {
    const spans = agentRun();
    const llm = spans[1];
    const logs = [
      { traceId: llm.traceId, spanId: llm.spanId, time: llm.start, eventName: 'gen_ai.user.message', body: 'What is the refund policy? My card is 4111 and key sk-abcdefghijklmnopqrstuvwx' },
      { traceId: llm.traceId, spanId: llm.spanId, time: llm.end, eventName: 'gen_ai.choice', body: 'Refunds within 30 days.' },
    ];
    // Logs may arrive before their spans.
    const logRes = await postOtlp(`${server.url}/v1/logs`, INGEST_KEY, logsProtobuf(logs), 'application/x-protobuf');
    expect(logRes.status).toBe(200);
    expect(LogsResponse.toObject(LogsResponse.decode(logRes.body))).toEqual({});
    await postOtlp(`${server.url}/v1/logs`, INGEST_KEY, JSON.stringify(logsJson(logs)));
    await postOtlp(`${server.url}/v1/traces`, INGEST_KEY, JSON.stringify(tracesJson(spans)));
    const run = (await runsOf(llm.traceId))[0];
    const detail = await getJson<{ steps: any[] }>(`${server.url}/api/v1/runs/${run.runId}`, READ_KEY);
    const step = detail.steps.find((s) => s.spanId === llm.spanId);
    expect(step.events.map((e: any) => e.name)).toEqual(['gen_ai.user.message', 'gen_ai.choice']);
    expect(step.events[0].body).toBe('What is the refund policy? My card is 4111 and key [REDACTED]');
  });
});
