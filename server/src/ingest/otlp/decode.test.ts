import { decodeLogs, decodeTraces } from './decode';
import { DecodeError } from './types';
import { logsJson, logsProtobuf, SpanSpec, tracesJson, tracesProtobuf } from '../../test-support/otlp';

const T = '0af7651916cd43dd8448eb211c80319c';
const good: SpanSpec = {
  traceId: T,
  spanId: 'b7ad6b7169203331',
  parentSpanId: '00f067aa0ba902b7',
  name: 'chat gpt-4o',
  start: 1_764_000_000_123.456,
  end: 1_764_000_001_000,
  attributes: { 'gen_ai.request.model': 'gpt-4o', 'gen_ai.usage.input_tokens': 12, temperature: 0.5, stream: false, stop: ['a', 'b'] },
  status: { code: 2, message: 'boom' },
  events: [{ name: 'exception', time: 1_764_000_000_500, attributes: { 'exception.type': 'TimeoutError' } }],
};

describe.each(['protobuf', 'json'] as const)('decodeTraces (%s)', (format) => {
  const body = (spans: SpanSpec[]) => (format === 'protobuf' ? tracesProtobuf(spans) : Buffer.from(JSON.stringify(tracesJson(spans))));

  it('reads ids, times to the microsecond, attributes of every type, events and status', () => {
    const { items, rejected } = decodeTraces(body([good]), format);
    expect(rejected).toEqual([]);
    expect(items).toHaveLength(1);
    const s = items[0];
    expect(s).toMatchObject({ traceId: T, spanId: 'b7ad6b7169203331', parentSpanId: '00f067aa0ba902b7', name: 'chat gpt-4o', statusCode: 2, statusMessage: 'boom' });
    expect(s.startUs).toBeCloseTo(1_764_000_000_123_456, -1);
    expect(s.endUs).toBe(1_764_000_001_000_000);
    expect(s.attributes).toEqual({ 'gen_ai.request.model': 'gpt-4o', 'gen_ai.usage.input_tokens': 12, temperature: 0.5, stream: false, stop: ['a', 'b'] });
    expect(s.resource['service.name']).toBe('test-service');
    expect(s.events[0]).toMatchObject({ name: 'exception', attributes: { 'exception.type': 'TimeoutError' } });
  });

  it('rejects only the spans with bad ids or times, and says why', () => {
    const spans: SpanSpec[] = [
      good,
      { ...good, traceId: 'abc', spanId: '1111111111111111' },
      { ...good, spanId: '00000000000000000000' },
      { ...good, spanId: '2222222222222222', start: 2_000_000_000_000, end: 1_000_000_000_000 },
    ];
    if (format === 'protobuf') spans[2] = { ...good, spanId: '0000000000000000' };
    const { items, rejected } = decodeTraces(body(spans), format);
    expect(items).toHaveLength(1);
    expect(rejected.map((r) => r.index)).toEqual([1, 2, 3]);
    expect(rejected[0].reason).toMatch(/traceId must be 16 bytes/);
    expect(rejected[1].reason).toMatch(/spanId must be 8 bytes/);
    expect(rejected[2].reason).toMatch(/endTimeUnixNano is before startTimeUnixNano/);
  });
});

describe('undecodable bodies', () => {
  it('truncated protobuf is a DecodeError', () => {
    const bytes = tracesProtobuf([good]);
    expect(() => decodeTraces(bytes.subarray(0, bytes.length - 7), 'protobuf')).toThrow(DecodeError);
  });
  it('invalid JSON names the problem', () => {
    expect(() => decodeTraces(Buffer.from('{"resourceSpans": ['), 'json')).toThrow(/not valid JSON/);
    expect(() => decodeTraces(Buffer.from('[1,2]'), 'json')).toThrow(/must be a JSON object/);
    expect(() => decodeTraces(Buffer.from('{"resourceSpans": {}}'), 'json')).toThrow(/resourceSpans must be an array/);
  });
  it('JSON ids in upper case are accepted (hex, any case)', () => {
    const { items } = decodeTraces(Buffer.from(JSON.stringify(tracesJson([{ ...good, traceId: T.toUpperCase() }]))), 'json');
    expect(items[0].traceId).toBe(T);
  });
});

describe.each(['protobuf', 'json'] as const)('decodeLogs (%s)', (format) => {
  it('keeps log records joined to a span and rejects those without one', () => {
    const logs = [
      { traceId: T, spanId: 'b7ad6b7169203331', time: 1_764_000_000_000, eventName: 'gen_ai.user.message', body: 'hello' },
      { traceId: '', spanId: '', time: 1_764_000_000_000, eventName: 'app.log', body: 'no context' },
    ];
    const body = format === 'protobuf' ? logsProtobuf(logs) : Buffer.from(JSON.stringify(logsJson(logs)));
    const { items, rejected } = decodeLogs(body, format);
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ traceId: T, spanId: 'b7ad6b7169203331', eventName: 'gen_ai.user.message', body: 'hello' });
    expect(rejected[0].reason).toMatch(/cannot be joined to a span/);
  });
});
