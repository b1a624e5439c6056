/**
 * Cost per conversation kept per conversation (DuckDB): what costPerConversation reads over long
 * ranges instead of grouping every usage row by run and every run by conversation (647,000 runs in
 * 305,000 conversations over 30 days at 10 million spans: ~500 ms of hashing per query).
 *
 * conversation_costs: per tenant, agent and conversation key (the conversation id, or 'run:' and
 * the run id for a run without one; conversationKeySql): the first and last start of all its runs,
 * which tell whether a time range holds the whole conversation; open_since, the start of its first
 * run stored with a status other than finished (running: runs_v reads it as timed out once the
 * deadline has passed, so such runs are left to the query), NULL when none; and the finished runs
 * (completed, failed, timed_out as stored) that start before open_since (all of them without one)
 * with their cost. The cost is that of the query: per run the sum of its usage rows' costs
 * (reported, else tokens x prices; usageCostSql), per conversation the sum of its runs' costs, a
 * run without any counting 0.
 *
 * Prices: the cost is computed with the server's price table, whose fingerprint
 * (pricing/fingerprint.ts) is stored beside it; a store opened with other prices computes the
 * table again, and a query asked with other prices than the store's does not use it.
 *
 * Exact under late spans: the rows of a conversation are a function of its runs and usage rows,
 * and every write that changes runs (a trace derived again, deletion, retention) computes the rows
 * of the conversations it touched again from them, in the same transaction. Nothing is patched by
 * deltas. A conversation's runs may lie in many traces and weeks apart: computing one again reads
 * runs and usage rows within the span of its stored first and last start and the touched runs'
 * starts, by conversation id, without reading run ids (rowsSql).
 */
import { DuckDBConnection, DuckDBValue, listValue } from '@duckdb/node-api';
import { UsageRow } from '../../domain';
import { defaultPricing, lookupPrice, Pricing } from '../../pricing';
import { pricesFingerprint } from '../../pricing/fingerprint';
import { modelPricesSql, ResolvedPrice, usageCostSql } from '../../pricing/sql';
import { dialectOf } from '../../query/dialect';

/** The tables as migration 6 created them: never change this; a new migration alters them. */
export const CONVERSATION_COSTS_DDL = [
  `CREATE TABLE conversation_costs (
    tenant VARCHAR NOT NULL,
    agent VARCHAR NOT NULL,
    conversation VARCHAR NOT NULL,
    first_start TIMESTAMP NOT NULL,
    last_start TIMESTAMP NOT NULL,
    open_since TIMESTAMP,
    runs INTEGER NOT NULL,
    cost DOUBLE NOT NULL
  )`,
  'CREATE TABLE conversation_cost_prices (prices VARCHAR NOT NULL)',
];

/** The conversation a run (alias a: conversation_id, run_id) counts in: its id, or the run alone. */
export const conversationKeySql = (a: string): string => `CASE WHEN ${a}.conversation_id = '' THEN 'run:' || ${a}.run_id ELSE ${a}.conversation_id END`;

const FINISHED = `('completed', 'failed', 'timed_out')`;

/** A run (its status and start) finished as stored and started before its conversation's open_since (c). */
const before = (status: string, start: string) => `${status} IN ${FINISHED} AND (c.open_since IS NULL OR ${start} < c.open_since)`;

/** Runs (on runs r) as the rows below read them: tenant, agent, conversation, status, start_time. */
const runsOf = (where: string, key: string): string =>
  `SELECT r.tenant, r.agent, ${key} AS conversation, r.status, r.start_time FROM runs r WHERE ${where}`;

/** Usage rows (on usage u) with their run's agent, conversation, status and start, as a usage row carries them. */
const usageOf = (where: string, key: string): string =>
  `SELECT u.tenant, u.agent, ${key} AS conversation, u.status, u.run_start, u.model, u.response_model, u.reported_calls,
      u.priced_calls, u.reported_cost, u.billable_input, u.priced_cached, u.priced_cache_write, u.priced_output
    FROM usage u WHERE ${where}`;

/**
 * The rows of the conversations of the runs `runs` (a runsOf query) and their usage rows `usage`
 * (a usageOf query, of the same conversations). A usage row carries its run's agent, conversation,
 * status and start (derive/steps-usage.ts, written with its run in the same commit), so the cost
 * of the finished runs before open_since is the sum of their usage rows' costs (a run without any
 * counting 0), summed per conversation without reading run ids: a run id is the widest column of
 * both tables, and reading it for every row doubled the cost of recomputing a few conversations.
 */
function rowsSql(prices: ResolvedPrice[], runs: string, usage: string): string {
  const { cost } = usageCostSql('u', 'mp');
  return `WITH model_prices AS (${modelPricesSql(prices, dialectOf('duckdb'))}),
    conv_runs AS MATERIALIZED (${runs}),
    conversations AS (
      SELECT tenant, agent, conversation, min(start_time) AS first_start, max(start_time) AS last_start,
        min(start_time) FILTER (WHERE status NOT IN ${FINISHED}) AS open_since
      FROM conv_runs GROUP BY tenant, agent, conversation),
    counted AS (
      SELECT c.tenant, c.agent, c.conversation, count(*) AS runs
      FROM conv_runs r JOIN conversations c ON c.tenant = r.tenant AND c.agent = r.agent AND c.conversation = r.conversation
      WHERE ${before('r.status', 'r.start_time')}
      GROUP BY c.tenant, c.agent, c.conversation),
    costs AS (
      SELECT c.tenant, c.agent, c.conversation, sum(${cost}) AS cost
      FROM (${usage}) u JOIN conversations c ON c.tenant = u.tenant AND c.agent = u.agent AND c.conversation = u.conversation
        LEFT JOIN model_prices mp ON mp.model = u.model AND mp.response_model = u.response_model
      WHERE ${before('u.status', 'u.run_start')}
      GROUP BY c.tenant, c.agent, c.conversation)
    SELECT c.tenant, c.agent, c.conversation, c.first_start, c.last_start, c.open_since,
      coalesce(n.runs, 0)::INTEGER, coalesce(k.cost, 0)
    FROM conversations c
      LEFT JOIN counted n ON n.tenant = c.tenant AND n.agent = c.agent AND n.conversation = c.conversation
      LEFT JOIN costs k ON k.tenant = c.tenant AND k.agent = c.agent AND k.conversation = c.conversation`;
}

/** Conversation keys touched by changed runs, per tenant, and the starts (µs) of those runs. */
export class TouchedConversations {
  private readonly byTenant = new Map<string, { keys: Set<string>; lo: number; hi: number }>();

  add(tenant: string, conversationId: string, runId: string, startUs: number): void {
    let t = this.byTenant.get(tenant);
    if (!t) this.byTenant.set(tenant, (t = { keys: new Set(), lo: Infinity, hi: -Infinity }));
    t.keys.add(conversationId === '' ? `run:${runId}` : conversationId);
    t.lo = Math.min(t.lo, startUs);
    t.hi = Math.max(t.hi, startUs);
  }

  /** Rows (tenant, conversation_id, run_id, start_us) as a DELETE ... RETURNING of runs gives them. */
  addDeleted(rows: Record<string, unknown>[]): void {
    for (const r of rows) this.add(String(r.tenant), String(r.conversation_id), String(r.run_id), Number(r.start_us));
  }

  entries(): [string, { keys: string[]; lo: number; hi: number }][] {
    return [...this.byTenant].map(([tenant, t]) => [tenant, { keys: [...t.keys], lo: t.lo, hi: t.hi }]);
  }
}

/** What a DELETE of runs returns for TouchedConversations.addDeleted. */
export const DELETED_RUNS_RETURNING = 'RETURNING tenant, conversation_id, run_id, epoch_us(start_time) AS start_us';

export class ConversationCosts {
  /** The fingerprint of the prices costs are computed with. */
  readonly prices: string;
  /** Every (model, response model) pair of the usage rows, with its price (null: none). */
  private readonly pairs = new Map<string, ResolvedPrice | null>();
  /** Set once the table is complete for these prices (after re-derivation and any rebuild). */
  private ready = false;

  constructor(private readonly pricing: Pricing = defaultPricing()) {
    this.prices = pricesFingerprint(pricing.table);
  }

  /** The fingerprint of the prices of a complete table, else null (queries then read usage). */
  pricesInUse(): string | null {
    return this.ready ? this.prices : null;
  }

  private note(model: string, responseModel: string): void {
    const key = `${model}\u0000${responseModel}`;
    if (this.pairs.has(key)) return;
    const price = lookupPrice(this.pricing.table, model, responseModel);
    this.pairs.set(key, price ? { model, responseModel, price } : null);
  }

  /** Notes the price pairs of new usage rows (before refresh). */
  noteUsage(rows: UsageRow[]): void {
    for (const u of rows) this.note(u.model, u.responseModel);
  }

  private resolved(): ResolvedPrice[] {
    return [...this.pairs.values()].filter((p): p is ResolvedPrice => p !== null);
  }

  /**
   * At open, after re-derivation (inside the caller's transaction): learns the stored price pairs
   * and computes the whole table when it is new or was computed with other prices. Returns the
   * number of conversations it computed (0 when the table was current or there are none).
   */
  async prepare(w: DuckDBConnection): Promise<number> {
    for (const r of (await w.runAndReadAll('SELECT DISTINCT model, response_model FROM usage')).getRowObjectsJS()) {
      this.note(String(r.model), String(r.response_model));
    }
    const stored = (await w.runAndReadAll('SELECT prices FROM conversation_cost_prices')).getRowObjectsJS();
    let computed = 0;
    if (!(stored.length === 1 && stored[0].prices === this.prices)) {
      await w.run('DELETE FROM conversation_costs');
      const res = await w.run(`INSERT INTO conversation_costs ${rowsSql(this.resolved(), runsOf('true', conversationKeySql('r')), usageOf('true', conversationKeySql('u')))} ORDER BY 1, 2, 3`);
      computed = Number(res.rowsChanged);
      await w.run('DELETE FROM conversation_cost_prices');
      await w.run('INSERT INTO conversation_cost_prices VALUES ($1)', [this.prices]);
    }
    this.ready = true;
    return computed;
  }

  /** Computes the rows of the touched conversations again (inside the caller's transaction). */
  async refresh(w: DuckDBConnection, touched: TouchedConversations): Promise<void> {
    if (!this.ready) return; // the whole table is computed at open, after re-derivation
    const prices = this.resolved();
    for (const [tenant, { keys, lo, hi }] of touched.entries()) {
      const runIds = keys.filter((k) => k.startsWith('run:')).map((k) => k.slice(4));
      // The stored rows go; their first and last starts bound the runs they were computed from.
      // Every run of a touched conversation is one of those or one of the touched runs, so runs and
      // usage rows are read within that window: the engine skips the storage blocks outside it (it
      // helps when conversations are short; in the benchmark dataset they span the month).
      const stored = (
        await w.runAndReadAll(
          `DELETE FROM conversation_costs WHERE tenant = $1 AND conversation IN (SELECT unnest($2::VARCHAR[]))
           RETURNING epoch_us(first_start) AS lo, epoch_us(last_start) AS hi`,
          [tenant, listValue(keys)],
        )
      ).getRowObjectsJS();
      const from = Math.floor(stored.reduce((m, r) => Math.min(m, Number(r.lo)), lo));
      const to = Math.ceil(stored.reduce((m, r) => Math.max(m, Number(r.hi)), hi));
      // (An empty list has no item type to bind: the run-id form is left out when no key has it.)
      const params: DuckDBValue[] = [tenant, listValue(keys), from, to, ...(runIds.length ? [listValue(runIds)] : [])];
      const within = (col: string) => `${col} BETWEEN make_timestamp($3::BIGINT) AND make_timestamp($4::BIGINT)`;
      // The key's two forms as plain column conditions, which read no concatenation per row, and run
      // ids only for runs without a conversation id, as a second branch.
      const named = (a: string) => `${a}.conversation_id <> '' AND ${a}.conversation_id IN (SELECT unnest($2::VARCHAR[]))`;
      const alone = (a: string) => `${a}.conversation_id = '' AND ${a}.run_id IN (SELECT unnest($5::VARCHAR[]))`;
      const both = (of: (where: string, key: string) => string, a: string, start: string) =>
        of(`${a}.tenant = $1 AND ${within(start)} AND ${named(a)}`, `${a}.conversation_id`) +
        (runIds.length ? ` UNION ALL ${of(`${a}.tenant = $1 AND ${within(start)} AND ${alone(a)}`, `'run:' || ${a}.run_id`)}` : '');
      await w.run(`INSERT INTO conversation_costs ${rowsSql(prices, both(runsOf, 'r', 'r.start_time'), both(usageOf, 'u', 'u.run_start'))}`, params);
    }
  }
}
