/**
 * What the query editor shows for each query type, in the words of a Grafana user. The values
 * (query types, metrics, periods, ...) and their defaults come from the query model.
 */
import { DEFAULTS, HeatmapKind, HeatmapMetric, Metric, Period, QueryOptions, QueryType } from '@agent-insights/model';

import type { AgentQuery } from '../types';

/** The editor's fields beyond the query type. */
export type EditorField = 'filters' | keyof QueryOptions;

export const QUERY_TYPE_FIELDS: Record<QueryType, readonly EditorField[]> = {
  runs: ['filters', 'limit', 'search', 'live'],
  runTrace: ['runId'],
  runSteps: ['runId'],
  runEvents: ['runId'],
  runStats: ['filters'],
  timeSeries: ['metric', 'groupBy', 'filters'],
  toolMetrics: ['filters'],
  toolErrors: ['filters'],
  llmTokens: ['period', 'filters'],
  creditForecast: ['period', 'budget', 'filters'],
  modelShare: ['filters'],
  costPerConversation: ['filters'],
  heatmap: ['heatmap', 'heatmapMetric', 'filters'],
  sessionStats: ['filters'],
};

export const QUERY_TYPE_LABELS: Record<QueryType, { label: string; description: string }> = {
  runs: { label: 'Runs', description: 'Table of runs, newest first; can be live' },
  runTrace: { label: 'Run trace', description: 'One run as a trace (trace view)' },
  runSteps: { label: 'Run steps', description: 'The steps of one run as a table' },
  runEvents: { label: 'Run events', description: 'The steps of one run as log lines' },
  runStats: { label: 'Run statistics', description: 'Totals, durations, completion, error and timeout rates' },
  timeSeries: { label: 'Time series', description: 'A metric over time, one series per group (for alert rules)' },
  toolMetrics: { label: 'Tool metrics', description: 'Calls, error rate and latency per tool' },
  toolErrors: { label: 'Tool errors', description: 'Most frequent tool errors' },
  llmTokens: { label: 'LLM tokens', description: 'Input, output, cached and reasoning tokens per period' },
  creditForecast: { label: 'Credit forecast', description: 'Credit use to the end of the period' },
  modelShare: { label: 'Model share', description: 'Share of tokens and cost per model' },
  costPerConversation: { label: 'Cost per conversation', description: 'Cost per conversation by agent' },
  heatmap: { label: 'Usage heatmap', description: 'Peak usage by hour of day or day of week' },
  sessionStats: { label: 'Voice and video sessions', description: 'Sessions, minutes, turns, interruptions, latency' },
};

export const METRIC_LABELS: Record<Metric, string> = {
  runs: 'Runs',
  running: 'Running runs',
  completed: 'Completed runs',
  failed: 'Failed runs',
  timedOut: 'Timed out runs',
  completionRate: 'Completion rate',
  errorRate: 'Error rate',
  timeoutRate: 'Timeout rate',
  durationAvg: 'Duration (average)',
  durationP50: 'Duration (p50)',
  durationP95: 'Duration (p95)',
  durationP99: 'Duration (p99)',
  toolCalls: 'Tool calls',
  toolErrors: 'Tool errors',
  toolErrorRate: 'Tool error rate',
  toolLatencyP95: 'Tool latency (p95)',
  avgToolCallsPerRun: 'Tool calls per run (average)',
  avgTokensPerRun: 'Tokens per run (average)',
  tokensInput: 'Input tokens',
  tokensOutput: 'Output tokens',
  tokensCached: 'Cached tokens',
  tokensReasoning: 'Reasoning tokens',
  tokensTotal: 'Tokens (total)',
  cost: 'Cost',
  credits: 'Credits',
  sessions: 'Sessions',
  sessionMinutes: 'Session minutes',
};

export const PERIOD_LABELS: Record<Period, string> = { day: 'Day', week: 'Week', month: 'Month' };

export const HEATMAP_LABELS: Record<HeatmapKind, string> = {
  hourOfDay: 'Hour of day × day',
  dayOfWeek: 'Day of week × week',
};

export const HEATMAP_METRIC_LABELS: Record<HeatmapMetric, string> = {
  runs: 'Runs',
  tokensTotal: 'Tokens (total)',
  cost: 'Cost',
  credits: 'Credits',
};

/** Defaults of the options a query type shows, from the model, so that a new query shows data. */
const FIELD_DEFAULTS: Partial<AgentQuery> = {
  limit: DEFAULTS.limit,
  metric: DEFAULTS.metric,
  period: DEFAULTS.period,
  heatmap: DEFAULTS.heatmap,
  heatmapMetric: DEFAULTS.heatmapMetric,
};

/** Fields Grafana keeps on every query, whatever its type. */
const ENVELOPE = ['refId', 'hide', 'key', 'datasource'] as const;

/**
 * The query after picking another type: Grafana's envelope, the options the new type shows (kept
 * where set, else the model's defaults) and nothing else, so stored queries stay clean.
 */
export function withQueryType(query: AgentQuery, queryType: QueryType): AgentQuery {
  const next: Record<string, unknown> = { queryType };
  for (const key of ENVELOPE) {
    if (query[key] !== undefined) {
      next[key] = query[key];
    }
  }
  for (const field of QUERY_TYPE_FIELDS[queryType]) {
    if (field === 'filters') {
      next.filters = query.filters ?? {};
      continue;
    }
    const value = query[field] ?? FIELD_DEFAULTS[field];
    if (value !== undefined) {
      next[field] = value;
    }
  }
  return next as AgentQuery;
}
