/**
 * Time series of any metric of the query model, optionally one series per value of a dimension.
 * This is what alert rules evaluate, so the answer follows Grafana's "timeseries-multi" data plane
 * shape: one frame per series, each a "Time" field and one number field named after the metric,
 * labelled {<dimension>: value}. (A long table with the dimension as a column would fail alerting
 * with "input data must be a wide series".)
 *
 * Empty buckets: counts and sums are 0 (no runs is a real value, an alert on "runs < 1" must see
 * it). Rates, averages and percentiles have no value without a finished run (tool call, ...): such
 * buckets are left out rather than sent as null, so an alert's reduce works in its default strict
 * mode; the time field's config.interval lets the panel draw the gap.
 */
import { DIMENSION_LABELS } from '@agent-insights/model';
import { Capability } from '../context';
import { field, frame, FrameJson, FrameMeta } from '../frame';
import { planBuckets } from './buckets';
import { withUnpricedNotice } from './llm-usage';
import { DAY_MS } from './local-time';
import { METRIC_DEFINITIONS } from './metric-definitions';
import { batchedAggregate } from './series-batches';

const META: FrameMeta = { type: 'timeseries-multi', typeVersion: [0, 1], preferredVisualisationType: 'graph' };

export const timeSeries: Capability = async (q, env) => {
  const metric = q.options.metric;
  const def = METRIC_DEFINITIONS[metric];
  const groupBy = q.options.groupBy;
  const buckets = planBuckets(q, env.dialect);
  // Run series asked together (a dashboard's panels) are computed in one query (series-batches.ts).
  const { rows, usage } = await batchedAggregate(q, env, { metrics: [metric], key: buckets.key, keyGrainMs: buckets.intervalMs, groupBy,
    // Day and week buckets follow the time zone: their key is worth computing once per 15 minutes.
    keyPerBucket: buckets.intervalMs >= DAY_MS, keyOnEpoch: buckets.onEpoch });

  const byGroup = new Map<string, Map<number, number | null>>();
  // Without a dimension there is one series, also when no row matched (counts are then all 0).
  if (!groupBy) byGroup.set('', new Map());
  for (const r of rows) {
    const g = r.group ?? '';
    if (!byGroup.has(g)) byGroup.set(g, new Map());
    byGroup.get(g)!.set(r.key as number, r.values[0]);
  }

  const series = (values: Map<number, number | null>, group?: string): FrameJson => {
    const keys = def.additive ? buckets.keys : buckets.keys.filter((k) => values.get(k) !== undefined && values.get(k) !== null);
    const labels = groupBy && group !== undefined ? { [groupBy]: group } : undefined;
    const displayName = labels ? group || `(no ${DIMENSION_LABELS[groupBy!].toLowerCase()})` : undefined;
    return frame(
      displayName ?? def.label,
      [
        field('Time', 'time', keys.map(buckets.instant), { interval: buckets.intervalMs }),
        field(def.label, 'number', keys.map((k) => values.get(k) ?? (def.additive ? 0 : null)), { unit: def.unit, ...(displayName !== undefined ? { displayNameFromDS: displayName } : {}) }, labels),
      ],
      META,
    );
  };

  const frames = [...byGroup.keys()].sort().map((g) => series(byGroup.get(g)!, groupBy ? g : undefined));
  // Grouped and nothing matched: one frame without rows, which alerting reads as "no data".
  if (!frames.length) frames.push(frame(def.label, [field('Time', 'time', []), field(def.label, 'number', [], { unit: def.unit })], META));
  // Cost leaves out calls without a price: say so once (on the first frame), not per series.
  if (usage && (metric === 'cost' || metric === 'credits')) withUnpricedNotice(frames[0], usage);
  return frames;
};
