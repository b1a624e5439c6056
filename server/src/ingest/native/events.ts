/**
 * The native JSON API for platforms that do not use OpenTelemetry: run started / updated /
 * finished, step, and session started / finished events. Each event becomes a span record of the
 * same model as OTLP spans, so a run reported both ways meets under one identity: the platform's
 * traceId + spanId when it gives them, else ids derived from its own run id.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { ContentPolicy } from '../../content/policy';
import { emptySpanRecord, Role, SpanRecord } from '../../domain';

const time = z.union([
  z.number().positive().describe('epoch milliseconds'),
  z.string().refine((s) => !Number.isNaN(Date.parse(s)), { message: 'must be an ISO 8601 time or epoch milliseconds' }),
]);
const hex = (len: number) => z.string().regex(new RegExp(`^[0-9a-fA-F]{${len}}$`), { message: `must be ${len} hex characters` });
const name = z.string().min(1).max(256);
const optionalText = z.string().max(256).optional();
const tokens = z
  .object({
    input: z.number().int().nonnegative().optional(),
    output: z.number().int().nonnegative().optional(),
    cached: z.number().int().nonnegative().optional(),
    reasoning: z.number().int().nonnegative().optional(),
  })
  .strict();
const error = z.object({ type: z.string().max(256), message: z.string().max(4096).optional() }).strict();
const attributes = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional();

const runIdentity = {
  runId: z.string().min(1).max(256),
  traceId: hex(32).optional(),
  spanId: hex(16).optional(),
};
const runContext = {
  agent: name.optional(),
  agentVersion: optionalText,
  conversationId: optionalText,
  userId: optionalText,
  channel: z.enum(['text', 'voice', 'video']).optional(),
  environment: optionalText,
  service: optionalText,
  attributes,
};

export const NativeEvent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('run.started'), ...runIdentity, ...runContext, agent: name, startTime: time }).strict(),
  z.object({ type: z.literal('run.updated'), ...runIdentity, ...runContext, time }).strict(),
  z
    .object({
      type: z.literal('run.finished'),
      ...runIdentity,
      ...runContext,
      startTime: time.optional(),
      endTime: time,
      status: z.enum(['completed', 'failed', 'timed_out']),
      error: error.optional(),
      tokens: tokens.optional(),
      cost: z.number().nonnegative().optional(),
    })
    .strict(),
  z
    .object({
      type: z.literal('step'),
      runId: z.string().min(1).max(256),
      traceId: hex(32).optional(),
      runSpanId: hex(16).optional(),
      stepId: z.string().min(1).max(256),
      parentStepId: z.string().min(1).max(256).optional(),
      kind: z.enum(['llm', 'tool', 'agent', 'retrieval', 'handoff', 'other']),
      name,
      startTime: time,
      endTime: time,
      status: z.enum(['ok', 'error']).default('ok'),
      model: optionalText,
      provider: optionalText,
      tokens: tokens.optional(),
      cost: z.number().nonnegative().optional(),
      input: z.string().optional(),
      output: z.string().optional(),
      reasoning: z.string().optional(),
      error: error.optional(),
      attributes,
    })
    .strict(),
  z
    .object({
      type: z.literal('session.started'),
      sessionId: z.string().min(1).max(256),
      agent: name,
      channel: z.enum(['voice', 'video']),
      startTime: time,
      conversationId: optionalText,
      userId: optionalText,
      environment: optionalText,
      service: optionalText,
      attributes,
    })
    .strict(),
  z
    .object({
      type: z.literal('session.finished'),
      sessionId: z.string().min(1).max(256),
      agent: name.optional(),
      channel: z.enum(['voice', 'video']).optional(),
      startTime: time.optional(),
      endTime: time,
      status: z.enum(['completed', 'failed', 'dropped']).default('completed'),
      turns: z.number().int().nonnegative(),
      interruptions: z.number().int().nonnegative().default(0),
      avgResponseLatencyMs: z.number().nonnegative().optional(),
      endReason: optionalText,
      cost: z.number().nonnegative().optional(),
      conversationId: optionalText,
      userId: optionalText,
      environment: optionalText,
      service: optionalText,
      attributes,
    })
    .strict(),
]);
export type NativeEvent = z.infer<typeof NativeEvent>;

/** "events[2].startTime: must be an ISO 8601 time or epoch milliseconds" style messages. */
export function describeIssues(error: z.ZodError, prefix: string): string {
  return error.issues
    .map((i) => {
      const path = i.path.length ? `${prefix}.${i.path.join('.')}` : prefix;
      return `${path}: ${i.message}`;
    })
    .join('; ');
}

function micros(t: string | number | undefined): number {
  if (t === undefined) return 0;
  return (typeof t === 'number' ? t : Date.parse(t)) * 1000;
}

function digest(kind: string, tenant: string, id: string): string {
  return createHash('sha256').update(`${kind}\u0000${tenant}\u0000${id}`).digest('hex');
}

/** A run's ids: the platform's trace and span ids, or ids derived from its run id. */
export function runIds(tenant: string, e: { runId: string; traceId?: string; spanId?: string }): { traceId: string; spanId: string; external: string } {
  if (e.traceId && e.spanId) return { traceId: e.traceId.toLowerCase(), spanId: e.spanId.toLowerCase(), external: '' };
  const h = digest('run', tenant, e.runId);
  return { traceId: (e.traceId ?? h.slice(0, 32)).toLowerCase(), spanId: h.slice(32, 48), external: e.runId };
}

function usage(t: z.infer<typeof tokens> | undefined): Partial<SpanRecord> {
  if (!t) return {};
  const total = t.input !== undefined || t.output !== undefined ? (t.input ?? 0) + (t.output ?? 0) : null;
  return {
    inputTokens: t.input ?? null,
    outputTokens: t.output ?? null,
    cachedTokens: t.cached ?? null,
    reasoningTokens: t.reasoning ?? null,
    totalTokens: total,
  };
}

function attrs(policy: ContentPolicy, a: Record<string, string | number | boolean> | undefined): string {
  if (!a) return '{}';
  const out: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(a)) out[k] = typeof v === 'string' ? policy.attribute(v) : v;
  return JSON.stringify(out);
}

export function nativeToRecord(tenant: string, e: NativeEvent, policy: ContentPolicy): SpanRecord {
  const r = emptySpanRecord(tenant, 'native');
  switch (e.type) {
    case 'run.started':
    case 'run.updated':
    case 'run.finished': {
      const ids = runIds(tenant, e);
      Object.assign(r, {
        traceId: ids.traceId,
        spanId: ids.spanId,
        externalRunId: ids.external,
        name: e.agent ? `run ${e.agent}` : '', // empty: filled from run.started on merge
        role: 'agent' as Role,
        operation: 'invoke_agent',
        agentName: e.agent ?? '',
        agentVersion: e.agentVersion ?? '',
        conversationId: e.conversationId ?? '',
        userId: e.userId ?? '',
        channel: e.channel ?? '',
        environment: e.environment ?? '',
        service: e.service ?? '',
        attributes: attrs(policy, e.attributes),
      });
      if (e.type === 'run.started') {
        r.record = 'started';
        r.startUs = micros(e.startTime);
      } else if (e.type === 'run.updated') {
        r.record = `updated:${String(Math.round(micros(e.time))).padStart(17, '0')}`;
        r.startUs = micros(e.time);
      } else {
        r.record = 'finished';
        r.endUs = micros(e.endTime);
        // Without a start time, the end stands in; a run.started record's earlier start wins on merge.
        r.startUs = e.startTime === undefined ? r.endUs : micros(e.startTime);
        r.statusCode = e.status === 'completed' ? 1 : 2;
        r.timeoutHint = e.status === 'timed_out';
        r.errorType = e.status === 'completed' ? '' : e.error?.type ?? (e.status === 'timed_out' ? 'timeout' : 'error');
        r.statusMessage = policy.attribute(e.error?.message ?? '');
        Object.assign(r, usage(e.tokens));
        r.cost = e.cost ?? null;
      }
      return r;
    }
    case 'step': {
      const run = runIds(tenant, { runId: e.runId, traceId: e.traceId, spanId: e.runSpanId });
      const stepSpan = (id: string): string => digest('step', tenant, `${e.runId}\u0000${id}`).slice(0, 16);
      Object.assign(r, {
        traceId: run.traceId,
        spanId: stepSpan(e.stepId),
        parentSpanId: e.parentStepId ? stepSpan(e.parentStepId) : run.spanId,
        name: e.name,
        role: e.kind,
        operation: e.kind,
        startUs: micros(e.startTime),
        endUs: micros(e.endTime),
        statusCode: e.status === 'error' ? 2 : 1,
        errorType: e.status === 'error' ? e.error?.type ?? 'error' : '',
        statusMessage: policy.attribute(e.error?.message ?? ''),
        toolName: e.kind === 'tool' ? e.name : '',
        agentName: e.kind === 'agent' ? e.name : '',
        model: e.model ?? (e.kind === 'llm' ? e.name : ''),
        provider: e.provider ?? '',
        cost: e.cost ?? null,
        inputContent: policy.content(e.input),
        outputContent: policy.content(e.output),
        reasoningContent: policy.content(e.reasoning),
        attributes: attrs(policy, e.attributes),
      });
      r.timeoutHint = e.status === 'error' && /time[ _-]?out|timed[ _-]?out/i.test(`${r.errorType} ${r.statusMessage}`);
      Object.assign(r, usage(e.tokens));
      return r;
    }
    case 'session.started':
    case 'session.finished': {
      const h = digest('session', tenant, e.sessionId);
      Object.assign(r, {
        traceId: h.slice(0, 32),
        spanId: h.slice(32, 48),
        name: 'session',
        role: 'session' as Role,
        operation: 'session',
        sessionId: e.sessionId,
        agentName: e.agent ?? '',
        channel: e.channel ?? '',
        conversationId: e.conversationId ?? '',
        userId: e.userId ?? '',
        environment: e.environment ?? '',
        service: e.service ?? '',
        startUs: micros(e.startTime),
        attributes: attrs(policy, e.attributes),
      });
      if (e.type === 'session.started') {
        r.record = 'started';
      } else {
        r.record = 'finished';
        r.endUs = micros(e.endTime);
        if (e.startTime === undefined) r.startUs = r.endUs;
        r.statusCode = e.status === 'completed' ? 1 : 2;
        r.errorType = e.status === 'completed' ? '' : e.status;
        r.endReason = e.endReason ?? (e.status === 'dropped' ? 'dropped' : '');
        r.turns = e.turns;
        r.interruptions = e.interruptions;
        r.latencyMs = e.avgResponseLatencyMs ?? null;
        r.cost = e.cost ?? null;
      }
      return r;
    }
  }
}
