/** Which capability answers each query type. */
import { QueryType } from '@agent-insights/model';
import { Capability } from '../context';
import { runsTable } from './runs';

export const CAPABILITIES: Partial<Record<QueryType, Capability>> = {
  runs: runsTable,
};
