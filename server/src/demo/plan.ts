/**
 * A run or session as a tree of spans to send, with every timestamp decided in advance.
 *
 * Renderers produce plans; the player (player.ts) turns a plan into real OpenTelemetry spans.
 * Deciding times up front is what lets one code path serve both live traffic (spans end on
 * timers, so a long run is seen "running" while its children arrive) and backfill (every span
 * lies in the past and ends at once).
 */
import { SpanKind, SpanStatusCode, type Attributes } from '@opentelemetry/api';
import type { AnyValue, AnyValueMap } from '@opentelemetry/api-logs';
import type { TokenUsage } from './scenario';

/** What a span stands for, for bookkeeping and tests only: never exported. */
export type SpanRole =
  | 'run' // the outermost agent span: the run's identity
  | 'agent' // a nested agent span (sub-agent, hand-off)
  | 'llm'
  | 'tool'
  | 'session' // voice session root
  | 'turn'
  | 'voice' // stt / tts and other voice pipeline stages
  | 'other'; // HTTP wrappers, framework spans

export interface PlannedEvent {
  name: string;
  time: number;
  attributes?: Attributes;
}

/** A log record sent with the trace and span ids of the span it belongs to. */
export interface PlannedLog {
  time: number;
  eventName: string;
  body?: AnyValue;
  attributes?: AnyValueMap;
}

export interface PlannedSpan {
  name: string;
  kind: SpanKind;
  /** Epoch milliseconds. */
  start: number;
  /** Epoch milliseconds; null means the span never ends (and is never exported). */
  end: number | null;
  attributes: Attributes;
  status?: { code: SpanStatusCode; message?: string };
  events?: PlannedEvent[];
  /** Sent through the logs pipeline when the span ends. */
  logs?: PlannedLog[];
  children: PlannedSpan[];
  /** Instrumentation scope (tracer name), e.g. `openinference.instrumentation.openai`. */
  scope?: string;
  role: SpanRole;
  /** Token usage the span's attributes report, for LLM spans (lets tests check sums). */
  tokens?: TokenUsage;
  /** Cost the span's attributes report, if any. */
  costUsd?: number;
}

/** The resource a span is sent under: one per application and environment. */
export interface AppIdentity {
  serviceName: string;
  serviceVersion?: string;
  environment?: string;
  /** Further resource attributes (host, instance, SDK language...). */
  attributes?: Attributes;
}

export interface Plan {
  app: AppIdentity;
  /** Default scope for spans that do not name one. */
  scope: string;
  root: PlannedSpan;
}

export function span(
  role: SpanRole,
  name: string,
  kind: SpanKind,
  start: number,
  end: number | null,
  attributes: Attributes,
  extra: Partial<Omit<PlannedSpan, 'role' | 'name' | 'kind' | 'start' | 'end' | 'attributes'>> = {},
): PlannedSpan {
  return { role, name, kind, start, end, attributes, children: [], ...extra };
}

/** Depth-first list of every planned span. */
export function allSpans(root: PlannedSpan): PlannedSpan[] {
  return [root, ...root.children.flatMap(allSpans)];
}

export { SpanKind, SpanStatusCode };
