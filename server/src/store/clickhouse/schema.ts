/**
 * The ClickHouse schema as SQL, generated for one database and, in cluster mode, one cluster.
 *
 * Every table is written as `<name>_store` and read through a view `<name>` that applies FINAL, so
 * the query engine's SQL (written once for both engines) reads deduplicated rows under the names
 * the DuckDB store uses, and no answer depends on background merges having happened:
 * - spans and events are facts: ReplacingMergeTree keyed by their identity (a retried span is the
 *   same row; FINAL shows it once even before a merge);
 * - runs, sessions, steps and usage are derived per trace and replaced when a span arrives:
 *   ReplacingMergeTree(version, is_deleted) where version grows with the set of spans the
 *   derivation saw (clickhouse-store.ts, replaceDerived); a row of an older derivation that the
 *   newest no longer has gets a tombstone (is_deleted = 1, same sort key, higher version), and
 *   FINAL hides it. `derivations` records each trace's newest derivation. Nothing is
 *   pre-aggregated by materialized views, which could not retract what a late span changes.
 * - api_keys: ReplacingMergeTree(version); revoking inserts a newer version of the key.
 *
 * In cluster mode each table is a Replicated* table on every node (`<name>_local`, ON CLUSTER DDL)
 * with a Distributed table `<name>_store` over it, sharded by trace so that every version of a row
 * lives on one shard and FINAL stays exact per shard.
 */
import { randomBytes } from 'node:crypto';
import { Column, EVENT_COLUMNS, KEY_COLUMNS, RUN_COLUMNS, SESSION_COLUMNS, SPAN_COLUMNS, STEP_COLUMNS, USAGE_COLUMNS } from './columns';

export interface SchemaContext {
  database: string;
  /** Cluster name for ON CLUSTER DDL with Replicated and Distributed tables; '' for one server. */
  cluster: string;
}

export interface Migration {
  version: number;
  description: string;
  /** Statements, each idempotent (IF NOT EXISTS), since replicas may start at the same time. */
  sql(ctx: SchemaContext): string[];
}

const ident = (name: string): string => {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`not a valid ClickHouse identifier: "${name}"`);
  return name;
};

const onCluster = (ctx: SchemaContext): string => (ctx.cluster ? ` ON CLUSTER ${ident(ctx.cluster)}` : '');

export interface TableSpec {
  name: string;
  /**
   * Identity of a row: the columns of its sort key and partition. A derived row whose identity the
   * next derivation of its trace no longer produces gets a tombstone with this identity.
   */
  key: string[];
  /** Derived rows that can disappear when their trace is derived again (need tombstones). */
  tombstones: boolean;
  columns: Column[];
  /** Extra columns after the domain's (version, is_deleted). */
  extra: string[];
  /** ReplacingMergeTree's arguments: '' | 'version' | 'version, is_deleted'. */
  replacing: string;
  partitionBy: string;
  orderBy: string;
  indexes: string[];
  /** Sharding key of the Distributed table in cluster mode. */
  shardBy: string;
}

function createTable(ctx: SchemaContext, t: TableSpec): string[] {
  const db = ident(ctx.database);
  const body = [...t.columns.map((col) => `${col.name} ${col.type}`), ...t.extra, ...t.indexes].join(',\n  ');
  const tail = `${t.partitionBy ? `PARTITION BY ${t.partitionBy}\n` : ''}ORDER BY (${t.orderBy})`;
  if (!ctx.cluster) {
    return [`CREATE TABLE IF NOT EXISTS ${db}.${t.name}_store (\n  ${body}\n) ENGINE = ReplacingMergeTree(${t.replacing})\n${tail}`];
  }
  const args = [`'/clickhouse/tables/{shard}/${db}/${t.name}_local'`, `'{replica}'`, ...(t.replacing ? [t.replacing] : [])].join(', ');
  return [
    `CREATE TABLE IF NOT EXISTS ${db}.${t.name}_local${onCluster(ctx)} (\n  ${body}\n) ENGINE = ReplicatedReplacingMergeTree(${args})\n${tail}`,
    `CREATE TABLE IF NOT EXISTS ${db}.${t.name}_store${onCluster(ctx)} AS ${db}.${t.name}_local ENGINE = Distributed(${ident(ctx.cluster)}, ${db}, ${t.name}_local, ${t.shardBy})`,
  ];
}

/** The bloom filter lets a lookup of one trace (loadTrace, a run's steps) skip most granules. */
const TRACE_INDEX = 'INDEX trace_idx trace_id TYPE bloom_filter(0.01) GRANULARITY 4';
const VERSIONED = ['version UInt64', 'is_deleted UInt8'];
const BY_TRACE = 'cityHash64(tenant, trace_id)';

export const TABLES: TableSpec[] = [
  {
    name: 'spans',
    key: ['tenant', 'start_time', 'trace_id', 'span_id', 'record'],
    tombstones: false,
    columns: SPAN_COLUMNS,
    extra: [],
    replacing: '',
    partitionBy: 'toYYYYMM(start_time)',
    // Tenant first (every query has it), then time by the hour (dashboards ask for time ranges),
    // then the identity (trace, span, record): spans of one trace sit together within the hour.
    orderBy: 'tenant, toStartOfHour(start_time), trace_id, span_id, record',
    indexes: [TRACE_INDEX],
    shardBy: BY_TRACE,
  },
  {
    name: 'events',
    key: ['tenant', 'time', 'trace_id', 'span_id', 'event_key'],
    tombstones: false,
    columns: EVENT_COLUMNS,
    extra: [],
    replacing: '',
    partitionBy: 'toYYYYMM(time)',
    orderBy: 'tenant, toStartOfHour(time), trace_id, span_id, event_key',
    indexes: [TRACE_INDEX],
    shardBy: BY_TRACE,
  },
  {
    name: 'runs',
    key: ['tenant', 'start_time', 'run_id'],
    tombstones: true,
    columns: RUN_COLUMNS,
    // changed_at is ClickHouse's own clock at insert: replicas poll it to learn of each other's
    // commits (live streams), free of the skew between the replicas' clocks.
    extra: [...VERSIONED, "changed_at DateTime64(6, 'UTC') DEFAULT now64(6)"],
    replacing: 'version, is_deleted',
    partitionBy: 'toYYYYMM(start_time)',
    // Newest-first run tables and time ranges read by start time.
    orderBy: 'tenant, start_time, run_id',
    indexes: [TRACE_INDEX, 'INDEX changed_idx changed_at TYPE minmax GRANULARITY 1'],
    shardBy: BY_TRACE,
  },
  {
    name: 'sessions',
    key: ['tenant', 'start_time', 'session_id'],
    tombstones: true,
    columns: SESSION_COLUMNS,
    extra: VERSIONED,
    replacing: 'version, is_deleted',
    partitionBy: 'toYYYYMM(start_time)',
    orderBy: 'tenant, start_time, session_id',
    indexes: [TRACE_INDEX],
    shardBy: BY_TRACE,
  },
  {
    name: 'steps',
    key: ['tenant', 'start_time', 'trace_id', 'span_id'],
    // A span never disappears: a step's identity stays, its new version replaces it.
    tombstones: false,
    columns: STEP_COLUMNS,
    extra: VERSIONED,
    replacing: 'version, is_deleted',
    partitionBy: 'toYYYYMM(start_time)',
    orderBy: 'tenant, toStartOfHour(start_time), trace_id, span_id',
    indexes: [TRACE_INDEX],
    shardBy: BY_TRACE,
  },
  {
    name: 'usage',
    key: ['tenant', 'bucket', 'run_id', 'model', 'response_model', 'provider', 'run_level'],
    tombstones: true,
    columns: USAGE_COLUMNS,
    extra: VERSIONED,
    replacing: 'version, is_deleted',
    partitionBy: 'toYYYYMM(bucket)',
    orderBy: 'tenant, bucket, run_id, model, response_model, provider, run_level',
    indexes: [TRACE_INDEX],
    shardBy: BY_TRACE,
  },
  {
    name: 'maintenance_tasks',
    key: ['name'],
    tombstones: false,
    columns: [
      { name: 'name', type: 'String', field: 'name', kind: 'string' },
      { name: 'part', type: 'Int32', field: 'part', kind: 'int' },
      { name: 'parts', type: 'Int32', field: 'parts', kind: 'int' },
    ],
    extra: ['version UInt64'],
    replacing: 'version',
    partitionBy: '',
    orderBy: 'name',
    indexes: [],
    shardBy: 'cityHash64(name)',
  },
  {
    name: 'api_keys',
    key: ['id'],
    tombstones: false,
    columns: KEY_COLUMNS,
    extra: ['version UInt64'],
    replacing: 'version',
    partitionBy: '',
    orderBy: 'id',
    indexes: [],
    shardBy: 'cityHash64(id)',
  },
];

/**
 * The latest derivation of each trace by any replica: the version of the facts it was derived from
 * (the number of distinct stored records; see DERIVED_VERSION_BASE in clickhouse-store.ts). A
 * derivation writes it before its rows; whoever sweeps a trace's stale rows reads the highest.
 * Read as max(version) over the raw table, so merges do not matter.
 */
export const DERIVATIONS: TableSpec = {
  name: 'derivations',
  key: ['tenant', 'trace_id'],
  tombstones: false,
  columns: [
    { name: 'tenant', type: 'LowCardinality(String)', field: 'tenant', kind: 'string' },
    { name: 'trace_id', type: 'String', field: 'traceId', kind: 'string' },
  ],
  // changed_at (ClickHouse's clock) gives the retention TTL and delete a time column.
  extra: ['version UInt64', "changed_at DateTime64(6, 'UTC') DEFAULT now64(6)"],
  replacing: 'version',
  partitionBy: '',
  orderBy: 'tenant, trace_id',
  indexes: [],
  shardBy: BY_TRACE,
};

/** Views that read the deduplicated rows under the DuckDB store's table names. */
function finalViews(ctx: SchemaContext): string[] {
  const db = ident(ctx.database);
  return TABLES.map((t) => {
    const hidden = t.extra.map((e) => e.split(' ')[0]);
    const except = hidden.length ? ` EXCEPT (${hidden.join(', ')})` : '';
    const where = hidden.includes('is_deleted') ? ' WHERE is_deleted = 0' : '';
    return `CREATE OR REPLACE VIEW ${db}.${t.name}${onCluster(ctx)} AS SELECT *${except} FROM ${db}.${t.name}_store FINAL${where}`;
  });
}

export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    description: 'spans, events, derived runs and sessions, API keys (ReplacingMergeTree, read through FINAL views)',
    sql: (ctx) => [...TABLES.flatMap((t) => createTable(ctx, t)), ...finalViews(ctx)],
  },
  {
    version: 2,
    description: 'derivations: the facts version of each trace\'s latest derivation, so replicas deriving one trace at once keep the one that saw every span',
    sql: (ctx) => createTable(ctx, DERIVATIONS),
  },
  {
    version: 3,
    description: "runs carry their trace's distinct tool names, models and providers (trace_tools, trace_models, trace_providers), filled for stored runs",
    sql: (ctx) => [...addTraceLists(ctx), ...finalViews(ctx).filter((v) => v.includes('.runs ')), ...fillTraceLists(ctx)],
  },
];

const TRACE_LISTS = ['trace_tools', 'trace_models', 'trace_providers'];

/** The run columns of version 3 on the tables behind runs (a fresh schema has them from RUN_COLUMNS). */
function addTraceLists(ctx: SchemaContext): string[] {
  const db = ident(ctx.database);
  const add = TRACE_LISTS.map((c) => `ADD COLUMN IF NOT EXISTS ${c} Array(String)`).join(', ');
  const tables = ctx.cluster ? ['runs_local', 'runs_store'] : ['runs_store'];
  return tables.map((t) => `ALTER TABLE ${db}.${t}${onCluster(ctx)} ${add}`);
}

/**
 * Stored runs get their trace's lists from the spans, as derivation computes them (every record,
 * non-empty values): the lists per trace in a Join table, then one mutation of the runs reading
 * them with joinGet, waited for. One server only: a Join table is filled by an INSERT, which has no
 * ON CLUSTER; in cluster mode runs stored before this version get their lists when their trace is
 * derived again (a late span), and until then a tool, model or provider filter does not find them.
 */
function fillTraceLists(ctx: SchemaContext): string[] {
  if (ctx.cluster) return [];
  const db = ident(ctx.database);
  // Each replica that starts at the same time fills with its own table (the same lists, twice).
  const table = `${db}.trace_lists_fill_${randomBytes(6).toString('hex')}`;
  const values = (col: string) => `arraySort(groupUniqArrayIf(${col}, ${col} != ''))`;
  const get = (attr: string) => `joinGet('${table}', '${attr}', tenant, trace_id)`;
  return [
    `CREATE TABLE ${table} (tenant LowCardinality(String), trace_id String, tools Array(String), models Array(String), providers Array(String))
      ENGINE = Join(ANY, LEFT, tenant, trace_id)`,
    `INSERT INTO ${table} SELECT tenant, trace_id, ${values('tool_name')}, ${values('model')}, ${values('provider')}
      FROM ${db}.spans_store GROUP BY tenant, trace_id`,
    `ALTER TABLE ${db}.runs_store UPDATE trace_tools = ${get('tools')}, trace_models = ${get('models')}, trace_providers = ${get('providers')}
      WHERE 1 SETTINGS mutations_sync = 2`,
    `DROP TABLE ${table}`,
  ];
}

/** The table recording applied migrations (created before any migration runs). */
export function migrationsTable(ctx: SchemaContext): string {
  const db = ident(ctx.database);
  const engine = ctx.cluster
    ? `ReplicatedReplacingMergeTree('/clickhouse/tables/${db}/schema_migrations', '{shard}-{replica}')`
    : 'ReplacingMergeTree';
  return `CREATE TABLE IF NOT EXISTS ${db}.schema_migrations${onCluster(ctx)} (version UInt32, description String, applied_at DateTime64(6, 'UTC')) ENGINE = ${engine} ORDER BY version`;
}

export function createDatabase(ctx: SchemaContext): string {
  return `CREATE DATABASE IF NOT EXISTS ${ident(ctx.database)}${onCluster(ctx)}`;
}

/**
 * Views that depend on configuration or the clock, created at every start (as the DuckDB store
 * does): a run still running past the deadline reads as timed out (runs_v, and its steps and usage
 * in steps_v and usage_v), with its duration up to now (or the deadline).
 */
export function startViews(ctx: SchemaContext, runTimeoutMinutes: number): string[] {
  const db = ident(ctx.database);
  const deadline = `INTERVAL ${Math.round(runTimeoutMinutes)} MINUTE`;
  const effective = (status: string, start: string) => `if(${status} = 'running' AND ${start} < now64(6) - ${deadline}, 'timed_out', ${status})`;
  return [
    `CREATE OR REPLACE VIEW ${db}.runs_v${onCluster(ctx)} AS
      SELECT r.* EXCEPT (status), ${effective('r.status', 'r.start_time')} AS status,
        toFloat64(toUnixTimestamp64Milli(coalesce(r.end_time, least(now64(6), r.start_time + ${deadline}))) - toUnixTimestamp64Milli(r.start_time)) AS duration_ms
      FROM ${db}.runs r`,
    // Steps and usage carry their run's dimensions and start, so the run's effective status needs no join.
    `CREATE OR REPLACE VIEW ${db}.steps_v${onCluster(ctx)} AS
      SELECT s.* EXCEPT (run_status), ${effective('s.run_status', 's.run_start')} AS run_status FROM ${db}.steps s`,
    `CREATE OR REPLACE VIEW ${db}.usage_v${onCluster(ctx)} AS
      SELECT u.* EXCEPT (status), ${effective('u.status', 'u.run_start')} AS status FROM ${db}.usage u`,
  ];
}

/** The time column of each table with data, by which retention deletes. */
export const TIME_COLUMN: Record<string, string> = { spans: 'start_time', events: 'time', runs: 'start_time', sessions: 'start_time', steps: 'start_time', usage: 'bucket', derivations: 'changed_at' };

/** TTL statements for retention (days > 0), applied at start so a changed setting takes effect. */
export function retentionTtl(ctx: SchemaContext, days: number): string[] {
  const db = ident(ctx.database);
  const target = (t: string) => (ctx.cluster ? `${t}_local` : `${t}_store`);
  return Object.entries(TIME_COLUMN).map(([t, col]) =>
    days > 0
      ? `ALTER TABLE ${db}.${target(t)}${onCluster(ctx)} MODIFY TTL toDateTime(${col}) + INTERVAL ${Math.round(days)} DAY`
      : `ALTER TABLE ${db}.${target(t)}${onCluster(ctx)} REMOVE TTL`,
  );
}

/** Every DDL statement of a fresh schema, in order (for tests that parse cluster DDL). */
export function allDdl(ctx: SchemaContext, runTimeoutMinutes: number, retentionDays: number): string[] {
  return [createDatabase(ctx), migrationsTable(ctx), ...MIGRATIONS.flatMap((m) => m.sql(ctx)), ...startViews(ctx, runTimeoutMinutes), ...retentionTtl(ctx, retentionDays)];
}
