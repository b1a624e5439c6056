/**
 * Test support: OTLP request bodies from short span descriptions, in OTLP/JSON or protobuf,
 * for tests that need exact control of ids, times and attributes (the real SDK clients are
 * tested separately).
 */
import { randomBytes } from 'node:crypto';
import { TraceRequest, LogsRequest } from '../ingest/otlp/schema';

export type Attr = string | number | boolean | string[];

export interface SpanSpec {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  /** Milliseconds since the epoch. */
  start: number;
  end: number;
  attributes?: Record<string, Attr>;
  status?: { code: number; message?: string };
  events?: { name: string; time: number; attributes?: Record<string, Attr> }[];
  kind?: number;
}

export const traceId = (): string => randomBytes(16).toString('hex');
export const spanId = (): string => randomBytes(8).toString('hex');

function anyValue(v: Attr): Record<string, unknown> {
  if (Array.isArray(v)) return { arrayValue: { values: v.map(anyValue) } };
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  return Number.isInteger(v) ? { intValue: v } : { doubleValue: v };
}

const kvs = (a: Record<string, Attr> = {}) => Object.entries(a).map(([key, value]) => ({ key, value: anyValue(value) }));
const nanos = (ms: number): string => (BigInt(Math.round(ms * 1000)) * 1000n).toString();

/** An ExportTraceServiceRequest as OTLP/JSON (hex ids, lowerCamelCase). */
export function tracesJson(spans: SpanSpec[], resource: Record<string, Attr> = { 'service.name': 'test-service' }): Record<string, unknown> {
  return {
    resourceSpans: [
      {
        resource: { attributes: kvs(resource) },
        scopeSpans: [
          {
            scope: { name: 'agent-insights-test' },
            spans: spans.map((s) => ({
              traceId: s.traceId,
              spanId: s.spanId,
              parentSpanId: s.parentSpanId ?? '',
              name: s.name,
              kind: s.kind ?? 1,
              startTimeUnixNano: nanos(s.start),
              endTimeUnixNano: nanos(s.end),
              attributes: kvs(s.attributes),
              events: (s.events ?? []).map((e) => ({ name: e.name, timeUnixNano: nanos(e.time), attributes: kvs(e.attributes) })),
              status: s.status ?? { code: 0 },
            })),
          },
        ],
      },
    ],
  };
}

/** The same request as protobuf bytes (ids as bytes, as exporters send them). */
export function tracesProtobuf(spans: SpanSpec[], resource?: Record<string, Attr>): Buffer {
  const json = tracesJson(spans, resource) as { resourceSpans: { scopeSpans: { spans: Record<string, unknown>[] }[] }[] };
  for (const rs of json.resourceSpans)
    for (const ss of rs.scopeSpans)
      for (const s of ss.spans) {
        s.traceId = Buffer.from(s.traceId as string, 'hex');
        s.spanId = Buffer.from(s.spanId as string, 'hex');
        s.parentSpanId = Buffer.from(s.parentSpanId as string, 'hex');
      }
  return Buffer.from(TraceRequest.encode(TraceRequest.fromObject(json)).finish());
}

export interface LogSpec {
  traceId: string;
  spanId: string;
  time: number;
  eventName: string;
  body: Attr;
  attributes?: Record<string, Attr>;
}

export function logsJson(logs: LogSpec[]): Record<string, unknown> {
  return {
    resourceLogs: [
      {
        resource: { attributes: kvs({ 'service.name': 'test-service' }) },
        scopeLogs: [
          {
            scope: { name: 'agent-insights-test' },
            logRecords: logs.map((l) => ({
              timeUnixNano: nanos(l.time),
              traceId: l.traceId,
              spanId: l.spanId,
              eventName: l.eventName,
              body: anyValue(l.body),
              attributes: kvs(l.attributes),
            })),
          },
        ],
      },
    ],
  };
}

export function logsProtobuf(logs: LogSpec[]): Buffer {
  const json = logsJson(logs) as { resourceLogs: { scopeLogs: { logRecords: Record<string, unknown>[] }[] }[] };
  for (const rl of json.resourceLogs)
    for (const sl of rl.scopeLogs)
      for (const r of sl.logRecords) {
        r.traceId = Buffer.from(r.traceId as string, 'hex');
        r.spanId = Buffer.from(r.spanId as string, 'hex');
      }
  return Buffer.from(LogsRequest.encode(LogsRequest.fromObject(json)).finish());
}

export async function postOtlp(
  url: string,
  key: string,
  body: Buffer | string,
  contentType = 'application/json',
  extraHeaders: Record<string, string> = {},
): Promise<{ status: number; body: Buffer; headers: Headers }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': contentType, ...extraHeaders },
    body: typeof body === 'string' ? body : new Uint8Array(body),
  });
  return { status: res.status, body: Buffer.from(await res.arrayBuffer()), headers: res.headers };
}

/** An LLM call span (OTel GenAI "chat"), 1 s long, reporting its input and output tokens. */
export const llmCallSpan = (traceId: string, spanId: string, parent: string, start: number, input: number, output: number, model = 'gpt-4o'): SpanSpec => ({
  traceId,
  spanId,
  parentSpanId: parent,
  name: `chat ${model}`,
  start,
  end: start + 1000,
  attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': model, 'gen_ai.usage.input_tokens': input, 'gen_ai.usage.output_tokens': output },
});
