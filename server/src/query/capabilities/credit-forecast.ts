/**
 * Credit forecast for the current day, week or month (q.options.period) in the query's time zone:
 * the period is the one holding "now" (env.nowMs), whatever the panel's time range.
 *
 * - Actual: credits used since the period started, cumulative, at every step (hours for a day,
 *   local days for a week or a month) up to now.
 * - Projected: from now to the period's end, the credits used so far plus the recent rate times the
 *   time left.
 * - Budget (q.options.budget, credits): a constant field; when the projection (or the actual
 *   use) crosses it, the time it runs out goes to meta.custom.budgetRunsOutAt and a notice.
 *
 * The recent rate is the average credit rate over a trailing window: the last 24 hours for a day,
 * the last 7 days for a week or a month. A trailing window covers whole daily (or weekly) cycles,
 * so the projection made at 9 in the morning is not the night's near-zero rate, nor the busy
 * hour's, as the rate over the elapsed part of the period would be; and it follows a recent change
 * of usage, which a whole-month average would smooth away. It reaches back into the previous
 * period when the current one has just begun. A deployment younger than the window is projected
 * low until the window is full.
 */
import { Capability } from '../context';
import { field, frame, withNotice } from '../frame';
import { Params } from '../filters-sql';
import { formatLocal, nextPeriodStart, periodStart, periodStarts } from './calendar';
import { CREDITS_UNIT } from './llm';
import { pricedUsage, pricesMeta, usageByTime, withUnpricedNotice } from './llm-usage';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export const creditForecast: Capability = async (q, env) => {
  const { period, budget } = q.options;
  const tz = q.timezone;
  const now = env.nowMs;
  const d = env.dialect;
  const start = periodStart(now, period, tz, q.weekStart);
  const end = nextPeriodStart(start, period, tz);
  const windowMs = period === 'day' ? DAY : 7 * DAY;
  const windowFrom = now - windowMs;

  // Steps of the actual series: hours from the period's start for a day, local days otherwise.
  const steps = period === 'day' ? Array.from({ length: Math.ceil((end - start) / HOUR) }, (_, i) => start + i * HOUR) : periodStarts(start, end - 1, 'day', tz, q.weekStart);
  const bucket = period === 'day' ? `(${start} + floor((${d.epochMs('u.t')} - ${start}) / ${HOUR}) * ${HOUR})` : d.calendarEpochMs('u.t', 'day', tz, q.weekStart);

  const p = new Params(env.dialect);
  // The rate window's start splits its 15-minute bucket: that bucket's calls are read one by one.
  const usage = await pricedUsage(env, p, { filters: q.filters, range: { from: Math.min(start, windowFrom), to: now }, cuts: [start, windowFrom] });
  const rows = await env.store.read(
    `WITH ${usage.ctes}
     SELECT CASE WHEN u.t >= ${d.timestamp(start)} THEN ${bucket} END AS step_ms,
       sum(u.cost_usd) AS cost,
       sum(CASE WHEN u.t >= ${d.timestamp(windowFrom)} THEN u.cost_usd END) AS window_cost
     FROM ${usageByTime()} u GROUP BY step_ms`,
    p.values,
  );
  const creditsPerUsd = usage.pricing.creditsPerUsd;
  const perStep = new Map<number, number>();
  let windowCredits = 0;
  for (const r of rows) {
    windowCredits += Number(r.window_cost ?? 0) * creditsPerUsd;
    if (r.step_ms !== null && r.step_ms !== undefined) perStep.set(Number(r.step_ms), Number(r.cost ?? 0) * creditsPerUsd);
  }
  const usedNow = [...perStep.values()].reduce((a, b) => a + b, 0);
  const ratePerMs = windowCredits / windowMs;

  // Time points: every step boundary, now, and the period's end. Actual up to now, projected from now.
  const times = [...new Set([...steps, now, end])].filter((t) => t >= start && t <= end).sort((a, b) => a - b);
  const stepKeys = [...perStep.keys()].sort((a, b) => a - b);
  const cumulativeBefore = (t: number): number => stepKeys.filter((k) => k < t).reduce((a, k) => a + (perStep.get(k) as number), 0);
  const actual = times.map((t) => (t < now ? cumulativeBefore(t) : t === now ? usedNow : null));
  const projected = times.map((t) => (t >= now ? usedNow + ratePerMs * (t - now) : null));
  const projectedTotal = usedNow + ratePerMs * (end - now);

  let runsOutAt: number | null = null;
  if (budget !== undefined) {
    if (usedNow >= budget) {
      // Already used up: the first step whose cumulative use reaches the budget.
      let sum = 0;
      for (const k of stepKeys) {
        sum += perStep.get(k) as number;
        if (sum >= budget) {
          runsOutAt = Math.min(k + (period === 'day' ? HOUR : DAY), now);
          break;
        }
      }
      runsOutAt ??= now;
    } else if (ratePerMs > 0 && projectedTotal > budget) {
      runsOutAt = Math.round(now + (budget - usedNow) / ratePerMs);
    }
  }

  const credits = { unit: CREDITS_UNIT, decimals: 2 };
  const fields = [
    field('Time', 'time', times),
    field('Actual', 'number', actual, { ...credits, displayName: 'Actual credits', description: 'Credits used since the period started' }),
    field('Projected', 'number', projected, {
      ...credits,
      displayName: 'Projected credits',
      description: `Credits used so far plus the average rate of the last ${period === 'day' ? '24 hours' : '7 days'} for the rest of the period`,
      custom: { lineStyle: { fill: 'dash', dash: [10, 10] } },
    }),
  ];
  if (budget !== undefined) fields.push(field('Budget', 'number', times.map(() => budget), { ...credits, displayName: 'Budget', custom: { lineStyle: { fill: 'dot' } } }));

  const f = frame('credit forecast', fields, {
    preferredVisualisationType: 'graph',
    custom: {
      period,
      timezone: tz,
      periodStart: start,
      periodEnd: end,
      creditsUsed: usedNow,
      projectedTotal,
      creditsPerHour: ratePerMs * HOUR,
      rateWindowHours: windowMs / HOUR,
      budget: budget ?? null,
      budgetRunsOutAt: runsOutAt,
      ...pricesMeta(usage.pricing),
    },
  });
  if (budget !== undefined && runsOutAt !== null) {
    const when = `${formatLocal(runsOutAt, tz)} (${tz})`;
    withNotice(
      f,
      'warning',
      usedNow >= budget
        ? `The budget of ${budget} credits is used up: it ran out on ${when}.`
        : `At the recent rate the budget of ${budget} credits runs out on ${when}, before the ${period} ends (projected ${projectedTotal.toFixed(2)} credits).`,
    );
  }
  return [withUnpricedNotice(f, usage)];
};
