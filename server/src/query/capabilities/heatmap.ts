/**
 * Peak usage heatmaps in the query's time zone, as Grafana "heatmap-rows" frames (a time field,
 * then one number field per bucket, in order):
 * - hourOfDay: a row per local day (its local midnight), fields "00".."23" for the local hours;
 * - dayOfWeek: a row per local week (starting Monday, or Sunday), fields "Mon".."Sun" (or "Sun"..).
 * Cells hold runs (by start), or total tokens, cost or credits (LLM calls by start, as every LLM
 * usage panel counts them: metric-definitions.ts), 0 when empty; rows of days or weeks in range.
 *
 * The database keys each row by its naive local hour or day (wall-clock time read as UTC), which
 * places a row in its cell exactly; the local midnights shown on the time axis are worked out here.
 */
import { Capability } from '../context';
import { field, frame } from '../frame';
import { aggregate } from './aggregate';
import { DAY_MS, floorTo, HOUR_MS, instantOf, naiveLocal, WEEK_MS, weekdayOf, weekStartOf } from './local-time';
import { withUnpricedNotice } from './llm-usage';
import { METRIC_DEFINITIONS } from './metric-definitions';

const HOURS = Array.from({ length: 24 }, (_, h) => String(h).padStart(2, '0'));
const MONDAY_FIRST = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
const SUNDAY_FIRST = ['Sun', ...MONDAY_FIRST.slice(0, 6)];

export const heatmap: Capability = async (q, env) => {
  const metric = q.options.heatmapMetric;
  const def = METRIC_DEFINITIONS[metric];
  const tz = q.timezone;
  const byHour = q.options.heatmap === 'hourOfDay';
  const rowMs = byHour ? DAY_MS : WEEK_MS;
  const cellMs = byHour ? HOUR_MS : DAY_MS;
  const rowOf = (naive: number) => (byHour ? floorTo(naive, DAY_MS) : weekStartOf(naive, q.weekStart));
  const names = byHour ? HOURS : q.weekStart === 'sunday' ? SUNDAY_FIRST : MONDAY_FIRST;
  // Column of a cell's naive start: the local hour, or the weekday counted from the week's start.
  const columnOf = (naive: number) => (byHour ? Math.floor((naive - floorTo(naive, DAY_MS)) / HOUR_MS) : (weekdayOf(naive) - (q.weekStart === 'sunday' ? 6 : 0) + 7) % 7);

  const { rows, usage } = await aggregate(q, env, { metrics: [metric], key: (t) => env.dialect.bucketEpochMs(env.dialect.local(t, tz), cellMs), keyGrainMs: cellMs, keyPerBucket: true });

  const starts: number[] = [];
  for (let r = rowOf(naiveLocal(q.range.from, tz)), last = rowOf(naiveLocal(q.range.to, tz)); r <= last; r += rowMs) starts.push(r);
  const index = new Map(starts.map((s, i) => [s, i]));
  const cells = names.map(() => starts.map(() => 0));
  for (const r of rows) {
    const i = index.get(rowOf(r.key as number));
    if (i !== undefined) cells[columnOf(r.key as number)][i] += r.values[0] ?? 0;
  }
  const f = frame(
    `${def.label} by ${byHour ? 'hour of day' : 'day of week'}`,
    [field('Time', 'time', starts.map((s) => instantOf(s, tz))), ...names.map((n, c) => field(n, 'number', cells[c], { unit: def.unit }))],
    { type: 'heatmap-rows', typeVersion: [0, 0] },
  );
  // Cost leaves out calls without a price: the notice names their models.
  return [usage && metric !== 'tokensTotal' ? withUnpricedNotice(f, usage) : f];
};
