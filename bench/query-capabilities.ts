/**
 * The query benchmark's capability queries: one or more representative queries per query type,
 * each asked over the last 24 hours and over 30 days before the dataset's anchor. The one-run
 * views (trace, steps, log lines) do not depend on the window and are asked once.
 */
import { QueryRequestItem } from '../server/src/query/engine';

const H = 3_600_000;
const D = 86_400_000;

export type Window = '24h' | '30d' | 'one run';
export const WINDOWS: Exclude<Window, 'one run'>[] = ['24h', '30d'];

export interface BenchQuery {
  name: string;
  window: Window;
  /** What a person would call the panel. */
  what: string;
  item: QueryRequestItem;
}

/** Runs the benchmark looks at: a typical text run, a run inside a voice session, and its conversation. */
export interface Picks {
  runId: string;
  voiceRunId: string;
  conversation: string;
}

interface Spec {
  name: string;
  what: string;
  queryType: string;
  options?: Record<string, unknown>;
  /** Asked once (one run's views), not per window. */
  once?: boolean;
}

function specs(p: Picks): Spec[] {
  const series = (metric: string, groupBy: string): Spec => ({
    name: `timeSeries ${metric} by ${groupBy}`,
    what: `${metric} per ${groupBy} over time`,
    queryType: 'timeSeries',
    options: { metric, groupBy },
  });
  return [
    { name: 'runs', what: 'runs table, newest 100', queryType: 'runs', options: { limit: 100 } },
    { name: 'runs filtered', what: 'runs table, agent + status + environment filters', queryType: 'runs', options: { limit: 100, filters: { agent: ['support-triage', 'billing-bot'], status: ['failed', 'timed_out'], environment: ['production'] } } },
    { name: 'runs by tool', what: 'runs table, tool filter (a step dimension)', queryType: 'runs', options: { limit: 100, filters: { tool: ['refund_payment'] } } },
    { name: 'runs search', what: 'runs table, search by conversation id', queryType: 'runs', options: { limit: 100, search: p.conversation } },
    { name: 'runTrace', what: 'one run as a trace frame', queryType: 'runTrace', options: { runId: p.runId }, once: true },
    { name: 'runTrace voice', what: 'one run inside a voice session trace', queryType: 'runTrace', options: { runId: p.voiceRunId }, once: true },
    { name: 'runSteps', what: "one run's steps table", queryType: 'runSteps', options: { runId: p.runId }, once: true },
    { name: 'runEvents', what: "one run's log lines", queryType: 'runEvents', options: { runId: p.runId }, once: true },
    { name: 'runStats', what: 'run statistics', queryType: 'runStats' },
    { name: 'runStats by model', what: 'run statistics, model filter (a step dimension)', queryType: 'runStats', options: { filters: { model: ['claude-sonnet-4'] } } },
    series('runs', 'agent'),
    series('errorRate', 'agent'),
    series('durationP95', 'agent'),
    series('tokensTotal', 'agent'),
    series('toolCalls', 'tool'),
    series('toolErrorRate', 'tool'),
    series('toolLatencyP95', 'tool'),
    series('cost', 'model'),
    series('sessions', 'channel'),
    { name: 'toolMetrics', what: 'tool metrics', queryType: 'toolMetrics' },
    { name: 'toolErrors', what: 'most frequent tool errors', queryType: 'toolErrors' },
    { name: 'llmTokens day', what: 'tokens per day', queryType: 'llmTokens', options: { period: 'day' } },
    { name: 'llmTokens week', what: 'tokens per week', queryType: 'llmTokens', options: { period: 'week' } },
    { name: 'llmTokens month', what: 'tokens per month', queryType: 'llmTokens', options: { period: 'month' } },
    { name: 'creditForecast month', what: 'credit forecast to the end of the month', queryType: 'creditForecast', options: { period: 'month', budget: 5000 } },
    { name: 'modelShare', what: 'model share of tokens and cost', queryType: 'modelShare' },
    { name: 'costPerConversation', what: 'cost per conversation by agent', queryType: 'costPerConversation' },
    { name: 'heatmap hourOfDay runs', what: 'runs by hour of day x day', queryType: 'heatmap', options: { heatmap: 'hourOfDay', heatmapMetric: 'runs' } },
    { name: 'heatmap dayOfWeek tokens', what: 'tokens by day of week x week', queryType: 'heatmap', options: { heatmap: 'dayOfWeek', heatmapMetric: 'tokensTotal' } },
    { name: 'sessionStats', what: 'voice and video sessions', queryType: 'sessionStats' },
  ];
}

/**
 * Every query to measure, for the query types registered now. A registered type this list does not
 * know yet gets a query with its defaults, so that no capability goes unmeasured.
 */
export function capabilityQueries(anchor: number, picks: Picks, timezone: string, registered: string[]): { queries: BenchQuery[]; unknownTypes: string[] } {
  const all = specs(picks);
  const unknownTypes = registered.filter((t) => !all.some((s) => s.queryType === t));
  for (const t of unknownTypes) all.push({ name: t, what: `${t} with its defaults (no representative query written yet)`, queryType: t });
  const range = { '24h': { from: anchor - D, to: anchor }, '30d': { from: anchor - 30 * D, to: anchor } };
  // Series buckets: 1 min over 24 h (the engine widens them to fit maxDataPoints), 1 h over 30 days.
  const interval = { '24h': 60_000, '30d': H };
  const out: BenchQuery[] = [];
  for (const s of all.filter((x) => registered.includes(x.queryType))) {
    const windows: Window[] = s.once ? ['one run'] : WINDOWS;
    for (const w of windows) {
      const key = w === 'one run' ? '30d' : w;
      out.push({
        name: s.name,
        window: w,
        what: s.what,
        item: { refId: 'A', queryType: s.queryType, timeRange: range[key], intervalMs: interval[key], maxDataPoints: 1000, timezone, ...s.options },
      });
    }
  }
  return { queries: out, unknownTypes };
}
