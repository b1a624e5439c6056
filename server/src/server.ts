/**
 * Composition of one server process: storage, the ingest pipeline, keys and the HTTP listener.
 * Tests start it the same way main.ts does.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FastifyInstance } from 'fastify';
import { Config } from './config';
import { ContentPolicy } from './content/policy';
import { KeyService } from './auth/keys';
import { buildApp } from './http/app';
import { IngestPipeline } from './ingest/pipeline';
import { IngestWriter } from './ingest/writer';
import { Metrics } from './observability/metrics';
import { loadPricing } from './pricing';
import { createStore, describeStorage } from './store';
import { Store } from './store/store';

export const VERSION: string = (JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version;

const RETENTION_CHECK_MS = 60 * 60 * 1000;

export interface RunningServer {
  app: FastifyInstance;
  store: Store;
  writer: IngestWriter;
  keys: KeyService;
  url: string;
  stop(): Promise<void>;
}

export async function startServer(config: Config): Promise<RunningServer> {
  // Read before anything starts: a broken price file stops the server with its reason.
  const pricing = loadPricing({ pricesFile: config.pricesFile, creditsPerUsd: config.creditsPerUsd });
  const store = createStore(config, pricing);
  await store.open();
  const metrics = new Metrics();
  const writer = new IngestWriter(store, metrics, { maxQueuedSpans: config.maxQueuedSpans, maxBatchSpans: config.maxBatchSpans });
  await writer.start();
  const keys = new KeyService(store);
  const registered = await keys.registerPreshared(config.presharedKeys);
  const pipeline = new IngestPipeline(writer, new ContentPolicy(config), metrics);
  let ready = false;
  const app = buildApp({ config, store, writer, keys, pipeline, metrics, version: VERSION, isReady: () => ready, pricing });

  if (config.devMode) {
    app.log.warn('*** DEVELOPMENT MODE: requests without API keys are accepted as tenant "%s". Never run this in production. ***', config.tenant);
  } else if ((await store.listKeys()).every((k) => k.revokedUs !== null)) {
    app.log.warn('no API keys exist yet: set AGENT_INSIGHTS_ADMIN_KEY (or the other pre-shared keys) and restart, or every request will be refused');
  }
  if (registered) app.log.info('registered %d pre-shared key(s) from the environment', registered);
  app.log.info('model prices from %s (taken on %s, %d models; check them), %d credits per USD', pricing.table.file, pricing.table.takenOn, pricing.table.models.size, pricing.creditsPerUsd);

  const retention = async (): Promise<void> => {
    if (config.retentionDays <= 0) return;
    const cutoff = (Date.now() - config.retentionDays * 86_400_000) * 1000;
    const deleted = await writer.exclusive(() => store.deleteOlderThan(cutoff));
    if (deleted) app.log.info('retention: deleted %d spans older than %d days', deleted, config.retentionDays);
  };
  await retention();
  const timer = setInterval(() => retention().catch((e) => app.log.error({ err: e }, 'retention failed')), RETENTION_CHECK_MS);
  timer.unref();

  await app.listen({ host: config.host, port: config.port });
  ready = true;
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}`;
  app.log.info('Agent Insights server %s listening on %s (%s)', VERSION, url, describeStorage(config));

  return {
    app,
    store,
    writer,
    keys,
    url,
    async stop() {
      ready = false;
      clearInterval(timer);
      await app.close();
      await writer.close();
      await store.close();
    },
  };
}
