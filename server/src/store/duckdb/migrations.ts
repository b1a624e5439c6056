/**
 * Versioned schema migrations for the DuckDB store. Append new versions; never edit an applied one.
 * Spans and events are immutable facts; runs and sessions are derived from them per trace.
 */
import { TOOL_DURATIONS_DDL, TOOL_LATENCY_DAY_DDL, TOOL_ROLLUP_DDL } from './tool-rollup';
import { CONVERSATION_COSTS_DDL } from './conversation-costs';
export interface Migration {
  version: number;
  description: string;
  sql: string[];
}

export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    description: 'spans, events, derived runs and sessions, API keys',
    sql: [
      `CREATE TABLE spans (
        tenant VARCHAR NOT NULL,
        trace_id VARCHAR NOT NULL,
        span_id VARCHAR NOT NULL,
        record VARCHAR NOT NULL,
        parent_span_id VARCHAR NOT NULL,
        name VARCHAR NOT NULL,
        span_kind TINYINT NOT NULL,
        start_time TIMESTAMP NOT NULL,
        end_time TIMESTAMP,
        duration_ms DOUBLE,
        status_code TINYINT NOT NULL,
        status_message VARCHAR NOT NULL,
        role VARCHAR NOT NULL,
        convention VARCHAR NOT NULL,
        operation VARCHAR NOT NULL,
        agent_name VARCHAR NOT NULL,
        agent_version VARCHAR NOT NULL,
        tool_name VARCHAR NOT NULL,
        tool_call_id VARCHAR NOT NULL,
        model VARCHAR NOT NULL,
        response_model VARCHAR NOT NULL,
        provider VARCHAR NOT NULL,
        service VARCHAR NOT NULL,
        environment VARCHAR NOT NULL,
        channel VARCHAR NOT NULL,
        conversation_id VARCHAR NOT NULL,
        user_id VARCHAR NOT NULL,
        session_id VARCHAR NOT NULL,
        external_run_id VARCHAR NOT NULL,
        input_tokens BIGINT,
        output_tokens BIGINT,
        cached_tokens BIGINT,
        cache_write_tokens BIGINT,
        reasoning_tokens BIGINT,
        total_tokens BIGINT,
        cost DOUBLE,
        error_type VARCHAR NOT NULL,
        timeout_hint BOOLEAN NOT NULL,
        interrupted BOOLEAN,
        latency_ms DOUBLE,
        end_reason VARCHAR NOT NULL,
        turns INTEGER,
        interruptions INTEGER,
        input_content VARCHAR,
        output_content VARCHAR,
        reasoning_content VARCHAR,
        system_content VARCHAR,
        attributes VARCHAR NOT NULL,
        resource VARCHAR NOT NULL,
        received_at TIMESTAMP NOT NULL
      )`,
      `CREATE TABLE events (
        tenant VARCHAR NOT NULL,
        trace_id VARCHAR NOT NULL,
        span_id VARCHAR NOT NULL,
        time TIMESTAMP NOT NULL,
        name VARCHAR NOT NULL,
        source VARCHAR NOT NULL,
        body VARCHAR,
        attributes VARCHAR NOT NULL,
        event_key VARCHAR NOT NULL
      )`,
      `CREATE TABLE runs (
        tenant VARCHAR NOT NULL,
        run_id VARCHAR NOT NULL,
        trace_id VARCHAR NOT NULL,
        root_span_id VARCHAR NOT NULL,
        agent VARCHAR NOT NULL,
        agent_version VARCHAR NOT NULL,
        service VARCHAR NOT NULL,
        environment VARCHAR NOT NULL,
        channel VARCHAR NOT NULL,
        conversation_id VARCHAR NOT NULL,
        user_id VARCHAR NOT NULL,
        status VARCHAR NOT NULL,
        start_time TIMESTAMP NOT NULL,
        end_time TIMESTAMP,
        tool_calls INTEGER NOT NULL,
        llm_calls INTEGER NOT NULL,
        input_tokens BIGINT NOT NULL,
        output_tokens BIGINT NOT NULL,
        cached_tokens BIGINT NOT NULL,
        reasoning_tokens BIGINT NOT NULL,
        total_tokens BIGINT NOT NULL,
        cost DOUBLE,
        error_type VARCHAR NOT NULL,
        error_message VARCHAR NOT NULL,
        models VARCHAR NOT NULL,
        span_count INTEGER NOT NULL
      )`,
      `CREATE TABLE sessions (
        tenant VARCHAR NOT NULL,
        session_id VARCHAR NOT NULL,
        trace_id VARCHAR NOT NULL,
        root_span_id VARCHAR NOT NULL,
        agent VARCHAR NOT NULL,
        channel VARCHAR NOT NULL,
        service VARCHAR NOT NULL,
        environment VARCHAR NOT NULL,
        conversation_id VARCHAR NOT NULL,
        user_id VARCHAR NOT NULL,
        status VARCHAR NOT NULL,
        start_time TIMESTAMP NOT NULL,
        end_time TIMESTAMP,
        turns INTEGER NOT NULL,
        interruptions INTEGER NOT NULL,
        avg_latency_ms DOUBLE,
        end_reason VARCHAR NOT NULL,
        cost DOUBLE
      )`,
      `CREATE TABLE api_keys (
        id VARCHAR PRIMARY KEY,
        tenant VARCHAR NOT NULL,
        name VARCHAR NOT NULL,
        scopes VARCHAR NOT NULL,
        hash VARCHAR NOT NULL UNIQUE,
        prefix VARCHAR NOT NULL,
        created_at TIMESTAMP NOT NULL,
        revoked_at TIMESTAMP
      )`,
    ],
  },
  {
    version: 2,
    description: 'derived steps and LLM usage tables; runs carry runs_in_trace and their trace time window; re-derive every stored trace',
    sql: [
      // Nullable: rows written before this version get them when their trace is re-derived.
      'ALTER TABLE runs ADD COLUMN runs_in_trace INTEGER',
      'ALTER TABLE runs ADD COLUMN trace_start TIMESTAMP',
      'ALTER TABLE runs ADD COLUMN trace_end TIMESTAMP',
      `CREATE TABLE steps (
        tenant VARCHAR NOT NULL,
        trace_id VARCHAR NOT NULL,
        span_id VARCHAR NOT NULL,
        run_id VARCHAR NOT NULL,
        run_agent VARCHAR NOT NULL,
        run_agent_version VARCHAR NOT NULL,
        run_status VARCHAR NOT NULL,
        run_start TIMESTAMP NOT NULL,
        run_environment VARCHAR NOT NULL,
        run_service VARCHAR NOT NULL,
        run_channel VARCHAR NOT NULL,
        run_conversation_id VARCHAR NOT NULL,
        run_user_id VARCHAR NOT NULL,
        parent_span_id VARCHAR NOT NULL,
        role VARCHAR NOT NULL,
        name VARCHAR NOT NULL,
        tool_name VARCHAR NOT NULL,
        model VARCHAR NOT NULL,
        response_model VARCHAR NOT NULL,
        provider VARCHAR NOT NULL,
        status_code TINYINT NOT NULL,
        status_message VARCHAR NOT NULL,
        error_type VARCHAR NOT NULL,
        start_time TIMESTAMP NOT NULL,
        duration_ms DOUBLE,
        input_tokens BIGINT,
        output_tokens BIGINT,
        cached_tokens BIGINT,
        cache_write_tokens BIGINT,
        reasoning_tokens BIGINT,
        total_tokens BIGINT,
        cost DOUBLE
      )`,
      `CREATE TABLE usage (
        tenant VARCHAR NOT NULL,
        trace_id VARCHAR NOT NULL,
        run_id VARCHAR NOT NULL,
        agent VARCHAR NOT NULL,
        agent_version VARCHAR NOT NULL,
        status VARCHAR NOT NULL,
        run_start TIMESTAMP NOT NULL,
        channel VARCHAR NOT NULL,
        environment VARCHAR NOT NULL,
        service VARCHAR NOT NULL,
        conversation_id VARCHAR NOT NULL,
        user_id VARCHAR NOT NULL,
        bucket TIMESTAMP NOT NULL,
        run_level BOOLEAN NOT NULL,
        model VARCHAR NOT NULL,
        response_model VARCHAR NOT NULL,
        provider VARCHAR NOT NULL,
        calls INTEGER NOT NULL,
        input_tokens BIGINT,
        output_tokens BIGINT,
        cached_tokens BIGINT,
        cache_write_tokens BIGINT,
        reasoning_tokens BIGINT,
        total_tokens BIGINT NOT NULL,
        reported_calls INTEGER NOT NULL,
        reported_cost DOUBLE,
        priced_calls INTEGER NOT NULL,
        billable_input BIGINT NOT NULL,
        priced_cached BIGINT NOT NULL,
        priced_cache_write BIGINT NOT NULL,
        priced_output BIGINT NOT NULL
      )`,
      // A task that survives a restart: the store re-derives every stored trace part by part.
      'CREATE TABLE maintenance_tasks (name VARCHAR PRIMARY KEY, part INTEGER NOT NULL, parts INTEGER NOT NULL)',
      "INSERT INTO maintenance_tasks VALUES ('rederive', 0, 0)",
    ],
  },
  {
    version: 3,
    description: 'derived steps, usage and runs rewritten in time order once re-derivation is done (it writes them in hash order of traces)',
    // The store does it after re-derivation (DuckDBStore.reorderDerived): a table in time order
    // lets a time range skip every storage block outside it; in hash order every block spans
    // the whole history and each range query reads them all.
    sql: ["INSERT INTO maintenance_tasks VALUES ('reorder', 0, 1)"],
  },
  {
    version: 4,
    description: 'tool calls summed per 15 minutes (tool_rollup) and their latency histogram (tool_latency), computed from steps',
    // Filled by the store (DuckDBStore.rebuildRollups) once re-derivation and reordering are done,
    // then kept by every write of steps (tool-rollup.ts).
    sql: [...TOOL_ROLLUP_DDL, "INSERT INTO maintenance_tasks VALUES ('tool_rollup', 0, 1)"],
  },
  {
    version: 5,
    description: "runs carry their trace's distinct tool names, models and providers (filters on those dimensions read no spans); runs indexed by run, trace, conversation and user id (search)",
    sql: [
      // Filled from the spans table in this migration (no re-derivation): every record of the trace,
      // as derivation lists them (derive/trace.ts). The rows are rewritten in time order, as the
      // reorder task left them (an UPDATE would move the rows it changes to the end of the table).
      'ALTER TABLE runs ADD COLUMN trace_tools VARCHAR[]',
      'ALTER TABLE runs ADD COLUMN trace_models VARCHAR[]',
      'ALTER TABLE runs ADD COLUMN trace_providers VARCHAR[]',
      `CREATE TEMP TABLE runs_scratch AS
        SELECT r.* REPLACE (coalesce(d.tools, []) AS trace_tools, coalesce(d.models, []) AS trace_models, coalesce(d.providers, []) AS trace_providers)
        FROM runs r LEFT JOIN (
          SELECT tenant, trace_id,
            list_sort(list(DISTINCT tool_name) FILTER (WHERE tool_name <> '')) AS tools,
            list_sort(list(DISTINCT model) FILTER (WHERE model <> '')) AS models,
            list_sort(list(DISTINCT provider) FILTER (WHERE provider <> '')) AS providers
          FROM spans GROUP BY tenant, trace_id
        ) d ON d.tenant = r.tenant AND d.trace_id = r.trace_id`,
      'DELETE FROM runs',
      'INSERT INTO runs SELECT * FROM runs_scratch ORDER BY start_time, tenant',
      'DROP TABLE runs_scratch',
      // Search (runs.ts) looks a value up in each of these columns: DuckDB answers an equality that is
      // a scan's only filter from the index instead of reading the column.
      'CREATE INDEX runs_run_id ON runs (run_id)',
      'CREATE INDEX runs_trace_id ON runs (trace_id)',
      'CREATE INDEX runs_conversation_id ON runs (conversation_id)',
      'CREATE INDEX runs_user_id ON runs (user_id)',
    ],
  },
  {
    version: 6,
    description: 'cost per conversation kept per conversation (conversation_costs) with the prices it was computed with',
    // Filled by the store at open (ConversationCosts.prepare: the table is new, so its prices are
    // missing) once re-derivation is done, then kept by every write of runs (conversation-costs.ts).
    sql: CONVERSATION_COSTS_DDL,
  },
  {
    version: 7,
    description: 'the tool latency histogram per UTC day too (tool_latency_day), for ranges of whole days',
    // Built with the other tool rollups by the store (the task of migration 4, set again).
    sql: [...TOOL_LATENCY_DAY_DDL, "INSERT OR REPLACE INTO maintenance_tasks VALUES ('tool_rollup', 0, 1)"],
  },
  {
    version: 8,
    description: "tool-call durations per hour and tool as sorted lists (tool_durations), for exact latency percentiles per hour; the latency histograms keyed by the run's agent and environment too",
    // Built with the other tool rollups by the store (the task of migration 4, set again).
    sql: [...TOOL_DURATIONS_DDL, "INSERT OR REPLACE INTO maintenance_tasks VALUES ('tool_rollup', 0, 1)"],
  },
];
