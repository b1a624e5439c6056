/**
 * POST /api/v1/query: each query validated and run on its own. The answer has the JSON shape of
 * the Go SDK's backend.QueryDataResponse, so the plugin backend passes it through unchanged:
 * {"results": {refId: {"status", "frames"} | {"status", "error", "errorSource"}}}.
 * An error of one query is that query's answer, never a failed request: a fault of the query
 * (the user's) is status 400 with errorSource "plugin"; a storage failure is 500 "downstream".
 */
import { parseQuery, ValidationError } from '@agent-insights/model';
import { Pricing } from '../pricing';
import { Store } from '../store/store';
import { BUCKETED_QUERY_TYPES, CAPABILITIES } from './capabilities';
import { QueryEnv, QueryError } from './context';
import { dialectOf } from './dialect';
import { FrameJson } from './frame';
import { SharedAnswers } from './shared-answers';

/** One set of shared answers per store, so two servers (or tests) in one process never mix. */
const shared = new WeakMap<Store, SharedAnswers>();
/** Answers depend on the price table too: each Pricing object gets its own key prefix. */
const pricingIds = new WeakMap<Pricing, number>();
let nextPricingId = 1;

function pricingKey(pricing: Pricing | undefined): string {
  if (!pricing) return 'default';
  let id = pricingIds.get(pricing);
  if (id === undefined) pricingIds.set(pricing, (id = nextPricingId++));
  return String(id);
}

export interface DataResponseJson {
  status: number;
  frames?: FrameJson[];
  error?: string;
  errorSource?: 'plugin' | 'downstream';
}

export interface QueryResponseJson {
  results: Record<string, DataResponseJson>;
}

/** One query of a request: the query model's fields plus its own range, interval and time zone. */
export interface QueryRequestItem {
  refId?: string;
  timeRange?: { from: number | string; to: number | string };
  intervalMs?: number;
  maxDataPoints?: number;
  timezone?: string;
  weekStart?: string;
  [key: string]: unknown;
}

function epochMs(v: number | string | undefined, name: string): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && /^\d+$/.test(v)) return Number(v);
  if (typeof v === 'string' && !Number.isNaN(Date.parse(v))) return Date.parse(v);
  throw new ValidationError(`timeRange.${name}`, `must be epoch milliseconds or an ISO 8601 time, got ${JSON.stringify(v)}`);
}

export async function runQueries(store: Store, tenant: string, items: QueryRequestItem[], nowMs = Date.now(), pricing?: Pricing): Promise<QueryResponseJson> {
  // The SQL dialect follows the store's engine: one SQL text per capability serves both.
  const env: QueryEnv = { store, dialect: dialectOf(store.engine), tenant, nowMs, pricing };
  const results: Record<string, DataResponseJson> = {};
  let answers = shared.get(store);
  if (!answers) shared.set(store, (answers = new SharedAnswers()));
  const sharedAnswers = answers;
  await Promise.all(
    items.map(async (item, i) => {
      const refId = typeof item.refId === 'string' && item.refId ? item.refId : String.fromCharCode(65 + (i % 26));
      try {
        if (!item.timeRange) throw new ValidationError('timeRange', 'is required ({from, to} in epoch milliseconds)');
        const q = parseQuery({ ...item, refId }, {
          range: { from: epochMs(item.timeRange.from, 'from'), to: epochMs(item.timeRange.to, 'to') },
          intervalMs: item.intervalMs,
          maxDataPoints: item.maxDataPoints,
          timezone: item.timezone,
          weekStart: item.weekStart,
        });
        const capability = CAPABILITIES[q.queryType];
        if (!capability) throw new QueryError(`query type ${q.queryType} is not available on this server yet`);
        // Identical queries (panels of one dashboard asking the same thing) are answered once; the
        // interval and max data points (a panel's width) only make a difference to time series.
        const { refId: _refId, intervalMs, maxDataPoints, ...rest } = q;
        const asked = BUCKETED_QUERY_TYPES.has(q.queryType) ? { ...rest, intervalMs, maxDataPoints } : rest;
        const key = JSON.stringify([tenant, pricingKey(pricing), asked]);
        const frames = await sharedAnswers.answer(store, key, nowMs, () => capability(q, env));
        for (const f of frames) f.schema.refId = refId;
        results[refId] = { status: 200, frames };
      } catch (e) {
        const userFault = e instanceof ValidationError || e instanceof QueryError;
        results[refId] = userFault
          ? { status: 400, error: (e as Error).message, errorSource: 'plugin' }
          : { status: 500, error: `storage failed: ${(e as Error).message}`, errorSource: 'downstream' };
      }
    }),
  );
  return { results };
}
