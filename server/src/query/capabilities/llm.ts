/**
 * LLM usage: tokens, cost and credits per day, week or month; model share of tokens and cost;
 * cost per conversation by agent. Every figure reads llm_usage (llm-usage.ts): calls belong to the
 * range by their start, cost is the reported one or tokens x the price table, and calls of models
 * without a price have no cost (a warning notice names them) rather than a guessed one.
 * Input tokens include cached ones and output tokens include reasoning ones, as the conventions
 * report them, so Cached and Reasoning are breakdowns, not additions.
 */
import { Capability } from '../context';
import { field, frame, FrameJson } from '../frame';
import { Params, runConditions } from '../filters-sql';
import { periodStarts } from './calendar';
import { pricedUsage, pricesMeta, usageBy, usageByTime, withUnpricedNotice } from './llm-usage';

export const CREDITS_UNIT = 'suffix: credits';
const NO_MODEL = '(no model)';

const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/**
 * Tokens per calendar period in the query's time zone (weeks start on q.weekStart), every period
 * of the range present (empty ones as zero): one wide frame, Time + Input, Output, Cached,
 * Reasoning, Total (tokens), LLM calls, Cost (USD) and Credits. Grafana graphs it as a time
 * series, shows it as a table of per-period totals, and alert rules can read it.
 */
export const llmTokens: Capability = async (q, env) => {
  const p = new Params(env.dialect);
  const usage = await pricedUsage(env, p, { filters: q.filters, range: q.range });
  const period = q.options.period;
  const rows = await env.store.read(
    `WITH ${usage.ctes}
     SELECT ${env.dialect.calendarEpochMs('u.t', period, q.timezone, q.weekStart)} AS period_ms, sum(u.calls) AS calls,
       sum(u.input_tokens) AS input, sum(u.output_tokens) AS output, sum(u.cached_tokens) AS cached,
       sum(u.reasoning_tokens) AS reasoning, sum(u.total_tokens) AS total, sum(u.cost_usd) AS cost
     FROM ${usageByTime()} u GROUP BY period_ms ORDER BY period_ms`,
    p.values,
  );
  const byPeriod = new Map(rows.map((r) => [Number(r.period_ms), r]));
  // Every period of the range, plus any the SQL found (they agree; this keeps data if they ever did not).
  const times = [...new Set([...periodStarts(q.range.from, q.range.to, period, q.timezone, q.weekStart), ...byPeriod.keys()])].sort((a, b) => a - b);
  const credits = usage.pricing.creditsPerUsd;
  const value = (t: number, k: string) => num(byPeriod.get(t)?.[k]);
  const cost = times.map((t) => (byPeriod.has(t) ? numOrNull(byPeriod.get(t)!.cost) : 0));
  const tokens = { unit: 'short' };
  const totalCost = cost.reduce<number>((a, c) => a + (c ?? 0), 0);
  const f = frame(
    'llm tokens',
    [
      field('Time', 'time', times),
      field('Input', 'int', times.map((t) => value(t, 'input')), { ...tokens, description: 'Input tokens, cached ones included' }),
      field('Output', 'int', times.map((t) => value(t, 'output')), { ...tokens, description: 'Output tokens, reasoning ones included' }),
      field('Cached', 'int', times.map((t) => value(t, 'cached')), { ...tokens, description: 'Input tokens read from a prompt cache' }),
      field('Reasoning', 'int', times.map((t) => value(t, 'reasoning')), { ...tokens, description: 'Output tokens spent on reasoning' }),
      field('Total', 'int', times.map((t) => value(t, 'total')), { ...tokens, description: 'Input + output tokens' }),
      field('LLM calls', 'int', times.map((t) => value(t, 'calls')), { unit: 'short' }),
      field('Cost', 'number', cost, { unit: 'currencyUSD', decimals: 4 }),
      field('Credits', 'number', cost.map((c) => (c === null ? null : c * credits)), { unit: CREDITS_UNIT, decimals: 2 }),
    ],
    {
      preferredVisualisationType: 'graph',
      custom: { period, timezone: q.timezone, weekStart: q.weekStart, totalCost, totalCredits: totalCost * credits, ...pricesMeta(usage.pricing) },
    },
  );
  return [withUnpricedNotice(f, usage)];
};

/**
 * Share of tokens and cost per model, most tokens first. A model's cost is empty when some of its
 * calls have neither a reported cost nor a price (the notice names it); shares of cost are over
 * the models with a cost.
 */
export const modelShare: Capability = async (q, env) => {
  const p = new Params(env.dialect);
  const usage = await pricedUsage(env, p, { filters: q.filters, range: q.range });
  const rows = await env.store.read(
    `WITH ${usage.ctes}
     SELECT u.model, u.provider, sum(u.calls) AS calls, sum(u.total_tokens) AS tokens, sum(u.cost_usd) AS cost,
       sum(u.calls - u.costed_calls) AS unpriced
     FROM ${usageBy(['model', 'provider'])} u GROUP BY u.model, u.provider`,
    p.values,
  );
  interface ModelRow {
    model: string;
    providers: Set<string>;
    calls: number;
    tokens: number;
    cost: number;
    unpriced: number;
  }
  const models = new Map<string, ModelRow>();
  for (const r of rows) {
    const name = String(r.model ?? '') || NO_MODEL;
    const m = models.get(name) ?? { model: name, providers: new Set<string>(), calls: 0, tokens: 0, cost: 0, unpriced: 0 };
    if (r.provider) m.providers.add(String(r.provider));
    m.calls += num(r.calls);
    m.tokens += num(r.tokens);
    m.cost += num(r.cost);
    m.unpriced += num(r.unpriced);
    models.set(name, m);
  }
  const list = [...models.values()].sort((a, b) => b.tokens - a.tokens || a.model.localeCompare(b.model));
  const cost = list.map((m) => (m.unpriced > 0 ? null : m.cost));
  const allTokens = list.reduce((a, m) => a + m.tokens, 0);
  const allCost = cost.reduce<number>((a, c) => a + (c ?? 0), 0);
  const credits = usage.pricing.creditsPerUsd;
  const share = { unit: 'percentunit', min: 0, max: 1 };
  const f = frame(
    'model share',
    [
      field('Model', 'string', list.map((m) => m.model)),
      field('Provider', 'string', list.map((m) => [...m.providers].sort().join(', '))),
      field('LLM calls', 'int', list.map((m) => m.calls), { unit: 'short' }),
      field('Tokens', 'int', list.map((m) => m.tokens), { unit: 'short', description: 'Input + output tokens' }),
      field('Share of tokens', 'number', list.map((m) => (allTokens ? m.tokens / allTokens : null)), share),
      field('Cost', 'number', cost, { unit: 'currencyUSD', decimals: 4 }),
      field('Share of cost', 'number', cost.map((c) => (c === null || !allCost ? null : c / allCost)), share),
      field('Credits', 'number', cost.map((c) => (c === null ? null : c * credits)), { unit: CREDITS_UNIT, decimals: 2 }),
    ],
    { preferredVisualisationType: 'table', custom: pricesMeta(usage.pricing) },
  );
  return [withUnpricedNotice(f, usage)];
};

/**
 * Cost per conversation, by agent, highest average first, so the least cost-efficient agents lead.
 * Conversations are those of the agent's finished runs (completed, failed, timed out) that start in
 * the range; running runs are left out as their cost is not final. A run without a conversation id
 * is a conversation of its own (a one-shot interaction), so agents that never set one are compared
 * per run rather than dropped. A conversation with runs of several agents counts for each, with
 * each agent's share of its cost. A run's cost is the sum over its LLM calls (zero without any).
 */
export const costPerConversation: Capability = async (q, env) => {
  const p = new Params(env.dialect);
  const d = env.dialect;
  const runsIn = (pp: Params): string => {
    const tenant = pp.add(env.tenant);
    return [
      `r.tenant = ${tenant}`,
      `r.status IN ('completed', 'failed', 'timed_out')`,
      `r.start_time >= ${d.timestamp(q.range.from)}`,
      `r.start_time <= ${d.timestamp(q.range.to)}`,
      ...runConditions(q.filters, pp, tenant),
    ].join(' AND ');
  };
  // The runs' calls: by the usage rows' own run start, status and run dimensions (storage blocks
  // outside the range are skipped), unless a step dimension filters, which selects runs by their
  // trace's spans (runConditions), not calls by their own model.
  const byStep = (['tool', 'model', 'provider'] as const).some((dim) => q.filters[dim]?.length);
  const usage = await pricedUsage(
    env,
    p,
    byStep
      ? { filters: q.filters, runFilter: (pp, col) => `${col} IN (SELECT r.run_id FROM runs_v r WHERE ${runsIn(pp)})` }
      : { filters: q.filters, runStart: q.range, finishedRuns: true },
  );
  const rows = await env.store.read(
    `WITH ${usage.ctes},
     run_cost AS (SELECT run_id, sum(cost_usd) AS cost FROM llm_usage GROUP BY run_id),
     conversations AS (
       SELECT r.agent, CASE WHEN r.conversation_id = '' THEN 'run:' || r.run_id ELSE r.conversation_id END AS conversation,
         count(*) AS runs, sum(coalesce(rc.cost, 0)) AS cost
       FROM runs_v r LEFT JOIN run_cost rc ON rc.run_id = r.run_id
       WHERE ${runsIn(p)}
       GROUP BY r.agent, conversation)
     SELECT agent, count(*) AS conversations, sum(runs) AS runs, sum(cost) AS total, avg(cost) AS avg_cost,
       min(cost) AS min_cost, max(cost) AS max_cost
     FROM conversations GROUP BY agent
     ORDER BY avg_cost DESC, agent`,
    p.values,
  );
  const col = (k: string) => rows.map((r) => r[k]);
  const usd = { unit: 'currencyUSD', decimals: 4 };
  const f: FrameJson = frame(
    'cost per conversation',
    [
      field('Agent', 'string', col('agent')),
      field('Conversations', 'int', col('conversations'), { unit: 'short', description: 'Distinct conversation ids of finished runs; a run without one counts as its own' }),
      field('Runs', 'int', col('runs'), { unit: 'short' }),
      field('Total cost', 'number', col('total'), usd),
      field('Avg cost per conversation', 'number', col('avg_cost'), usd),
      field('Min conversation cost', 'number', col('min_cost'), usd),
      field('Max conversation cost', 'number', col('max_cost'), usd),
    ],
    { preferredVisualisationType: 'table', custom: pricesMeta(usage.pricing) },
  );
  return [withUnpricedNotice(f, usage)];
};
