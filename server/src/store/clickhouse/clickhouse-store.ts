/**
 * The ClickHouse store (@clickhouse/client over HTTP), for several stateless server replicas
 * sharing one ClickHouse server or cluster. Table design and semantics: schema.ts and
 * docs/clickhouse.md.
 *
 * Durability: every insert is synchronous (async_insert = 0, wait_end_of_query = 1), so commit()
 * resolves only after ClickHouse has written the parts; in cluster mode insert_quorum = 'auto'
 * waits for a majority of replicas. A batch is several inserts (ClickHouse has no multi-table
 * transaction): spans, events, then the derived rows. If one fails the writer reports the batch
 * as failed, the client retries, and the retried spans are the same rows (ReplacingMergeTree,
 * read through FINAL), so nothing is counted twice.
 */
import { ClickHouseClient, createClient } from '@clickhouse/client';
import { Scope } from '../../config';
import { RunRow, SessionRow, SpanRecord } from '../../domain';
import { ApiKeyRow, CommitBatch, Counts, DerivedReplacement, Row, RunFilter, StepRow, Store, TraceFacts, TraceWindow } from '../store';
import { EVENT_COLUMNS, FACT_FIELDS, KEY_COLUMNS, RUN_COLUMNS, SESSION_COLUMNS, SPAN_COLUMNS, chTime, fromRow, selectList, toRow } from './columns';
import { toClickHouseParams } from './params';
import { DERIVATIONS, MIGRATIONS, SchemaContext, TABLES, TIME_COLUMN, TableSpec, createDatabase, migrationsTable, retentionTtl, startViews } from './schema';

/** Tables derived per trace, in the order a commit writes them, with what the batch holds for each. */
const DERIVED: { table: string; rows: (d: CommitBatch['derived'][number]) => object[] }[] = [
  { table: 'runs', rows: (d) => d.runs },
  { table: 'sessions', rows: (d) => d.sessions },
  { table: 'steps', rows: (d) => d.steps ?? [] },
  { table: 'usage', rows: (d) => d.usage ?? [] },
];

/**
 * Versions of derived rows. A derivation made from n distinct stored records of a trace writes its
 * rows with BASE + 2n + 1; a sweep that removes rows older than the newest derivation n writes its
 * tombstones with BASE + 2n, below that derivation's own rows (it may not have written them yet) and
 * above every older derivation's. BASE = 2^52 lies above the versions schema 1 wrote (commit times
 * in µs, below 2^52 until the year 2112), so rows written before are replaced too; versions stay
 * below 2^53, exact as JavaScript numbers.
 */
export const DERIVED_VERSION_BASE = 2 ** 52;
const liveVersion = (n: number): number => DERIVED_VERSION_BASE + 2 * n + 1;
const sweepVersion = (n: number): number => DERIVED_VERSION_BASE + 2 * n;
/** The facts count a row's version belongs to; -1 for rows written before versions were counts. */
const generation = (version: number): number => (version < DERIVED_VERSION_BASE ? -1 : Math.floor((version - DERIVED_VERSION_BASE) / 2));

const traceKey = (tenant: string, traceId: string): string => `${tenant}\u0000${traceId}`;

/** Trace ids by tenant, for one query per tenant. */
function byTenant(keys: { tenant: string; traceId: string }[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const k of keys) {
    const list = out.get(k.tenant) ?? [];
    if (!list.includes(k.traceId)) list.push(k.traceId);
    out.set(k.tenant, list);
  }
  return out;
}

const spec = (name: string): TableSpec => {
  const t = TABLES.find((x) => x.name === name);
  if (!t) throw new Error(`no ClickHouse table ${name}`);
  return t;
};

export interface ClickHouseOptions {
  url: string;
  username: string;
  password: string;
  database: string;
  /** '' for one server; a cluster name for ON CLUSTER DDL with Replicated and Distributed tables. */
  cluster: string;
  runTimeoutMinutes: number;
  /** TTL of spans, events, runs and sessions in days; 0 keeps everything. */
  retentionDays: number;
}

type Params = Record<string, unknown>;

export class ClickHouseStore implements Store {
  readonly engine = 'clickhouse';
  /** Several replicas write the same tables: the writer derives from facts loaded after its insert. */
  readonly sharedWriters = true;
  private client!: ClickHouseClient;
  private readonly ctx: SchemaContext;
  private lastVersion = 0;

  constructor(private readonly options: ClickHouseOptions) {
    this.ctx = { database: options.database, cluster: options.cluster };
  }

  private newClient(database: string): ClickHouseClient {
    return createClient({
      url: this.options.url,
      username: this.options.username,
      password: this.options.password,
      database,
      request_timeout: 300_000,
      clickhouse_settings: {
        // Numbers, not strings, for 64-bit integers in JSON answers (our counts stay below 2^53).
        output_format_json_quote_64bit_integers: 0,
        // Long deletes and migrations keep the connection alive through proxies and load balancers.
        send_progress_in_http_headers: 1,
        http_headers_progress_interval_ms: '10000',
      },
    });
  }

  /** A commit time, strictly increasing within this process: the version of derived rows. */
  private version(): number {
    this.lastVersion = Math.max(this.lastVersion + 1, Date.now() * 1000);
    return this.lastVersion;
  }

  async open(): Promise<void> {
    // The database may not exist yet, and a client bound to a missing database fails every call.
    const bootstrap = this.newClient('default');
    try {
      await bootstrap.command({ query: createDatabase(this.ctx) });
    } finally {
      await bootstrap.close();
    }
    this.client = this.newClient(this.options.database);
    await this.migrate();
    for (const sql of startViews(this.ctx, this.options.runTimeoutMinutes)) await this.command(sql);
    await this.applyRetention();
  }

  private async migrate(): Promise<void> {
    await this.command(migrationsTable(this.ctx));
    const applied = new Set((await this.query('SELECT version FROM schema_migrations FINAL')).map((r) => Number(r.version)));
    for (const m of MIGRATIONS) {
      if (applied.has(m.version)) continue;
      try {
        for (const stmt of m.sql(this.ctx)) await this.command(stmt);
      } catch (e) {
        throw new Error(`ClickHouse schema migration ${m.version} (${m.description}) failed: ${(e as Error).message}`);
      }
      await this.insert('schema_migrations', [{ version: m.version, description: m.description, applied_at: chTime(Date.now() * 1000) }]);
    }
  }

  async schemaVersion(): Promise<number> {
    const r = await this.query('SELECT max(version) AS v FROM schema_migrations FINAL');
    return Number(r[0]?.v ?? 0);
  }

  /** TTL follows the configured retention; a table's TTL is changed only when it differs. */
  private async applyRetention(): Promise<void> {
    const days = this.options.retentionDays;
    const ttl = retentionTtl(this.ctx, days);
    const tables = await this.query(
      `SELECT name, create_table_query FROM system.tables WHERE database = {db:String}`,
      { db: this.options.database },
    );
    const ddl = new Map(tables.map((t) => [String(t.name), String(t.create_table_query)]));
    for (const stmt of ttl) {
      const table = /ALTER TABLE \w+\.(\w+)/.exec(stmt)?.[1] ?? '';
      const current = ddl.get(table) ?? '';
      const has = / TTL /.test(current);
      if (days > 0 && current.includes(`toIntervalDay(${days})`)) continue;
      if (days <= 0 && !has) continue;
      await this.command(stmt);
    }
  }

  async close(): Promise<void> {
    await this.client?.close();
  }

  async ping(): Promise<void> {
    const r = await this.client.ping();
    if (!r.success) throw r.error;
  }

  // -- low-level calls ------------------------------------------------------------------------

  private async command(query: string, params?: Params): Promise<void> {
    await this.client.command({ query, query_params: params, clickhouse_settings: { wait_end_of_query: 1 } });
  }

  private async query(query: string, params?: Params): Promise<Row[]> {
    const rs = await this.client.query({ query, query_params: params, format: 'JSONEachRow' });
    return (await rs.json()) as Row[];
  }

  private async insert(table: string, values: Record<string, unknown>[]): Promise<void> {
    if (!values.length) return;
    await this.client.insert({
      table,
      values,
      format: 'JSONEachRow',
      clickhouse_settings: {
        async_insert: 0,
        wait_end_of_query: 1,
        ...(this.ctx.cluster ? { insert_quorum: 'auto', insert_distributed_sync: 1 } : {}),
      },
    });
  }

  async read(sql: string, params: unknown[] = []): Promise<Row[]> {
    const translated = toClickHouseParams(sql, params);
    // The shared SQL expects standard SQL NULLs: unmatched columns of outer joins are NULL, not type
    // defaults, and CAST(NULL AS DOUBLE) is NULL (an average over no rows), not an error.
    // FINAL (the views' deduplication) may work partition by partition and skip partitions merged
    // into one part: safe because every partitioned table's sort key holds its partition's time
    // (rows with one key always share a partition). On a merged store this took a 30-day tool
    // aggregate from 290 to 39 ms (docs/benchmarks.md, ClickHouse).
    const settings = { join_use_nulls: 1, cast_keep_nullable: 1, do_not_merge_across_partitions_select_final: 1 } as const;
    const rs = await this.client.query({ query: translated.sql, query_params: translated.params, format: 'JSONEachRow', clickhouse_settings: settings });
    return (await rs.json()) as Row[];
  }

  // -- writes ---------------------------------------------------------------------------------

  async commit(batch: CommitBatch): Promise<void> {
    const receivedUs = Date.now() * 1000;
    // A record read back from another store (store/migrate.ts) keeps its stored duration, which was
    // computed from the exact times at ingest.
    const durationOf = (s: SpanRecord) => (s.durationMs !== undefined ? s.durationMs : s.endUs === null ? null : (s.endUs - s.startUs) / 1000);
    await this.insert('spans_store', batch.spans.map((s) => toRow(SPAN_COLUMNS, { ...s, durationMs: durationOf(s), receivedUs })));
    await this.insert('events_store', batch.events.map((e) => toRow(EVENT_COLUMNS, e as unknown as Record<string, unknown>)));
    if (batch.derived.length) await this.replaceDerived(batch.derived);
  }

  /**
   * Reads that must see every insert acknowledged before them: in cluster mode, a replica that has
   * not fetched a quorum insert yet must not answer (select_sequential_consistency).
   */
  private consistentRead(query: string, params?: Params): Promise<Row[]> {
    if (!this.ctx.cluster) return this.query(query, params);
    return this.client
      .query({ query, query_params: params, format: 'JSONEachRow', clickhouse_settings: { select_sequential_consistency: '1' } })
      .then((rs) => rs.json() as Promise<Row[]>);
  }

  /**
   * Replaces the derived rows (runs, sessions, steps, usage) of the batch's traces, so that whatever
   * order replicas deriving one trace at once finish in, the rows left are those of the derivation
   * that saw the most records, which has seen every record stored before its load:
   * 1. record the derivation's facts count n in `derivations`;
   * 2. insert its rows with version liveVersion(n): rows with the same identity (sort key) and a
   *    lower count lose to them under FINAL, rows with a higher count win;
   * 3. sweep: with N the highest count recorded for the trace (by any replica), every live row of
   *    the trace from a derivation below N gets a tombstone with sweepVersion(N). Rows of derivation
   *    N itself, written before or after, have the higher liveVersion(N).
   * A row that derivation N does not have (a provisional run `T` after its agent span arrived, a
   * start that moved) is swept either by N (if the row was visible to N's sweep) or else by its own
   * derivation, whose sweep then runs after N's and sees N's record.
   */
  private async replaceDerived(derived: DerivedReplacement[]): Promise<void> {
    const counts = await this.factCounts(derived.filter((d) => d.factsVersion === undefined));
    const countOf = (d: DerivedReplacement): number => d.factsVersion ?? counts.get(traceKey(d.tenant, d.traceId)) ?? 0;
    await this.insert(`${DERIVATIONS.name}_store`, derived.map((d) => ({ tenant: d.tenant, trace_id: d.traceId, version: countOf(d) })));
    for (const { table, rows } of DERIVED) {
      const t = spec(table);
      await this.insert(`${table}_store`, derived.flatMap((d) => rows(d).map((r) => ({ ...toRow(t.columns, r as Record<string, unknown>), version: liveVersion(countOf(d)), is_deleted: 0 }))));
    }
    const tenants = byTenant(derived);
    const newest = new Map<string, number>();
    for (const [tenant, traces] of tenants) {
      const rows = await this.consistentRead(
        `SELECT trace_id, max(version) AS n FROM ${DERIVATIONS.name}_store WHERE tenant = {tenant:String} AND trace_id IN {traces:Array(String)} GROUP BY trace_id`,
        { tenant, traces },
      );
      for (const r of rows) newest.set(traceKey(tenant, String(r.trace_id)), Number(r.n));
    }
    for (const { table } of DERIVED) {
      const t = spec(table);
      // Steps are keyed by their span, which every later derivation has too: never stale, only replaced.
      if (!t.tombstones) continue;
      // The identity and the trace: a tombstone keeps its trace id, so deletes by trace find it.
      const cols = t.columns.filter((col) => t.key.includes(col.name) || col.name === 'trace_id');
      const out: Record<string, unknown>[] = [];
      for (const [tenant, traces] of tenants) {
        const live = await this.consistentRead(
          `SELECT ${selectList(cols)}, version FROM ${table}_store FINAL WHERE tenant = {tenant:String} AND trace_id IN {traces:Array(String)} AND is_deleted = 0`,
          { tenant, traces },
        );
        for (const o of live) {
          const n = newest.get(traceKey(tenant, String(o.trace_id))) ?? -1;
          if (generation(Number(o.version)) < n) out.push({ ...toRow(t.columns, fromRow<Record<string, unknown>>(cols, o)), version: sweepVersion(n), is_deleted: 1 });
        }
      }
      await this.insert(`${table}_store`, out);
    }
  }

  /** Distinct stored records per trace, for derived rows handed without their facts version (migrate.ts derives from all of them). */
  private async factCounts(derived: DerivedReplacement[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const [tenant, traces] of byTenant(derived)) {
      const rows = await this.consistentRead(`SELECT trace_id, count() AS n FROM spans WHERE tenant = {tenant:String} AND trace_id IN {traces:Array(String)} GROUP BY trace_id`, { tenant, traces });
      for (const r of rows) out.set(traceKey(tenant, String(r.trace_id)), Number(r.n));
    }
    return out;
  }

  /**
   * The stored records of several traces, without content, each with its version: the number of
   * distinct records (FINAL shows a retried span once). Stored records are only ever added (until
   * retention or a delete), so a later load holds every record of an earlier one: more records
   * means a later load, the same number means the same records.
   */
  async loadFacts(keys: { tenant: string; traceId: string }[]): Promise<TraceFacts[]> {
    const out: TraceFacts[] = [];
    for (const [tenant, traces] of byTenant(keys)) {
      const rows = await this.consistentRead(
        `SELECT ${selectList(SPAN_COLUMNS, FACT_FIELDS)} FROM spans WHERE tenant = {tenant:String} AND trace_id IN {traces:Array(String)} ORDER BY trace_id, start_time, span_id, record`,
        { tenant, traces },
      );
      const byTrace = new Map<string, SpanRecord[]>(traces.map((t) => [t, []]));
      for (const r of this.factsFrom(rows)) byTrace.get(r.traceId)?.push(r);
      for (const [traceId, records] of byTrace) out.push({ tenant, traceId, records, version: records.length });
    }
    return out;
  }

  /**
   * The latest change (ClickHouse's clock at insert, epoch µs) of runs per tenant within the last
   * `seconds`: replicas poll it to refresh live streams on other replicas' commits.
   */
  async recentChanges(seconds: number): Promise<Map<string, number>> {
    const rows = await this.query(
      `SELECT tenant, toFloat64(toUnixTimestamp64Micro(max(changed_at))) AS last FROM runs_store
       WHERE changed_at > now64(6) - toIntervalSecond({s:UInt32}) GROUP BY tenant`,
      { s: Math.ceil(seconds) },
    );
    return new Map(rows.map((r) => [String(r.tenant), Number(r.last)]));
  }

  // -- reads ----------------------------------------------------------------------------------

  /** A condition on start_time that lets ClickHouse skip parts and granules outside the trace's window. */
  private windowCondition(window: TraceWindow | undefined, params: Params): string {
    if (!window) return '';
    params.wfrom = Math.floor(window.fromUs);
    params.wto = Math.ceil(window.toUs);
    return ` AND start_time BETWEEN fromUnixTimestamp64Micro({wfrom:Int64}, 'UTC') AND fromUnixTimestamp64Micro({wto:Int64}, 'UTC')`;
  }

  private factsFrom(rows: Row[]): SpanRecord[] {
    const defaults = { inputContent: null, outputContent: null, reasoningContent: null, systemContent: null, attributes: '{}', resource: '{}' };
    return rows.map((r) => fromRow<SpanRecord>(SPAN_COLUMNS, r, defaults));
  }

  async loadTrace(tenant: string, traceId: string, window?: TraceWindow): Promise<SpanRecord[]> {
    const params: Params = { tenant, trace: traceId };
    const w = this.windowCondition(window, params);
    return this.factsFrom(await this.query(`SELECT ${selectList(SPAN_COLUMNS, FACT_FIELDS)} FROM spans WHERE tenant = {tenant:String} AND trace_id = {trace:String}${w}`, params));
  }

  async loadFactsPart(part: number, parts: number): Promise<SpanRecord[]> {
    const rows = await this.query(
      `SELECT ${selectList(SPAN_COLUMNS, FACT_FIELDS)} FROM spans WHERE cityHash64(tenant, trace_id) % {parts:UInt32} = {part:UInt32} ORDER BY tenant, trace_id, start_time, span_id, record`,
      { part, parts },
    );
    return this.factsFrom(rows);
  }

  async rederivation(): Promise<{ part: number; parts: number } | null> {
    const rows = await this.query(`SELECT part, parts FROM maintenance_tasks WHERE name = 'rederive'`);
    if (!rows.length) return null;
    const part = Number(rows[0].part);
    const parts = Number(rows[0].parts);
    // parts = 0: pending, not started (the caller chooses how many parts); part >= parts > 0: done.
    return parts > 0 && part >= parts ? null : { part, parts };
  }

  async setRederivation(part: number, parts: number): Promise<void> {
    await this.insert('maintenance_tasks_store', [{ name: 'rederive', part, parts, version: this.version() }]);
  }

  async loadEventKeys(tenant: string, traceId: string): Promise<string[]> {
    const rows = await this.query('SELECT event_key FROM events WHERE tenant = {tenant:String} AND trace_id = {trace:String}', { tenant, trace: traceId });
    return rows.map((r) => String(r.event_key));
  }

  async listTraceKeys(): Promise<{ tenant: string; traceId: string }[]> {
    // No FINAL needed: DISTINCT removes duplicates whether merged or not.
    const rows = await this.query('SELECT DISTINCT tenant, trace_id FROM spans_store');
    return rows.map((r) => ({ tenant: String(r.tenant), traceId: String(r.trace_id) }));
  }

  private runWhere(tenant: string, f: RunFilter, withRunId: boolean): { sql: string; params: Params } {
    const clauses = ['tenant = {tenant:String}'];
    const params: Params = { tenant };
    if (f.fromUs !== undefined) {
      clauses.push(`start_time >= fromUnixTimestamp64Micro({from:Int64}, 'UTC')`);
      params.from = Math.round(f.fromUs);
    }
    if (f.toUs !== undefined) {
      clauses.push(`start_time <= fromUnixTimestamp64Micro({to:Int64}, 'UTC')`);
      params.to = Math.round(f.toUs);
    }
    if (withRunId && f.runId) {
      clauses.push('run_id = {runId:String}');
      params.runId = f.runId;
    }
    if (f.conversationId) {
      clauses.push('conversation_id = {conversation:String}');
      params.conversation = f.conversationId;
    }
    if (f.userId) {
      clauses.push('user_id = {user:String}');
      params.user = f.userId;
    }
    return { sql: clauses.join(' AND '), params };
  }

  async listRuns(tenant: string, filter: RunFilter, runTimeoutMinutes: number): Promise<RunRow[]> {
    const where = this.runWhere(tenant, filter, true);
    const limit = Math.min(Math.max(filter.limit ?? 100, 1), 10000);
    const cols = RUN_COLUMNS.filter((c) => c.name !== 'status');
    // A run still running past the deadline reads as timed out; the stored row stays a fact.
    const rows = await this.query(
      `SELECT ${selectList(cols)},
         if(status = 'running' AND start_time < now64(6) - INTERVAL ${Math.round(runTimeoutMinutes)} MINUTE, 'timed_out', status) AS status
       FROM runs WHERE ${where.sql} ORDER BY start_time DESC, run_id LIMIT ${limit}`,
      where.params,
    );
    return rows.map((r) => fromRow<RunRow>(RUN_COLUMNS, r));
  }

  async listSessions(tenant: string, filter: RunFilter): Promise<SessionRow[]> {
    const where = this.runWhere(tenant, filter, false);
    const limit = Math.min(Math.max(filter.limit ?? 100, 1), 10000);
    const rows = await this.query(`SELECT ${selectList(SESSION_COLUMNS)} FROM sessions WHERE ${where.sql} ORDER BY start_time DESC LIMIT ${limit}`, where.params);
    return rows.map((r) => fromRow<SessionRow>(SESSION_COLUMNS, r));
  }

  async loadTraceSteps(tenant: string, traceId: string, window?: TraceWindow): Promise<StepRow[]> {
    const params: Params = { tenant, trace: traceId };
    const w = this.windowCondition(window, params);
    const rows = await this.query(
      `SELECT span_id, parent_span_id, name, role, status_code, record, end_time IS NULL AS open,
         toFloat64(toUnixTimestamp64Micro(start_time)) AS start_us, duration_ms, agent_name, tool_name, model, provider,
         input_tokens, output_tokens, cached_tokens, reasoning_tokens, cost, error_type,
         input_content, output_content, reasoning_content, system_content, attributes, resource
       FROM spans WHERE tenant = {tenant:String} AND trace_id = {trace:String}${w} ORDER BY start_time, span_id, record`,
      params,
    );
    const events = await this.query(
      `SELECT span_id, toFloat64(toUnixTimestamp64Micro(time)) AS time_us, name, source, body, attributes FROM events
       WHERE tenant = {tenant:String} AND trace_id = {trace:String} ORDER BY time, event_key`,
      params,
    );
    const str = (x: unknown): string => (x === null || x === undefined ? '' : String(x));
    const num = (x: unknown): number | null => (x === null || x === undefined ? null : Number(x));
    const bySpan = new Map<string, StepRow['events']>();
    for (const e of events) {
      const list = bySpan.get(str(e.span_id)) ?? [];
      list.push({ timeUs: Number(e.time_us), name: str(e.name), source: str(e.source), body: e.body === null ? null : str(e.body), attributes: str(e.attributes) });
      bySpan.set(str(e.span_id), list);
    }
    return rows.map((r) => ({
      spanId: str(r.span_id),
      record: str(r.record),
      parentSpanId: str(r.parent_span_id),
      name: str(r.name),
      role: str(r.role),
      status: Number(r.open) === 1 || r.open === true ? 'running' : Number(r.status_code) === 2 ? 'error' : 'ok',
      startUs: Number(r.start_us),
      durationMs: num(r.duration_ms),
      agent: str(r.agent_name),
      tool: str(r.tool_name),
      model: str(r.model),
      provider: str(r.provider),
      inputTokens: num(r.input_tokens),
      outputTokens: num(r.output_tokens),
      cachedTokens: num(r.cached_tokens),
      reasoningTokens: num(r.reasoning_tokens),
      cost: num(r.cost),
      errorType: str(r.error_type),
      input: r.input_content === null ? null : str(r.input_content),
      output: r.output_content === null ? null : str(r.output_content),
      reasoning: r.reasoning_content === null ? null : str(r.reasoning_content),
      system: r.system_content === null ? null : str(r.system_content),
      attributes: str(r.attributes),
      resource: str(r.resource),
      events: bySpan.get(str(r.span_id)) ?? [],
    }));
  }

  async counts(tenant: string): Promise<Counts> {
    const rows = await this.query(
      `SELECT (SELECT count() FROM spans WHERE tenant = {t:String}) AS spans, (SELECT count() FROM events WHERE tenant = {t:String}) AS events,
         (SELECT count() FROM runs WHERE tenant = {t:String}) AS runs, (SELECT count() FROM sessions WHERE tenant = {t:String}) AS sessions`,
      { t: tenant },
    );
    const r = rows[0] ?? {};
    return { spans: Number(r.spans ?? 0), events: Number(r.events ?? 0), runs: Number(r.runs ?? 0), sessions: Number(r.sessions ?? 0) };
  }

  /** Lightweight DELETE (rows masked at once, removed by merges), waiting until it applies everywhere. */
  private async deleteWhere(table: string, where: string, params: Params): Promise<void> {
    const target = this.ctx.cluster ? `${table}_local ON CLUSTER ${this.ctx.cluster}` : `${table}_store`;
    await this.client.command({
      query: `DELETE FROM ${target} WHERE ${where}`,
      query_params: params,
      clickhouse_settings: { wait_end_of_query: 1, lightweight_deletes_sync: '2' },
    });
  }

  async deleteBy(tenant: string, field: 'conversation' | 'user', value: string): Promise<{ traces: string[]; spans: number }> {
    const column = field === 'conversation' ? 'conversation_id' : 'user_id';
    const params = { tenant, value };
    const traces = (
      await this.query(
        `SELECT DISTINCT trace_id FROM (
           SELECT trace_id FROM spans_store WHERE tenant = {tenant:String} AND ${column} = {value:String}
           UNION ALL SELECT trace_id FROM runs WHERE tenant = {tenant:String} AND ${column} = {value:String}
           UNION ALL SELECT trace_id FROM sessions WHERE tenant = {tenant:String} AND ${column} = {value:String})
         ORDER BY trace_id`,
        params,
      )
    ).map((r) => String(r.trace_id));
    if (!traces.length) return { traces, spans: 0 };
    const where = 'tenant = {tenant:String} AND trace_id IN {traces:Array(String)}';
    const spans = Number((await this.query(`SELECT count() AS c FROM spans WHERE ${where}`, { tenant, traces }))[0]?.c ?? 0);
    for (const t of Object.keys(TIME_COLUMN)) await this.deleteWhere(t, where, { tenant, traces });
    return { traces, spans };
  }

  async deleteOlderThan(cutoffUs: number): Promise<number> {
    const cutoff = { cutoff: Math.round(cutoffUs) };
    const before = `fromUnixTimestamp64Micro({cutoff:Int64}, 'UTC')`;
    const spans = Number((await this.query(`SELECT count() AS c FROM spans WHERE start_time < ${before}`, cutoff))[0]?.c ?? 0);
    if (spans) await this.deleteWhere('spans', `start_time < ${before}`, cutoff);
    for (const [t, col] of Object.entries(TIME_COLUMN)) {
      if (t === 'spans') continue;
      const c = Number((await this.query(`SELECT count() AS c FROM ${t}_store WHERE ${col} < ${before}`, cutoff))[0]?.c ?? 0);
      if (c) await this.deleteWhere(t, `${col} < ${before}`, cutoff);
    }
    return spans;
  }

  // -- API keys -------------------------------------------------------------------------------

  private keyRow(k: ApiKeyRow): Record<string, unknown> {
    return { ...toRow(KEY_COLUMNS, { ...k, scopes: k.scopes.join(',') }), version: this.version() };
  }

  private keyFrom(r: Row): ApiKeyRow {
    const k = fromRow<Omit<ApiKeyRow, 'scopes'> & { scopes: string }>(KEY_COLUMNS, r);
    return { ...k, scopes: k.scopes.split(',').filter(Boolean) as Scope[] };
  }

  async insertKey(key: ApiKeyRow): Promise<void> {
    await this.insert('api_keys_store', [this.keyRow(key)]);
  }

  async listKeys(tenant?: string): Promise<ApiKeyRow[]> {
    const rows = tenant
      ? await this.query(`SELECT ${selectList(KEY_COLUMNS)} FROM api_keys WHERE tenant = {tenant:String} ORDER BY created_at, id`, { tenant })
      : await this.query(`SELECT ${selectList(KEY_COLUMNS)} FROM api_keys ORDER BY created_at, id`);
    return rows.map((r) => this.keyFrom(r));
  }

  async findKeyByHash(hash: string): Promise<ApiKeyRow | null> {
    const rows = await this.query(`SELECT ${selectList(KEY_COLUMNS)} FROM api_keys WHERE hash = {hash:String} LIMIT 1`, { hash });
    return rows.length ? this.keyFrom(rows[0]) : null;
  }

  async revokeKey(id: string, atUs: number): Promise<boolean> {
    const rows = await this.query(`SELECT ${selectList(KEY_COLUMNS)} FROM api_keys WHERE id = {id:String} AND revoked_at IS NULL`, { id });
    if (!rows.length) return false;
    await this.insert('api_keys_store', [this.keyRow({ ...this.keyFrom(rows[0]), revokedUs: atUs })]);
    return true;
  }
}

