/**
 * Run statistics: one row of figures for the time range and filters (a stat or table panel).
 * Every figure is a metric of the query model, so the same figure is available over time as a
 * time series (and to alert rules) with the same definition.
 */
import { Metric } from '@agent-insights/model';
import { Capability } from '../context';
import { field, FieldKind, frame } from '../frame';
import { aggregate } from './aggregate';
import { METRIC_DEFINITIONS } from './metric-definitions';

const STATS: { metric: Metric; name?: string; kind: FieldKind; decimals?: number }[] = [
  { metric: 'runs', name: 'Total runs', kind: 'int' },
  { metric: 'running', kind: 'int' },
  { metric: 'completed', kind: 'int' },
  { metric: 'failed', kind: 'int' },
  { metric: 'timedOut', kind: 'int' },
  { metric: 'completionRate', kind: 'number' },
  { metric: 'errorRate', kind: 'number' },
  { metric: 'timeoutRate', kind: 'number' },
  { metric: 'durationAvg', kind: 'number' },
  { metric: 'durationP50', kind: 'number' },
  { metric: 'durationP95', kind: 'number' },
  { metric: 'avgToolCallsPerRun', kind: 'number', decimals: 2 },
  { metric: 'avgTokensPerRun', kind: 'number', decimals: 0 },
];

export const runStats: Capability = async (q, env) => {
  // No key and no group: the aggregate answers exactly one row, also when no run matches.
  const { rows } = await aggregate(q, env, { metrics: STATS.map((s) => s.metric) });
  const row = rows[0];
  return [
    frame(
      'run statistics',
      STATS.map((s, i) => {
        const def = METRIC_DEFINITIONS[s.metric];
        return field(s.name ?? def.label, s.kind, [row.values[i]], { unit: def.unit, ...(s.decimals !== undefined ? { decimals: s.decimals } : {}) });
      }),
      { preferredVisualisationType: 'table' },
    ),
  ];
};
