/**
 * Run series of different metrics asked together, with everything else equal, computed in one
 * aggregate query. The Agent runs dashboard draws eight such panels (runs, rates, duration, tool
 * calls and tokens per agent and hour): each was a scan of the month's runs (647,000 at 10 million
 * spans), 257-320 ms for the eight one after another, 61-68 ms as one query with eight metrics.
 *
 * Grafana sends each panel as its own request, a few milliseconds apart, so a batch waits
 * WINDOW_MS for its siblings before it starts; a query arriving after the start begins a new batch.
 * Every metric's values are those of asking it alone: the same rows (the same scan, keys and
 * groups) with one more column each. Only run metrics are batched: tool latency and LLM usage have
 * paths of their own per metric (aggregate.ts).
 */
import { ResolvedQuery } from '@agent-insights/model';
import { Store } from '../../store/store';
import { QueryEnv } from '../context';
import { aggregate, AggregateResult, AggregateSpec } from './aggregate';
import { METRIC_DEFINITIONS } from './metric-definitions';

/** How long a batch waits for the other panels of a dashboard refresh. */
export const WINDOW_MS = 4;

/** A batch still open for metrics: it leaves the map when it starts. */
interface Batch {
  metrics: AggregateSpec['metrics'];
  result: Promise<AggregateResult>;
}

/** The open batches of each store, by the shape of their query. */
const byStore = new WeakMap<Store, Map<string, Batch>>();

/**
 * aggregate() of one metric; for a run metric, in a batch with the other run metrics asked within
 * WINDOW_MS with the same query otherwise (and so the same keys and groups).
 */
export async function batchedAggregate(q: ResolvedQuery, env: QueryEnv, spec: AggregateSpec): Promise<AggregateResult> {
  const [metric] = spec.metrics;
  if (spec.metrics.length !== 1 || METRIC_DEFINITIONS[metric].source !== 'runs') return aggregate(q, env, spec);
  const batches = byStore.get(env.store) ?? new Map<string, Batch>();
  byStore.set(env.store, batches);
  // The query but its metric and refId; the spec's key follows from the query (planBuckets).
  const shape = JSON.stringify([env.tenant, { ...q, refId: '', options: { ...q.options, metric: '' } }, spec.keyGrainMs, spec.groupBy, spec.keyPerBucket, spec.keyOnEpoch]);
  let batch = batches.get(shape);
  if (!batch) {
    const metrics: Batch['metrics'] = [];
    const result = new Promise((resolve) => setTimeout(resolve, WINDOW_MS)).then(() => {
      // Closed: a query from now on starts a batch of its own.
      batches.delete(shape);
      return aggregate(q, env, { ...spec, metrics });
    });
    batches.set(shape, (batch = { metrics, result }));
  }
  if (!batch.metrics.includes(metric)) batch.metrics.push(metric);
  const i = batch.metrics.indexOf(metric);
  const all = await batch.result;
  return { ...all, rows: all.rows.map((r) => ({ ...r, values: [r.values[i]] })) };
}
