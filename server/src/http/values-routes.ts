/**
 * Values for dashboard variables and ad hoc filters (read scope), what the plugin's CallResource
 * asks for:
 *   GET /api/v1/values                → {"keys": [{"key": "agent", "label": "Agent"}, ...]}
 *   GET /api/v1/values/:dimension?from=&to=&agent=a&agent=b&limit=
 *                                     → {"values": ["...", ...]} sorted, distinct
 * from and to are epoch milliseconds or ISO 8601 times; the other filters are given as repeated
 * dimension parameters or as filters=<JSON object of dimension to values>.
 */
import { DIMENSIONS, Filters, parseFilters, ValidationError } from '@agent-insights/model';
import { FastifyInstance } from 'fastify';
import { dialectOf } from '../query/dialect';
import { adHocKeys, DEFAULT_VALUES_LIMIT, dimensionValues, isDimension, MAX_VALUES_LIMIT } from '../query/values';
import { AppDeps, Authorize } from './app';
import { HttpError } from './errors';

/**
 * Filters from a query string: dimension parameters (agent=a&agent=b) and/or filters=<JSON>,
 * validated by the query model; any other parameter not in `reserved` is an error naming the
 * allowed ones.
 */
export function filtersFromQueryString(q: Record<string, unknown>, reserved: readonly string[]): Filters {
  const merged: Record<string, unknown[]> = {};
  const add = (key: string, v: unknown): void => {
    (merged[key] ??= []).push(...(Array.isArray(v) ? v : [v]));
  };
  if (q.filters !== undefined && q.filters !== '') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(String(q.filters));
    } catch {
      throw new HttpError(400, `filters must be a JSON object of dimension to list of values, got ${JSON.stringify(String(q.filters))}`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new HttpError(400, 'filters must be a JSON object of dimension to list of values');
    for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) add(k, v ?? []);
  }
  for (const [k, v] of Object.entries(q)) {
    if (k === 'filters' || reserved.includes(k)) continue;
    if (!(DIMENSIONS as readonly string[]).includes(k)) {
      throw new HttpError(400, `unknown parameter "${k}"; allowed: ${[...reserved, 'filters', ...DIMENSIONS].join(', ')}`);
    }
    add(k, v);
  }
  try {
    return parseFilters(merged);
  } catch (e) {
    if (e instanceof ValidationError) throw new HttpError(400, e.message);
    throw e;
  }
}

/** An epoch-ms or ISO 8601 time parameter, or undefined when absent. */
export function timeParam(v: unknown, name: string): number | undefined {
  if (v === undefined || v === '') return undefined;
  const s = String(v);
  const ms = /^\d+$/.test(s) ? Number(s) : Date.parse(s);
  if (!Number.isFinite(ms)) throw new HttpError(400, `${name} must be epoch milliseconds or an ISO 8601 time, got "${s}"`);
  return ms;
}

/** An integer parameter in [min, max], or the fallback when absent. */
export function intParam(v: unknown, name: string, min: number, max: number, fallback: number): number {
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new HttpError(400, `${name} must be an integer from ${min} to ${max}, got "${String(v)}"`);
  return n;
}

export function registerValuesRoutes(app: FastifyInstance, deps: AppDeps, authorize: Authorize): void {
  app.get('/api/v1/values', async (req) => {
    await authorize(req, 'read');
    return { keys: adHocKeys() };
  });

  app.get('/api/v1/values/:dimension', async (req) => {
    const principal = await authorize(req, 'read');
    const dimension = (req.params as { dimension: string }).dimension;
    if (!isDimension(dimension)) throw new HttpError(400, `unknown dimension "${dimension}"; allowed: ${DIMENSIONS.join(', ')}`);
    const q = req.query as Record<string, unknown>;
    const from = timeParam(q.from, 'from');
    const to = timeParam(q.to, 'to');
    if (from !== undefined && to !== undefined && from > to) throw new HttpError(400, `from must be a time before to, got ${from} .. ${to}`);
    const filters = filtersFromQueryString(q, ['from', 'to', 'limit']);
    const limit = intParam(q.limit, 'limit', 1, MAX_VALUES_LIMIT, DEFAULT_VALUES_LIMIT);
    const env = { store: deps.store, dialect: dialectOf(deps.store.engine), tenant: principal.tenant, nowMs: Date.now() };
    return { values: await dimensionValues(env, dimension, { from, to, filters, limit }) };
  });
}
