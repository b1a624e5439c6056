/**
 * The columns of each ClickHouse table, once: the DDL, the JSONEachRow rows written and the
 * objects read back are all generated from these lists, so a column added to a domain row is
 * added in one place. Column names are the DuckDB store's, so that the query engine's shared SQL
 * reads the same names on both engines.
 */

/** How a domain value is written and read: times are epoch microseconds in the domain. */
export type Kind = 'string' | 'int' | 'float' | 'bool' | 'time' | 'list';

export interface Column {
  name: string;
  /** ClickHouse type. */
  type: string;
  /** Property of the domain object. */
  field: string;
  kind: Kind;
}

const c = (name: string, type: string, field: string): Column => {
  const base = type.replace(/^Nullable\((.*)\)$/, '$1').replace(/^LowCardinality\((.*)\)$/, '$1');
  const kind: Kind = base.startsWith('DateTime64')
    ? 'time'
    : base.startsWith('Array')
      ? 'list'
    : base === 'Bool'
      ? 'bool'
      : base.startsWith('Float')
        ? 'float'
        : base.startsWith('Int') || base.startsWith('UInt')
          ? 'int'
          : 'string';
  return { name, type, field, kind };
};

const TS = "DateTime64(6, 'UTC')";
const NTS = `Nullable(${TS})`;
const LC = 'LowCardinality(String)';

export const SPAN_COLUMNS: Column[] = [
  c('tenant', LC, 'tenant'),
  c('trace_id', 'String', 'traceId'),
  c('span_id', 'String', 'spanId'),
  c('record', LC, 'record'),
  c('parent_span_id', 'String', 'parentSpanId'),
  c('name', 'String', 'name'),
  c('span_kind', 'Int8', 'spanKind'),
  c('start_time', TS, 'startUs'),
  c('end_time', NTS, 'endUs'),
  c('duration_ms', 'Nullable(Float64)', 'durationMs'),
  c('status_code', 'Int8', 'statusCode'),
  c('status_message', 'String', 'statusMessage'),
  c('role', LC, 'role'),
  c('convention', LC, 'convention'),
  c('operation', LC, 'operation'),
  c('agent_name', LC, 'agentName'),
  c('agent_version', LC, 'agentVersion'),
  c('tool_name', LC, 'toolName'),
  c('tool_call_id', 'String', 'toolCallId'),
  c('model', LC, 'model'),
  c('response_model', LC, 'responseModel'),
  c('provider', LC, 'provider'),
  c('service', LC, 'service'),
  c('environment', LC, 'environment'),
  c('channel', LC, 'channel'),
  c('conversation_id', 'String', 'conversationId'),
  c('user_id', 'String', 'userId'),
  c('session_id', 'String', 'sessionId'),
  c('external_run_id', 'String', 'externalRunId'),
  c('input_tokens', 'Nullable(Int64)', 'inputTokens'),
  c('output_tokens', 'Nullable(Int64)', 'outputTokens'),
  c('cached_tokens', 'Nullable(Int64)', 'cachedTokens'),
  c('cache_write_tokens', 'Nullable(Int64)', 'cacheWriteTokens'),
  c('reasoning_tokens', 'Nullable(Int64)', 'reasoningTokens'),
  c('total_tokens', 'Nullable(Int64)', 'totalTokens'),
  c('cost', 'Nullable(Float64)', 'cost'),
  c('error_type', LC, 'errorType'),
  c('timeout_hint', 'Bool', 'timeoutHint'),
  c('interrupted', 'Nullable(Bool)', 'interrupted'),
  c('latency_ms', 'Nullable(Float64)', 'latencyMs'),
  c('end_reason', LC, 'endReason'),
  c('turns', 'Nullable(Int32)', 'turns'),
  c('interruptions', 'Nullable(Int32)', 'interruptions'),
  c('input_content', 'Nullable(String)', 'inputContent'),
  c('output_content', 'Nullable(String)', 'outputContent'),
  c('reasoning_content', 'Nullable(String)', 'reasoningContent'),
  c('system_content', 'Nullable(String)', 'systemContent'),
  c('attributes', 'String', 'attributes'),
  c('resource', 'String', 'resource'),
  c('received_at', TS, 'receivedUs'),
];

/** Columns loadTrace reads back (what derivation needs: no content, attributes or resource). */
export const FACT_FIELDS = new Set(
  SPAN_COLUMNS.map((col) => col.name).filter((n) => !/_content$|^attributes$|^resource$|^received_at$/.test(n)),
);

export const EVENT_COLUMNS: Column[] = [
  c('tenant', LC, 'tenant'),
  c('trace_id', 'String', 'traceId'),
  c('span_id', 'String', 'spanId'),
  c('time', TS, 'timeUs'),
  c('name', LC, 'name'),
  c('source', LC, 'source'),
  c('body', 'Nullable(String)', 'body'),
  c('attributes', 'String', 'attributes'),
  c('event_key', 'String', 'key'),
];

export const RUN_COLUMNS: Column[] = [
  c('tenant', LC, 'tenant'),
  c('run_id', 'String', 'runId'),
  c('trace_id', 'String', 'traceId'),
  c('root_span_id', 'String', 'rootSpanId'),
  c('agent', LC, 'agent'),
  c('agent_version', LC, 'agentVersion'),
  c('service', LC, 'service'),
  c('environment', LC, 'environment'),
  c('channel', LC, 'channel'),
  c('conversation_id', 'String', 'conversationId'),
  c('user_id', 'String', 'userId'),
  c('status', LC, 'status'),
  c('start_time', TS, 'startUs'),
  c('end_time', NTS, 'endUs'),
  c('tool_calls', 'Int32', 'toolCalls'),
  c('llm_calls', 'Int32', 'llmCalls'),
  c('input_tokens', 'Int64', 'inputTokens'),
  c('output_tokens', 'Int64', 'outputTokens'),
  c('cached_tokens', 'Int64', 'cachedTokens'),
  c('reasoning_tokens', 'Int64', 'reasoningTokens'),
  c('total_tokens', 'Int64', 'totalTokens'),
  c('cost', 'Nullable(Float64)', 'cost'),
  c('error_type', LC, 'errorType'),
  c('error_message', 'String', 'errorMessage'),
  c('models', 'String', 'models'),
  c('span_count', 'Int32', 'spanCount'),
  c('runs_in_trace', 'Int32', 'runsInTrace'),
  c('trace_start', TS, 'traceStartUs'),
  c('trace_end', TS, 'traceEndUs'),
  c('trace_tools', 'Array(String)', 'traceTools'),
  c('trace_models', 'Array(String)', 'traceModels'),
  c('trace_providers', 'Array(String)', 'traceProviders'),
];

/** One row per OTLP span with the run derivation attributes it to (domain StepFact). */
export const STEP_COLUMNS: Column[] = [
  c('tenant', LC, 'tenant'),
  c('trace_id', 'String', 'traceId'),
  c('span_id', 'String', 'spanId'),
  c('run_id', 'String', 'runId'),
  c('run_agent', LC, 'runAgent'),
  c('run_agent_version', LC, 'runAgentVersion'),
  c('run_status', LC, 'runStatus'),
  c('run_start', TS, 'runStartUs'),
  c('run_environment', LC, 'runEnvironment'),
  c('run_service', LC, 'runService'),
  c('run_channel', LC, 'runChannel'),
  c('run_conversation_id', 'String', 'runConversationId'),
  c('run_user_id', 'String', 'runUserId'),
  c('parent_span_id', 'String', 'parentSpanId'),
  c('role', LC, 'role'),
  c('name', 'String', 'name'),
  c('tool_name', LC, 'toolName'),
  c('model', LC, 'model'),
  c('response_model', LC, 'responseModel'),
  c('provider', LC, 'provider'),
  c('status_code', 'Int8', 'statusCode'),
  c('status_message', 'String', 'statusMessage'),
  c('error_type', LC, 'errorType'),
  c('start_time', TS, 'startUs'),
  c('duration_ms', 'Nullable(Float64)', 'durationMs'),
  c('input_tokens', 'Nullable(Int64)', 'inputTokens'),
  c('output_tokens', 'Nullable(Int64)', 'outputTokens'),
  c('cached_tokens', 'Nullable(Int64)', 'cachedTokens'),
  c('cache_write_tokens', 'Nullable(Int64)', 'cacheWriteTokens'),
  c('reasoning_tokens', 'Nullable(Int64)', 'reasoningTokens'),
  c('total_tokens', 'Nullable(Int64)', 'totalTokens'),
  c('cost', 'Nullable(Float64)', 'cost'),
];

/** LLM usage of one run per 15-minute bucket and model (domain UsageRow). */
export const USAGE_COLUMNS: Column[] = [
  c('tenant', LC, 'tenant'),
  c('trace_id', 'String', 'traceId'),
  c('run_id', 'String', 'runId'),
  c('agent', LC, 'agent'),
  c('agent_version', LC, 'agentVersion'),
  c('status', LC, 'status'),
  c('run_start', TS, 'runStartUs'),
  c('channel', LC, 'channel'),
  c('environment', LC, 'environment'),
  c('service', LC, 'service'),
  c('conversation_id', 'String', 'conversationId'),
  c('user_id', 'String', 'userId'),
  c('bucket', TS, 'bucketUs'),
  c('run_level', 'Bool', 'runLevel'),
  c('model', LC, 'model'),
  c('response_model', LC, 'responseModel'),
  c('provider', LC, 'provider'),
  c('calls', 'Int32', 'calls'),
  c('input_tokens', 'Nullable(Int64)', 'inputTokens'),
  c('output_tokens', 'Nullable(Int64)', 'outputTokens'),
  c('cached_tokens', 'Nullable(Int64)', 'cachedTokens'),
  c('cache_write_tokens', 'Nullable(Int64)', 'cacheWriteTokens'),
  c('reasoning_tokens', 'Nullable(Int64)', 'reasoningTokens'),
  c('total_tokens', 'Int64', 'totalTokens'),
  c('reported_calls', 'Int32', 'reportedCalls'),
  c('reported_cost', 'Nullable(Float64)', 'reportedCost'),
  c('priced_calls', 'Int32', 'pricedCalls'),
  c('billable_input', 'Int64', 'billableInput'),
  c('priced_cached', 'Int64', 'pricedCached'),
  c('priced_cache_write', 'Int64', 'pricedCacheWrite'),
  c('priced_output', 'Int64', 'pricedOutput'),
];

export const SESSION_COLUMNS: Column[] = [
  c('tenant', LC, 'tenant'),
  c('session_id', 'String', 'sessionId'),
  c('trace_id', 'String', 'traceId'),
  c('root_span_id', 'String', 'rootSpanId'),
  c('agent', LC, 'agent'),
  c('channel', LC, 'channel'),
  c('service', LC, 'service'),
  c('environment', LC, 'environment'),
  c('conversation_id', 'String', 'conversationId'),
  c('user_id', 'String', 'userId'),
  c('status', LC, 'status'),
  c('start_time', TS, 'startUs'),
  c('end_time', NTS, 'endUs'),
  c('turns', 'Int32', 'turns'),
  c('interruptions', 'Int32', 'interruptions'),
  c('avg_latency_ms', 'Nullable(Float64)', 'avgLatencyMs'),
  c('end_reason', LC, 'endReason'),
  c('cost', 'Nullable(Float64)', 'cost'),
];

export const KEY_COLUMNS: Column[] = [
  c('id', 'String', 'id'),
  c('tenant', LC, 'tenant'),
  c('name', 'String', 'name'),
  c('scopes', 'String', 'scopes'),
  c('hash', 'String', 'hash'),
  c('prefix', 'String', 'prefix'),
  c('created_at', TS, 'createdUs'),
  c('revoked_at', NTS, 'revokedUs'),
];

/** Epoch microseconds as ClickHouse's text form of DateTime64(6) in UTC (exact to the microsecond). */
export function chTime(us: number): string {
  const whole = Math.round(us);
  const seconds = Math.floor(whole / 1e6);
  const micros = whole - seconds * 1e6;
  return `${new Date(seconds * 1000).toISOString().slice(0, 19).replace('T', ' ')}.${String(micros).padStart(6, '0')}`;
}

/** The value of a column that holds none. */
function empty(col: Column): unknown {
  if (col.type.startsWith('Nullable')) return null;
  return col.kind === 'string' ? '' : col.kind === 'bool' ? false : col.kind === 'list' ? [] : 0;
}

/** A domain object as one JSONEachRow row. */
export function toRow(cols: Column[], obj: Record<string, unknown>): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  for (const col of cols) {
    const v = obj[col.field];
    if (v === null || v === undefined) row[col.name] = empty(col);
    else if (col.kind === 'time') row[col.name] = chTime(v as number);
    else if (col.kind === 'int') row[col.name] = Math.round(v as number);
    else row[col.name] = v;
  }
  return row;
}

/**
 * The SELECT list reading the columns back as the domain wants them: times as epoch microseconds
 * (Float64, so JSON carries a number) under another name (`<name>_us`: in ClickHouse an alias is
 * visible in WHERE, and one named like its column would replace the column there), everything
 * else as stored.
 */
export function selectList(cols: Column[], only?: Set<string>): string {
  return cols
    .filter((col) => !only || only.has(col.name))
    .map((col) => (col.kind === 'time' ? `toFloat64(toUnixTimestamp64Micro(${col.name})) AS ${col.name}_us` : col.name))
    .join(', ');
}

/** A row read with selectList back to a domain object (absent columns keep the defaults given). */
export function fromRow<T>(cols: Column[], row: Record<string, unknown>, defaults: Partial<T> = {}): T {
  const out: Record<string, unknown> = { ...defaults };
  for (const col of cols) {
    const name = col.kind === 'time' ? `${col.name}_us` : col.name;
    if (!(name in row)) continue;
    const v = row[name];
    if (v === null || v === undefined) out[col.field] = empty(col);
    else if (col.kind === 'string') out[col.field] = String(v);
    else if (col.kind === 'list') out[col.field] = Array.isArray(v) ? v.map(String) : [];
    else if (col.kind === 'bool') out[col.field] = v === true || v === 1 || v === 'true';
    else out[col.field] = Number(v);
  }
  return out as T;
}
