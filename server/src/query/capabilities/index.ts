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
