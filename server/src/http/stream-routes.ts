/**
 * The live runs stream (read scope), as Server-Sent Events:
 *   GET /api/v1/stream/runs?filters=<JSON>&limit=100&range=<ms>&search=
 * Each event's data is a complete runs-table snapshot, the same frame JSON as the runs query
 * (Grafana Live replaces the table with it: StreamingFrameAction.Replace). Sent at once, then every
 * second while a run of it is running, shortly after a commit that touches the tenant, and a
 * heartbeat comment when nothing was sent for 15 s. A failed refresh is an `event: error` with
 * {"error": message}; the stream goes on. The plugin backend's RunStream follows this stream.
 *
 * One process: the hub learns of commits from this process's ingest writer. Several replicas
 * sharing ClickHouse (issue 6) need a change feed across replicas (or polling); the hub takes any.
 */
import { ValidationError } from '@agent-insights/model';
import { FastifyInstance, FastifyReply } from 'fastify';
import { LiveRuns, StreamParams, StreamSink } from '../live/runs-hub';
import { liveRunsQuery, runsSnapshot } from '../live/runs-snapshot';
import { dialectOf } from '../query/dialect';
import { pollingChangeFeed } from '../store/clickhouse/change-feed';
import { ClickHouseStore } from '../store/clickhouse/clickhouse-store';
import { AppDeps, Authorize } from './app';
import { HttpError } from './errors';
import { filtersFromQueryString, intParam } from './values-routes';

const DEFAULT_RANGE_MS = 6 * 3_600_000;
const MAX_RANGE_MS = 90 * 86_400_000;
/** A client that reads slower than snapshots come gets the newest one when it catches up. */
const MAX_BUFFERED_BYTES = 1 << 20;

declare module 'fastify' {
  interface FastifyInstance {
    liveRuns: LiveRuns;
  }
}

function paramsOf(q: Record<string, unknown>): StreamParams {
  const filters = filtersFromQueryString(q, ['limit', 'range', 'search']);
  const params: StreamParams = {
    filters,
    limit: intParam(q.limit, 'limit', 1, 10_000, 100),
    rangeMs: intParam(q.range, 'range', 1000, MAX_RANGE_MS, DEFAULT_RANGE_MS),
    search: typeof q.search === 'string' && q.search.trim() !== '' ? q.search.trim() : undefined,
  };
  try {
    liveRunsQuery(params, Date.now());
  } catch (e) {
    if (e instanceof ValidationError) throw new HttpError(400, e.message);
    throw e;
  }
  return params;
}

/** An SSE response as a hub sink. */
function sseSink(reply: FastifyReply): StreamSink & { closed: boolean } {
  const res = reply.raw;
  let pending: string | null = null;
  let seq = 0;
  const flush = (): void => {
    if (pending === null || sink.closed) return;
    const event = pending;
    pending = null;
    res.write(event);
  };
  const sink = {
    closed: false,
    snapshot(json: string) {
      if (sink.closed) return;
      const event = `id: ${++seq}\ndata: ${json}\n\n`;
      if (res.writableLength > MAX_BUFFERED_BYTES) {
        // Behind: keep only the newest snapshot and send it once the socket drains.
        if (pending === null) res.once('drain', flush);
        pending = event;
        return;
      }
      pending = null;
      res.write(event);
    },
    heartbeat() {
      if (!sink.closed && res.writableLength === 0) res.write(`: heartbeat ${new Date().toISOString()}\n\n`);
    },
    error(message: string) {
      if (!sink.closed) res.write(`event: error\ndata: ${JSON.stringify({ error: message })}\n\n`);
    },
    end() {
      if (sink.closed) return;
      sink.closed = true;
      res.end();
    },
  };
  return sink;
}

export function registerStreamRoutes(app: FastifyInstance, deps: AppDeps, authorize: Authorize): void {
  // Own commits at once; on ClickHouse also the other replicas' commits, by polling (change-feed.ts).
  const replicas = deps.store instanceof ClickHouseStore ? pollingChangeFeed(deps.store, { onError: (e) => app.log.warn({ err: e }, 'live runs: polling ClickHouse for changes failed') }) : null;
  const hub = new LiveRuns(runsSnapshot(deps.store, dialectOf(deps.store.engine), { pricing: deps.pricing }), (listener) => {
    const own = deps.writer.onCommit(listener);
    const others = replicas ? replicas(listener) : () => undefined;
    return () => {
      own();
      others();
    };
  });
  app.decorate('liveRuns', hub);
  // Open streams would keep the server from closing: end them first.
  app.addHook('preClose', async () => hub.close());

  app.get('/api/v1/stream/runs', async (req, reply) => {
    const principal = await authorize(req, 'read');
    const params = paramsOf(req.query as Record<string, unknown>);
    reply.hijack();
    reply.raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      // nginx and similar proxies must not buffer the stream.
      'x-accel-buffering': 'no',
    });
    reply.raw.write('retry: 2000\n\n');
    const sink = sseSink(reply);
    const unsubscribe = hub.subscribe(principal.tenant, params, sink);
    reply.raw.on('close', () => {
      sink.closed = true;
      unsubscribe();
    });
  });
}
