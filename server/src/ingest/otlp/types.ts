/**
 * OTLP data after decoding, independent of the wire format (protobuf or JSON).
 * Times are microseconds since the epoch as doubles: nanosecond values exceed 2^53, and
 * microseconds are what storage keeps.
 */

export type AttrValue = string | number | boolean | null | AttrValue[] | { [key: string]: AttrValue };
export type Attributes = Record<string, AttrValue>;

export interface OtlpEvent {
  timeUs: number;
  name: string;
  attributes: Attributes;
}

export interface OtlpSpan {
  resource: Attributes;
  scope: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  startUs: number;
  endUs: number;
  attributes: Attributes;
  events: OtlpEvent[];
  statusCode: number;
  statusMessage: string;
}

export interface OtlpLogRecord {
  resource: Attributes;
  scope: string;
  traceId: string;
  spanId: string;
  timeUs: number;
  eventName: string;
  severityText: string;
  body: AttrValue;
  attributes: Attributes;
}

/** An item of a batch that could not be accepted, and why (reported in partialSuccess). */
export interface Rejection {
  index: number;
  reason: string;
}

export interface Decoded<T> {
  items: T[];
  rejected: Rejection[];
}

/** Thrown when a whole request cannot be decoded: the receiver answers 400 with this message. */
export class DecodeError extends Error {}
