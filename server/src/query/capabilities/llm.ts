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
import { Params } from '../filters-sql';
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

/** Cost per conversation by agent: its own file (stored per conversation where the store keeps it). */
export { costPerConversation } from './cost-per-conversation';
