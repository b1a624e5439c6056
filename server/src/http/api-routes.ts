/**
 * The API for platforms and tools: native run events (ingest scope) and reading back runs,
 * their steps and sessions (read scope). The Grafana query API (frames) is built on the same store.
 */
import { FastifyInstance } from 'fastify';
import { RunRow, SessionRow } from '../domain';
import { RunFilter } from '../store/store';
import { loadRunSpans } from '../query/run-spans';
import { AppDeps, Authorize } from './app';
import { HttpError } from './errors';
import { jsonBody } from './json-body';

const MAX_EVENTS = 10_000;

function iso(us: number | null): string | null {
  return us === null ? null : new Date(us / 1000).toISOString();
}

/** A run as the API shows it: times as ISO strings, duration up to now while running. */
export function runView(r: RunRow, nowUs = Date.now() * 1000) {
  const { tenant: _tenant, startUs, endUs, ...rest } = r;
  return { ...rest, startTime: iso(startUs), endTime: iso(endUs), durationMs: ((endUs ?? nowUs) - startUs) / 1000 };
}

export function sessionView(s: SessionRow, nowUs = Date.now() * 1000) {
  const { tenant: _tenant, startUs, endUs, ...rest } = s;
  return { ...rest, startTime: iso(startUs), endTime: iso(endUs), durationMs: ((endUs ?? nowUs) - startUs) / 1000 };
}

function timeParam(v: unknown, name: string): number | undefined {
  if (v === undefined || v === '') return undefined;
  const s = String(v);
  const ms = /^\d+$/.test(s) ? Number(s) : Date.parse(s);
  if (!Number.isFinite(ms)) throw new HttpError(400, `${name} must be an ISO 8601 time or epoch milliseconds, got "${s}"`);
  return ms * 1000;
}

function filterOf(q: Record<string, unknown>): RunFilter {
  const limit = q.limit === undefined ? undefined : Number(q.limit);
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > 10000)) {
    throw new HttpError(400, `limit must be an integer from 1 to 10000, got "${String(q.limit)}"`);
  }
  return {
    fromUs: timeParam(q.from, 'from'),
    toUs: timeParam(q.to, 'to'),
    limit,
    runId: q.runId ? String(q.runId) : undefined,
    conversationId: q.conversationId ? String(q.conversationId) : undefined,
    userId: q.userId ? String(q.userId) : undefined,
  };
}

export function registerApiRoutes(app: FastifyInstance, deps: AppDeps, authorize: Authorize): void {
  const { config, store, pipeline } = deps;

  app.post('/api/v1/events', async (req, reply) => {
    const principal = await authorize(req, 'ingest');
    const body = await jsonBody(req, config.maxBodyBytes);
    const events = Array.isArray(body) ? body : typeof body === 'object' && body !== null && Array.isArray((body as { events?: unknown }).events) ? (body as { events: unknown[] }).events : [body];
    if (events.length > MAX_EVENTS) throw new HttpError(413, `at most ${MAX_EVENTS} events per request, got ${events.length}`);
    const outcome = await pipeline.native(principal.tenant, events);
    const status = outcome.errors.length === events.length && events.length > 0 ? 400 : 200;
    return reply.code(status).send({ accepted: events.length - outcome.errors.length, stored: outcome.stored, duplicates: outcome.duplicates, rejected: outcome.errors });
  });

  app.get('/api/v1/runs', async (req) => {
    const principal = await authorize(req, 'read');
    const runs = await store.listRuns(principal.tenant, filterOf(req.query as Record<string, unknown>), config.runTimeoutMinutes);
    return { runs: runs.map((r) => runView(r)) };
  });

  app.get('/api/v1/runs/:runId', async (req) => {
    const principal = await authorize(req, 'read');
    const runId = (req.params as { runId: string }).runId;
    const [run] = await store.listRuns(principal.tenant, { runId, limit: 1 }, config.runTimeoutMinutes);
    if (!run) throw new HttpError(404, `no run "${runId}" for this tenant`);
    // Which spans belong to the run is derivation's answer, the same as at ingest (and as the trace view's).
    const steps = (await loadRunSpans(store, principal.tenant, run)).map((x) => x.step);
    return { run: runView(run), steps: steps.map((s) => ({ ...s, startTime: iso(s.startUs), events: s.events.map((e) => ({ ...e, time: iso(e.timeUs) })) })) };
  });

  app.get('/api/v1/sessions', async (req) => {
    const principal = await authorize(req, 'read');
    const sessions = await store.listSessions(principal.tenant, filterOf(req.query as Record<string, unknown>));
    return { sessions: sessions.map((s) => sessionView(s)) };
  });

  app.get('/api/v1/stats', async (req) => {
    const principal = await authorize(req, 'read');
    return store.counts(principal.tenant);
  });

  app.get('/api/v1/health', async (req) => {
    const principal = await authorize(req, 'read');
    let storage = 'ok';
    try {
      await store.ping();
    } catch (e) {
      storage = `unreachable: ${(e as Error).message}`;
    }
    return { status: storage === 'ok' ? 'ok' : 'degraded', version: deps.version, storage: { engine: store.engine, status: storage }, tenant: principal.tenant, scopes: principal.scopes, devMode: config.devMode };
  });
}
