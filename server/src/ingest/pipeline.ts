/**
 * The ingest pipeline, stage by stage: decode, normalise (with redaction), then write
 * (deduplicate, derive, commit). Each stage has its own module and tests; this file only chains
 * them and counts what was received and rejected.
 */
import { ContentPolicy } from '../content/policy';
import { normaliseLog, normaliseSpan, spanEvents } from '../conventions/normalise';
import { EventRecord, SpanRecord } from '../domain';
import { Metrics } from '../observability/metrics';
import { describeIssues, NativeEvent, nativeToRecord } from './native/events';
import { decodeLogs, decodeTraces, WireFormat } from './otlp/decode';
import { Rejection } from './otlp/types';
import { IngestWriter, WriteResult } from './writer';

export interface IngestOutcome extends WriteResult {
  rejected: number;
  /** English summary of what was rejected and why, for partialSuccess.errorMessage. */
  message: string;
}

const MAX_REASONS = 5;

function summary(rejections: Rejection[]): string {
  if (rejections.length === 0) return '';
  const shown = rejections.slice(0, MAX_REASONS).map((r) => `#${r.index}: ${r.reason}`);
  const more = rejections.length > MAX_REASONS ? `; and ${rejections.length - MAX_REASONS} more` : '';
  return `${rejections.length} rejected: ${shown.join('; ')}${more}`;
}

export class IngestPipeline {
  constructor(
    private readonly writer: IngestWriter,
    private readonly policy: ContentPolicy,
    private readonly metrics: Metrics,
  ) {}

  async traces(tenant: string, body: Buffer, format: WireFormat): Promise<IngestOutcome> {
    const decoded = decodeTraces(body, format);
    this.metrics.received.inc({ signal: 'traces' }, decoded.items.length + decoded.rejected.length);
    const spans: SpanRecord[] = [];
    const events: EventRecord[] = [];
    for (const s of decoded.items) {
      spans.push(normaliseSpan(tenant, s, this.policy));
      for (const e of spanEvents(tenant, s, this.policy)) events.push(e);
    }
    if (decoded.rejected.length) this.metrics.rejected.inc({ signal: 'traces', reason: 'invalid' }, decoded.rejected.length);
    const written = await this.writer.submit(spans, events);
    return { ...written, rejected: decoded.rejected.length, message: summary(decoded.rejected) };
  }

  async logs(tenant: string, body: Buffer, format: WireFormat): Promise<IngestOutcome> {
    const decoded = decodeLogs(body, format);
    this.metrics.received.inc({ signal: 'logs' }, decoded.items.length + decoded.rejected.length);
    const events = decoded.items.map((r) => normaliseLog(tenant, r, this.policy));
    if (decoded.rejected.length) this.metrics.rejected.inc({ signal: 'logs', reason: 'invalid' }, decoded.rejected.length);
    const written = await this.writer.submit([], events);
    return { ...written, rejected: decoded.rejected.length, message: summary(decoded.rejected) };
  }

  async native(tenant: string, items: unknown[]): Promise<IngestOutcome & { errors: { index: number; error: string }[] }> {
    const records: SpanRecord[] = [];
    const errors: { index: number; error: string }[] = [];
    items.forEach((item, index) => {
      const parsed = NativeEvent.safeParse(item);
      if (parsed.success) records.push(nativeToRecord(tenant, parsed.data, this.policy));
      else errors.push({ index, error: describeIssues(parsed.error, `events[${index}]`) });
    });
    this.metrics.received.inc({ signal: 'native' }, items.length);
    if (errors.length) this.metrics.rejected.inc({ signal: 'native', reason: 'invalid' }, errors.length);
    const written = await this.writer.submit(records, []);
    return {
      ...written,
      rejected: errors.length,
      message: summary(errors.map((e) => ({ index: e.index, reason: e.error }))),
      errors,
    };
  }
}
