/**
 * The storage interface. DuckDB implements it now; ClickHouse joins later (issue 6). The ingest
 * writer and the API depend on this interface only.
 */
import { EventRecord, RunRow, SessionRow, SpanRecord, StepFact, UsageRow } from '../domain';
import { Scope } from '../config';

/** Runs, sessions, steps and LLM usage of one trace, derived again from all its spans (deriveTrace). */
export interface DerivedReplacement {
  tenant: string;
  traceId: string;
  runs: RunRow[];
  sessions: SessionRow[];
  steps: StepFact[];
  usage: UsageRow[];
  /**
   * True when storage holds nothing of this trace yet (its first spans are in this batch), so there
   * are no runs or sessions of it to replace: the store may skip deleting them.
   */
  newTrace?: boolean;
  /**
   * With shared writers: the version of the stored facts the rows were derived from (TraceFacts).
   * The store keeps, per trace, the rows of the derivation with the highest version. Absent when
   * the caller derived from every stored record of the trace (the store then counts them).
   */
  factsVersion?: number;
}

/** The stored records of one trace (without content) and the version of that set. */
export interface TraceFacts {
  tenant: string;
  traceId: string;
  records: SpanRecord[];
  /**
   * Orders loads of one trace's facts: a later load has a version at least as high, and an equal
   * version only when it holds the same records (on ClickHouse, the number of distinct records).
   */
  version: number;
}

export interface CommitBatch {
  spans: SpanRecord[];
  events: EventRecord[];
  derived: DerivedReplacement[];
}

/** Start times (µs) between which every record of a trace lies. */
export interface TraceWindow {
  fromUs: number;
  toUs: number;
}

export interface ApiKeyRow {
  id: string;
  tenant: string;
  name: string;
  scopes: Scope[];
  hash: string;
  prefix: string;
  createdUs: number;
  revokedUs: number | null;
}

export interface RunFilter {
  fromUs?: number;
  toUs?: number;
  limit?: number;
  runId?: string;
  conversationId?: string;
  userId?: string;
}

export interface StepRow {
  spanId: string;
  /** 'span' for OTLP; the native API's run records are merged by the reader (derive/trace.ts mergeRecords). */
  record: string;
  parentSpanId: string;
  name: string;
  role: string;
  status: string;
  startUs: number;
  durationMs: number | null;
  agent: string;
  tool: string;
  model: string;
  provider: string;
  inputTokens: number | null;
  outputTokens: number | null;
  cachedTokens: number | null;
  reasoningTokens: number | null;
  cost: number | null;
  errorType: string;
  input: string | null;
  output: string | null;
  reasoning: string | null;
  system: string | null;
  attributes: string;
  /** Resource attributes of the span's service (JSON text). */
  resource: string;
  events: { timeUs: number; name: string; source: string; body: string | null; attributes: string }[];
}

export interface Counts {
  spans: number;
  events: number;
  runs: number;
  sessions: number;
}

export type Row = Record<string, unknown>;

export interface Store {
  readonly engine: string;
  /**
   * True when other processes write the same storage (ClickHouse replicas). The ingest writer then
   * derives a trace from its facts loaded after its own insert (loadFacts), not from its cache, and
   * hands their version with the derived rows; the store keeps the derivation of the highest
   * version. Absent: this process is the only writer (DuckDB), and its cache is the truth.
   */
  readonly sharedWriters?: boolean;
  /** With shared writers: the stored facts of several traces, each with its version. */
  loadFacts?(keys: { tenant: string; traceId: string }[]): Promise<TraceFacts[]>;
  /**
   * A number that changes whenever this store has written anything (commits, deletes,
   * re-derivation), so a cached query answer can tell it is still current. Left out by an engine
   * where other processes write too (ClickHouse replicas): then answers are only shared while in
   * flight (query/shared-answers.ts).
   */
  writeGeneration?(): number;
  /**
   * True when the store keeps tool calls summed per 15 minutes (tables tool_rollup / view
   * tool_rollup_v, and tool_latency: store/duckdb/tool-rollup.ts), exact at every commit. Absent:
   * tool metrics read every call from steps_v (query/capabilities/tool-calls.ts).
   */
  readonly toolRollup?: boolean;
  /**
   * With a cost-per-conversation table (DuckDB: store/duckdb/conversation-costs.ts): the
   * fingerprint of the prices its costs were computed with (pricing/fingerprint.ts), null while it
   * is incomplete. Absent: costPerConversation computes every conversation from usage.
   */
  readonly conversationCostPrices?: string | null;
  /**
   * A read-only query in the engine's SQL dialect (the query engine's dialect layer writes it).
   * Views runs_v (effective status and duration), steps_v (steps with their run's effective
   * status) and usage_v (LLM usage with its run's effective status) exist on every engine.
   */
  read(sql: string, params?: unknown[]): Promise<Row[]>;
  /** Opens the database and applies pending schema migrations. */
  open(): Promise<void>;
  close(): Promise<void>;
  ping(): Promise<void>;

  /** Writes one batch in one transaction; resolves once it is durable. */
  commit(batch: CommitBatch): Promise<void>;
  /**
   * Every stored record of one trace, without content (what derivation needs). `window` (the
   * trace's first and last record start, as stored on its runs) only lets the engine skip
   * storage blocks: every record of the trace lies within it.
   */
  loadTrace(tenant: string, traceId: string, window?: TraceWindow): Promise<SpanRecord[]>;
  /** Event keys already stored for a trace, for deduplicating events. */
  loadEventKeys(tenant: string, traceId: string): Promise<string[]>;
  /**
   * Re-derivation of stored traces (after a schema change added derived tables): the stored
   * records of one part of all traces (parts split by a hash of tenant and trace id), ordered by
   * tenant and trace id, without content.
   */
  loadFactsPart(part: number, parts: number): Promise<SpanRecord[]>;
  /** Progress of a pending re-derivation of every trace: null when none is pending. */
  rederivation(): Promise<{ part: number; parts: number } | null>;
  /** Records that parts [0, part) are re-derived; part >= parts ends the task. */
  setRederivation(part: number, parts: number): Promise<void>;
  /** Every (tenant, trace id) stored, so the writer knows which traces are new. */
  listTraceKeys(): Promise<{ tenant: string; traceId: string }[]>;

  listRuns(tenant: string, filter: RunFilter, runTimeoutMinutes: number): Promise<RunRow[]>;
  listSessions(tenant: string, filter: RunFilter): Promise<SessionRow[]>;
  /** The trace's spans with content and events; run assignment is the caller's (derivation). */
  loadTraceSteps(tenant: string, traceId: string, window?: TraceWindow): Promise<StepRow[]>;
  counts(tenant: string): Promise<Counts>;

  /** Deletes everything of the traces that touch one conversation or one user; returns spans deleted. */
  deleteBy(tenant: string, field: 'conversation' | 'user', value: string): Promise<{ traces: string[]; spans: number }>;
  /** Deletes data older than the cutoff; returns spans deleted. */
  deleteOlderThan(cutoffUs: number): Promise<number>;

  insertKey(key: ApiKeyRow): Promise<void>;
  listKeys(tenant?: string): Promise<ApiKeyRow[]>;
  findKeyByHash(hash: string): Promise<ApiKeyRow | null>;
  revokeKey(id: string, atUs: number): Promise<boolean>;
}
