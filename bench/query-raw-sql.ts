/**
 * The main aggregates as one plain DuckDB query each, hand-written straight on the raw `spans`
 * table: no derived runs, no views, no engine. Timed in the same run as the engine's queries so
 * that the report shows what the engine adds (joins to runs, status rules, pricing, frames) or
 * saves (derived tables, pre-aggregation).
 *
 * They read spans the simple way: a run is an agent span (failed when its status is an error,
 * timed out when it also carries the timeout hint), its tool calls and tokens are the tool and LLM
 * spans of the window. So their answers are close to the engine's, not equal: the engine counts a
 * run's steps by the run's start and sees runs still running.
 */
import { loadPricing } from '../server/src/pricing';
import { FrameJson } from '../server/src/query/frame';
import { Row } from '../server/src/store/store';

/** One figure both answers give, to see how far the simple reading is from the engine's. */
export interface Headline {
  label: string;
  raw: (rows: Row[]) => number;
  engine: (frames: FrameJson[]) => number;
}

const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));
const sumRows = (col: string) => (rows: Row[]): number => rows.reduce((t, r) => t + num(r[col]), 0);
/** Sum of every value of the fields with this name (or of every non-time field), over all frames. */
const sumField = (name?: string) => (frames: FrameJson[]): number =>
  frames.reduce(
    (t, f) => t + f.schema.fields.reduce((u, fd, i) => (fd.type !== 'time' && (name === undefined || fd.name === name) ? u + (f.data.values[i] ?? []).reduce<number>((a, v) => a + num(v), 0) : u), 0),
    0,
  );
const firstField = (name: string) => (frames: FrameJson[]): number => {
  const f = frames[0];
  const i = f?.schema.fields.findIndex((fd) => fd.name === name) ?? -1;
  return i >= 0 ? num(f.data.values[i][0]) : NaN;
};

export interface RawQuery {
  name: string;
  what: string;
  /** The engine query (by name in query-capabilities.ts) that answers the same question. */
  engine: string;
  sql: string;
  params: unknown[];
  headline: Headline;
}

const D = 86_400_000;

/** Inline price list (USD per million tokens) of the shipped price table, for the cost per model. */
function priceValues(): string {
  const table = loadPricing().table;
  const rows = [...table.models.values()].map((m) => `('${m.model.replace(/'/g, "''")}', ${m.input}, ${m.cachedInput}, ${m.output})`);
  return `(VALUES ${rows.join(', ')}) AS price(model, input, cached_input, output)`;
}

export function rawQueries(anchor: number, tenant: string, timezone: string, window: '24h' | '30d'): RawQuery[] {
  const from = anchor - (window === '24h' ? D : 30 * D);
  // The buckets the engine draws for these windows: 2 min over 24 h (1 min widened to fit 1000 points), 1 h over 30 days.
  const bucketMs = window === '24h' ? 120_000 : 3_600_000;
  const where = `tenant = $1 AND record = 'span' AND start_time >= make_timestamp($2::BIGINT) AND start_time <= make_timestamp($3::BIGINT)`;
  const params = [tenant, from * 1000, anchor * 1000];
  const tz = `'${timezone.replace(/'/g, "''")}'`;
  const local = `timezone(${tz}, start_time AT TIME ZONE 'UTC')`;
  return [
    {
      name: 'run statistics',
      what: 'runs, failed, timed out, duration avg/p50/p95, tool calls and tokens per run',
      engine: 'runStats',
      headline: { label: 'runs', raw: sumRows('runs'), engine: firstField('Total runs') },
      sql: `SELECT count(*) FILTER (role = 'agent') AS runs,
          count(*) FILTER (role = 'agent' AND status_code = 2 AND NOT timeout_hint) AS failed,
          count(*) FILTER (role = 'agent' AND status_code = 2 AND timeout_hint) AS timed_out,
          avg(duration_ms) FILTER (role = 'agent') AS duration_avg,
          quantile_cont(duration_ms, 0.5) FILTER (role = 'agent') AS duration_p50,
          quantile_cont(duration_ms, 0.95) FILTER (role = 'agent') AS duration_p95,
          count(*) FILTER (role = 'tool') / count(*) FILTER (role = 'agent') AS tool_calls_per_run,
          sum(total_tokens) FILTER (role = 'llm') / count(*) FILTER (role = 'agent') AS tokens_per_run
        FROM spans WHERE ${where}`,
      params,
    },
    {
      name: 'runs per agent per bucket',
      what: `runs per agent per ${bucketMs / 60_000} min`,
      engine: 'timeSeries runs by agent',
      headline: { label: 'runs', raw: sumRows('runs'), engine: sumField() },
      sql: `SELECT agent_name, (epoch_ms(start_time) // ${bucketMs}) * ${bucketMs} AS bucket, count(*) AS runs
        FROM spans WHERE ${where} AND role = 'agent' GROUP BY ALL ORDER BY ALL`,
      params,
    },
    {
      name: 'p95 duration per agent per bucket',
      what: `p95 run duration per agent per ${bucketMs / 60_000} min`,
      engine: 'timeSeries durationP95 by agent',
      headline: { label: 'buckets with a p95', raw: (rows) => rows.length, engine: (frames) => frames.reduce((t, f) => t + (f.data.values[1] ?? []).filter((v) => v !== null).length, 0) },
      sql: `SELECT agent_name, (epoch_ms(start_time) // ${bucketMs}) * ${bucketMs} AS bucket, quantile_cont(duration_ms, 0.95) AS p95
        FROM spans WHERE ${where} AND role = 'agent' GROUP BY ALL ORDER BY ALL`,
      params,
    },
    {
      name: 'tokens per day',
      what: `LLM tokens by type per day in ${timezone}`,
      engine: 'llmTokens day',
      headline: { label: 'tokens', raw: sumRows('total'), engine: sumField('Total') },
      sql: `SELECT date_trunc('day', ${local}) AS day, sum(input_tokens) AS input, sum(output_tokens) AS output,
          sum(cached_tokens) AS cached, sum(reasoning_tokens) AS reasoning, sum(total_tokens) AS total
        FROM spans WHERE ${where} AND role = 'llm' GROUP BY ALL ORDER BY ALL`,
      params,
    },
    {
      name: 'tool latency percentiles',
      what: 'calls, error rate, latency avg/p50/p95/p99 per tool',
      engine: 'toolMetrics',
      headline: { label: 'tool calls', raw: sumRows('calls'), engine: sumField('Calls') },
      sql: `SELECT tool_name, count(*) AS calls, avg((status_code = 2)::INTEGER) AS error_rate, avg(duration_ms) AS avg_ms,
          quantile_cont(duration_ms, 0.5) AS p50, quantile_cont(duration_ms, 0.95) AS p95, quantile_cont(duration_ms, 0.99) AS p99
        FROM spans WHERE ${where} AND role = 'tool' GROUP BY ALL ORDER BY calls DESC`,
      params,
    },
    {
      name: 'cost per model',
      what: 'tokens and cost per model (reported cost, else priced from tokens)',
      engine: 'modelShare',
      headline: { label: 'cost USD', raw: sumRows('cost'), engine: sumField('Cost') },
      sql: `SELECT s.model, sum(s.total_tokens) AS tokens,
          sum(coalesce(s.cost, ((coalesce(s.input_tokens, 0) - coalesce(s.cached_tokens, 0)) * price.input
            + coalesce(s.cached_tokens, 0) * price.cached_input + coalesce(s.output_tokens, 0) * price.output) / 1e6)) AS cost
        FROM spans s LEFT JOIN ${priceValues()} ON price.model = lower(s.model)
        WHERE s.${where.replace(/ AND /g, ' AND s.')} AND s.role = 'llm' GROUP BY ALL ORDER BY cost DESC`,
      params,
    },
    {
      name: 'runs by hour of day',
      what: `runs per local day and hour in ${timezone}`,
      engine: 'heatmap hourOfDay runs',
      headline: { label: 'runs', raw: sumRows('runs'), engine: sumField() },
      sql: `SELECT date_trunc('day', ${local}) AS day, hour(${local}) AS hour, count(*) AS runs
        FROM spans WHERE ${where} AND role = 'agent' GROUP BY ALL ORDER BY ALL`,
      params,
    },
  ];
}
