/**
 * Under overload the server sheds load with 429 and Retry-After, keeps its queue bounded, and
 * everything it acknowledged is stored.
 */
import { getJson, INGEST_KEY, READ_KEY, startTestServer, TestServer } from '../test-support/server';
import { postOtlp, SpanSpec, spanId, traceId, tracesProtobuf } from '../test-support/otlp';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ AGENT_INSIGHTS_MAX_QUEUED_SPANS: '600', AGENT_INSIGHTS_MAX_BATCH_SPANS: '500' });
});
afterAll(() => server.cleanup());

function request(n: number): Buffer {
  const tid = traceId();
  const now = Date.now();
  const spans: SpanSpec[] = Array.from({ length: n }, () => ({ traceId: tid, spanId: spanId(), name: 'chat gpt-4o', start: now - 10, end: now, attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'gpt-4o', 'gen_ai.usage.input_tokens': 1 } }));
  return tracesProtobuf(spans);
}

it('answers 429 with Retry-After when the queue is full, and stores exactly what it acknowledged', async () => {
  const results = await Promise.all(Array.from({ length: 30 }, () => postOtlp(`${server.url}/v1/traces`, INGEST_KEY, request(300), 'application/x-protobuf')));
  const ok = results.filter((r) => r.status === 200);
  const shed = results.filter((r) => r.status === 429);
  expect(ok.length + shed.length).toBe(30);
  expect(shed.length).toBeGreaterThan(0);
  expect(ok.length).toBeGreaterThan(0);
  expect(shed[0].headers.get('retry-after')).toBe('1');
  const stats = await getJson<{ spans: number }>(`${server.url}/api/v1/stats`, READ_KEY);
  expect(stats.spans).toBe(ok.length * 300);
  const metrics = await (await fetch(`${server.url}/metrics`)).text();
  expect(metrics).toMatch(new RegExp(`agent_insights_requests_refused_total\\{signal="traces",reason="overloaded"\\} ${shed.length}`));
});
