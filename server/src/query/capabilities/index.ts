/** Which capability answers each query type. */
import { QueryType } from '@agent-insights/model';
import { Capability } from '../context';
import { runsTable } from './runs';
import { runEvents, runSteps, runTrace } from './trace';
import { sessionStats } from './sessions';

export const CAPABILITIES: Partial<Record<QueryType, Capability>> = {
  runs: runsTable,
  runTrace,
  runSteps,
  runEvents,
  sessionStats,
};
