/**
 * What each metric of the query model means, in SQL: which rows it aggregates (its source) and how.
 * One definition used by run statistics, time series (and so alert rules) and heatmaps, so a figure
 * reads the same on every panel. The definitions follow design.md, "Metric definitions":
 * - runs belong to a bucket by their start; finished = completed + failed + timed_out, and the
 *   three rates are over finished runs (they add up to 1); running runs are counted apart;
 *   averages and percentiles of duration, tool calls and tokens are over finished runs;
 * - tool metrics count tool steps, bucketed by the step's start;
 * - tokens, cost and credits read llm_usage (llm-usage.ts), the relation the LLM usage panels
 *   read too: LLM steps at their start, and a run's own totals (at its start) for a run without
 *   an LLM step reporting usage; cost is the reported one, else tokens x the price table, and a
 *   call without either has no cost (it adds nothing; the frame's notice names its model);
 * - sessions count voice/video sessions by their start.
 * The SQL is written once; engine-specific pieces come from the dialect.
 */
import { Metric } from '@agent-insights/model';
import { Dialect } from '../dialect';
import { CREDITS_UNIT } from './llm';

export type Source = 'runs' | 'tools' | 'llm' | 'sessions';

export interface SqlContext {
  dialect: Dialect;
  nowMs: number;
  creditsPerUsd: number;
}

export interface MetricDefinition {
  source: Source;
  /** Field name, as a user reads it on a legend or a table header. */
  label: string;
  /** Grafana unit. */
  unit: string;
  /**
   * Counts and sums are 0 in a bucket without rows. Rates, averages and percentiles have no value
   * there: time series leave such buckets out rather than send nulls (see timeseries.ts).
   */
  additive: boolean;
  /** Aggregate expression over the source's rows (alias r, s, u or se). */
  sql(ctx: SqlContext): string;
}

const FINISHED = `r.status IN ('completed', 'failed', 'timed_out')`;
const countWhere = (cond: string) => `coalesce(sum(CASE WHEN ${cond} THEN 1 ELSE 0 END), 0)`;
/** A share over finished runs: null when the bucket has no finished run. */
const shareOfFinished = (status: string) => `CAST(${countWhere(`r.status = '${status}'`)} AS DOUBLE) / nullif(${countWhere(FINISHED)}, 0)`;
const overFinished = (expr: string) => `CASE WHEN ${FINISHED} THEN ${expr} END`;

const run = (label: string, unit: string, additive: boolean, sql: (ctx: SqlContext) => string): MetricDefinition => ({ source: 'runs', label, unit, additive, sql });
const tool = (label: string, unit: string, additive: boolean, sql: (ctx: SqlContext) => string): MetricDefinition => ({ source: 'tools', label, unit, additive, sql });
const llm = (label: string, unit: string, sql: (ctx: SqlContext) => string): MetricDefinition => ({ source: 'llm', label, unit, additive: true, sql });
const COST = 'coalesce(sum(u.cost_usd), 0)';

export const METRIC_DEFINITIONS: Record<Metric, MetricDefinition> = {
  runs: run('Runs', 'short', true, () => 'count(*)'),
  running: run('Running', 'short', true, () => countWhere(`r.status = 'running'`)),
  completed: run('Completed', 'short', true, () => countWhere(`r.status = 'completed'`)),
  failed: run('Failed', 'short', true, () => countWhere(`r.status = 'failed'`)),
  timedOut: run('Timed out', 'short', true, () => countWhere(`r.status = 'timed_out'`)),
  completionRate: run('Completion rate', 'percentunit', false, () => shareOfFinished('completed')),
  errorRate: run('Error rate', 'percentunit', false, () => shareOfFinished('failed')),
  timeoutRate: run('Timeout rate', 'percentunit', false, () => shareOfFinished('timed_out')),
  durationAvg: run('Avg duration', 'ms', false, () => `avg(${overFinished('r.duration_ms')})`),
  durationP50: run('Median duration', 'ms', false, ({ dialect }) => dialect.percentile(overFinished('r.duration_ms'), 0.5)),
  durationP95: run('P95 duration', 'ms', false, ({ dialect }) => dialect.percentile(overFinished('r.duration_ms'), 0.95)),
  durationP99: run('P99 duration', 'ms', false, ({ dialect }) => dialect.percentile(overFinished('r.duration_ms'), 0.99)),
  avgToolCallsPerRun: run('Avg tool calls per run', 'short', false, () => `avg(${overFinished('r.tool_calls')})`),
  avgTokensPerRun: run('Avg tokens per run', 'short', false, () => `avg(${overFinished('r.total_tokens')})`),
  // Over the tool calls relation (tool-calls.ts): one row per call, or per 15-minute sum.
  toolCalls: tool('Tool calls', 'short', true, () => 'coalesce(sum(s.calls), 0)'),
  toolErrors: tool('Tool errors', 'short', true, () => 'coalesce(sum(s.errors), 0)'),
  toolErrorRate: tool('Tool error rate', 'percentunit', false, () => 'CAST(coalesce(sum(s.errors), 0) AS DOUBLE) / nullif(sum(s.calls), 0)'),
  // One row per call (exact); beyond exactPercentileCalls calls, aggregate.ts reads the latency histogram.
  toolLatencyP95: tool('Tool latency p95', 'ms', false, ({ dialect }) => dialect.percentile('s.duration_ms', 0.95)),
  tokensInput: llm('Input tokens', 'short', () => 'coalesce(sum(u.input_tokens), 0)'),
  tokensOutput: llm('Output tokens', 'short', () => 'coalesce(sum(u.output_tokens), 0)'),
  tokensCached: llm('Cached tokens', 'short', () => 'coalesce(sum(u.cached_tokens), 0)'),
  tokensReasoning: llm('Reasoning tokens', 'short', () => 'coalesce(sum(u.reasoning_tokens), 0)'),
  tokensTotal: llm('Total tokens', 'short', () => 'coalesce(sum(u.total_tokens), 0)'),
  cost: llm('Cost', 'currencyUSD', () => COST),
  credits: llm('Credits', CREDITS_UNIT, ({ creditsPerUsd }) => `${COST} * ${Number(creditsPerUsd)}`),
  sessions: { source: 'sessions', label: 'Sessions', unit: 'short', additive: true, sql: () => 'count(*)' },
  // A session still open counts its minutes up to now.
  sessionMinutes: {
    source: 'sessions',
    label: 'Session minutes',
    unit: 'm',
    additive: true,
    sql: ({ dialect, nowMs }) => `coalesce(sum(${dialect.epochMs(`coalesce(se.end_time, ${dialect.timestamp(nowMs)})`)} - ${dialect.epochMs('se.start_time')}), 0) / 60000.0`,
  },
};
