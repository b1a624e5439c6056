/**
 * The query model: what a panel, an Explore query or an alert rule asks the server for.
 * The plugin's editor builds these, the dashboards and alert rules store them, the server
 * validates them with parseQuery() and answers with frames. One definition, used everywhere.
 */
import { Dimension, DIMENSIONS } from './dimensions';
import { Filters, parseFilters, ValidationError } from './filters';

export const QUERY_TYPES = [
  'runs',
  'runTrace',
  'runSteps',
  'runEvents',
  'runStats',
  'timeSeries',
  'toolMetrics',
  'toolErrors',
  'llmTokens',
  'creditForecast',
  'modelShare',
  'costPerConversation',
  'heatmap',
  'sessionStats',
] as const;
export type QueryType = (typeof QUERY_TYPES)[number];

/** Metrics a time series (and so an alert rule) can plot, grouped by any dimension. */
export const METRICS = [
  'runs',
  'running',
  'completed',
  'failed',
  'timedOut',
  'completionRate',
  'errorRate',
  'timeoutRate',
  'durationAvg',
  'durationP50',
  'durationP95',
  'durationP99',
  'toolCalls',
  'toolErrors',
  'toolErrorRate',
  'toolLatencyP95',
  'avgToolCallsPerRun',
  'avgTokensPerRun',
  'tokensInput',
  'tokensOutput',
  'tokensCached',
  'tokensReasoning',
  'tokensTotal',
  'cost',
  'credits',
  'sessions',
  'sessionMinutes',
] as const;
export type Metric = (typeof METRICS)[number];

export const PERIODS = ['day', 'week', 'month'] as const;
export type Period = (typeof PERIODS)[number];

export const HEATMAP_KINDS = ['hourOfDay', 'dayOfWeek'] as const;
export type HeatmapKind = (typeof HEATMAP_KINDS)[number];

export const HEATMAP_METRICS = ['runs', 'tokensTotal', 'cost', 'credits'] as const;
export type HeatmapMetric = (typeof HEATMAP_METRICS)[number];

/** Dimensions a series can be grouped by (status and conversation/user would explode series). */
export const GROUP_BY_DIMENSIONS: readonly Dimension[] = ['agent', 'agentVersion', 'tool', 'model', 'provider', 'status', 'channel', 'environment', 'service'];

export const WEEK_STARTS = ['monday', 'sunday'] as const;
export type WeekStart = (typeof WEEK_STARTS)[number];

/** Options of each query type; every field has a default, so a new panel shows data at once. */
export interface QueryOptions {
  /** runs: rows at most (1-10000). */
  limit?: number;
  /** runs: a run id, conversation id or user id to find. */
  search?: string;
  /** runs: stream snapshots (Grafana Live) instead of answering once. */
  live?: boolean;
  /** runTrace, runSteps, runEvents: which run. */
  runId?: string;
  /** timeSeries: what to plot. */
  metric?: Metric;
  /** timeSeries: one series per value of this dimension. */
  groupBy?: Dimension;
  /** llmTokens, creditForecast: the calendar period. */
  period?: Period;
  /** creditForecast: credits available in the period. */
  budget?: number;
  /** heatmap: hour of day by day, or day of week by week. */
  heatmap?: HeatmapKind;
  /** heatmap: what to count. */
  heatmapMetric?: HeatmapMetric;
}

export interface AgentQuery extends QueryOptions {
  refId: string;
  queryType: QueryType;
  filters?: Filters;
  /** Set by Grafana for hidden queries. */
  hide?: boolean;
}

export interface TimeRange {
  /** Epoch milliseconds. */
  from: number;
  to: number;
}

/** A query as the server runs it: the query plus its own range, interval and time zone. */
export interface ResolvedQuery extends Required<Pick<AgentQuery, 'refId' | 'queryType'>> {
  filters: Filters;
  options: Required<Pick<QueryOptions, 'limit' | 'metric' | 'period' | 'heatmap' | 'heatmapMetric'>> &
    Pick<QueryOptions, 'search' | 'live' | 'runId' | 'groupBy' | 'budget'>;
  range: TimeRange;
  intervalMs: number;
  maxDataPoints: number;
  /** IANA time zone for days, weeks, months and heatmaps. */
  timezone: string;
  weekStart: WeekStart;
}

export const DEFAULTS = {
  limit: 100,
  metric: 'runs' as Metric,
  period: 'day' as Period,
  heatmap: 'hourOfDay' as HeatmapKind,
  heatmapMetric: 'runs' as HeatmapMetric,
  maxDataPoints: 1000,
  timezone: 'UTC',
  weekStart: 'monday' as WeekStart,
};

/** The query a new panel starts with: the runs table, which shows data at once. */
export function defaultQuery(refId = 'A'): AgentQuery {
  return { refId, queryType: 'runs', filters: {}, limit: DEFAULTS.limit };
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[], field: string, fallback: T): T {
  if (value === undefined || value === null || value === '') return fallback;
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new ValidationError(field, `unknown value ${JSON.stringify(value)}; allowed: ${allowed.join(', ')}`);
  }
  return value as T;
}

function integer(value: unknown, field: string, min: number, max: number, fallback: number): number {
  if (value === undefined || value === null || value === '') return fallback;
  const n = typeof value === 'string' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    throw new ValidationError(field, `must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return n;
}

function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** Query types that need a run id. */
const NEEDS_RUN: readonly QueryType[] = ['runTrace', 'runSteps', 'runEvents'];

export interface QueryContext {
  range: TimeRange;
  intervalMs?: number;
  maxDataPoints?: number;
  timezone?: string;
  weekStart?: string;
}

/**
 * Validates a query from any source and fills its defaults. Errors name the field and the allowed
 * values: "metric: unknown value "latency"; allowed: runs, running, ...".
 */
export function parseQuery(input: unknown, ctx: QueryContext): ResolvedQuery {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new ValidationError('query', 'must be an object');
  const q = input as Record<string, unknown>;
  const refId = typeof q.refId === 'string' && q.refId !== '' ? q.refId : 'A';
  const queryType = oneOf(q.queryType, QUERY_TYPES, 'queryType', 'runs');
  const filters = parseFilters(q.filters);
  const runId = typeof q.runId === 'string' ? q.runId.trim() : undefined;
  if (NEEDS_RUN.includes(queryType) && !runId) throw new ValidationError('runId', `is required for ${queryType}`);
  const groupBy = q.groupBy === undefined || q.groupBy === null || q.groupBy === '' ? undefined : oneOf(q.groupBy, GROUP_BY_DIMENSIONS as readonly Dimension[], 'groupBy', 'agent');
  let budget: number | undefined;
  if (q.budget !== undefined && q.budget !== null && q.budget !== '') {
    budget = typeof q.budget === 'string' ? Number(q.budget) : (q.budget as number);
    if (typeof budget !== 'number' || !Number.isFinite(budget) || budget <= 0) throw new ValidationError('budget', `must be a positive number, got ${JSON.stringify(q.budget)}`);
  }
  const { from, to } = ctx.range;
  if (!Number.isFinite(from) || !Number.isFinite(to) || from > to) throw new ValidationError('timeRange', `from must be a time before to, got ${from} .. ${to}`);
  const timezone = ctx.timezone && ctx.timezone !== 'browser' && ctx.timezone !== '' ? ctx.timezone : DEFAULTS.timezone;
  if (!isValidTimeZone(timezone)) throw new ValidationError('timezone', `unknown IANA time zone ${JSON.stringify(timezone)}`);
  return {
    refId,
    queryType,
    filters,
    options: {
      limit: integer(q.limit, 'limit', 1, 10000, DEFAULTS.limit),
      search: typeof q.search === 'string' && q.search.trim() !== '' ? q.search.trim() : undefined,
      live: q.live === true,
      runId,
      metric: oneOf(q.metric, METRICS, 'metric', DEFAULTS.metric),
      groupBy,
      period: oneOf(q.period, PERIODS, 'period', DEFAULTS.period),
      budget,
      heatmap: oneOf(q.heatmap, HEATMAP_KINDS, 'heatmap', DEFAULTS.heatmap),
      heatmapMetric: oneOf(q.heatmapMetric, HEATMAP_METRICS, 'heatmapMetric', DEFAULTS.heatmapMetric),
    },
    range: { from, to },
    intervalMs: integer(ctx.intervalMs === undefined ? undefined : Math.round(ctx.intervalMs), 'intervalMs', 1, 366 * 86_400_000, Math.max(1000, Math.round((to - from) / 100))),
    maxDataPoints: integer(ctx.maxDataPoints, 'maxDataPoints', 1, 100_000, DEFAULTS.maxDataPoints),
    timezone,
    weekStart: oneOf(ctx.weekStart, WEEK_STARTS, 'weekStart', DEFAULTS.weekStart),
  };
}

export { DIMENSIONS };
