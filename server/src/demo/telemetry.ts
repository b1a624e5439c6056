/**
 * The OpenTelemetry SDK plumbing: tracer and logger providers that export over OTLP/HTTP
 * (protobuf or JSON), or into memory for tests.
 *
 * A resource belongs to a provider, and the demo plays many applications (one `service.name`
 * per agent app, two environments each), so a sink keeps one tracer provider and one logger
 * provider per application identity, created on first use.
 */
import type { Tracer } from '@opentelemetry/api';
import type { Logger } from '@opentelemetry/api-logs';
import { OTLPLogExporter as JsonLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as ProtoLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPTraceExporter as JsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { defaultResource, resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import {
  BatchLogRecordProcessor,
  InMemoryLogRecordExporter,
  LoggerProvider,
  SimpleLogRecordProcessor,
  type LogRecordExporter,
  type LogRecordProcessor,
  type ReadableLogRecord,
} from '@opentelemetry/sdk-logs';
import {
  BatchSpanProcessor,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type IdGenerator,
  type ReadableSpan,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_DEPLOYMENT_ENVIRONMENT_NAME, ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import type { AppIdentity } from './plan';

export type OtlpProtocol = 'protobuf' | 'json';

export interface ExportTarget {
  /**
   * Base URL of the receiver, e.g. http://localhost:4318 (the signal path is appended). When
   * absent, the SDK exporters read OTEL_EXPORTER_OTLP_ENDPOINT (or the per-signal variables).
   */
  endpoint?: string;
  /** Extra headers, e.g. { Authorization: 'Bearer ...' }; the SDK also reads OTEL_EXPORTER_OTLP_HEADERS. */
  headers?: Record<string, string>;
  protocol?: OtlpProtocol;
  timeoutMillis?: number;
}

export interface TelemetrySink {
  tracer(app: AppIdentity, scope: string): Tracer;
  logger(app: AppIdentity, scope: string): Logger;
  /** Exports everything ended so far. */
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
}

export function buildResource(app: AppIdentity): Resource {
  // The SDK's default resource contributes telemetry.sdk.*, as a real SDK-instrumented app sends.
  return defaultResource().merge(
    resourceFromAttributes({
      [ATTR_SERVICE_NAME]: app.serviceName,
      ...(app.serviceVersion ? { [ATTR_SERVICE_VERSION]: app.serviceVersion } : {}),
      ...(app.environment ? { [ATTR_DEPLOYMENT_ENVIRONMENT_NAME]: app.environment } : {}),
      ...(app.attributes ?? {}),
    }),
  );
}

function signalUrl(endpoint: string | undefined, path: 'v1/traces' | 'v1/logs'): string | undefined {
  return endpoint ? `${endpoint.replace(/\/+$/, '')}/${path}` : undefined;
}

export function buildSpanExporter(target: ExportTarget = {}): SpanExporter {
  const config = { url: signalUrl(target.endpoint, 'v1/traces'), headers: target.headers, timeoutMillis: target.timeoutMillis };
  return target.protocol === 'json' ? new JsonTraceExporter(config) : new ProtoTraceExporter(config);
}

export function buildLogExporter(target: ExportTarget = {}): LogRecordExporter {
  const config = { url: signalUrl(target.endpoint, 'v1/logs'), headers: target.headers, timeoutMillis: target.timeoutMillis };
  return target.protocol === 'json' ? new JsonLogExporter(config) : new ProtoLogExporter(config);
}

/**
 * Batching tuned for a traffic generator: a short delay so live views see spans within a second,
 * and a large queue so a backfill burst is not dropped between flushes.
 */
function batchSpans(exporter: SpanExporter): SpanProcessor {
  return new BatchSpanProcessor(exporter, { maxQueueSize: 32_768, maxExportBatchSize: 512, scheduledDelayMillis: 500 });
}

export interface TracerProviderOptions {
  resource?: Resource;
  app?: AppIdentity;
  idGenerator?: IdGenerator;
  /** Use this exporter instead of an OTLP one (tests pass an InMemorySpanExporter). */
  exporter?: SpanExporter;
  /** Export each span as it ends instead of batching (tests). */
  simple?: boolean;
}

/** A tracer provider that sends to the given OTLP/HTTP endpoint with the given headers and protocol. */
export function buildTracerProvider(target: ExportTarget = {}, options: TracerProviderOptions = {}): NodeTracerProvider {
  const exporter = options.exporter ?? buildSpanExporter(target);
  return new NodeTracerProvider({
    resource: options.resource ?? (options.app ? buildResource(options.app) : defaultResource()),
    idGenerator: options.idGenerator,
    spanProcessors: [options.simple ? new SimpleSpanProcessor(exporter) : batchSpans(exporter)],
  });
}

export interface LoggerProviderOptions {
  resource?: Resource;
  app?: AppIdentity;
  exporter?: LogRecordExporter;
  simple?: boolean;
}

/** A logger provider for content sent as log records (older OTel GenAI instrumentations do this). */
export function buildLoggerProvider(target: ExportTarget = {}, options: LoggerProviderOptions = {}): LoggerProvider {
  const exporter = options.exporter ?? buildLogExporter(target);
  const processor: LogRecordProcessor = options.simple
    ? new SimpleLogRecordProcessor({ exporter })
    : new BatchLogRecordProcessor({ exporter, maxQueueSize: 32_768, maxExportBatchSize: 512, scheduledDelayMillis: 500 });
  return new LoggerProvider({
    resource: options.resource ?? (options.app ? buildResource(options.app) : defaultResource()),
    processors: [processor],
  });
}

function appKey(app: AppIdentity): string {
  return JSON.stringify([app.serviceName, app.serviceVersion ?? '', app.environment ?? '', app.attributes ?? {}]);
}

/** Keeps one tracer provider and one logger provider per application identity. */
export class ProviderSink implements TelemetrySink {
  private readonly tracers = new Map<string, NodeTracerProvider>();
  private readonly loggers = new Map<string, LoggerProvider>();

  constructor(
    private readonly makeTracerProvider: (app: AppIdentity) => NodeTracerProvider,
    private readonly makeLoggerProvider: (app: AppIdentity) => LoggerProvider,
  ) {}

  tracer(app: AppIdentity, scope: string): Tracer {
    const key = appKey(app);
    let provider = this.tracers.get(key);
    if (!provider) {
      provider = this.makeTracerProvider(app);
      this.tracers.set(key, provider);
    }
    return provider.getTracer(scope);
  }

  logger(app: AppIdentity, scope: string): Logger {
    const key = appKey(app);
    let provider = this.loggers.get(key);
    if (!provider) {
      provider = this.makeLoggerProvider(app);
      this.loggers.set(key, provider);
    }
    return provider.getLogger(scope);
  }

  async forceFlush(): Promise<void> {
    await Promise.all([...this.tracers.values(), ...this.loggers.values()].map((p) => p.forceFlush()));
  }

  async shutdown(): Promise<void> {
    await Promise.all([...this.tracers.values(), ...this.loggers.values()].map((p) => p.shutdown()));
  }
}

/** Sends everything over OTLP/HTTP. */
export function createOtlpSink(target: ExportTarget = {}, options: { idGenerator?: IdGenerator } = {}): ProviderSink {
  return new ProviderSink(
    (app) => buildTracerProvider(target, { app, idGenerator: options.idGenerator }),
    (app) => buildLoggerProvider(target, { app }),
  );
}

export interface InMemorySink extends TelemetrySink {
  readonly spanExporter: InMemorySpanExporter;
  readonly logExporter: InMemoryLogRecordExporter;
  spans(): ReadableSpan[];
  logs(): ReadableLogRecord[];
  reset(): void;
}

/** Keeps every span and log record in memory, exported synchronously as it ends (tests). */
export function createInMemorySink(options: { idGenerator?: IdGenerator } = {}): InMemorySink {
  const spanExporter = new InMemorySpanExporter();
  const logExporter = new InMemoryLogRecordExporter();
  const sink = new ProviderSink(
    (app) => buildTracerProvider({}, { app, idGenerator: options.idGenerator, exporter: spanExporter, simple: true }),
    (app) => buildLoggerProvider({}, { app, exporter: logExporter, simple: true }),
  );
  return Object.assign(sink, {
    spanExporter,
    logExporter,
    spans: () => spanExporter.getFinishedSpans(),
    logs: () => logExporter.getFinishedLogRecords(),
    reset: () => {
      spanExporter.reset();
      logExporter.reset();
    },
  });
}
