/**
 * The one HTTP listener: OTLP/HTTP for agents (/v1/traces, /v1/logs), the native event API,
 * the read and admin API, and the operator endpoints (/livez, /readyz, /metrics).
 */
import Fastify, { FastifyInstance, FastifyReply, FastifyRequest, LogController } from 'fastify';
import { Config, Scope, SCOPES } from '../config';
import { KeyService, Principal } from '../auth/keys';
import { IngestPipeline } from '../ingest/pipeline';
import { LogsResponse, RpcStatus, TraceResponse } from '../ingest/otlp/schema';
import { Metrics } from '../observability/metrics';
import { Pricing } from '../pricing';
import { Store } from '../store/store';
import { IngestWriter } from '../ingest/writer';
import { decodedBody, wireFormat, WireFormat } from './body';
import { grpcCode, HttpError, toHttpError } from './errors';
import { registerApiRoutes } from './api-routes';
import { registerAdminRoutes } from './admin-routes';
import { registerQueryRoutes } from './query-routes';
import { registerValuesRoutes } from './values-routes';
import { registerStreamRoutes } from './stream-routes';

export interface AppDeps {
  config: Config;
  store: Store;
  writer: IngestWriter;
  keys: KeyService;
  pipeline: IngestPipeline;
  metrics: Metrics;
  version: string;
  /** False while starting or shutting down: /readyz answers 503. */
  isReady: () => boolean;
  /** The model price table and credit rate for costs (the shipped table when absent). */
  pricing?: Pricing;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

export type Authorize = (req: FastifyRequest, scope: Scope) => Promise<Principal>;

export function buildApp(deps: AppDeps): FastifyInstance {
  const { config, keys, pipeline, metrics } = deps;
  const app = Fastify({
    bodyLimit: config.maxBodyBytes,
    logger: { level: config.logLevel },
    // One log line per OTLP request would drown the log at thousands of requests a second.
    logController: new LogController({ disableRequestLogging: true }),
  });

  // Bodies arrive raw: OTLP needs the bytes (protobuf, gzip) and the API parses JSON itself,
  // so that every malformed body gets the same clear answer.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  const authorize: Authorize = async (req, scope) => {
    if (config.devMode) return { tenant: config.tenant, scopes: [...SCOPES], keyId: 'dev-mode' };
    const p = await keys.authenticate(req.headers.authorization, scope);
    req.principal = p;
    return p;
  };

  app.setErrorHandler((err, req, reply) => {
    const e = toHttpError(err, config.maxBodyBytes);
    if (e.status >= 500) req.log.error({ err }, 'request failed');
    if (e.retryAfterSeconds !== undefined) reply.header('Retry-After', String(e.retryAfterSeconds));
    if (req.url.startsWith('/v1/')) return sendRpcStatus(reply, otlpFormat(req), e);
    return reply.code(e.status).send({ error: e.message });
  });

  // ---------- OTLP/HTTP ----------
  const otlp = (signal: 'traces' | 'logs') => async (req: FastifyRequest, reply: FastifyReply) => {
    const principal = await authorize(req, 'ingest').catch((e) => {
      metrics.requestsRefused.inc({ signal, reason: 'unauthorized' });
      throw e;
    });
    const format = wireFormat(req.headers['content-type']);
    if (!format) {
      metrics.requestsRefused.inc({ signal, reason: 'undecodable' });
      throw new HttpError(415, `Content-Type must be application/x-protobuf or application/json, got "${req.headers['content-type'] ?? ''}"`);
    }
    let body: Buffer;
    try {
      body = await decodedBody(req.body, req.headers['content-encoding'] as string | undefined, config.maxBodyBytes);
    } catch (e) {
      metrics.requestsRefused.inc({ signal, reason: e instanceof HttpError && e.status === 413 ? 'too_large' : 'undecodable' });
      throw e;
    }
    let outcome;
    try {
      outcome = signal === 'traces' ? await pipeline.traces(principal.tenant, body, format) : await pipeline.logs(principal.tenant, body, format);
    } catch (e) {
      const he = toHttpError(e, config.maxBodyBytes);
      metrics.requestsRefused.inc({ signal, reason: he.status === 400 ? 'undecodable' : he.status === 429 ? 'overloaded' : 'storage_error' });
      throw e;
    }
    const partial = outcome.rejected
      ? signal === 'traces'
        ? { partialSuccess: { rejectedSpans: outcome.rejected, errorMessage: outcome.message } }
        : { partialSuccess: { rejectedLogRecords: outcome.rejected, errorMessage: outcome.message } }
      : {};
    if (format === 'json') return reply.code(200).type('application/json').send(JSON.stringify(partial));
    const type = signal === 'traces' ? TraceResponse : LogsResponse;
    const bytes = type.encode(type.fromObject(partial)).finish();
    return reply.code(200).type('application/x-protobuf').send(Buffer.from(bytes));
  };
  app.post('/v1/traces', otlp('traces'));
  app.post('/v1/logs', otlp('logs'));

  // ---------- operators ----------
  app.get('/livez', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    if (!deps.isReady()) return reply.code(503).send({ status: 'not ready' });
    try {
      await deps.store.ping();
    } catch (e) {
      return reply.code(503).send({ status: 'storage unreachable', error: (e as Error).message });
    }
    return { status: 'ready', queueDepth: deps.writer.queueDepth };
  });
  app.get('/metrics', async (_req, reply) => {
    reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  registerApiRoutes(app, deps, authorize);
  registerAdminRoutes(app, deps, authorize);
  registerQueryRoutes(app, deps, authorize);
  registerValuesRoutes(app, deps, authorize);
  registerStreamRoutes(app, deps, authorize);
  return app;
}

function otlpFormat(req: FastifyRequest): WireFormat {
  return wireFormat(req.headers['content-type']) ?? 'json';
}

/** An OTLP error answer: google.rpc.Status, in the request's content type. */
function sendRpcStatus(reply: FastifyReply, format: WireFormat, e: HttpError): FastifyReply {
  const status = { code: grpcCode(e.status), message: e.message };
  reply.code(e.status);
  if (format === 'protobuf') {
    return reply.type('application/x-protobuf').send(Buffer.from(RpcStatus.encode(RpcStatus.fromObject(status)).finish()));
  }
  return reply.type('application/json').send(JSON.stringify(status));
}
