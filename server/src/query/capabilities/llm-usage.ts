/**
 * LLM usage with cost: the one relation every token, cost and credit figure reads (llmTokens,
 * creditForecast, modelShare, costPerConversation, the runs table's Cost; time series and
 * heatmaps of tokens, cost and credits).
 *
 * The calls are those of design.md: LLM steps that report usage or cost, at their start time;
 * and, for a run with no LLM step reporting usage or cost, the run's own totals (an agent span's
 * or a native run's), at the run's start (a total is used only without its parts). Derivation
 * stores them summed per run, 15-minute UTC bucket and model (the usage table,
 * derive/steps-usage.ts), about one row per 4 calls, replaced with the trace's other derived rows
 * whenever the trace is derived again: a late span or a run that finishes changes its rows, never
 * an aggregate that would have to be patched.
 *
 * `llm_usage` has one row per such sum: t (TIMESTAMP: the bucket's start, or the exact time of a
 * call read one by one), run_id, agent, agent_version, status, channel, environment, service,
 * conversation_id, user_id, model, response_model, provider, run_level, calls, input_tokens,
 * output_tokens, cached_tokens, cache_write_tokens, reasoning_tokens, total_tokens, reported_calls,
 * cost_usd (reported costs plus tokens x price; NULL when no call has a cost: no price is never a
 * guess) and costed_calls. Consumers sum these columns.
 *
 * Exact times: a bucket row stands for calls anywhere in its 15 minutes, so bucket rows are used
 * only for buckets wholly inside the range and not split by a consumer's cut (UsageScope.cuts);
 * the calls of the partial buckets at the range's ends are read one by one from steps (a few
 * thousand at most), as is everything when the consumer's own keys are finer than 15 minutes.
 * Every time zone's offset is a multiple of 15 minutes, so a bucket lies in one local hour, day,
 * week and month: consumers sum per t first and key the few thousand sums, not the calls.
 *
 * Prices are resolved in TypeScript (pricing/prices.ts lookupPrice, with the snapshot-to-base
 * fallback) for the (model, response model) pairs the tenant's usage rows hold, and joined as a
 * literal relation: one definition of the lookup, and standard SQL for both engines.
 */
import { USAGE_BUCKET_MS, wholeBucketSpan } from '../../derive/steps-usage';
import { Filters } from '@agent-insights/model';
import { defaultPricing, lookupPrice, Pricing } from '../../pricing';
import { callUsageColumnsSql, modelPricesSql, ResolvedPrice, usageCostSql } from '../../pricing/sql';
import { QueryEnv } from '../context';
import { Row, Store } from '../../store/store';
import { Params, stepConditions, usageConditions } from '../filters-sql';
import { FrameJson, withNotice } from '../frame';

export interface UsageScope {
  filters: Filters;
  /** Calls whose time (step start, or run start for run totals) lies in [from, to]. */
  range?: { from: number; to: number };
  /** Only calls of these runs. */
  runIds?: string[];
  /** Runs of runIds start in this range (epoch ms): lets the engine skip storage blocks. */
  runStart?: { from: number; to: number };
  /** Only calls of finished runs (completed, failed, timed out: the status as runs_v reads it). */
  finishedRuns?: boolean;
  /** A condition on a run id column (s.run_id or u.run_id), its parameters added to p. */
  runFilter?: (p: Params, runIdColumn: string) => string;
  /** Instants (epoch ms) at which the consumer splits calls (`t >= cut`): their buckets are read call by call. */
  cuts?: number[];
  /** The consumer keys calls by intervals finer than 15 minutes: read every call of the range one by one. */
  perCall?: boolean;
}

export interface UnpricedModel {
  /** The model dimension's value ('' when the call names no model). */
  model: string;
  /** Calls without a reported cost and without a price. */
  calls: number;
}

export interface PricedUsage {
  /** CTE definitions to follow WITH (usage_rows, model_prices, llm_usage), with parameters of the given Params. */
  ctes: string;
  unpriced: UnpricedModel[];
  pricing: Pricing;
  /** The prices joined (pricedUsageCtes builds the CTEs of another scope with them). */
  resolved: ResolvedPrice[];
}

export function pricingOf(env: QueryEnv): Pricing {
  return env.pricing ?? defaultPricing();
}

const BUCKET_MS = USAGE_BUCKET_MS;
const USAGE_PREDICATE = (a: string) => `(${a}.input_tokens IS NOT NULL OR ${a}.output_tokens IS NOT NULL OR ${a}.total_tokens IS NOT NULL OR ${a}.cost IS NOT NULL)`;
const USAGE_SUMS = `calls, input_tokens, output_tokens, cached_tokens, cache_write_tokens, reasoning_tokens, total_tokens,
  reported_calls, reported_cost, priced_calls, billable_input, priced_cached, priced_cache_write, priced_output`;

/** Which parts of the range bucket rows may serve: whole buckets [from, to), minus the split ones. */
interface WholeBuckets {
  from: number;
  to: number;
  split: number[];
}

function wholeBuckets(scope: UsageScope): WholeBuckets | null {
  if (!scope.range || scope.perCall) return null;
  const { from, to } = wholeBucketSpan(scope.range);
  const split = [...new Set((scope.cuts ?? []).filter((c) => c % BUCKET_MS !== 0).map((c) => Math.floor(c / BUCKET_MS) * BUCKET_MS))];
  return { from, to, split: split.filter((b) => b >= from && b < to) };
}

function usageRowsSql(env: QueryEnv, p: Params, scope: UsageScope): string {
  const d = env.dialect;
  const tenant = p.add(env.tenant);
  // An LLM call names no tool: a tool filter selects the calls of runs that called the tool.
  const { tool, ...filters } = scope.filters;
  const common = (runIdCol: string): string[] => {
    const out: string[] = [];
    if (tool?.length) out.push(`${runIdCol} IN (SELECT x.run_id FROM steps_v x WHERE x.tenant = ${tenant} AND x.role = 'tool' AND ${p.in(tool, 'x.tool_name')})`);
    if (scope.runIds) out.push(p.in(scope.runIds.length ? scope.runIds : [''], runIdCol));
    if (scope.runFilter) out.push(scope.runFilter(p, runIdCol));
    return out;
  };
  const runStart = (col: string): string[] => (scope.runStart ? [`${col} >= ${d.timestamp(scope.runStart.from)}`, `${col} <= ${d.timestamp(scope.runStart.to)}`] : []);
  const finished = (col: string): string[] => (scope.finishedRuns ? [`${col} IN ('completed', 'failed', 'timed_out')`] : []);
  const inRange = (col: string): string[] => (scope.range ? [`${col} >= ${d.timestamp(scope.range.from)}`, `${col} <= ${d.timestamp(scope.range.to)}`] : []);
  const whole = wholeBuckets(scope);
  const inWhole = (col: string): string =>
    whole
      ? `(${col} >= ${d.timestamp(whole.from)} AND ${col} < ${d.timestamp(whole.to)}` +
        whole.split.map((b) => ` AND NOT (${col} >= ${d.timestamp(b)} AND ${col} < ${d.timestamp(b + BUCKET_MS)})`).join('') +
        ')'
      : 'false';
  const dims = (a: string) => `${a}.agent, ${a}.agent_version, ${a}.status, ${a}.channel, ${a}.environment, ${a}.service, ${a}.conversation_id, ${a}.user_id`;
  const branches: string[] = [];

  // Stored sums of calls: every bucket without a range; else the whole buckets inside it.
  if (!scope.perCall) {
    const where = [`u.tenant = ${tenant}`, ...common('u.run_id'), ...runStart('u.run_start'), ...finished('u.status')];
    if (scope.range) where.push(inWhole('u.bucket'));
    branches.push(`SELECT u.bucket AS t, u.run_id, ${dims('u')}, u.model, u.response_model, u.provider, u.run_level, ${USAGE_SUMS}
      FROM usage_v u WHERE ${where.join(' AND ')} AND ${usageConditions(filters, p, 'u')}`);
  }
  // Calls one by one where bucket rows cannot serve: the range's partial buckets, split buckets, or all.
  if (scope.range && (scope.perCall || whole)) {
    const notWhole = (col: string) => `NOT ${inWhole(col)}`;
    // The same calls as inRange AND notWhole, as one branch per plain time range (the range's
    // partial buckets at each end, each split bucket): a range the engine can skip storage blocks
    // by, where a NOT of the whole buckets, or an OR of ranges, makes it read every block.
    const r = scope.range;
    const between = (from: number, to: number, toInclusive: boolean) => (col: string) =>
      [`${col} >= ${d.timestamp(from)}`, `${col} ${toInclusive ? '<=' : '<'} ${d.timestamp(to)}`];
    const parts =
      !whole || whole.from >= whole.to
        ? [between(r.from, r.to, true)]
        : [
            ...(r.from < whole.from ? [between(r.from, whole.from, false)] : []),
            ...(whole.to <= r.to ? [between(whole.to, r.to, true)] : []),
            ...whole.split.map((b) => between(b, b + BUCKET_MS, false)),
          ];
    for (const part of parts) {
      const steps = [`s.tenant = ${tenant}`, `s.role = 'llm'`, USAGE_PREDICATE('s'), ...inRange('s.start_time'), ...part('s.start_time'), ...stepConditions(filters, p), ...common('s.run_id'), ...runStart('s.run_start'), ...finished('s.run_status')];
      branches.push(`SELECT s.start_time AS t, s.run_id, s.run_agent AS agent, s.run_agent_version AS agent_version, s.run_status AS status,
        s.run_channel AS channel, s.run_environment AS environment, s.run_service AS service,
        s.run_conversation_id AS conversation_id, s.run_user_id AS user_id, s.model, s.response_model, s.provider, false AS run_level,
        ${callUsageColumnsSql('s')}
      FROM steps_v s WHERE ${steps.join(' AND ')}`);
    }
    // A run's own totals count at the run's start.
    const runs = [`u.tenant = ${tenant}`, 'u.run_level', ...inRange('u.run_start'), notWhole('u.bucket'), ...common('u.run_id'), ...runStart('u.run_start'), ...finished('u.status')];
    branches.push(`SELECT u.run_start AS t, u.run_id, ${dims('u')}, u.model, u.response_model, u.provider, u.run_level, ${USAGE_SUMS}
      FROM usage_v u WHERE ${runs.join(' AND ')} AND ${usageConditions(filters, p, 'u')}`);
  }
  return branches.join('\n      UNION ALL ');
}

const namesRead = new WeakMap<Store, Map<string, { generation: number; names: Promise<Row[]> }>>();

/**
 * The model (k = 0) and response model (k = 1) names of the tenant's usage rows. Every LLM panel
 * of a dashboard needs them (8 distinct queries on the LLM usage dashboard, 10-15 ms each over
 * 825,000 usage rows at 10 million spans): read once while the store reports no write since
 * (writeGeneration, as query/shared-answers.ts), so they are never older than the data. A store
 * written by other processes too (no writeGeneration) is asked every time.
 */
function usageModelNames(env: QueryEnv): Promise<Row[]> {
  const read = () =>
    env.store.read(
      `SELECT 0 AS k, model AS v FROM usage_v WHERE tenant = $1 GROUP BY model
       UNION ALL SELECT 1 AS k, response_model AS v FROM usage_v WHERE tenant = $1 GROUP BY response_model`,
      [env.tenant],
    );
  const generation = env.store.writeGeneration?.();
  if (generation === undefined) return read();
  let byTenant = namesRead.get(env.store);
  if (!byTenant) namesRead.set(env.store, (byTenant = new Map()));
  const known = byTenant.get(env.tenant);
  if (known && known.generation === generation) return known.names;
  const entry = { generation, names: read() };
  byTenant.set(env.tenant, entry);
  // A failed read is not kept: the next query asks again.
  entry.names.catch(() => {
    if (byTenant!.get(env.tenant) === entry) byTenant!.delete(env.tenant);
  });
  return entry.names;
}

/**
 * The llm_usage relation for a scope, its parameters added to `p`. Prices are resolved for every
 * pairing of a model and a response model the tenant's usage rows hold: two one-column DISTINCTs
 * (about 10 ms over 825,000 rows, where the DISTINCT of the pairs takes 20 and a first pass over
 * the scope's sums 70); pricing a pair that does not occur changes nothing, as the relation is
 * joined on both. Only when some pairing has no price does a second query count the scope's calls
 * of those pairs that lack a reported cost, for the notice; with every pairing priced there are none.
 */
export async function pricedUsage(env: QueryEnv, p: Params, scope: UsageScope): Promise<PricedUsage> {
  const pricing = pricingOf(env);
  const names = await usageModelNames(env);
  const models = names.filter((r) => Number(r.k) === 0).map((r) => String(r.v ?? ''));
  const responseModels = names.filter((r) => Number(r.k) === 1).map((r) => String(r.v ?? ''));
  const resolved: ResolvedPrice[] = [];
  const missing: { model: string; responseModel: string }[] = [];
  for (const model of models) {
    for (const responseModel of responseModels) {
      const price = lookupPrice(pricing.table, model, responseModel);
      if (price) resolved.push({ model, responseModel, price });
      else missing.push({ model, responseModel });
    }
  }
  const unpriced = new Map<string, number>();
  if (missing.length) {
    const pp = new Params(env.dialect);
    const rows = await env.store.read(
      `WITH usage_rows AS (${usageRowsSql(env, pp, scope)})
       SELECT model, sum(calls - reported_calls) AS unreported FROM usage_rows
       WHERE ${missing.map((m) => `(model = ${pp.add(m.model)} AND response_model = ${pp.add(m.responseModel)})`).join(' OR ')}
       GROUP BY model`,
      pp.values,
    );
    for (const row of rows) if (Number(row.unreported) > 0) unpriced.set(String(row.model ?? ''), Number(row.unreported));
  }
  return {
    ctes: ctesOf(env, p, scope, resolved),
    unpriced: [...unpriced].map(([model, calls]) => ({ model, calls })).sort((a, b) => b.calls - a.calls || a.model.localeCompare(b.model)),
    pricing,
    resolved,
  };
}

/**
 * The CTEs of pricedUsage for another scope, with the prices an earlier pricedUsage resolved: a
 * consumer that reads part of its calls a second way (costPerConversation) prices them alike
 * without asking for the stored models again.
 */
export function pricedUsageCtes(env: QueryEnv, p: Params, scope: UsageScope, like: PricedUsage): string {
  return ctesOf(env, p, scope, like.resolved);
}

function ctesOf(env: QueryEnv, p: Params, scope: UsageScope, resolved: ResolvedPrice[]): string {
  const cost = usageCostSql('u', 'mp');
  return `usage_rows AS (${usageRowsSql(env, p, scope)}),
    model_prices AS (${modelPricesSql(resolved, env.dialect)}),
    llm_usage AS (
      SELECT u.t, u.run_id, u.agent, u.agent_version, u.status, u.channel, u.environment, u.service, u.conversation_id, u.user_id,
        u.model, u.response_model, u.provider, u.run_level, u.calls, u.input_tokens, u.output_tokens, u.cached_tokens,
        u.cache_write_tokens, u.reasoning_tokens, u.total_tokens, u.reported_calls, ${cost.cost} AS cost_usd, ${cost.costedCalls} AS costed_calls
      FROM usage_rows u LEFT JOIN model_prices mp ON mp.model = u.model AND mp.response_model = u.response_model
    )`;
}

/**
 * llm_usage summed per t (and the given columns of it) as a relation with the same column names:
 * what consumers key by time, so that the key (a time zone conversion) is computed once per
 * bucket, not once per row. The usage rows are summed per t, those columns, model and response
 * model before prices are joined and cost computed: a price multiplies token sums (usageCostSql),
 * so a sum of rows costs what its rows cost, and the join and the cost are computed for some
 * thousands of sums instead of every row (825,000 over 30 days at 10 million spans).
 */
export function usageByTime(extra: string[] = [], timeKey?: (t: string) => string): string {
  // Calls read one by one each have their own t: a cheap key of it (epoch arithmetic) groups them
  // instead, or the first sum would have a row per call (24 hours of calls by minute at 10 million
  // spans: a 40 ms hash grouping of ~100,000 rows instead of a few thousand).
  return usageBy(['t', ...extra], timeKey ? { t: timeKey('r.t') } : {});
}

/**
 * llm_usage summed per the given columns (of llm_usage), priced per sum as usageByTime explains;
 * `exprs` replaces a column by an expression of the row r (named as the column) before summing.
 */
export function usageBy(columns: string[], exprs: Record<string, string> = {}): string {
  const keys = [...new Set(columns)];
  const inner = [...new Set([...keys, 'model', 'response_model'])];
  const innerExpr = (c: string) => exprs[c] ?? `r.${c}`;
  const cost = usageCostSql('g', 'mp');
  const sums = ['calls', 'input_tokens', 'output_tokens', 'cached_tokens', 'cache_write_tokens', 'reasoning_tokens', 'total_tokens', 'reported_calls', 'reported_cost', 'priced_calls', 'billable_input', 'priced_cached', 'priced_cache_write', 'priced_output'];
  return `(SELECT ${keys.map((c) => `g.${c}`).join(', ')}, sum(g.calls) AS calls, sum(g.input_tokens) AS input_tokens,
      sum(g.output_tokens) AS output_tokens, sum(g.cached_tokens) AS cached_tokens, sum(g.reasoning_tokens) AS reasoning_tokens,
      sum(g.total_tokens) AS total_tokens, sum(${cost.cost}) AS cost_usd, sum(${cost.costedCalls}) AS costed_calls
    FROM (SELECT ${inner.map((c) => `${innerExpr(c)} AS ${c}`).join(', ')}, ${sums.map((c) => `sum(r.${c}) AS ${c}`).join(', ')}
      FROM usage_rows r GROUP BY ${inner.map(innerExpr).join(', ')}) g
    LEFT JOIN model_prices mp ON mp.model = g.model AND mp.response_model = g.response_model
    GROUP BY ${keys.map((c) => `g.${c}`).join(', ')})`;
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
export async function runCosts(env: QueryEnv, runIds: string[], runStart?: { from: number; to: number }): Promise<Map<string, { cost: number | null; stepReported: boolean }>> {
  const out = new Map<string, { cost: number | null; stepReported: boolean }>();
  if (!runIds.length) return out;
  const p = new Params(env.dialect);
  const usage = await pricedUsage(env, p, { filters: {}, runIds, runStart });
  const rows = await env.store.read(
    `WITH ${usage.ctes}
     SELECT run_id, sum(calls) AS calls, sum(costed_calls) AS costed, sum(cost_usd) AS cost,
       sum(CASE WHEN NOT run_level THEN reported_calls ELSE 0 END) AS steps_reported
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
  // The runs' starts bound their usage rows' run_start: the engine reads only those blocks.
  const starts = rows.map((r) => Number(r.start_ms)).filter((t) => Number.isFinite(t));
  const runStart = starts.length === rows.length && starts.length ? { from: Math.min(...starts) - 1, to: Math.max(...starts) + 1 } : undefined;
  const costs = await runCosts(env, rows.map((r) => String(r.run_id)), runStart);
  for (const r of rows) {
    const c = costs.get(String(r.run_id));
    if (!c) continue; // no LLM call: the stored cost stands
    const rootReported = r.cost !== null && r.cost !== undefined && !c.stepReported;
    if (!rootReported) (r as Record<string, unknown>).cost = c.cost;
  }
  return rows;
}
