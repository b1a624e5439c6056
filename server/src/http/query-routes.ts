/** The Grafana-facing query API (read scope): frames for every panel. */
import { FastifyInstance } from 'fastify';
import { runQueries } from '../query/engine';
import { AppDeps, Authorize } from './app';
import { HttpError } from './errors';
import { jsonBody } from './json-body';

const MAX_QUERIES = 100;

export function registerQueryRoutes(app: FastifyInstance, deps: AppDeps, authorize: Authorize): void {
  app.post('/api/v1/query', async (req) => {
    const principal = await authorize(req, 'read');
    const body = (await jsonBody(req, deps.config.maxBodyBytes)) as { queries?: unknown };
    if (typeof body !== 'object' || body === null || !Array.isArray(body.queries)) {
      throw new HttpError(400, 'body must be {"queries": [...]}, each query with refId, queryType, timeRange {from, to} and its options');
    }
    if (body.queries.length > MAX_QUERIES) throw new HttpError(400, `at most ${MAX_QUERIES} queries per request, got ${body.queries.length}`);
    const items = body.queries.map((q) => (typeof q === 'object' && q !== null ? q : {}));
    return runQueries(deps.store, principal.tenant, items as never, Date.now(), deps.pricing);
  });
}
