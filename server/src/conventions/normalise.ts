/**
 * The normalisation stage: one OTLP span (any convention) into a SpanRecord of the one model,
 * with content redacted and cut by the content policy. Log records and span events become
 * EventRecords joined to their span by trace and span id.
 */
import { createHash } from 'node:crypto';
import { ContentPolicy } from '../content/policy';
import { Channel, EventRecord, SpanRecord } from '../domain';
import { Attributes, AttrValue, OtlpLogRecord, OtlpSpan } from '../ingest/otlp/types';
import { bool, firstText, num, str, text } from './attributes';
import { extractContent } from './content';
import { recognise } from './role';
import { usageOf } from './usage';

const TIMEOUT = /time[ _-]?out|timed[ _-]?out|deadline[ _-]?exceeded/i;

/** Keys the user picks for association properties and metadata that mean conversation or user. */
const CONVERSATION_SUFFIXES = ['conversation_id', 'conversationId', 'session_id', 'sessionId', 'thread_id', 'threadId', 'chat_id', 'chatId'];
const USER_SUFFIXES = ['user_id', 'userId', 'user', 'end_user_id'];

function fromSuffixes(a: Attributes, prefixes: string[], suffixes: string[]): string {
  for (const p of prefixes) for (const s of suffixes) {
    const v = a[p + s];
    if (typeof v === 'string' && v !== '') return v;
    if (typeof v === 'number') return String(v);
  }
  return '';
}

const ASSOCIATION = ['traceloop.association.properties.', 'ai.telemetry.metadata.'];

function agentNameOf(name: string, a: Attributes, role: string): string {
  const explicit = str(a, 'gen_ai.agent.name', 'agent.name', 'lk.agent_name');
  if (explicit) return explicit;
  if (role === 'agent') {
    const fromEntity = str(a, 'traceloop.entity.name', 'traceloop.workflow.name', 'ai.telemetry.functionId');
    if (fromEntity) return fromEntity;
    const m = /^(?:invoke_agent|invoke_workflow|create_agent)\s+(.+)$/.exec(name);
    if (m) return m[1];
  }
  return str(a, 'traceloop.workflow.name');
}

function toolNameOf(name: string, a: Attributes, role: string): string {
  if (role !== 'tool') return '';
  const explicit = str(a, 'gen_ai.tool.name', 'tool.name', 'ai.toolCall.name', 'lk.function_tool.name', 'traceloop.entity.name');
  if (explicit) return explicit;
  const m = /^(?:execute_tool|tools\/call)\s+(.+)$/.exec(name);
  return m ? m[1] : name;
}

function providerOf(a: Attributes): string {
  const p = str(a, 'gen_ai.provider.name', 'gen_ai.system', 'llm.provider', 'llm.system', 'ai.model.provider');
  // The Vercel AI SDK writes "openai.chat", "anthropic.messages": the provider is the first part.
  return p.includes('.') && a['ai.model.provider'] !== undefined ? p.split('.')[0] : p.toLowerCase();
}

/**
 * OpenInference's OpenAI instrumentation overwrites llm.model_name with the model the server
 * answered as (a dated snapshot); the requested model stays in llm.invocation_parameters.
 */
function openInferenceRequestedModel(a: Attributes): string {
  const params = a['llm.invocation_parameters'];
  if (typeof params !== 'string' || !params.includes('"model"')) return '';
  try {
    const m = (JSON.parse(params) as { model?: unknown }).model;
    return typeof m === 'string' ? m : '';
  } catch {
    return '';
  }
}

function channelOf(a: Attributes, role: string): Channel | '' {
  const explicit = str(a, 'agent_insights.channel');
  if (explicit === 'text' || explicit === 'voice' || explicit === 'video') return explicit;
  if (a['gen_ai.usage.video.input_tokens'] !== undefined) return 'video';
  if (str(a, 'gen_ai.output.type') === 'speech' || role === 'session' || role === 'turn') return 'voice';
  return '';
}

function exceptionOf(span: OtlpSpan): { type: string; message: string } {
  for (const e of span.events) {
    if (e.name === 'exception') return { type: str(e.attributes, 'exception.type'), message: str(e.attributes, 'exception.message') };
  }
  return { type: '', message: '' };
}

/** Attributes kept as JSON, without the content keys (kept separately, under the content policy). */
function keptAttributes(a: Attributes, consumed: Set<string>, policy: ContentPolicy): string {
  const out: Record<string, AttrValue> = {};
  for (const k in a) {
    if (consumed.has(k)) continue;
    const v = a[k];
    out[k] = typeof v === 'string' ? policy.attribute(v) : typeof v === 'object' && v !== null ? policy.attribute(JSON.stringify(v)) : v;
  }
  return JSON.stringify(out);
}

function seconds(a: Attributes, ...names: string[]): number | null {
  const s = num(a, ...names);
  return s === null ? null : s * 1000;
}

export function normaliseSpan(tenant: string, span: OtlpSpan, policy: ContentPolicy): SpanRecord {
  const a = span.attributes;
  const r = span.resource;
  const { role, convention, operation } = recognise(span.name, a, span.parentSpanId);
  const usage = usageOf(a);
  const content = extractContent(a);
  const exception = exceptionOf(span);
  const errorType = span.statusCode === 2 ? str(a, 'error.type') || exception.type || 'error' : '';
  const errorText = [errorType, exception.type, exception.message, span.statusMessage].join(' ');
  const model = str(a, 'gen_ai.request.model') || openInferenceRequestedModel(a) || str(a, 'llm.model_name', 'ai.model.id', 'llm.request.model');
  const oiModel = str(a, 'llm.model_name');
  const responseModel = str(a, 'gen_ai.response.model', 'ai.response.model', 'llm.response.model') || (oiModel !== model ? oiModel : '');
  const endReason = str(a, 'lk.close_reason', 'gen_ai.agent.invocation.end_reason', 'session.end_reason');

  return {
    tenant,
    traceId: span.traceId,
    spanId: span.spanId,
    record: 'span',
    parentSpanId: span.parentSpanId,
    name: span.name,
    spanKind: span.kind,
    startUs: span.startUs,
    endUs: span.endUs,
    statusCode: span.statusCode,
    statusMessage: policy.attribute(span.statusMessage || exception.message),
    role,
    convention,
    operation,
    agentName: agentNameOf(span.name, a, role),
    agentVersion: str(a, 'gen_ai.agent.version', 'agent.version'),
    toolName: toolNameOf(span.name, a, role),
    toolCallId: str(a, 'gen_ai.tool.call.id', 'tool.id', 'ai.toolCall.id', 'tool_call.id'),
    model: model || responseModel,
    responseModel,
    provider: providerOf(a),
    service: str(r, 'service.name'),
    environment: str(r, 'deployment.environment.name', 'deployment.environment') || str(a, 'deployment.environment.name', 'deployment.environment'),
    channel: channelOf(a, role),
    conversationId:
      str(a, 'gen_ai.conversation.id', 'session.id', 'langfuse.session.id', 'conversation.id', 'gen_ai.realtime_session.id', 'group_id') ||
      fromSuffixes(a, ASSOCIATION, CONVERSATION_SUFFIXES),
    userId: str(a, 'user.id', 'langfuse.user.id', 'enduser.id', 'gen_ai.user.id') || fromSuffixes(a, ASSOCIATION, USER_SUFFIXES),
    sessionId: role === 'session' ? str(a, 'lk.room_sid', 'conversation.id', 'gen_ai.realtime_session.id', 'session.id') || span.spanId : '',
    externalRunId: '',
    ...usage,
    errorType,
    timeoutHint: span.statusCode === 2 && TIMEOUT.test(errorText),
    interrupted: bool(a, 'lk.interrupted', 'turn.was_interrupted'),
    latencyMs: seconds(a, 'lk.e2e_latency', 'turn.user_bot_latency_seconds'),
    endReason,
    turns: num(a, 'session.turns'),
    interruptions: num(a, 'session.interruptions'),
    inputContent: policy.content(content.input),
    outputContent: policy.content(content.output),
    reasoningContent: policy.content(content.reasoning),
    systemContent: policy.content(content.system),
    attributes: keptAttributes(a, content.consumed, policy),
    resource: keptAttributes(r, new Set(), policy),
  };
}

function eventKey(e: Omit<EventRecord, 'key'>): string {
  return createHash('sha1')
    .update(`${e.tenant}\0${e.traceId}\0${e.spanId}\0${e.timeUs}\0${e.name}\0${e.source}\0${e.body ?? ''}\0${e.attributes}`)
    .digest('base64url');
}

/** Span events worth keeping: exceptions and GenAI content events (older instrumentations). */
export function spanEvents(tenant: string, span: OtlpSpan, policy: ContentPolicy): EventRecord[] {
  return span.events.map((ev) => {
    const contentish = ev.name.startsWith('gen_ai.') || ev.name.startsWith('llm.');
    const body = contentish ? policy.content(JSON.stringify(ev.attributes)) : null;
    const attributes = contentish ? '{}' : keptAttributes(ev.attributes, new Set(), policy);
    const e = { tenant, traceId: span.traceId, spanId: span.spanId, timeUs: ev.timeUs || span.startUs, name: ev.name, source: 'span_event' as const, body, attributes };
    return { ...e, key: eventKey(e) };
  });
}

/** A log record (content sent as logs, e.g. gen_ai.user.message, gen_ai.choice) joined to its span. */
export function normaliseLog(tenant: string, rec: OtlpLogRecord, policy: ContentPolicy): EventRecord {
  const e = {
    tenant,
    traceId: rec.traceId,
    spanId: rec.spanId,
    timeUs: rec.timeUs,
    name: rec.eventName || rec.severityText || 'log',
    source: 'log' as const,
    body: policy.content(text(rec.body) ?? (Object.keys(rec.attributes).length ? firstText(rec.attributes, 'gen_ai.event.content') : null)),
    attributes: keptAttributes(rec.attributes, new Set(['gen_ai.event.content']), policy),
  };
  return { ...e, key: eventKey(e) };
}
