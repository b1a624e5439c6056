/**
 * The normalised model of design.md: spans become steps of runs and sessions, whatever
 * convention they were written in. One definition, used by ingest, storage and derivation.
 */
import type { Channel, RunStatus } from '@agent-insights/model';

export type { Channel, RunStatus } from '@agent-insights/model';

/** What a span is, once its convention is understood. `session` and `turn` belong to voice/video. */
export type Role = 'agent' | 'llm' | 'tool' | 'retrieval' | 'handoff' | 'session' | 'turn' | 'other';

/**
 * A stored record of a span. OTLP spans have record 'span'; the native API records a run's
 * start, updates and end as separate records of the same span id ('started', 'updated', 'finished'),
 * which are facts too: storage is idempotent on (tenant, traceId, spanId, record).
 */
export interface SpanRecord {
  tenant: string;
  traceId: string;
  spanId: string;
  record: string;
  parentSpanId: string;
  name: string;
  spanKind: number;
  startUs: number;
  /** null while a natively reported run or session has not finished. */
  endUs: number | null;
  /** 0 unset, 1 ok, 2 error (OTLP status codes). */
  statusCode: number;
  statusMessage: string;
  role: Role;
  convention: string;
  operation: string;
  agentName: string;
  agentVersion: string;
  toolName: string;
  toolCallId: string;
  model: string;
  responseModel: string;
  provider: string;
  service: string;
  environment: string;
  channel: Channel | '';
  conversationId: string;
  userId: string;
  sessionId: string;
  externalRunId: string;
  inputTokens: number | null;
  outputTokens: number | null;
  cachedTokens: number | null;
  cacheWriteTokens: number | null;
  reasoningTokens: number | null;
  totalTokens: number | null;
  /** Cost in USD as reported by the telemetry itself (OpenInference llm.cost.*), else null. */
  cost: number | null;
  errorType: string;
  /** The error or an exception names a timeout. */
  timeoutHint: boolean;
  interrupted: boolean | null;
  latencyMs: number | null;
  endReason: string;
  turns: number | null;
  interruptions: number | null;
  inputContent: string | null;
  outputContent: string | null;
  reasoningContent: string | null;
  systemContent: string | null;
  attributes: string;
  resource: string;
}

/** A span event or a log record joined to its span (content that arrives as logs, exceptions). */
export interface EventRecord {
  tenant: string;
  traceId: string;
  spanId: string;
  timeUs: number;
  name: string;
  source: 'span_event' | 'log';
  body: string | null;
  attributes: string;
  /** Identity for deduplication: a hash of everything above. */
  key: string;
}

export interface RunRow {
  tenant: string;
  runId: string;
  traceId: string;
  /** Empty while the run is provisional (its agent span has not arrived). */
  rootSpanId: string;
  agent: string;
  agentVersion: string;
  service: string;
  environment: string;
  channel: Channel;
  conversationId: string;
  userId: string;
  /** As derived from the spans; a running run past the deadline reads as timed_out at query time. */
  status: RunStatus;
  startUs: number;
  endUs: number | null;
  toolCalls: number;
  llmCalls: number;
  inputTokens: number;
  outputTokens: number;
  cachedTokens: number;
  reasoningTokens: number;
  totalTokens: number;
  cost: number | null;
  errorType: string;
  errorMessage: string;
  models: string;
  spanCount: number;
}

export interface SessionRow {
  tenant: string;
  sessionId: string;
  traceId: string;
  rootSpanId: string;
  agent: string;
  channel: Channel;
  service: string;
  environment: string;
  conversationId: string;
  userId: string;
  status: RunStatus;
  startUs: number;
  endUs: number | null;
  turns: number;
  interruptions: number;
  /** Mean response latency (user stopped speaking to agent audio) over turns, ms. */
  avgLatencyMs: number | null;
  endReason: string;
  cost: number | null;
}

/** A span record with every field empty, for code that builds records field by field. */
export function emptySpanRecord(tenant: string, convention: string): SpanRecord {
  return {
    tenant,
    traceId: '',
    spanId: '',
    record: 'span',
    parentSpanId: '',
    name: '',
    spanKind: 0,
    startUs: 0,
    endUs: null,
    statusCode: 0,
    statusMessage: '',
    role: 'other',
    convention,
    operation: '',
    agentName: '',
    agentVersion: '',
    toolName: '',
    toolCallId: '',
    model: '',
    responseModel: '',
    provider: '',
    service: '',
    environment: '',
    channel: '',
    conversationId: '',
    userId: '',
    sessionId: '',
    externalRunId: '',
    inputTokens: null,
    outputTokens: null,
    cachedTokens: null,
    cacheWriteTokens: null,
    reasoningTokens: null,
    totalTokens: null,
    cost: null,
    errorType: '',
    timeoutHint: false,
    interrupted: null,
    latencyMs: null,
    endReason: '',
    turns: null,
    interruptions: null,
    inputContent: null,
    outputContent: null,
    reasoningContent: null,
    systemContent: null,
    attributes: '{}',
    resource: '{}',
  };
}
