/**
 * LLM usage with cost: the one relation every token, cost and credit figure reads (llmTokens,
 * creditForecast, modelShare, costPerConversation, the runs table's Cost; time series and
 * heatmaps of cost and credits can use it too).
 *
 * `llm_usage` has one row per LLM call: LLM steps that report usage or cost, at their start time;
 * and, for a run with no LLM step reporting usage or cost, the run's own totals (an agent span's
 * or a native run's), at the run's start (design.md: a total is used only without its parts).
 * Columns: t (TIMESTAMP), run_id, agent, agent_version, status, channel, environment, service,
 * conversation_id, user_id, model, response_model, provider, input_tokens, output_tokens,
 * cached_tokens, cache_write_tokens, reasoning_tokens, total_tokens, reported_cost, run_level,
 * cost_usd (the reported cost, else tokens x price, else NULL: no price is never a guess).
 *
 * Prices are resolved in TypeScript (pricing/prices.ts lookupPrice, with the snapshot-to-base
 * fallback) for the (model, response model) pairs the scope holds, found by a first small query,
 * and joined as a literal relation: one definition of the lookup, and standard SQL for both engines.
 */
import { Filters } from '@agent-insights/model';
import { defaultPricing, lookupPrice, Pricing } from '../../pricing';
import { modelPricesSql, callCostSql, ResolvedPrice } from '../../pricing/sql';
import { QueryEnv } from '../context';
import { Params, runConditions, stepConditions } from '../filters-sql';
import { FrameJson, withNotice } from '../frame';

export interface UsageScope {
  filters: Filters;
  /** Calls whose time (step start, or run start for run totals) lies in [from, to]. */
  range?: { from: number; to: number };
  /** Only calls of these runs. */
  runIds?: string[];
  /** A condition on a run id column (s.run_id or r.run_id), its parameters added to p. */
  runFilter?: (p: Params, runIdColumn: string) => string;
}

export interface UnpricedModel {
  /** The model dimension's value ('' when the call names no model). */
  model: string;
  /** Calls without a reported cost and without a price. */
  calls: number;
}

export interface PricedUsage {
  /** CTE definitions to follow WITH (usage_base, model_prices, llm_usage), with parameters of the given Params. */
  ctes: string;
  unpriced: UnpricedModel[];
  pricing: Pricing;
}

export function pricingOf(env: QueryEnv): Pricing {
  return env.pricing ?? defaultPricing();
}

const USAGE_PREDICATE = (a: string) => `(${a}.input_tokens IS NOT NULL OR ${a}.output_tokens IS NOT NULL OR ${a}.total_tokens IS NOT NULL OR ${a}.cost IS NOT NULL)`;

function usageBaseSql(env: QueryEnv, p: Params, scope: UsageScope): string {
  const d = env.dialect;
  const tenant = p.add(env.tenant);
  // An LLM call names no tool: a tool filter selects the calls of runs that called the tool.
  const { tool, ...filters } = scope.filters;
  const steps = [`s.tenant = ${tenant}`, `s.role = 'llm'`, USAGE_PREDICATE('s'), ...stepConditions(filters, p)];
  const runs = [
    `r.tenant = ${tenant}`,
    `(r.total_tokens > 0 OR r.input_tokens > 0 OR r.output_tokens > 0 OR r.cost IS NOT NULL)`,
    `NOT EXISTS (SELECT 1 FROM steps_v x WHERE x.tenant = r.tenant AND x.run_id = r.run_id AND x.role = 'llm' AND ${USAGE_PREDICATE('x')})`,
    ...runConditions(filters, p),
  ];
  if (tool?.length) {
    const tools = p.list(tool);
    const calledTool = (col: string) => `${col} IN (SELECT x.run_id FROM steps_v x WHERE x.tenant = ${tenant} AND x.role = 'tool' AND list_contains(${tools}, x.tool_name))`;
    steps.push(calledTool('s.run_id'));
    runs.push(calledTool('r.run_id'));
  }
  if (scope.range) {
    const from = d.timestamp(scope.range.from);
    const to = d.timestamp(scope.range.to);
    steps.push(`s.start_time >= ${from}`, `s.start_time <= ${to}`);
    runs.push(`r.start_time >= ${from}`, `r.start_time <= ${to}`);
  }
  if (scope.runIds) {
    const ids = p.list(scope.runIds.length ? scope.runIds : ['']);
    steps.push(`list_contains(${ids}, s.run_id)`);
    runs.push(`list_contains(${ids}, r.run_id)`);
  }
  if (scope.runFilter) {
    steps.push(scope.runFilter(p, 's.run_id'));
    runs.push(scope.runFilter(p, 'r.run_id'));
  }
  return `SELECT s.start_time AS t, s.run_id, s.run_agent AS agent, s.run_agent_version AS agent_version, s.run_status AS status,
        s.run_channel AS channel, s.run_environment AS environment, s.run_service AS service,
        s.run_conversation_id AS conversation_id, s.run_user_id AS user_id, s.model, s.response_model, s.provider,
        s.input_tokens, s.output_tokens, s.cached_tokens, s.cache_write_tokens, s.reasoning_tokens,
        coalesce(s.total_tokens, coalesce(s.input_tokens, 0) + coalesce(s.output_tokens, 0)) AS total_tokens,
        s.cost AS reported_cost, false AS run_level
      FROM steps_v s WHERE ${steps.join(' AND ')}
      UNION ALL
      SELECT r.start_time, r.run_id, r.agent, r.agent_version, r.status, r.channel, r.environment, r.service,
        r.conversation_id, r.user_id, coalesce(root.model, ''), coalesce(root.response_model, ''), coalesce(root.provider, ''),
        -- The runs table keeps 0 for "not reported": without an input/output split there is nothing to price.
        CASE WHEN r.input_tokens + r.output_tokens > 0 THEN r.input_tokens END,
        CASE WHEN r.input_tokens + r.output_tokens > 0 THEN r.output_tokens END,
        r.cached_tokens, root.cache_write_tokens, r.reasoning_tokens, r.total_tokens, r.cost, true
      FROM runs_v r
        LEFT JOIN spans root ON root.tenant = r.tenant AND root.trace_id = r.trace_id AND root.span_id = r.root_span_id AND root.record = 'span'
      WHERE ${runs.join(' AND ')}`;
}

/**
 * The llm_usage relation for a scope, its parameters added to `p`. Runs one small query first
 * (which models occur, and which calls lack a reported cost) to resolve prices.
 */
export async function pricedUsage(env: QueryEnv, p: Params, scope: UsageScope): Promise<PricedUsage> {
  const pricing = pricingOf(env);
  const pp = new Params();
  const pairs = await env.store.read(
    `WITH usage_base AS (${usageBaseSql(env, pp, scope)})
     SELECT model, response_model, sum(CASE WHEN reported_cost IS NULL THEN 1 ELSE 0 END) AS unreported
     FROM usage_base GROUP BY model, response_model`,
    pp.values,
  );
  const resolved: ResolvedPrice[] = [];
  const unpriced = new Map<string, number>();
  for (const row of pairs) {
    const model = String(row.model ?? '');
    const responseModel = String(row.response_model ?? '');
    const price = lookupPrice(pricing.table, model, responseModel);
    if (price) resolved.push({ model, responseModel, price });
    else if (Number(row.unreported) > 0) unpriced.set(model, (unpriced.get(model) ?? 0) + Number(row.unreported));
  }
  const ctes = `usage_base AS (${usageBaseSql(env, p, scope)}),
    model_prices AS (${modelPricesSql(resolved, env.dialect)}),
    llm_usage AS (
      SELECT u.*, ${callCostSql('u', 'mp')} AS cost_usd
      FROM usage_base u LEFT JOIN model_prices mp ON mp.model = u.model AND mp.response_model = u.response_model
    )`;
  return {
    ctes,
    unpriced: [...unpriced].map(([model, calls]) => ({ model, calls })).sort((a, b) => b.calls - a.calls || a.model.localeCompare(b.model)),
    pricing,
  };
}

/** "No price for gpt-9 (3 calls), (no model) (1 call): ..." on the frame, when some calls have no price. */
export function withUnpricedNotice(f: FrameJson, usage: PricedUsage): FrameJson {
  if (!usage.unpriced.length) return f;
  const names = usage.unpriced.map((u) => `${u.model || '(no model)'} (${u.calls} call${u.calls === 1 ? '' : 's'})`).join(', ');
  const t = usage.pricing.table;
  return withNotice(
    f,
    'warning',
    `No price for ${names}: their cost is left out (shown empty, never guessed), so cost and credit totals cover only priced calls. ` +
      `Add these models to the price table ${t.file} (set AGENT_INSIGHTS_PRICES_FILE; current prices taken on ${t.takenOn}).`,
  );
}

/** Price table facts for meta.custom, so a panel can say which prices it used. */
export function pricesMeta(pricing: Pricing): Record<string, unknown> {
  return { pricesTakenOn: pricing.table.takenOn, creditsPerUsd: pricing.creditsPerUsd };
}

/**
 * Cost per run for the runs table: the telemetry's own run cost when the run's root reported one
 * and none of its LLM steps did; else the sum over its calls when every call has a cost (reported
 * or priced); NULL when some call has neither; the stored cost when the run made no LLM call.
 */
export async function runCosts(env: QueryEnv, runIds: string[]): Promise<Map<string, { cost: number | null; stepReported: boolean }>> {
  const out = new Map<string, { cost: number | null; stepReported: boolean }>();
  if (!runIds.length) return out;
  const p = new Params();
  const usage = await pricedUsage(env, p, { filters: {}, runIds });
  const rows = await env.store.read(
    `WITH ${usage.ctes}
     SELECT run_id, count(*) AS calls, count(cost_usd) AS costed, sum(cost_usd) AS cost,
       sum(CASE WHEN NOT run_level AND reported_cost IS NOT NULL THEN 1 ELSE 0 END) AS steps_reported
     FROM llm_usage GROUP BY run_id`,
    p.values,
  );
  for (const r of rows) {
    const complete = Number(r.costed) === Number(r.calls);
    out.set(String(r.run_id), { cost: complete ? Number(r.cost) : null, stepReported: Number(r.steps_reported) > 0 });
  }
  return out;
}

/** Applies runCosts to rows of the runs table (run_id, cost: the stored cost). */
export async function withComputedRunCost<T extends Record<string, unknown>>(env: QueryEnv, rows: T[]): Promise<T[]> {
  const costs = await runCosts(env, rows.map((r) => String(r.run_id)));
  for (const r of rows) {
    const c = costs.get(String(r.run_id));
    if (!c) continue; // no LLM call: the stored cost stands
    const rootReported = r.cost !== null && r.cost !== undefined && !c.stepReported;
    if (!rootReported) (r as Record<string, unknown>).cost = c.cost;
  }
  return rows;
}
