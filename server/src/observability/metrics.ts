/** Prometheus metrics of one server process, served at /metrics. */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class Metrics {
  readonly registry = new Registry();
  readonly received = new Counter({
    name: 'agent_insights_items_received_total',
    help: 'Spans, log records and native events received, before deduplication',
    labelNames: ['signal'] as const,
    registers: [this.registry],
  });
  readonly rejected = new Counter({
    name: 'agent_insights_items_rejected_total',
    help: 'Items of accepted requests rejected one by one (reason invalid: bad ids, times or fields)',
    labelNames: ['signal', 'reason'] as const,
    registers: [this.registry],
  });
  readonly requestsRefused = new Counter({
    name: 'agent_insights_requests_refused_total',
    help: 'Whole requests refused, by signal and reason (unauthorized, undecodable, too_large, overloaded, storage_error)',
    labelNames: ['signal', 'reason'] as const,
    registers: [this.registry],
  });
  readonly duplicates = new Counter({
    name: 'agent_insights_duplicates_total',
    help: 'Spans and events dropped because they were already stored (exporter retries)',
    registers: [this.registry],
  });
  readonly stored = new Counter({
    name: 'agent_insights_items_stored_total',
    help: 'Span records and events written durably',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly queueDepth = new Gauge({
    name: 'agent_insights_ingest_queue_spans',
    help: 'Spans and events accepted for writing and not yet committed',
    registers: [this.registry],
  });
  readonly commitSeconds = new Histogram({
    name: 'agent_insights_commit_duration_seconds',
    help: 'Time to write and commit one batch durably',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly batchSize = new Histogram({
    name: 'agent_insights_commit_batch_items',
    help: 'Spans and events per committed batch',
    buckets: [1, 10, 100, 500, 1000, 5000, 20000],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'agent_insights_' });
  }
}
