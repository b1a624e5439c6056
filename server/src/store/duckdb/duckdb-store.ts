/**
 * The embedded DuckDB store: one file, owned by this process. Writes go through one connection,
 * one transaction per batch, with DuckDB's appender (its fastest insert path); reads use another
 * connection so that queries never wait for a commit.
 * Durability: DuckDB writes and syncs its write-ahead log at COMMIT, so a resolved commit()
 * survives kill -9 of the process.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DuckDBAppender, DuckDBConnection, DuckDBInstance, DuckDBTimestampValue, LIST, listValue, VARCHAR } from '@duckdb/node-api';
import { Scope } from '../../config';
import { EventRecord, RunRow, SessionRow, SpanRecord, StepFact, UsageRow } from '../../domain';
import { rederiveStored } from '../../derive/rederive';
import { bucketOf } from '../../derive/steps-usage';
import { DELETED_STEPS_RETURNING, rebuildToolRollups, refreshToolRollups, TouchedBuckets } from './tool-rollup';
import { ApiKeyRow, CommitBatch, Counts, DerivedReplacement, Row, RunFilter, StepRow, Store, TraceWindow } from '../store';
import { MIGRATIONS } from './migrations';
import { ConversationCosts, DELETED_RUNS_RETURNING, TouchedConversations } from './conversation-costs';
import { Pricing } from '../../pricing';

function ts(us: number): DuckDBTimestampValue {
  return new DuckDBTimestampValue(BigInt(Math.round(us)));
}

/** Appends a nullable value with the right appender method. */
function v(a: DuckDBAppender, kind: 'varchar' | 'double' | 'bigint' | 'int' | 'tinyint' | 'bool' | 'ts', value: unknown): void {
  if (value === null || value === undefined) return a.appendNull();
  switch (kind) {
    case 'varchar':
      return a.appendVarchar(value as string);
    case 'double':
      return a.appendDouble(value as number);
    case 'bigint':
      return a.appendBigInt(BigInt(Math.round(value as number)));
    case 'int':
      return a.appendInteger(Math.round(value as number));
    case 'tinyint':
      return a.appendTinyInt(value as number);
    case 'bool':
      return a.appendBoolean(value as boolean);
    case 'ts':
      return a.appendTimestamp(ts(value as number));
  }
}

function appendSpan(a: DuckDBAppender, s: SpanRecord, receivedUs: number): void {
  v(a, 'varchar', s.tenant);
  v(a, 'varchar', s.traceId);
  v(a, 'varchar', s.spanId);
  v(a, 'varchar', s.record);
  v(a, 'varchar', s.parentSpanId);
  v(a, 'varchar', s.name);
  v(a, 'tinyint', s.spanKind);
  v(a, 'ts', s.startUs);
  v(a, 'ts', s.endUs);
  v(a, 'double', s.endUs === null ? null : (s.endUs - s.startUs) / 1000);
  v(a, 'tinyint', s.statusCode);
  v(a, 'varchar', s.statusMessage);
  v(a, 'varchar', s.role);
  v(a, 'varchar', s.convention);
  v(a, 'varchar', s.operation);
  v(a, 'varchar', s.agentName);
  v(a, 'varchar', s.agentVersion);
  v(a, 'varchar', s.toolName);
  v(a, 'varchar', s.toolCallId);
  v(a, 'varchar', s.model);
  v(a, 'varchar', s.responseModel);
  v(a, 'varchar', s.provider);
  v(a, 'varchar', s.service);
  v(a, 'varchar', s.environment);
  v(a, 'varchar', s.channel);
  v(a, 'varchar', s.conversationId);
  v(a, 'varchar', s.userId);
  v(a, 'varchar', s.sessionId);
  v(a, 'varchar', s.externalRunId);
  v(a, 'bigint', s.inputTokens);
  v(a, 'bigint', s.outputTokens);
  v(a, 'bigint', s.cachedTokens);
  v(a, 'bigint', s.cacheWriteTokens);
  v(a, 'bigint', s.reasoningTokens);
  v(a, 'bigint', s.totalTokens);
  v(a, 'double', s.cost);
  v(a, 'varchar', s.errorType);
  v(a, 'bool', s.timeoutHint);
  v(a, 'bool', s.interrupted);
  v(a, 'double', s.latencyMs);
  v(a, 'varchar', s.endReason);
  v(a, 'int', s.turns);
  v(a, 'int', s.interruptions);
  v(a, 'varchar', s.inputContent);
  v(a, 'varchar', s.outputContent);
  v(a, 'varchar', s.reasoningContent);
  v(a, 'varchar', s.systemContent);
  v(a, 'varchar', s.attributes);
  v(a, 'varchar', s.resource);
  v(a, 'ts', receivedUs);
  a.endRow();
}

function appendEvent(a: DuckDBAppender, e: EventRecord): void {
  v(a, 'varchar', e.tenant);
  v(a, 'varchar', e.traceId);
  v(a, 'varchar', e.spanId);
  v(a, 'ts', e.timeUs);
  v(a, 'varchar', e.name);
  v(a, 'varchar', e.source);
  v(a, 'varchar', e.body);
  v(a, 'varchar', e.attributes);
  v(a, 'varchar', e.key);
  a.endRow();
}

const VARCHAR_LIST = LIST(VARCHAR);

function appendRun(a: DuckDBAppender, r: RunRow): void {
  v(a, 'varchar', r.tenant);
  v(a, 'varchar', r.runId);
  v(a, 'varchar', r.traceId);
  v(a, 'varchar', r.rootSpanId);
  v(a, 'varchar', r.agent);
  v(a, 'varchar', r.agentVersion);
  v(a, 'varchar', r.service);
  v(a, 'varchar', r.environment);
  v(a, 'varchar', r.channel);
  v(a, 'varchar', r.conversationId);
  v(a, 'varchar', r.userId);
  v(a, 'varchar', r.status);
  v(a, 'ts', r.startUs);
  v(a, 'ts', r.endUs);
  v(a, 'int', r.toolCalls);
  v(a, 'int', r.llmCalls);
  v(a, 'bigint', r.inputTokens);
  v(a, 'bigint', r.outputTokens);
  v(a, 'bigint', r.cachedTokens);
  v(a, 'bigint', r.reasoningTokens);
  v(a, 'bigint', r.totalTokens);
  v(a, 'double', r.cost);
  v(a, 'varchar', r.errorType);
  v(a, 'varchar', r.errorMessage);
  v(a, 'varchar', r.models);
  v(a, 'int', r.spanCount);
  v(a, 'int', r.runsInTrace);
  v(a, 'ts', r.traceStartUs);
  v(a, 'ts', r.traceEndUs);
  a.appendList(r.traceTools, VARCHAR_LIST);
  a.appendList(r.traceModels, VARCHAR_LIST);
  a.appendList(r.traceProviders, VARCHAR_LIST);
  a.endRow();
}

function appendStep(a: DuckDBAppender, x: StepFact): void {
  v(a, 'varchar', x.tenant);
  v(a, 'varchar', x.traceId);
  v(a, 'varchar', x.spanId);
  v(a, 'varchar', x.runId);
  v(a, 'varchar', x.runAgent);
  v(a, 'varchar', x.runAgentVersion);
  v(a, 'varchar', x.runStatus);
  v(a, 'ts', x.runStartUs);
  v(a, 'varchar', x.runEnvironment);
  v(a, 'varchar', x.runService);
  v(a, 'varchar', x.runChannel);
  v(a, 'varchar', x.runConversationId);
  v(a, 'varchar', x.runUserId);
  v(a, 'varchar', x.parentSpanId);
  v(a, 'varchar', x.role);
  v(a, 'varchar', x.name);
  v(a, 'varchar', x.toolName);
  v(a, 'varchar', x.model);
  v(a, 'varchar', x.responseModel);
  v(a, 'varchar', x.provider);
  v(a, 'tinyint', x.statusCode);
  v(a, 'varchar', x.statusMessage);
  v(a, 'varchar', x.errorType);
  v(a, 'ts', x.startUs);
  v(a, 'double', x.durationMs);
  v(a, 'bigint', x.inputTokens);
  v(a, 'bigint', x.outputTokens);
  v(a, 'bigint', x.cachedTokens);
  v(a, 'bigint', x.cacheWriteTokens);
  v(a, 'bigint', x.reasoningTokens);
  v(a, 'bigint', x.totalTokens);
  v(a, 'double', x.cost);
  a.endRow();
}

function appendUsage(a: DuckDBAppender, u: UsageRow): void {
  v(a, 'varchar', u.tenant);
  v(a, 'varchar', u.traceId);
  v(a, 'varchar', u.runId);
  v(a, 'varchar', u.agent);
  v(a, 'varchar', u.agentVersion);
  v(a, 'varchar', u.status);
  v(a, 'ts', u.runStartUs);
  v(a, 'varchar', u.channel);
  v(a, 'varchar', u.environment);
  v(a, 'varchar', u.service);
  v(a, 'varchar', u.conversationId);
  v(a, 'varchar', u.userId);
  v(a, 'ts', u.bucketUs);
  v(a, 'bool', u.runLevel);
  v(a, 'varchar', u.model);
  v(a, 'varchar', u.responseModel);
  v(a, 'varchar', u.provider);
  v(a, 'int', u.calls);
  v(a, 'bigint', u.inputTokens);
  v(a, 'bigint', u.outputTokens);
  v(a, 'bigint', u.cachedTokens);
  v(a, 'bigint', u.cacheWriteTokens);
  v(a, 'bigint', u.reasoningTokens);
  v(a, 'bigint', u.totalTokens);
  v(a, 'int', u.reportedCalls);
  v(a, 'double', u.reportedCost);
  v(a, 'int', u.pricedCalls);
  v(a, 'bigint', u.billableInput);
  v(a, 'bigint', u.pricedCached);
  v(a, 'bigint', u.pricedCacheWrite);
  v(a, 'bigint', u.pricedOutput);
  a.endRow();
}

/** Tables derived per trace, replaced whole when a trace is derived again. */
const DERIVED_TABLES = [
  { table: 'runs', time: 'start_time' },
  { table: 'sessions', time: 'start_time' },
  { table: 'steps', time: 'start_time' },
  { table: 'usage', time: 'bucket' },
];

/**
 * The start-time range that holds every derived row of the given traces, or null when unknown.
 * A trace derived again has all its earlier records and maybe more, so its stored rows (steps at
 * their start, runs and sessions at a member's start, usage in the bucket of a member's start)
 * lie within the new derivation's trace window, which the engine uses to skip storage blocks.
 */
function replacedWindow(list: DerivedReplacement[]): TraceWindow | null {
  let fromUs = Infinity;
  let toUs = -Infinity;
  for (const d of list) {
    if (!d.runs.length) return null;
    fromUs = Math.min(fromUs, d.runs[0].traceStartUs);
    toUs = Math.max(toUs, d.runs[0].traceEndUs);
  }
  // Usage rows are keyed by the 15-minute bucket of a start: reach back to its bucket.
  return list.length ? { fromUs: bucketOf(fromUs) - 1, toUs: toUs + 1 } : null;
}

function appendSession(a: DuckDBAppender, s: SessionRow): void {
  v(a, 'varchar', s.tenant);
  v(a, 'varchar', s.sessionId);
  v(a, 'varchar', s.traceId);
  v(a, 'varchar', s.rootSpanId);
  v(a, 'varchar', s.agent);
  v(a, 'varchar', s.channel);
  v(a, 'varchar', s.service);
  v(a, 'varchar', s.environment);
  v(a, 'varchar', s.conversationId);
  v(a, 'varchar', s.userId);
  v(a, 'varchar', s.status);
  v(a, 'ts', s.startUs);
  v(a, 'ts', s.endUs);
  v(a, 'int', s.turns);
  v(a, 'int', s.interruptions);
  v(a, 'double', s.avgLatencyMs);
  v(a, 'varchar', s.endReason);
  v(a, 'double', s.cost);
  a.endRow();
}

const n = (x: unknown): number => (x === null || x === undefined ? 0 : Number(x));
const nn = (x: unknown): number | null => (x === null || x === undefined ? null : Number(x));
const s = (x: unknown): string => (x === null || x === undefined ? '' : String(x));
/** A nullable text column (content, bodies): NULL stays null. */
const sn = (x: unknown): string | null => (x === null ? null : s(x));

/** Columns of spans that derivation needs; content and attributes are not read back. */
const FACT_COLUMNS = `tenant, trace_id, span_id, record, parent_span_id, name, span_kind,
  epoch_us(start_time)::DOUBLE AS start_us, epoch_us(end_time)::DOUBLE AS end_us, status_code, status_message,
  role, convention, operation, agent_name, agent_version, tool_name, tool_call_id, model, response_model, provider,
  service, environment, channel, conversation_id, user_id, session_id, external_run_id,
  input_tokens::DOUBLE AS input_tokens, output_tokens::DOUBLE AS output_tokens, cached_tokens::DOUBLE AS cached_tokens,
  cache_write_tokens::DOUBLE AS cache_write_tokens, reasoning_tokens::DOUBLE AS reasoning_tokens, total_tokens::DOUBLE AS total_tokens,
  cost, error_type, timeout_hint, interrupted, latency_ms, end_reason, turns, interruptions, duration_ms`;

function factFromRow(r: Row): SpanRecord {
  return {
    tenant: s(r.tenant),
    traceId: s(r.trace_id),
    spanId: s(r.span_id),
    record: s(r.record),
    parentSpanId: s(r.parent_span_id),
    name: s(r.name),
    spanKind: n(r.span_kind),
    startUs: n(r.start_us),
    endUs: nn(r.end_us),
    statusCode: n(r.status_code),
    statusMessage: s(r.status_message),
    role: s(r.role) as SpanRecord['role'],
    convention: s(r.convention),
    operation: s(r.operation),
    agentName: s(r.agent_name),
    agentVersion: s(r.agent_version),
    toolName: s(r.tool_name),
    toolCallId: s(r.tool_call_id),
    model: s(r.model),
    responseModel: s(r.response_model),
    provider: s(r.provider),
    service: s(r.service),
    environment: s(r.environment),
    channel: s(r.channel) as SpanRecord['channel'],
    conversationId: s(r.conversation_id),
    userId: s(r.user_id),
    sessionId: s(r.session_id),
    externalRunId: s(r.external_run_id),
    inputTokens: nn(r.input_tokens),
    outputTokens: nn(r.output_tokens),
    cachedTokens: nn(r.cached_tokens),
    cacheWriteTokens: nn(r.cache_write_tokens),
    reasoningTokens: nn(r.reasoning_tokens),
    totalTokens: nn(r.total_tokens),
    cost: nn(r.cost),
    errorType: s(r.error_type),
    timeoutHint: r.timeout_hint === true,
    interrupted: r.interrupted === null || r.interrupted === undefined ? null : r.interrupted === true,
    latencyMs: nn(r.latency_ms),
    endReason: s(r.end_reason),
    turns: nn(r.turns),
    interruptions: nn(r.interruptions),
    inputContent: null,
    outputContent: null,
    reasoningContent: null,
    systemContent: null,
    attributes: '{}',
    resource: '{}',
    durationMs: nn(r.duration_ms),
  };
}

const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);

function runFromRow(r: Row): RunRow {
  return {
    tenant: s(r.tenant),
    runId: s(r.run_id),
    traceId: s(r.trace_id),
    rootSpanId: s(r.root_span_id),
    agent: s(r.agent),
    agentVersion: s(r.agent_version),
    service: s(r.service),
    environment: s(r.environment),
    channel: s(r.channel) as RunRow['channel'],
    conversationId: s(r.conversation_id),
    userId: s(r.user_id),
    status: s(r.status) as RunRow['status'],
    startUs: n(r.start_us),
    endUs: nn(r.end_us),
    toolCalls: n(r.tool_calls),
    llmCalls: n(r.llm_calls),
    inputTokens: n(r.input_tokens),
    outputTokens: n(r.output_tokens),
    cachedTokens: n(r.cached_tokens),
    reasoningTokens: n(r.reasoning_tokens),
    totalTokens: n(r.total_tokens),
    cost: nn(r.cost),
    errorType: s(r.error_type),
    errorMessage: s(r.error_message),
    models: s(r.models),
    spanCount: n(r.span_count),
    runsInTrace: n(r.runs_in_trace ?? 1),
    traceStartUs: n(r.trace_start_us ?? r.start_us),
    traceEndUs: n(r.trace_end_us ?? r.start_us),
    traceTools: list(r.trace_tools),
    traceModels: list(r.trace_models),
    traceProviders: list(r.trace_providers),
  };
}

function sessionFromRow(r: Row): SessionRow {
  return {
    tenant: s(r.tenant),
    sessionId: s(r.session_id),
    traceId: s(r.trace_id),
    rootSpanId: s(r.root_span_id),
    agent: s(r.agent),
    channel: s(r.channel) as SessionRow['channel'],
    service: s(r.service),
    environment: s(r.environment),
    conversationId: s(r.conversation_id),
    userId: s(r.user_id),
    status: s(r.status) as SessionRow['status'],
    startUs: n(r.start_us),
    endUs: nn(r.end_us),
    turns: n(r.turns),
    interruptions: n(r.interruptions),
    avgLatencyMs: nn(r.avg_latency_ms),
    endReason: s(r.end_reason),
    cost: nn(r.cost),
  };
}

function keyFromRow(r: Row): ApiKeyRow {
  return {
    id: s(r.id),
    tenant: s(r.tenant),
    name: s(r.name),
    scopes: s(r.scopes).split(',').filter(Boolean) as Scope[],
    hash: s(r.hash),
    prefix: s(r.prefix),
    createdUs: n(r.created_us),
    revokedUs: nn(r.revoked_us),
  };
}

/** Filters shared by the runs and sessions lists. */
function whereRuns(tenant: string, f: RunFilter): { sql: string; params: (string | number)[] } {
  const clauses = ['tenant = $1'];
  const params: (string | number)[] = [tenant];
  const add = (clause: string, value: string | number): void => {
    params.push(value);
    clauses.push(clause.replace('?', `$${params.length}`));
  };
  if (f.fromUs !== undefined) add('start_time >= make_timestamp(?::BIGINT)', Math.round(f.fromUs));
  if (f.toUs !== undefined) add('start_time <= make_timestamp(?::BIGINT)', Math.round(f.toUs));
  if (f.runId) add('run_id = ?', f.runId);
  if (f.conversationId) add('conversation_id = ?', f.conversationId);
  if (f.userId) add('user_id = ?', f.userId);
  return { sql: clauses.join(' AND '), params };
}

export class DuckDBStore implements Store {
  readonly engine = 'duckdb';
  /** Tool calls summed per 15 minutes (tool-rollup.ts), once built. */
  get toolRollup(): boolean {
    return !this.rollupPending;
  }
  /** Migration 4's task: the rollups are built after re-derivation, not kept batch by batch before. */
  private rollupPending = false;
  private instance!: DuckDBInstance;
  private writer!: DuckDBConnection;
  /**
   * A few reader connections: a slow panel occupies one while the others (and the live stream)
   * go on. A read goes to the connection with the fewest reads in flight.
   */
  private readers: { conn: DuckDBConnection; busy: number }[] = [];

  /** The writer connection runs one transaction at a time: callers queue on this chain. */
  private writeChain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly path: string,
    /** A run still running after this long reads as timed out (runs_v). */
    private readonly runTimeoutMinutes = 15,
    private readonly readerCount = 3,
    /** Progress of a re-derivation after a schema migration. */
    private readonly log: (message: string) => void = (m) => console.log(m),
    /** The prices stored conversation costs are computed with (conversation-costs.ts). */
    pricing?: Pricing,
  ) {
    this.conversations = new ConversationCosts(pricing);
  }

  /** Cost per conversation kept per conversation (conversation-costs.ts). */
  private readonly conversations: ConversationCosts;

  /** The fingerprint of the prices conversation_costs holds costs for, or null while it is incomplete. */
  get conversationCostPrices(): string | null {
    return this.conversations.pricesInUse();
  }

  /** Counts finished writes: every write goes through exclusive() (see writeGeneration). */
  private writes = 0;

  writeGeneration(): number {
    return this.writes;
  }

  private exclusive<T>(fn: (w: DuckDBConnection) => Promise<T>): Promise<T> {
    // Counted whether the write succeeded or not: a failed one may still have changed something.
    const next = this.writeChain.then(() => fn(this.writer)).finally(() => {
      this.writes++;
    });
    this.writeChain = next.catch(() => undefined);
    return next;
  }

  /** Runs fn in one transaction on the writer connection. */
  private transaction<T>(fn: (w: DuckDBConnection) => Promise<T>): Promise<T> {
    return this.exclusive(async (w) => {
      await w.run('BEGIN TRANSACTION');
      try {
        const result = await fn(w);
        await w.run('COMMIT');
        return result;
      } catch (e) {
        await w.run('ROLLBACK').catch(() => undefined);
        throw e;
      }
    });
  }

  async open(): Promise<void> {
    if (this.path !== ':memory:') mkdirSync(dirname(this.path), { recursive: true });
    this.instance = await DuckDBInstance.create(this.path);
    this.writer = await this.instance.connect();
    for (let i = 0; i < Math.max(1, this.readerCount); i++) this.readers.push({ conn: await this.instance.connect(), busy: 0 });
    // Timestamps are stored in UTC; time zones are applied explicitly by queries.
    for (const c of [this.writer, ...this.readers.map((r) => r.conn)]) await c.run("SET TimeZone = 'UTC'");
    await this.migrate();
    await this.createViews();
    // Migration 2 added derived tables that only derivation can fill: derive every stored trace again.
    this.rollupPending = (await this.read(`SELECT 1 FROM maintenance_tasks WHERE name = 'tool_rollup'`)).length > 0;
    await rederiveStored(this, this.log);
    await this.reorderDerived();
    await this.buildRollups();
    const started = Date.now();
    const conversations = await this.transaction((w) => this.conversations.prepare(w));
    if (conversations) this.log(`conversation costs computed: ${conversations} conversations, ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }

  /**
   * Fills the tool rollups from every step, once (migration 4's task): after re-derivation and
   * reordering, which would otherwise compute buckets again batch by batch, in hash order.
   */
  private async buildRollups(): Promise<void> {
    if (!this.rollupPending) return;
    const started = Date.now();
    const days = await this.transaction(async (w) => {
      const n = await rebuildToolRollups(w);
      await w.run(`DELETE FROM maintenance_tasks WHERE name = 'tool_rollup'`);
      return n;
    });
    this.rollupPending = false;
    if (days) this.log(`tool rollups built over ${days} days of steps, ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }

  /**
   * Rewrites the derived tables sorted by time, once (migration 3's task), after
   * re-derivation: it writes traces in hash order, so every storage block would span the whole
   * history and no time range could skip one (a 30-day query's few partial 15-minute buckets read
   * all 10 million steps: 120 ms; in time order 4 ms). Ingest appends in about time order after.
   * Through a scratch table in one transaction per table, so the tables keep their definitions.
   */
  private async reorderDerived(): Promise<void> {
    const task = await this.read(`SELECT 1 FROM maintenance_tasks WHERE name = 'reorder'`);
    if (!task.length) return;
    const started = Date.now();
    for (const [table, time] of [['steps', 'start_time'], ['usage', 'bucket'], ['runs', 'start_time']]) {
      // A new store has nothing to sort (the task comes with migration 3 on every store).
      if (!(await this.read(`SELECT 1 FROM ${table} LIMIT 1`)).length) continue;
      await this.transaction(async (w) => {
        await w.run(`CREATE TABLE reorder_scratch AS SELECT * FROM ${table}`);
        await w.run(`DELETE FROM ${table}`);
        // Day by day, each day sorted: the rows come back in time order, and no more than a day's
        // rows are sorted at once (one sort of 10 million steps took 6.4 GiB of memory).
        const [span] = await this.rows(w, `SELECT epoch_us(min(${time})) AS lo, epoch_us(max(${time})) AS hi FROM reorder_scratch`);
        const day = 86_400_000_000;
        for (let t = Math.floor(n(span.lo) / day) * day; t <= n(span.hi); t += day) {
          await w.run(
            `INSERT INTO ${table} SELECT * FROM reorder_scratch WHERE ${time} >= make_timestamp(${t}::BIGINT) AND ${time} < make_timestamp(${t + day}::BIGINT) ORDER BY ${time}, tenant`,
          );
        }
        await w.run('DROP TABLE reorder_scratch');
      });
      this.log(`derived table ${table} rewritten in time order, ${((Date.now() - started) / 1000).toFixed(1)} s`);
    }
    await this.exclusive(async (w) => {
      await w.run(`DELETE FROM maintenance_tasks WHERE name = 'reorder'`);
      await w.run('CHECKPOINT');
    });
  }

  /**
   * Views over the derived tables that depend on configuration or the clock, so they are created at
   * start rather than migrated: runs_v reads a run still running past the deadline as timed out,
   * with its duration up to now (or up to the deadline); steps_v and usage_v carry their run's
   * status by the same rule.
   */
  private async createViews(): Promise<void> {
    const deadline = `INTERVAL (${Math.round(this.runTimeoutMinutes)}) MINUTE`;
    const status = (col: string, start: string) =>
      `CASE WHEN ${col} = 'running' AND ${start} < now()::TIMESTAMP - ${deadline} THEN 'timed_out' ELSE ${col} END`;
    await this.writer.run(`CREATE OR REPLACE VIEW runs_v AS
      SELECT r.* EXCLUDE (status, runs_in_trace),
        ${status('r.status', 'r.start_time')} AS status,
        (epoch_ms(coalesce(r.end_time, least(now()::TIMESTAMP, r.start_time + ${deadline}))) - epoch_ms(r.start_time))::DOUBLE AS duration_ms,
        coalesce(r.runs_in_trace, 1) AS runs_in_trace
      FROM runs r`);
    // Steps are attributed to their run by derivation (derive/steps-usage.ts), stored per trace.
    await this.writer.run(`CREATE OR REPLACE VIEW steps_v AS
      SELECT s.* EXCLUDE (run_status), ${status('s.run_status', 's.run_start')} AS run_status
      FROM steps s`);
    // Tool calls summed per 15 minutes (tool-rollup.ts): a running run's rows read its status by the same rule.
    await this.writer.run(`CREATE OR REPLACE VIEW tool_rollup_v AS
      SELECT t.* EXCLUDE (run_status, running_since), ${status('t.run_status', 't.running_since')} AS run_status
      FROM tool_rollup t`);
    await this.writer.run(`CREATE OR REPLACE VIEW usage_v AS
      SELECT u.* EXCLUDE (status), ${status('u.status', 'u.run_start')} AS status
      FROM usage u`);
  }

  async read(sql: string, params: unknown[] = []): Promise<Row[]> {
    const r = this.readers.reduce((a, b) => (b.busy < a.busy ? b : a));
    r.busy++;
    try {
      return await this.rows(r.conn, sql, params);
    } finally {
      r.busy--;
    }
  }

  private async migrate(): Promise<void> {
    await this.writer.run('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, description VARCHAR, applied_at TIMESTAMP)');
    const applied = new Set((await this.rows(this.writer, 'SELECT version FROM schema_migrations')).map((r) => n(r.version)));
    for (const m of MIGRATIONS) {
      if (applied.has(m.version)) continue;
      await this.writer.run('BEGIN TRANSACTION');
      try {
        for (const stmt of m.sql) await this.writer.run(stmt);
        await this.writer.run('INSERT INTO schema_migrations VALUES ($1, $2, current_timestamp)', [m.version, m.description]);
        await this.writer.run('COMMIT');
      } catch (e) {
        await this.writer.run('ROLLBACK');
        throw new Error(`schema migration ${m.version} (${m.description}) failed: ${(e as Error).message}`);
      }
    }
  }

  async schemaVersion(): Promise<number> {
    const r = await this.read('SELECT max(version) AS v FROM schema_migrations');
    return n(r[0]?.v);
  }

  async close(): Promise<void> {
    this.writer?.closeSync();
    for (const r of this.readers) r.conn.closeSync();
    this.readers = [];
    this.instance?.closeSync();
  }

  async ping(): Promise<void> {
    await this.read('SELECT 1');
  }

  private async rows(conn: DuckDBConnection, sql: string, params: unknown[] = []): Promise<Row[]> {
    const reader = await conn.runAndReadAll(sql, params as never);
    return reader.getRowObjectsJS() as Row[];
  }

  async commit(batch: CommitBatch): Promise<void> {
    await this.transaction(async (w) => {
      const receivedUs = Date.now() * 1000;
      if (batch.spans.length) {
        const a = await w.createAppender('spans');
        for (const sp of batch.spans) appendSpan(a, sp, receivedUs);
        a.closeSync();
      }
      if (batch.events.length) {
        const a = await w.createAppender('events');
        for (const e of batch.events) appendEvent(a, e);
        a.closeSync();
      }
      if (batch.derived.length) {
        const touched = new TouchedBuckets();
        const conversations = new TouchedConversations();
        // Only traces already stored can have derived rows to replace. Skipping the others
        // matters: each DELETE reads the trace ids of the table (within the traces' time window).
        const byTenant = new Map<string, DerivedReplacement[]>();
        for (const d of batch.derived) {
          if (d.newTrace) continue;
          const list = byTenant.get(d.tenant);
          if (list) list.push(d);
          else byTenant.set(d.tenant, [d]);
        }
        for (const [tenant, list] of byTenant) {
          const traces = listValue(list.map((d) => d.traceId));
          const window = replacedWindow(list);
          for (const { table, time } of DERIVED_TABLES) {
            const within = window ? ` AND ${time} BETWEEN make_timestamp($3::BIGINT) AND make_timestamp($4::BIGINT)` : '';
            const params = window ? [tenant, traces, Math.floor(window.fromUs), Math.ceil(window.toUs)] : [tenant, traces];
            const sql = `DELETE FROM ${table} WHERE tenant = $1${within} AND trace_id IN (SELECT unnest($2::VARCHAR[]))`;
            // The buckets of the replaced tool steps are computed again below, with the new ones.
            if (table === 'steps') touched.addDeleted(await this.rows(w, `${sql} ${DELETED_STEPS_RETURNING}`, params));
            else if (table === 'runs') conversations.addDeleted(await this.rows(w, `${sql} ${DELETED_RUNS_RETURNING}`, params));
            else await w.run(sql, params);
          }
        }
        const append = async <T>(table: string, rows: (d: DerivedReplacement) => T[], fn: (a: DuckDBAppender, row: T) => void) => {
          const a = await w.createAppender(table);
          for (const d of batch.derived) for (const row of rows(d)) fn(a, row);
          a.closeSync();
        };
        await append('runs', (d) => d.runs, appendRun);
        await append('sessions', (d) => d.sessions, appendSession);
        await append('steps', (d) => d.steps, appendStep);
        await append('usage', (d) => d.usage, appendUsage);
        for (const d of batch.derived) for (const st of d.steps) if (st.role === 'tool') touched.add(st.tenant, st.startUs);
        if (!this.rollupPending) await refreshToolRollups(w, touched);
        // The conversations of the replaced and the new runs are computed again.
        for (const d of batch.derived) {
          for (const r of d.runs) conversations.add(r.tenant, r.conversationId, r.runId, r.startUs);
          this.conversations.noteUsage(d.usage);
        }
        await this.conversations.refresh(w, conversations);
      }
    });
  }

  /** Within a trace's window (when known), so that DuckDB skips row groups by their min/max start. */
  private static within(window: TraceWindow | undefined, params: unknown[]): string {
    if (!window) return '';
    params.push(Math.floor(window.fromUs), Math.ceil(window.toUs));
    return ` AND start_time BETWEEN make_timestamp($${params.length - 1}::BIGINT) AND make_timestamp($${params.length}::BIGINT)`;
  }

  async loadTrace(tenant: string, traceId: string, window?: TraceWindow): Promise<SpanRecord[]> {
    const params: unknown[] = [tenant, traceId];
    const rows = await this.read(`SELECT ${FACT_COLUMNS} FROM spans WHERE tenant = $1 AND trace_id = $2${DuckDBStore.within(window, params)}`, params);
    return rows.map(factFromRow);
  }

  async loadFactsPart(part: number, parts: number): Promise<SpanRecord[]> {
    const rows = await this.read(
      `SELECT ${FACT_COLUMNS} FROM spans WHERE hash(tenant, trace_id) % $2::UBIGINT = $1::UBIGINT ORDER BY tenant, trace_id`,
      [part, parts],
    );
    return rows.map(factFromRow);
  }

  /**
   * Every record of one part of all traces (parts split as loadFactsPart's), with content, and the
   * events of those traces: what a copy to another store (store/migrate.ts) needs to write the
   * same facts and derive the same rows. Ordered by tenant and trace id.
   */
  async exportPart(part: number, parts: number): Promise<{ spans: SpanRecord[]; events: EventRecord[] }> {
    const where = `hash(tenant, trace_id) % $2::UBIGINT = $1::UBIGINT`;
    const spans = await this.read(
      `SELECT ${FACT_COLUMNS}, input_content, output_content, reasoning_content, system_content, attributes, resource
       FROM spans WHERE ${where} ORDER BY tenant, trace_id, start_time, span_id, record`,
      [part, parts],
    );
    const events = await this.read(
      `SELECT tenant, trace_id, span_id, epoch_us(time)::DOUBLE AS time_us, name, source, body, attributes, event_key
       FROM events WHERE ${where} ORDER BY tenant, trace_id, time, event_key`,
      [part, parts],
    );
    return {
      spans: spans.map((r) => ({
        ...factFromRow(r),
        inputContent: sn(r.input_content),
        outputContent: sn(r.output_content),
        reasoningContent: sn(r.reasoning_content),
        systemContent: sn(r.system_content),
        attributes: s(r.attributes),
        resource: s(r.resource),
      })),
      events: events.map((r) => ({
        tenant: s(r.tenant),
        traceId: s(r.trace_id),
        spanId: s(r.span_id),
        timeUs: n(r.time_us),
        name: s(r.name),
        source: s(r.source) as EventRecord['source'],
        body: sn(r.body),
        attributes: s(r.attributes),
        key: s(r.event_key),
      })),
    };
  }

  async rederivation(): Promise<{ part: number; parts: number } | null> {
    const rows = await this.read(`SELECT part, parts FROM maintenance_tasks WHERE name = 'rederive'`);
    if (!rows.length) return null;
    let parts = n(rows[0].parts);
    if (parts === 0) {
      // Parts of about 200,000 records: a part is read, derived and written in one go.
      const spans = n((await this.read('SELECT count(*) AS c FROM spans'))[0]?.c);
      parts = Math.max(1, Math.ceil(spans / 200_000));
      await this.setRederivation(0, parts);
    }
    return { part: n(rows[0].part), parts };
  }

  async setRederivation(part: number, parts: number): Promise<void> {
    await this.exclusive((w) =>
      part >= parts ? w.run(`DELETE FROM maintenance_tasks WHERE name = 'rederive'`) : w.run(`UPDATE maintenance_tasks SET part = $1, parts = $2 WHERE name = 'rederive'`, [part, parts]),
    );
  }

  async loadEventKeys(tenant: string, traceId: string): Promise<string[]> {
    const rows = await this.read( 'SELECT event_key FROM events WHERE tenant = $1 AND trace_id = $2', [tenant, traceId]);
    return rows.map((r) => s(r.event_key));
  }

  async listTraceKeys(): Promise<{ tenant: string; traceId: string }[]> {
    const rows = await this.read('SELECT DISTINCT tenant, trace_id FROM spans');
    return rows.map((r) => ({ tenant: s(r.tenant), traceId: s(r.trace_id) }));
  }

  async listRuns(tenant: string, filter: RunFilter, runTimeoutMinutes: number): Promise<RunRow[]> {
    const where = whereRuns(tenant, filter);
    const limit = Math.min(Math.max(filter.limit ?? 100, 1), 10000);
    // A run still running past the deadline reads as timed out; the stored row stays a fact.
    const rows = await this.read(
      `SELECT * EXCLUDE (status, start_time, end_time, trace_start, trace_end),
         epoch_us(trace_start)::DOUBLE AS trace_start_us, epoch_us(trace_end)::DOUBLE AS trace_end_us,
         CASE WHEN status = 'running' AND start_time < now()::TIMESTAMP - INTERVAL (${Math.round(runTimeoutMinutes)}) MINUTE
              THEN 'timed_out' ELSE status END AS status,
         epoch_us(start_time)::DOUBLE AS start_us, epoch_us(end_time)::DOUBLE AS end_us
       FROM runs WHERE ${where.sql} ORDER BY start_time DESC, run_id LIMIT ${limit}`,
      where.params,
    );
    return rows.map(runFromRow);
  }

  async listSessions(tenant: string, filter: RunFilter): Promise<SessionRow[]> {
    const where = whereRuns(tenant, { ...filter, runId: undefined });
    const limit = Math.min(Math.max(filter.limit ?? 100, 1), 10000);
    const rows = await this.read(
      `SELECT * EXCLUDE (start_time, end_time), epoch_us(start_time)::DOUBLE AS start_us, epoch_us(end_time)::DOUBLE AS end_us
       FROM sessions WHERE ${where.sql} ORDER BY start_time DESC LIMIT ${limit}`,
      where.params,
    );
    return rows.map(sessionFromRow);
  }

  async loadTraceSteps(tenant: string, traceId: string, window?: TraceWindow): Promise<StepRow[]> {
    const params: unknown[] = [tenant, traceId];
    const within = DuckDBStore.within(window, params);
    // The spans and their events are read side by side, on two of the reader connections.
    const [rows, events] = await Promise.all([
      this.read(
        `SELECT span_id, parent_span_id, name, role, status_code, record, end_time IS NULL AS open,
           epoch_us(start_time)::DOUBLE AS start_us, duration_ms, agent_name, tool_name, model, provider,
           input_tokens::DOUBLE AS input_tokens, output_tokens::DOUBLE AS output_tokens, cached_tokens::DOUBLE AS cached_tokens,
           reasoning_tokens::DOUBLE AS reasoning_tokens, cost, error_type,
           input_content, output_content, reasoning_content, system_content, attributes, resource
         FROM spans WHERE tenant = $1 AND trace_id = $2${within} ORDER BY start_time, span_id, record`,
        params,
      ),
      this.read(
        `SELECT span_id, epoch_us(time)::DOUBLE AS time_us, name, source, body, attributes FROM events
         WHERE tenant = $1 AND trace_id = $2 ORDER BY time`,
        [tenant, traceId],
      ),
    ]);
    const bySpan = new Map<string, StepRow['events']>();
    for (const e of events) {
      const list = bySpan.get(s(e.span_id)) ?? [];
      list.push({ timeUs: n(e.time_us), name: s(e.name), source: s(e.source), body: sn(e.body), attributes: s(e.attributes) });
      bySpan.set(s(e.span_id), list);
    }
    return rows.map((r) => ({
      spanId: s(r.span_id),
      record: s(r.record),
      parentSpanId: s(r.parent_span_id),
      name: s(r.name),
      role: s(r.role),
      status: r.open === true ? 'running' : n(r.status_code) === 2 ? 'error' : 'ok',
      startUs: n(r.start_us),
      durationMs: nn(r.duration_ms),
      agent: s(r.agent_name),
      tool: s(r.tool_name),
      model: s(r.model),
      provider: s(r.provider),
      inputTokens: nn(r.input_tokens),
      outputTokens: nn(r.output_tokens),
      cachedTokens: nn(r.cached_tokens),
      reasoningTokens: nn(r.reasoning_tokens),
      cost: nn(r.cost),
      errorType: s(r.error_type),
      input: sn(r.input_content),
      output: sn(r.output_content),
      reasoning: sn(r.reasoning_content),
      system: sn(r.system_content),
      attributes: s(r.attributes),
      resource: s(r.resource),
      events: bySpan.get(s(r.span_id)) ?? [],
    }));
  }

  async counts(tenant: string): Promise<Counts> {
    const one = async (table: string): Promise<number> =>
      n((await this.read(`SELECT count(*) AS c FROM ${table} WHERE tenant = $1`, [tenant]))[0]?.c);
    return { spans: await one('spans'), events: await one('events'), runs: await one('runs'), sessions: await one('sessions') };
  }

  async deleteBy(tenant: string, field: 'conversation' | 'user', value: string): Promise<{ traces: string[]; spans: number }> {
    const column = field === 'conversation' ? 'conversation_id' : 'user_id';
    return this.transaction(async (w) => {
      // Every trace that mentions the conversation or user anywhere: its content may be in any span.
      const traces = (
        await this.rows(
          w,
          `SELECT DISTINCT trace_id FROM spans WHERE tenant = $1 AND ${column} = $2
           UNION SELECT DISTINCT trace_id FROM runs WHERE tenant = $1 AND ${column} = $2
           UNION SELECT DISTINCT trace_id FROM sessions WHERE tenant = $1 AND ${column} = $2`,
          [tenant, value],
        )
      ).map((r) => s(r.trace_id));
      let spans = 0;
      if (traces.length) {
        const list = listValue(traces);
        const res = await w.run('DELETE FROM spans WHERE tenant = $1 AND list_contains($2, trace_id)', [tenant, list]);
        spans = Number(res.rowsChanged);
        const conversations = new TouchedConversations();
        conversations.addDeleted(await this.rows(w, `DELETE FROM runs WHERE tenant = $1 AND list_contains($2, trace_id) ${DELETED_RUNS_RETURNING}`, [tenant, list]));
        for (const t of ['events', 'sessions', 'usage']) await w.run(`DELETE FROM ${t} WHERE tenant = $1 AND list_contains($2, trace_id)`, [tenant, list]);
        await this.deleteSteps(w, 'tenant = $1 AND list_contains($2, trace_id)', [tenant, list]);
        await this.conversations.refresh(w, conversations);
      }
      return { traces, spans };
    });
  }

  /** Deletes steps, and computes the tool rollups of their buckets again (same transaction). */
  private async deleteSteps(w: DuckDBConnection, where: string, params: unknown[]): Promise<void> {
    const touched = new TouchedBuckets();
    touched.addDeleted(await this.rows(w, `DELETE FROM steps WHERE ${where} ${DELETED_STEPS_RETURNING}`, params));
    if (!this.rollupPending) await refreshToolRollups(w, touched);
  }

  async deleteOlderThan(cutoffUs: number): Promise<number> {
    const cutoff = Math.round(cutoffUs);
    return this.transaction(async (w) => {
      const res = await w.run('DELETE FROM spans WHERE start_time < make_timestamp($1::BIGINT)', [cutoff]);
      await w.run('DELETE FROM events WHERE time < make_timestamp($1::BIGINT)', [cutoff]);
      const conversations = new TouchedConversations();
      conversations.addDeleted(await this.rows(w, `DELETE FROM runs WHERE start_time < make_timestamp($1::BIGINT) ${DELETED_RUNS_RETURNING}`, [cutoff]));
      await w.run('DELETE FROM sessions WHERE start_time < make_timestamp($1::BIGINT)', [cutoff]);
      // A step or call whose run is gone no longer counts (it was read through its run before).
      await this.deleteSteps(w, 'start_time < make_timestamp($1::BIGINT) OR run_start < make_timestamp($1::BIGINT)', [cutoff]);
      await w.run('DELETE FROM usage WHERE run_start < make_timestamp($1::BIGINT)', [cutoff]);
      // Conversations that began before the cutoff keep their later runs.
      await this.conversations.refresh(w, conversations);
      return Number(res.rowsChanged);
    });
  }

  async insertKey(k: ApiKeyRow): Promise<void> {
    await this.exclusive((w) => w.run('INSERT INTO api_keys VALUES ($1, $2, $3, $4, $5, $6, make_timestamp($7::BIGINT), NULL)', [
      k.id,
      k.tenant,
      k.name,
      k.scopes.join(','),
      k.hash,
      k.prefix,
      Math.round(k.createdUs),
    ]));
  }

  private static readonly KEY_COLUMNS = 'id, tenant, name, scopes, hash, prefix, epoch_us(created_at)::DOUBLE AS created_us, epoch_us(revoked_at)::DOUBLE AS revoked_us';

  async listKeys(tenant?: string): Promise<ApiKeyRow[]> {
    const rows = tenant
      ? await this.read(`SELECT ${DuckDBStore.KEY_COLUMNS} FROM api_keys WHERE tenant = $1 ORDER BY created_at`, [tenant])
      : await this.read(`SELECT ${DuckDBStore.KEY_COLUMNS} FROM api_keys ORDER BY created_at`);
    return rows.map(keyFromRow);
  }

  async findKeyByHash(hash: string): Promise<ApiKeyRow | null> {
    const rows = await this.read(`SELECT ${DuckDBStore.KEY_COLUMNS} FROM api_keys WHERE hash = $1`, [hash]);
    return rows.length ? keyFromRow(rows[0]) : null;
  }

  async revokeKey(id: string, atUs: number): Promise<boolean> {
    const res = await this.exclusive((w) =>
      w.run('UPDATE api_keys SET revoked_at = make_timestamp($2::BIGINT) WHERE id = $1 AND revoked_at IS NULL', [id, Math.round(atUs)]),
    );
    return Number(res.rowsChanged) > 0;
  }
}
