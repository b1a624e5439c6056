/**
 * Cost in SQL: resolved prices as a relation, and the per-call cost expression. The formula is
 * the one of prices.ts (costUsd), written once more for the engine; a test holds the two together.
 * Standard SQL only (CASE, coalesce, CAST, UNION ALL), so both engines read it unchanged
 * (differential.test.ts asks both, with and without a price table).
 */
import { Dialect } from '../query/dialect';
import { ModelPrice } from './prices';

export interface ResolvedPrice {
  /** The model and response model exactly as stored on spans. */
  model: string;
  responseModel: string;
  price: ModelPrice;
}

const num = (n: number): string => `CAST(${Number.isFinite(n) ? n : 0} AS DOUBLE)`;

/**
 * A relation model_prices(model, response_model, input_usd, cached_usd, write_usd, output_usd),
 * as the body of a CTE: one row per (model, response model) pair with a known price.
 */
export function modelPricesSql(prices: ResolvedPrice[], dialect: Dialect): string {
  if (!prices.length) {
    // No rows, typed by placeholder values: ClickHouse cannot CAST(NULL AS VARCHAR) (its types are
    // not nullable unless declared so). Outer joins still give NULLs where nothing matches.
    return `SELECT CAST('' AS VARCHAR) AS model, CAST('' AS VARCHAR) AS response_model, ${num(0)} AS input_usd,
      ${num(0)} AS cached_usd, ${num(0)} AS write_usd, ${num(0)} AS output_usd WHERE 1 = 0`;
  }
  return prices
    .map(
      (r) =>
        `SELECT ${dialect.quote(r.model)} AS model, ${dialect.quote(r.responseModel)} AS response_model, ${num(r.price.input)} AS input_usd, ` +
        `${num(r.price.cachedInput)} AS cached_usd, ${num(r.price.cacheWrite)} AS write_usd, ${num(r.price.output)} AS output_usd`,
    )
    .join('\n      UNION ALL ');
}

/**
 * USD of one call: the reported cost when the telemetry gives one, else tokens x prices, else
 * NULL (no price, or only a total token count). `u` has input_tokens, output_tokens,
 * cached_tokens, cache_write_tokens, reported_cost; `mp` is a model_prices row (or NULLs).
 */
export function callCostSql(u: string, mp: string): string {
  const input = `coalesce(${u}.input_tokens, 0)`;
  const cached = `coalesce(${u}.cached_tokens, 0)`;
  const write = `coalesce(${u}.cache_write_tokens, 0)`;
  const rest = `(${input} - ${cached} - ${write})`;
  return `CASE
      WHEN ${u}.reported_cost IS NOT NULL THEN ${u}.reported_cost
      WHEN ${mp}.input_usd IS NULL OR (${u}.input_tokens IS NULL AND ${u}.output_tokens IS NULL) THEN NULL
      ELSE ((CASE WHEN ${rest} >= 0 THEN ${rest} ELSE ${input} END) * ${mp}.input_usd + ${cached} * ${mp}.cached_usd
        + ${write} * ${mp}.write_usd + coalesce(${u}.output_tokens, 0) * ${mp}.output_usd) / 1000000.0
    END`;
}

/**
 * Cost of a usage row (a sum of calls: store/usage rows, llm-usage.ts) at a price, and how many of
 * its calls have a cost. Exact under summation because a row keeps its calls apart by cost class:
 * reported costs are summed as they are; calls priced from tokens keep the token sums of each price
 * class (pricedBillable = input - cached - cache write, or input when that is negative; as in
 * callCostSql), which a price multiplies; calls without an input/output split have no cost. NULL
 * when no call of the row has a cost, as the sum of per-call costs would be.
 */
export function usageCostSql(u: string, mp: string): { cost: string; costedCalls: string } {
  const priced = `CASE WHEN ${mp}.input_usd IS NULL THEN 0 ELSE ${u}.priced_calls END`;
  const costedCalls = `(${u}.reported_calls + ${priced})`;
  const cost = `CASE WHEN ${costedCalls} > 0 THEN coalesce(${u}.reported_cost, 0) + CASE WHEN ${mp}.input_usd IS NULL THEN 0 ELSE
      (${u}.billable_input * ${mp}.input_usd + ${u}.priced_cached * ${mp}.cached_usd + ${u}.priced_cache_write * ${mp}.write_usd
        + ${u}.priced_output * ${mp}.output_usd) / 1000000.0 END END`;
  return { cost, costedCalls };
}

/**
 * The usage columns of one LLM call (a steps row `s`) as a usage row of one call: the same sums a
 * stored usage row keeps (derive/steps-usage.ts addCall), for calls read one by one.
 */
export function callUsageColumnsSql(s: string): string {
  const reported = `${s}.cost IS NOT NULL`;
  const priced = `(${s}.cost IS NULL AND (${s}.input_tokens IS NOT NULL OR ${s}.output_tokens IS NOT NULL))`;
  const input = `coalesce(${s}.input_tokens, 0)`;
  const cached = `coalesce(${s}.cached_tokens, 0)`;
  const write = `coalesce(${s}.cache_write_tokens, 0)`;
  const rest = `(${input} - ${cached} - ${write})`;
  const when = (v: string) => `CASE WHEN ${priced} THEN ${v} ELSE 0 END`;
  return `1 AS calls, ${s}.input_tokens, ${s}.output_tokens, ${s}.cached_tokens, ${s}.cache_write_tokens, ${s}.reasoning_tokens,
    coalesce(${s}.total_tokens, ${input} + coalesce(${s}.output_tokens, 0)) AS total_tokens,
    CASE WHEN ${reported} THEN 1 ELSE 0 END AS reported_calls, ${s}.cost AS reported_cost,
    ${when('1')} AS priced_calls, ${when(`CASE WHEN ${rest} >= 0 THEN ${rest} ELSE ${input} END`)} AS billable_input,
    ${when(cached)} AS priced_cached, ${when(write)} AS priced_cache_write, ${when(`coalesce(${s}.output_tokens, 0)`)} AS priced_output`;
}
