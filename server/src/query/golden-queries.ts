/**
 * The sample queries whose answers are kept as golden frame files (tests/golden/frames/<name>.json).
 * Every query type of the query model appears at least once, with representative options, so the
 * Go test (pkg/golden) proves that the SDK reads every kind of frame the server writes.
 *
 * Everything runs against the hand-checked dataset (test-support/dataset.ts) seeded at FIXED_NOW,
 * and with FIXED_NOW as the query clock, so that the answers never change from one run to the next.
 */
import { QueryType } from '@agent-insights/model';
import { anchorMs, DAY_MS, runIdOf } from '../test-support/dataset';

/** The clock of the golden dataset: 2026-01-15 12:00 UTC (a Thursday). */
export const FIXED_NOW = Date.UTC(2026, 0, 15, 12);
/** Midnight UTC two days before FIXED_NOW (2026-01-13), the dataset's ANCHOR. */
export const ANCHOR = anchorMs(FIXED_NOW);

const H = 3_600_000;
/** The whole dataset: from its anchor to now. */
const ALL = { from: ANCHOR, to: FIXED_NOW };
/** The calendar month of the dataset, so that months, weeks and forecasts have a whole period. */
const MONTH = { from: Date.UTC(2026, 0, 1), to: FIXED_NOW };

export interface GoldenQuery {
  /** File name without .json: tests/golden/frames/<name>.json. */
  name: string;
  queryType: QueryType;
  /** The query as POST /api/v1/query receives it, without refId (always "A"). */
  query: Record<string, unknown>;
}

const q = (name: string, queryType: QueryType, query: Record<string, unknown> = {}, timeRange = ALL, timezone = 'UTC'): GoldenQuery => ({
  name,
  queryType,
  query: { queryType, timeRange, timezone, ...query },
});

export const GOLDEN_QUERIES: GoldenQuery[] = [
  // Runs table
  q('runs', 'runs'),
  q('runs-search-conversation', 'runs', { search: 'c1' }),
  q('runs-filtered-failed-support', 'runs', { filters: { agent: ['support-triage'], status: ['failed', 'timed_out'] }, limit: 10 }),
  // One run: trace view, steps table, log lines (a completed run with tools, and the timed-out one)
  q('run-trace', 'runTrace', { runId: runIdOf(1) }),
  q('run-trace-timed-out', 'runTrace', { runId: runIdOf(3) }),
  q('run-steps', 'runSteps', { runId: runIdOf(1) }),
  q('run-events', 'runEvents', { runId: runIdOf(1) }),
  q('run-events-timed-out', 'runEvents', { runId: runIdOf(3) }),
  // Run statistics
  q('run-stats', 'runStats'),
  q('run-stats-production', 'runStats', { filters: { environment: ['production'] } }),
  // Time series (what alert rules use), with and without a group-by dimension
  q('time-series-runs', 'timeSeries', { metric: 'runs', intervalMs: H }),
  q('time-series-runs-by-agent', 'timeSeries', { metric: 'runs', groupBy: 'agent', intervalMs: H }),
  q('time-series-error-rate-by-agent', 'timeSeries', { metric: 'errorRate', groupBy: 'agent', intervalMs: DAY_MS }),
  q('time-series-duration-p95', 'timeSeries', { metric: 'durationP95', intervalMs: DAY_MS }),
  q('time-series-tool-calls-by-tool', 'timeSeries', { metric: 'toolCalls', groupBy: 'tool', intervalMs: H }),
  q('time-series-tokens-total-by-model', 'timeSeries', { metric: 'tokensTotal', groupBy: 'model', intervalMs: DAY_MS }),
  q('time-series-cost-by-provider', 'timeSeries', { metric: 'cost', groupBy: 'provider', intervalMs: DAY_MS }),
  q('time-series-sessions-by-channel', 'timeSeries', { metric: 'sessions', groupBy: 'channel', intervalMs: DAY_MS }),
  // Tools
  q('tool-metrics', 'toolMetrics'),
  q('tool-errors', 'toolErrors'),
  // LLM usage: tokens per calendar period (days in a non-UTC zone too), forecast, share, per conversation
  q('llm-tokens-day', 'llmTokens', { period: 'day' }),
  q('llm-tokens-day-new-york', 'llmTokens', { period: 'day' }, ALL, 'America/New_York'),
  q('llm-tokens-week', 'llmTokens', { period: 'week' }, MONTH),
  q('llm-tokens-month', 'llmTokens', { period: 'month' }, MONTH),
  q('credit-forecast-month', 'creditForecast', { period: 'month', budget: 100 }, MONTH),
  // A budget the projection crosses: budgetRunsOutAt and a warning notice in the frame's meta.
  q('credit-forecast-week-over-budget', 'creditForecast', { period: 'week', budget: 3 }, MONTH),
  q('model-share', 'modelShare'),
  q('cost-per-conversation', 'costPerConversation'),
  // Peak-usage heatmaps in a zone that is not UTC
  q('heatmap-hour-of-day-berlin', 'heatmap', { heatmap: 'hourOfDay', heatmapMetric: 'runs' }, ALL, 'Europe/Berlin'),
  q('heatmap-day-of-week-los-angeles', 'heatmap', { heatmap: 'dayOfWeek', heatmapMetric: 'tokensTotal' }, MONTH, 'America/Los_Angeles'),
  // Voice and video sessions
  q('session-stats', 'sessionStats'),
];
