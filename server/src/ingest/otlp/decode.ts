/**
 * Decoding OTLP/HTTP bodies (protobuf or JSON) into OtlpSpan / OtlpLogRecord.
 * A body that cannot be read at all throws DecodeError (answered 400); an item that can be read
 * but is invalid (ids of the wrong length, impossible times) is rejected alone, so the rest of the
 * batch is kept (answered 200 with partialSuccess).
 */
import { LogsRequest, TraceRequest } from './schema';
import {
  Attributes,
  AttrValue,
  Decoded,
  DecodeError,
  OtlpEvent,
  OtlpLogRecord,
  OtlpSpan,
  Rejection,
} from './types';

export type WireFormat = 'protobuf' | 'json';

const HEX = /^[0-9a-f]*$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

// ---------- shared: ids, times, attribute values ----------

interface LongLike {
  low: number;
  high: number;
}

/**
 * fixed64 nanoseconds (protobufjs gives {low, high}; JSON a string or a number) to whole
 * microseconds, computed exactly so that the same span sent as protobuf and as JSON has the
 * same time, which deduplication of events relies on.
 */
function nanosToMicros(v: unknown): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number') return Math.floor(v / 1000);
  if (typeof v === 'string') {
    if (!/^\d{1,20}$/.test(v)) return NaN;
    return Number(BigInt(v) / 1000n);
  }
  if (typeof v === 'bigint') return Number(v / 1000n);
  const l = v as LongLike;
  if (l.high === 0) return Math.floor((l.low >>> 0) / 1000);
  return Number(((BigInt(l.high >>> 0) << 32n) | BigInt(l.low >>> 0)) / 1000n);
}

function bytesToHex(b: Uint8Array | undefined): string {
  if (!b || b.length === 0) return '';
  return Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');
}

function checkIds(traceId: string, spanId: string, parentSpanId: string, spanRequired: boolean): string | null {
  if (traceId.length !== 32 || !HEX.test(traceId) || traceId === ZERO_TRACE) {
    return `traceId must be 16 bytes (32 hex characters, not all zero), got "${traceId.slice(0, 64)}"`;
  }
  if (spanRequired || spanId !== '') {
    if (spanId.length !== 16 || !HEX.test(spanId) || spanId === ZERO_SPAN) {
      return `spanId must be 8 bytes (16 hex characters, not all zero), got "${spanId.slice(0, 64)}"`;
    }
  }
  if (parentSpanId !== '' && (parentSpanId.length !== 16 || !HEX.test(parentSpanId))) {
    return `parentSpanId must be empty or 8 bytes (16 hex characters), got "${parentSpanId.slice(0, 64)}"`;
  }
  return null;
}

function checkTimes(startUs: number, endUs: number): string | null {
  if (!Number.isFinite(startUs) || startUs <= 0) return 'startTimeUnixNano must be a positive time';
  if (!Number.isFinite(endUs) || endUs <= 0) return 'endTimeUnixNano must be a positive time';
  if (endUs < startUs) return 'endTimeUnixNano is before startTimeUnixNano';
  return null;
}

// ---------- protobuf ----------

interface PbAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: number | LongLike;
  doubleValue?: number;
  arrayValue?: { values?: PbAnyValue[] };
  kvlistValue?: { values?: PbKeyValue[] };
  bytesValue?: Uint8Array;
  value?: string;
}
interface PbKeyValue {
  key: string;
  value?: PbAnyValue;
}

function pbInt(v: number | LongLike): number {
  if (typeof v === 'number') return v;
  return (v.high | 0) * 4294967296 + (v.low >>> 0);
}

function pbValue(v: PbAnyValue | undefined): AttrValue {
  if (!v || !v.value) return null;
  switch (v.value) {
    case 'stringValue':
      return v.stringValue ?? '';
    case 'boolValue':
      return v.boolValue ?? false;
    case 'intValue':
      return pbInt(v.intValue ?? 0);
    case 'doubleValue':
      return v.doubleValue ?? 0;
    case 'arrayValue':
      return (v.arrayValue?.values ?? []).map(pbValue);
    case 'kvlistValue':
      return pbAttributes(v.kvlistValue?.values);
    case 'bytesValue':
      return Buffer.from(v.bytesValue ?? []).toString('base64');
    default:
      return null;
  }
}

function pbAttributes(kvs: PbKeyValue[] | undefined): Attributes {
  const out: Attributes = {};
  if (!kvs) return out;
  for (const kv of kvs) out[kv.key] = pbValue(kv.value);
  return out;
}

function decodeProtobuf<T>(type: typeof TraceRequest, body: Buffer): T {
  try {
    // The decoded message is used as is (no toObject copy): the oneof's virtual "value" property
    // names the AnyValue field that is set, and fixed64 times stay {low, high} pairs.
    return type.decode(body) as unknown as T;
  } catch (e) {
    throw new DecodeError(`body is not a valid protobuf ${type.name}: ${(e as Error).message}`);
  }
}

// ---------- JSON (OTLP/JSON: lowerCamelCase keys, hex ids, integer enums) ----------

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function jsonValue(v: unknown): AttrValue {
  if (!isObject(v)) return null;
  if ('stringValue' in v) return String(v.stringValue ?? '');
  if ('boolValue' in v) return Boolean(v.boolValue);
  if ('intValue' in v) return Number(v.intValue);
  if ('doubleValue' in v) return Number(v.doubleValue);
  if ('arrayValue' in v) {
    const values = isObject(v.arrayValue) && Array.isArray(v.arrayValue.values) ? v.arrayValue.values : [];
    return values.map(jsonValue);
  }
  if ('kvlistValue' in v) {
    return jsonAttributes(isObject(v.kvlistValue) ? v.kvlistValue.values : undefined);
  }
  if ('bytesValue' in v) return String(v.bytesValue ?? '');
  return null;
}

function jsonAttributes(kvs: unknown): Attributes {
  const out: Attributes = {};
  if (!Array.isArray(kvs)) return out;
  for (const kv of kvs) {
    if (isObject(kv) && typeof kv.key === 'string') out[kv.key] = jsonValue(kv.value);
  }
  return out;
}

function jsonId(v: unknown): string {
  return typeof v === 'string' ? v.toLowerCase() : '';
}

function parseJson(body: Buffer): Json {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (e) {
    throw new DecodeError(`body is not valid JSON: ${(e as Error).message}`);
  }
  if (!isObject(parsed)) throw new DecodeError('body must be a JSON object');
  return parsed;
}

function jsonList(obj: Json, key: string, where: string): Json[] {
  const v = obj[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new DecodeError(`${where}.${key} must be an array`);
  return v.filter(isObject);
}

// ---------- traces ----------

interface PbSpan {
  traceId?: Uint8Array;
  spanId?: Uint8Array;
  parentSpanId?: Uint8Array;
  name?: string;
  kind?: number;
  startTimeUnixNano?: LongLike;
  endTimeUnixNano?: LongLike;
  attributes?: PbKeyValue[];
  events?: { timeUnixNano?: LongLike; name?: string; attributes?: PbKeyValue[] }[];
  status?: { code?: number; message?: string };
}
interface PbTraceRequest {
  resourceSpans?: {
    resource?: { attributes?: PbKeyValue[] };
    scopeSpans?: { scope?: { name?: string }; spans?: PbSpan[] }[];
  }[];
}

function validated(span: OtlpSpan, index: number, rejected: Rejection[], out: OtlpSpan[]): void {
  const problem = checkIds(span.traceId, span.spanId, span.parentSpanId, true) ?? checkTimes(span.startUs, span.endUs);
  if (problem) rejected.push({ index, reason: `span "${span.name.slice(0, 100)}": ${problem}` });
  else out.push(span);
}

export function decodeTraces(body: Buffer, format: WireFormat): Decoded<OtlpSpan> {
  const items: OtlpSpan[] = [];
  const rejected: Rejection[] = [];
  let index = 0;
  if (format === 'protobuf') {
    const req = decodeProtobuf<PbTraceRequest>(TraceRequest, body);
    for (const rs of req.resourceSpans ?? []) {
      const resource = pbAttributes(rs.resource?.attributes);
      for (const ss of rs.scopeSpans ?? []) {
        const scope = ss.scope?.name ?? '';
        for (const s of ss.spans ?? []) {
          const events: OtlpEvent[] = (s.events ?? []).map((e) => ({
            timeUs: nanosToMicros(e.timeUnixNano),
            name: e.name ?? '',
            attributes: pbAttributes(e.attributes),
          }));
          validated(
            {
              resource,
              scope,
              traceId: bytesToHex(s.traceId),
              spanId: bytesToHex(s.spanId),
              parentSpanId: bytesToHex(s.parentSpanId),
              name: s.name ?? '',
              kind: s.kind ?? 0,
              startUs: nanosToMicros(s.startTimeUnixNano),
              endUs: nanosToMicros(s.endTimeUnixNano),
              attributes: pbAttributes(s.attributes),
              events,
              statusCode: s.status?.code ?? 0,
              statusMessage: s.status?.message ?? '',
            },
            index++,
            rejected,
            items,
          );
        }
      }
    }
    return { items, rejected };
  }

  const req = parseJson(body);
  for (const rs of jsonList(req, 'resourceSpans', 'request')) {
    const resource = jsonAttributes(isObject(rs.resource) ? rs.resource.attributes : undefined);
    for (const ss of jsonList(rs, 'scopeSpans', 'resourceSpans[]')) {
      const scope = isObject(ss.scope) && typeof ss.scope.name === 'string' ? ss.scope.name : '';
      for (const s of jsonList(ss, 'spans', 'scopeSpans[]')) {
        const status = isObject(s.status) ? s.status : {};
        const events: OtlpEvent[] = (Array.isArray(s.events) ? s.events.filter(isObject) : []).map((e) => ({
          timeUs: nanosToMicros(e.timeUnixNano),
          name: typeof e.name === 'string' ? e.name : '',
          attributes: jsonAttributes(e.attributes),
        }));
        validated(
          {
            resource,
            scope,
            traceId: jsonId(s.traceId),
            spanId: jsonId(s.spanId),
            parentSpanId: jsonId(s.parentSpanId),
            name: typeof s.name === 'string' ? s.name : '',
            kind: Number(s.kind ?? 0) || 0,
            startUs: nanosToMicros(s.startTimeUnixNano),
            endUs: nanosToMicros(s.endTimeUnixNano),
            attributes: jsonAttributes(s.attributes),
            events,
            statusCode: Number(status.code ?? 0) || 0,
            statusMessage: typeof status.message === 'string' ? status.message : '',
          },
          index++,
          rejected,
          items,
        );
      }
    }
  }
  return { items, rejected };
}

// ---------- logs ----------

interface PbLogRecord {
  timeUnixNano?: LongLike;
  observedTimeUnixNano?: LongLike;
  severityText?: string;
  body?: PbAnyValue;
  attributes?: PbKeyValue[];
  traceId?: Uint8Array;
  spanId?: Uint8Array;
  eventName?: string;
}
interface PbLogsRequest {
  resourceLogs?: {
    resource?: { attributes?: PbKeyValue[] };
    scopeLogs?: { scope?: { name?: string }; logRecords?: PbLogRecord[] }[];
  }[];
}

function validatedLog(rec: OtlpLogRecord, index: number, rejected: Rejection[], out: OtlpLogRecord[]): void {
  // Log records without a span context cannot be joined to a step; they are not GenAI content.
  const problem =
    rec.traceId === '' && rec.spanId === ''
      ? 'log record has no traceId/spanId, so it cannot be joined to a span'
      : checkIds(rec.traceId, rec.spanId, '', true);
  if (problem) rejected.push({ index, reason: `log record: ${problem}` });
  else if (!Number.isFinite(rec.timeUs) || rec.timeUs <= 0) rejected.push({ index, reason: 'log record: no valid time' });
  else out.push(rec);
}

/** The event name of a log record: the field, or the older `event.name` attribute. */
function eventNameOf(field: string | undefined, attributes: Attributes): string {
  if (field) return field;
  const attr = attributes['event.name'];
  return typeof attr === 'string' ? attr : '';
}

export function decodeLogs(body: Buffer, format: WireFormat): Decoded<OtlpLogRecord> {
  const items: OtlpLogRecord[] = [];
  const rejected: Rejection[] = [];
  let index = 0;
  if (format === 'protobuf') {
    const req = decodeProtobuf<PbLogsRequest>(LogsRequest, body);
    for (const rl of req.resourceLogs ?? []) {
      const resource = pbAttributes(rl.resource?.attributes);
      for (const sl of rl.scopeLogs ?? []) {
        for (const r of sl.logRecords ?? []) {
          const attributes = pbAttributes(r.attributes);
          const time = nanosToMicros(r.timeUnixNano) || nanosToMicros(r.observedTimeUnixNano);
          validatedLog(
            {
              resource,
              scope: sl.scope?.name ?? '',
              traceId: bytesToHex(r.traceId),
              spanId: bytesToHex(r.spanId),
              timeUs: time,
              eventName: eventNameOf(r.eventName, attributes),
              severityText: r.severityText ?? '',
              body: pbValue(r.body),
              attributes,
            },
            index++,
            rejected,
            items,
          );
        }
      }
    }
    return { items, rejected };
  }
  const req = parseJson(body);
  for (const rl of jsonList(req, 'resourceLogs', 'request')) {
    const resource = jsonAttributes(isObject(rl.resource) ? rl.resource.attributes : undefined);
    for (const sl of jsonList(rl, 'scopeLogs', 'resourceLogs[]')) {
      const scope = isObject(sl.scope) && typeof sl.scope.name === 'string' ? sl.scope.name : '';
      for (const r of jsonList(sl, 'logRecords', 'scopeLogs[]')) {
        const attributes = jsonAttributes(r.attributes);
        const time = nanosToMicros(r.timeUnixNano) || nanosToMicros(r.observedTimeUnixNano);
        validatedLog(
          {
            resource,
            scope,
            traceId: jsonId(r.traceId),
            spanId: jsonId(r.spanId),
            timeUs: time,
            eventName: eventNameOf(typeof r.eventName === 'string' ? r.eventName : undefined, attributes),
            severityText: typeof r.severityText === 'string' ? r.severityText : '',
            body: jsonValue(r.body),
            attributes,
          },
          index++,
          rejected,
          items,
        );
      }
    }
  }
  return { items, rejected };
}
