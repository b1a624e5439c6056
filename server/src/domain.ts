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
  /**
   * The stored duration, when the record was read back from storage: it was computed from the
   * exact end - start, which the stored microsecond timestamps may round. Absent on fresh records.
   */
  durationMs?: number | null;
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
  /** How many runs the run's trace holds (derivation knows all of them at once). */
  runsInTrace: number;
  /**
   * Earliest and latest start of any record of the run's trace: reading the trace's spans with
   * start_time in this range lets the engine skip storage blocks (spans arrive roughly in time order).
   */
  traceStartUs: number;
  traceEndUs: number;
  /**
   * The distinct non-empty tool names, models and providers of every record of the run's trace
   * (sorted): a run matches a tool, model or provider filter when its trace has a span of it, and
   * these lists answer that without reading the spans (filters-sql.ts runConditions).
   */
  traceTools: string[];
  traceModels: string[];
  traceProviders: string[];
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

/**
 * A step: one OTLP span record (record 'span') with the run derivation attributes it to and that
 * run's dimensions, and the span's metric columns (no content). Derived per trace, like runs.
 */
export interface StepFact {
  tenant: string;
  traceId: string;
  spanId: string;
  runId: string;
  runAgent: string;
  runAgentVersion: string;
  /** The run's stored status; the deadline rule (running -> timed_out) applies at query time. */
  runStatus: RunStatus;
  runStartUs: number;
  runEnvironment: string;
  runService: string;
  runChannel: Channel;
  runConversationId: string;
  runUserId: string;
  parentSpanId: string;
  role: Role;
  name: string;
  toolName: string;
  model: string;
  responseModel: string;
  provider: string;
  statusCode: number;
  statusMessage: string;
  errorType: string;
  startUs: number;
  durationMs: number | null;
  inputTokens: number | null;
  outputTokens: number | null;
  cachedTokens: number | null;
  cacheWriteTokens: number | null;
  reasoningTokens: number | null;
  totalTokens: number | null;
  cost: number | null;
}

/**
 * LLM usage of one run, summed per (15-minute UTC bucket of the call's start, model, response
 * model, provider). Cost stays exact under this sum because calls are split by how they are
 * costed: calls with a reported cost (summed), calls priced from tokens (their price-independent
 * token sums, so cost = sums x price for any price table) and unpriceable calls (no input/output
 * split: calls - reportedCalls - pricedCalls). A run whose LLM steps report no usage has one
 * run-level row with the run's own totals (at the run's start).
 */
export interface UsageRow {
  tenant: string;
  traceId: string;
  runId: string;
  agent: string;
  agentVersion: string;
  status: RunStatus;
  runStartUs: number;
  channel: Channel;
  environment: string;
  service: string;
  conversationId: string;
  userId: string;
  /** Start of the 15-minute UTC bucket holding the calls' starts. */
  bucketUs: number;
  /** The run's own totals rather than LLM steps (its time is the run's start). */
  runLevel: boolean;
  model: string;
  responseModel: string;
  provider: string;
  calls: number;
  /** Token sums; null when no call of the row reported that figure. */
  inputTokens: number | null;
  outputTokens: number | null;
  cachedTokens: number | null;
  cacheWriteTokens: number | null;
  reasoningTokens: number | null;
  totalTokens: number;
  reportedCalls: number;
  /** Sum of the reported costs (null without reported calls). */
  reportedCost: number | null;
  pricedCalls: number;
  /** Input tokens billed at the input price: input - cached - cache write, or input if that is negative (prices.ts costUsd). */
  billableInput: number;
  pricedCached: number;
  pricedCacheWrite: number;
  pricedOutput: number;
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
