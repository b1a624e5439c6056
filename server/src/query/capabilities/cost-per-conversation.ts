/**
 * Cost per conversation, by agent, highest average first, so the least cost-efficient agents lead.
 * Conversations are those of the agent's finished runs (completed, failed, timed out) that start in
 * the range; running runs are left out as their cost is not final. A run without a conversation id
 * is a conversation of its own (a one-shot interaction), so agents that never set one are compared
 * per run rather than dropped. A conversation with runs of several agents counts for each, with
 * each agent's share of its cost. A run's cost is the sum over its LLM calls (llm_usage,
 * llm-usage.ts; zero without any).
 *
 * Two ways to the same figures:
 * - From usage (any store, any filter): usage rows summed per run, joined to the runs in range,
 *   grouped by conversation. Over 30 days at 10 million spans that is 825,000 rows hashed by run
 *   and 647,000 runs by conversation: ~500 ms of CPU.
 * - From conversation_costs (DuckDB, store/duckdb/conversation-costs.ts), when the store keeps it
 *   for the query's prices and the query filters by nothing but agent: a conversation whose runs
 *   all lie in the range and all finished as stored is one stored row; the others (runs outside
 *   the range, or a run still running as stored, which runs_v may read as timed out by now) are
 *   computed from usage as above, only those.
 */
import { Capability, QueryEnv } from '../context';
import { field, frame, FrameJson } from '../frame';
import { Params, runConditions } from '../filters-sql';
import { ResolvedQuery } from '@agent-insights/model';
import { pricesFingerprint } from '../../pricing/fingerprint';
import { conversationKeySql } from '../../store/duckdb/conversation-costs';
import { PricedUsage, pricedUsage, pricedUsageCtes, pricesMeta, pricingOf, withUnpricedNotice } from './llm-usage';

const KEY = conversationKeySql('r');

/** The per-agent figures of a relation `conversations` (agent, runs, cost), highest average first. */
const SUMMARY = `SELECT agent, count(*) AS conversations, sum(runs) AS runs, sum(cost) AS total, avg(cost) AS avg_cost,
       min(cost) AS min_cost, max(cost) AS max_cost
     FROM conversations GROUP BY agent
     ORDER BY avg_cost DESC, agent`;

function storedCostsServe(q: ResolvedQuery, env: QueryEnv): boolean {
  const prices = env.store.conversationCostPrices;
  if (typeof prices !== 'string' || prices !== pricesFingerprint(pricingOf(env).table)) return false;
  // A stored row is a whole conversation of one agent: no other filter can select part of it.
  return Object.entries(q.filters).every(([dim, values]) => dim === 'agent' || !values?.length);
}

/** Finished runs in the range matching the filters (runs_v r), its parameters added to p. */
function runsIn(q: ResolvedQuery, env: QueryEnv, p: Params): string {
  const d = env.dialect;
  const tenant = p.add(env.tenant);
  return [
    `r.tenant = ${tenant}`,
    `r.status IN ('completed', 'failed', 'timed_out')`,
    `r.start_time >= ${d.timestamp(q.range.from)}`,
    `r.start_time <= ${d.timestamp(q.range.to)}`,
    ...runConditions(q.filters, p, tenant),
  ].join(' AND ');
}

export const costPerConversation: Capability = async (q, env) => {
  const p = new Params(env.dialect);
  // The runs' calls: by the usage rows' own run start, status and run dimensions (storage blocks
  // outside the range are skipped), unless a step dimension filters, which selects runs by their
  // trace's spans (runConditions), not calls by their own model.
  const byStep = (['tool', 'model', 'provider'] as const).some((dim) => q.filters[dim]?.length);
  const usage = await pricedUsage(
    env,
    p,
    byStep
      ? { filters: q.filters, runFilter: (pp, col) => `${col} IN (SELECT r.run_id FROM runs_v r WHERE ${runsIn(q, env, pp)})` }
      : { filters: q.filters, runStart: q.range, finishedRuns: true },
  );
  // (The stored path writes its own SQL with its own parameters: usage.ctes is not part of it.)
  const [sql, values] = (storedCostsServe(q, env) ? await fromStored(q, env, usage) : null) ?? [
        `WITH ${usage.ctes},
     run_cost AS (SELECT run_id, sum(cost_usd) AS cost FROM llm_usage GROUP BY run_id),
     conversations AS (
       SELECT r.agent, ${KEY} AS conversation, count(*) AS runs, sum(coalesce(rc.cost, 0)) AS cost
       FROM runs_v r LEFT JOIN run_cost rc ON rc.run_id = r.run_id
       WHERE ${runsIn(q, env, p)}
       GROUP BY r.agent, conversation)
     ${SUMMARY}`,
        p.values,
      ];
  const rows = await env.store.read(sql, values);
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

/**
 * The SQL over conversation_costs (its parameters added to p). A stored conversation whose runs
 * all start in the range is whole: its row stands for its runs before open_since, and those from
 * open_since on (a run stored as running, which may read as timed out by now, and any later) are
 * computed from runs_v and usage. A conversation with runs outside the range is computed from them
 * whole. A first read of the stored rows gives how far back those runs go, so that the runs and
 * usage rows read are bounded by time (the tables are in time order): over 30 days at 10 million
 * spans, the few conversations with a run still running, started minutes ago.
 */
async function fromStored(q: ResolvedQuery, env: QueryEnv, usage: PricedUsage): Promise<[string, unknown[]] | null> {
  const d = env.dialect;
  const p = new Params(env.dialect);
  const stored = (pp: Params): string => {
    const from = d.timestamp(q.range.from);
    const to = d.timestamp(q.range.to);
    const agents = q.filters.agent?.length ? ` AND ${pp.in(q.filters.agent, 'c.agent')}` : '';
    return `SELECT c.agent, c.conversation, c.open_since, c.runs, c.cost, (c.first_start >= ${from} AND c.last_start <= ${to}) AS whole
      FROM conversation_costs c
      WHERE c.tenant = ${pp.add(env.tenant)} AND c.first_start <= ${to} AND c.last_start >= ${from}${agents}`;
  };
  const sp = new Params(env.dialect);
  const [bounds] = await env.store.read(
    `SELECT count(*) FILTER (WHERE NOT whole) AS crossing, count(*) FILTER (WHERE whole) AS whole,
       epoch_ms(min(open_since) FILTER (WHERE whole)) AS open_from FROM (${stored(sp)}) s`,
    sp.values,
  );
  // More conversations to compute than stored ones to use (a week of conversations that run for
  // weeks: 73,672 against 46,758): the runs in range are read either way, and reading them once
  // from usage is cheaper (207 against 325 ms at 10 million spans).
  if (Number(bounds?.crossing ?? 0) > Number(bounds?.whole ?? 0)) return null;
  const crossing = Number(bounds?.crossing ?? 0) > 0;
  const openFrom = bounds?.open_from === null || bounds?.open_from === undefined ? null : Number(bounds.open_from);
  const whole = `SELECT agent, runs, cost FROM stored WHERE whole AND open_since IS NULL AND runs > 0`;
  if (!crossing && openFrom === null) return [`WITH stored AS (${stored(p)}), conversations AS (${whole}) ${SUMMARY}`, p.values];
  // Runs from here on are read (ms, rounded down: the per-conversation bound is exact).
  const since = { from: crossing ? q.range.from : Math.max(q.range.from, Math.floor(openFrom!)), to: q.range.to };
  const sinceQuery = { ...q, range: since };
  const runsFrom = `SELECT r.run_id, r.agent, ${KEY} AS conversation
      FROM runs_v r JOIN (SELECT * FROM stored WHERE NOT whole OR open_since IS NOT NULL) k ON k.agent = r.agent AND k.conversation = ${KEY}
      WHERE (NOT k.whole OR (k.open_since IS NOT NULL AND r.start_time >= k.open_since)) AND ${runsIn(sinceQuery, env, p)}`;
  const storedSql = stored(p);
  const ctes = pricedUsageCtes(
    env,
    p,
    { filters: q.filters, runStart: since, finishedRuns: true, runFilter: (pp, col) => `${col} IN (SELECT run_id FROM read_runs)` },
    usage,
  );
  const sql = `WITH stored AS (${storedSql}),
       read_runs AS (${runsFrom}),
       ${ctes},
       run_cost AS (SELECT run_id, sum(cost_usd) AS cost FROM llm_usage GROUP BY run_id),
       conversations AS (
         ${whole}
         UNION ALL
         SELECT agent, sum(runs) AS runs, sum(cost) AS cost FROM (
           SELECT agent, conversation, runs, cost FROM stored WHERE whole AND open_since IS NOT NULL
           UNION ALL
           SELECT rr.agent, rr.conversation, count(*) AS runs, sum(coalesce(rc.cost, 0)) AS cost
           FROM read_runs rr LEFT JOIN run_cost rc ON rc.run_id = rr.run_id
           GROUP BY rr.agent, rr.conversation) parts
         GROUP BY agent, conversation
         HAVING sum(runs) > 0)
     ${SUMMARY}`;
  return [sql, p.values];
}
