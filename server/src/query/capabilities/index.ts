/** Which capability answers each query type. */
import { QueryType } from '@agent-insights/model';
import { Capability } from '../context';
import { runsTable } from './runs';
import { toolErrors, toolMetrics } from './tools';
import { costPerConversation, llmTokens, modelShare } from './llm';
import { creditForecast } from './credit-forecast';
import { runStats } from './stats';
import { timeSeries } from './timeseries';
import { heatmap } from './heatmap';
import { runEvents, runSteps, runTrace } from './trace';
import { sessionStats } from './sessions';

export const CAPABILITIES: Partial<Record<QueryType, Capability>> = {
  runs: runsTable,
  toolMetrics,
  toolErrors,
  llmTokens,
  creditForecast,
  modelShare,
  costPerConversation,
  runStats,
  timeSeries,
  heatmap,
  runTrace,
  runSteps,
  runEvents,
  sessionStats,
};

/**
 * The query types whose answer depends on the query's interval and max data points: time series
 * choose their buckets from them (buckets.ts). Every other answer is the same for any, so panels
 * that differ only in width share one answer (engine.ts); golden.test.ts checks the claim.
 */
export const BUCKETED_QUERY_TYPES: ReadonlySet<QueryType> = new Set<QueryType>(['timeSeries']);
