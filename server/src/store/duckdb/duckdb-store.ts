/**
 * The embedded DuckDB store: one file, owned by this process. Writes go through one connection,
 * one transaction per batch, with DuckDB's appender (its fastest insert path); reads use another
 * connection so that queries never wait for a commit.
 * Durability: DuckDB writes and syncs its write-ahead log at COMMIT, so a resolved commit()
 * survives kill -9 of the process.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DuckDBAppender, DuckDBConnection, DuckDBInstance, DuckDBTimestampValue, listValue } from '@duckdb/node-api';
import { Scope } from '../../config';
import { EventRecord, RunRow, SessionRow, SpanRecord } from '../../domain';
import { ApiKeyRow, CommitBatch, Counts, Row, RunFilter, StepRow, Store } from '../store';
import { MIGRATIONS } from './migrations';

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
  a.endRow();
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

/** Columns of spans that derivation needs; content and attributes are not read back. */
const FACT_COLUMNS = `tenant, trace_id, span_id, record, parent_span_id, name, span_kind,
  epoch_us(start_time)::DOUBLE AS start_us, epoch_us(end_time)::DOUBLE AS end_us, status_code, status_message,
  role, convention, operation, agent_name, agent_version, tool_name, tool_call_id, model, response_model, provider,
  service, environment, channel, conversation_id, user_id, session_id, external_run_id,
  input_tokens::DOUBLE AS input_tokens, output_tokens::DOUBLE AS output_tokens, cached_tokens::DOUBLE AS cached_tokens,
  cache_write_tokens::DOUBLE AS cache_write_tokens, reasoning_tokens::DOUBLE AS reasoning_tokens, total_tokens::DOUBLE AS total_tokens,
  cost, error_type, timeout_hint, interrupted, latency_ms, end_reason, turns, interruptions`;

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
  };
}

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
  private instance!: DuckDBInstance;
  private writer!: DuckDBConnection;
  private reader!: DuckDBConnection;

  /** The writer connection runs one transaction at a time: callers queue on this chain. */
  private writeChain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly path: string,
    /** A run still running after this long reads as timed out (runs_v). */
    private readonly runTimeoutMinutes = 15,
  ) {}

  private exclusive<T>(fn: (w: DuckDBConnection) => Promise<T>): Promise<T> {
    const next = this.writeChain.then(() => fn(this.writer));
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
    this.reader = await this.instance.connect();
    // Timestamps are stored in UTC; time zones are applied explicitly by queries.
    for (const c of [this.writer, this.reader]) await c.run("SET TimeZone = 'UTC'");
    await this.migrate();
    await this.createViews();
  }

  /**
   * Views over the derived tables that depend on configuration or the clock, so they are created at
   * start rather than migrated: runs_v reads a run still running past the deadline as timed out,
   * with its duration up to now (or up to the deadline); steps_v attributes each span to the run
   * of its trace that encloses it in time.
   */
  private async createViews(): Promise<void> {
    const deadline = `INTERVAL (${Math.round(this.runTimeoutMinutes)}) MINUTE`;
    await this.writer.run(`CREATE OR REPLACE VIEW runs_v AS
      SELECT r.* EXCLUDE (status),
        CASE WHEN r.status = 'running' AND r.start_time < now()::TIMESTAMP - ${deadline} THEN 'timed_out' ELSE r.status END AS status,
        (epoch_ms(coalesce(r.end_time, least(now()::TIMESTAMP, r.start_time + ${deadline}))) - epoch_ms(r.start_time))::DOUBLE AS duration_ms,
        count(*) OVER (PARTITION BY r.tenant, r.trace_id) AS runs_in_trace
      FROM runs r`);
    await this.writer.run(`CREATE OR REPLACE VIEW steps_v AS
      SELECT s.*, r.run_id, r.agent AS run_agent, r.agent_version AS run_agent_version, r.status AS run_status,
        r.environment AS run_environment, r.service AS run_service, r.channel AS run_channel,
        r.conversation_id AS run_conversation_id, r.user_id AS run_user_id
      FROM spans s JOIN runs_v r ON r.tenant = s.tenant AND r.trace_id = s.trace_id
        -- Most traces hold one run; where a trace holds several (turns of a voice session), a
        -- span belongs to the run that encloses it in time.
        AND (r.runs_in_trace = 1 OR (s.start_time >= r.start_time AND (r.end_time IS NULL OR s.start_time <= r.end_time)))
      WHERE s.record = 'span'`);
  }

  async read(sql: string, params: unknown[] = []): Promise<Row[]> {
    return this.rows(this.reader, sql, params);
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
    const r = await this.rows(this.reader, 'SELECT max(version) AS v FROM schema_migrations');
    return n(r[0]?.v);
  }

  async close(): Promise<void> {
    this.writer?.closeSync();
    this.reader?.closeSync();
    this.instance?.closeSync();
  }

  async ping(): Promise<void> {
    await this.reader.run('SELECT 1');
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
        // Only traces already stored can have runs and sessions to replace. Skipping the others
        // matters: each DELETE scans all runs and sessions of the tenant.
        const byTenant = new Map<string, string[]>();
        for (const d of batch.derived) {
          if (d.newTrace) continue;
          const list = byTenant.get(d.tenant);
          if (list) list.push(d.traceId);
          else byTenant.set(d.tenant, [d.traceId]);
        }
        for (const [tenant, traces] of byTenant) {
          const list = listValue(traces);
          await w.run('DELETE FROM runs WHERE tenant = $1 AND list_contains($2, trace_id)', [tenant, list]);
          await w.run('DELETE FROM sessions WHERE tenant = $1 AND list_contains($2, trace_id)', [tenant, list]);
        }
        const runs = await w.createAppender('runs');
        for (const d of batch.derived) for (const r of d.runs) appendRun(runs, r);
        runs.closeSync();
        const sessions = await w.createAppender('sessions');
        for (const d of batch.derived) for (const se of d.sessions) appendSession(sessions, se);
        sessions.closeSync();
      }
    });
  }

  async loadTrace(tenant: string, traceId: string): Promise<SpanRecord[]> {
    const rows = await this.rows(this.reader, `SELECT ${FACT_COLUMNS} FROM spans WHERE tenant = $1 AND trace_id = $2`, [tenant, traceId]);
    return rows.map(factFromRow);
  }

  async loadEventKeys(tenant: string, traceId: string): Promise<string[]> {
    const rows = await this.rows(this.reader, 'SELECT event_key FROM events WHERE tenant = $1 AND trace_id = $2', [tenant, traceId]);
    return rows.map((r) => s(r.event_key));
  }

  async listTraceKeys(): Promise<{ tenant: string; traceId: string }[]> {
    const rows = await this.rows(this.reader, 'SELECT DISTINCT tenant, trace_id FROM spans');
    return rows.map((r) => ({ tenant: s(r.tenant), traceId: s(r.trace_id) }));
  }

  async listRuns(tenant: string, filter: RunFilter, runTimeoutMinutes: number): Promise<RunRow[]> {
    const where = whereRuns(tenant, filter);
    const limit = Math.min(Math.max(filter.limit ?? 100, 1), 10000);
    // A run still running past the deadline reads as timed out; the stored row stays a fact.
    const rows = await this.rows(
      this.reader,
      `SELECT * EXCLUDE (status, start_time, end_time),
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
    const rows = await this.rows(
      this.reader,
      `SELECT * EXCLUDE (start_time, end_time), epoch_us(start_time)::DOUBLE AS start_us, epoch_us(end_time)::DOUBLE AS end_us
       FROM sessions WHERE ${where.sql} ORDER BY start_time DESC LIMIT ${limit}`,
      where.params,
    );
    return rows.map(sessionFromRow);
  }

  async loadTraceSteps(tenant: string, traceId: string): Promise<StepRow[]> {
    const rows = await this.rows(
      this.reader,
      `SELECT span_id, parent_span_id, name, role, status_code, record, end_time IS NULL AS open,
         epoch_us(start_time)::DOUBLE AS start_us, duration_ms, agent_name, tool_name, model, provider,
         input_tokens::DOUBLE AS input_tokens, output_tokens::DOUBLE AS output_tokens, cached_tokens::DOUBLE AS cached_tokens,
         reasoning_tokens::DOUBLE AS reasoning_tokens, cost, error_type,
         input_content, output_content, reasoning_content, system_content, attributes, resource
       FROM spans WHERE tenant = $1 AND trace_id = $2 ORDER BY start_time, span_id, record`,
      [tenant, traceId],
    );
    const events = await this.rows(
      this.reader,
      `SELECT span_id, epoch_us(time)::DOUBLE AS time_us, name, source, body, attributes FROM events
       WHERE tenant = $1 AND trace_id = $2 ORDER BY time`,
      [tenant, traceId],
    );
    const bySpan = new Map<string, StepRow['events']>();
    for (const e of events) {
      const list = bySpan.get(s(e.span_id)) ?? [];
      list.push({ timeUs: n(e.time_us), name: s(e.name), source: s(e.source), body: e.body === null ? null : s(e.body), attributes: s(e.attributes) });
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
      input: r.input_content === null ? null : s(r.input_content),
      output: r.output_content === null ? null : s(r.output_content),
      reasoning: r.reasoning_content === null ? null : s(r.reasoning_content),
      system: r.system_content === null ? null : s(r.system_content),
      attributes: s(r.attributes),
      resource: s(r.resource),
      events: bySpan.get(s(r.span_id)) ?? [],
    }));
  }

  async counts(tenant: string): Promise<Counts> {
    const one = async (table: string): Promise<number> =>
      n((await this.rows(this.reader, `SELECT count(*) AS c FROM ${table} WHERE tenant = $1`, [tenant]))[0]?.c);
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
        for (const t of ['events', 'runs', 'sessions']) await w.run(`DELETE FROM ${t} WHERE tenant = $1 AND list_contains($2, trace_id)`, [tenant, list]);
      }
      return { traces, spans };
    });
  }

  async deleteOlderThan(cutoffUs: number): Promise<number> {
    const cutoff = Math.round(cutoffUs);
    return this.transaction(async (w) => {
      const res = await w.run('DELETE FROM spans WHERE start_time < make_timestamp($1::BIGINT)', [cutoff]);
      await w.run('DELETE FROM events WHERE time < make_timestamp($1::BIGINT)', [cutoff]);
      await w.run('DELETE FROM runs WHERE start_time < make_timestamp($1::BIGINT)', [cutoff]);
      await w.run('DELETE FROM sessions WHERE start_time < make_timestamp($1::BIGINT)', [cutoff]);
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
      ? await this.rows(this.reader, `SELECT ${DuckDBStore.KEY_COLUMNS} FROM api_keys WHERE tenant = $1 ORDER BY created_at`, [tenant])
      : await this.rows(this.reader, `SELECT ${DuckDBStore.KEY_COLUMNS} FROM api_keys ORDER BY created_at`);
    return rows.map(keyFromRow);
  }

  async findKeyByHash(hash: string): Promise<ApiKeyRow | null> {
    const rows = await this.rows(this.reader, `SELECT ${DuckDBStore.KEY_COLUMNS} FROM api_keys WHERE hash = $1`, [hash]);
    return rows.length ? keyFromRow(rows[0]) : null;
  }

  async revokeKey(id: string, atUs: number): Promise<boolean> {
    const res = await this.exclusive((w) =>
      w.run('UPDATE api_keys SET revoked_at = make_timestamp($2::BIGINT) WHERE id = $1 AND revoked_at IS NULL', [id, Math.round(atUs)]),
    );
    return Number(res.rowsChanged) > 0;
  }
}
