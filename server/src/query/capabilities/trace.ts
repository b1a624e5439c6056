/**
 * One run, three ways (q.options.runId; the query's time range and filters do not apply, the id
 * names the run):
 * - runTrace: a Grafana trace-view frame (one row per span; tags carry role, tool, model, tokens,
 *   cost, status, tool input/output and LLM messages, reasoning and system content; logs carry span
 *   events and log records joined to the span, such as gen_ai.user.message bodies and exceptions);
 *   costs are as reported, else an LLM call's tokens at the price table (the runs table's rule);
 * - runSteps: the same spans as a flat table, content as text;
 * - runEvents: log lines, one per step start and end, per event and per error.
 * Which spans belong to the run is derivation's answer (query/run-spans.ts), as for the API.
 */
import { Capability, QueryEnv, QueryError } from '../context';
import { field, FieldSpec, frame, FrameJson, withNotice } from '../frame';
import { findRun, loadRunSpans, RunSpan, traceWindowOf } from '../run-spans';
import { Row } from '../../store/store';
import { costUsd, lookupPrice, Pricing } from '../../pricing';
import { pricingOf, withComputedRunCost } from './llm-usage';

interface KeyValue {
  key: string;
  value: unknown;
}

interface LoadedRun {
  run: Row;
  spans: RunSpan[];
  pricing: Pricing;
}

async function loadRun(runId: string, env: QueryEnv): Promise<LoadedRun> {
  const found = await findRun(env.store, env.tenant, runId);
  if (!found) throw new QueryError(`runId: no run "${runId}" for this tenant (a run id is <traceId>-<spanId>, a platform's own run id, or the trace id of a running run)`);
  // The run's cost as the runs table shows it (reported, else priced from its tokens) and its spans
  // are independent reads: the store's reader connections answer them side by side.
  const [[run], spans] = await Promise.all([
    withComputedRunCost(env, [{ ...found }]),
    loadRunSpans(env.store, env.tenant, { runId: String(found.run_id), traceId: String(found.trace_id), window: traceWindowOf(found) }),
  ]);
  return { run, spans, pricing: pricingOf(env) };
}

interface StepCost {
  usd: number | null;
  source: 'reported' | 'price table' | '';
}

/** A step's cost: as the telemetry reported it, else an LLM call's tokens at the model's price. */
function costOf(x: RunSpan, pricing: Pricing): StepCost {
  const s = x.step;
  if (s.cost !== null) return { usd: s.cost, source: 'reported' };
  if (s.role !== 'llm') return { usd: null, source: '' };
  const price = lookupPrice(pricing.table, s.model, x.fact?.responseModel ?? '');
  const usd = price ? costUsd(price, { inputTokens: s.inputTokens, outputTokens: s.outputTokens, cachedTokens: s.cachedTokens, cacheWriteTokens: x.fact?.cacheWriteTokens ?? null }) : null;
  return usd === null ? { usd: null, source: '' } : { usd, source: 'price table' };
}

const str = (v: unknown): string => (v === null || v === undefined ? '' : String(v));
const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

function parseObject(json: string | null | undefined): Record<string, unknown> {
  if (!json) return {};
  try {
    const v = JSON.parse(json) as unknown;
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** Tag values as the trace view shows them: scalars as they are, anything else as JSON text. */
function scalar(v: unknown): unknown {
  return v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? v : JSON.stringify(v);
}

const SPAN_KINDS = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'];

/** What a step is called: its tool, its model, its agent, else the span's name. */
function stepName(s: RunSpan['step']): string {
  if (s.role === 'tool' && s.tool) return s.tool;
  if (s.role === 'llm' && s.model) return s.model;
  if (s.role === 'agent' && s.agent) return s.agent;
  return s.name;
}

/** A span still open (a running run's agent span) lasts until now; the run's own span as runs_v says (capped at the deadline). */
function durationOf(x: RunSpan, run: Row, nowMs: number): number {
  if (x.step.durationMs !== null) return x.step.durationMs;
  if (x.step.spanId === run.root_span_id && run.duration_ms !== null) return Number(run.duration_ms);
  return Math.max(0, nowMs - x.step.startUs / 1000);
}

function statusOf(x: RunSpan): string {
  return x.step.status; // ok | error | running
}

function errorText(x: RunSpan): string {
  const type = x.step.errorType;
  const message = x.fact?.statusMessage ?? '';
  if (x.step.status !== 'error' && !type) return '';
  return [type, message].filter(Boolean).join(': ') || 'error';
}

function tagsOf(x: RunSpan, run: Row, isRoot: boolean, pricing: Pricing): KeyValue[] {
  const s = x.step;
  const f = x.fact;
  const tags: KeyValue[] = [];
  const add = (key: string, value: unknown): void => {
    if (value === null || value === undefined || value === '') return;
    if (tags.some((t) => t.key === key)) return;
    tags.push({ key, value });
  };
  add('status', statusOf(x));
  add('role', s.role);
  if (isRoot) {
    add('run.id', str(run.run_id));
    add('run.status', str(run.status));
    add('agent.version', str(run.agent_version));
    add('environment', str(run.environment));
    add('channel', str(run.channel));
    add('conversation', str(run.conversation_id));
    add('user', str(run.user_id));
    add('run.tool_calls', num(run.tool_calls));
    add('run.llm_calls', num(run.llm_calls));
    add('run.tokens.total', num(run.total_tokens));
    add('run.cost', num(run.cost));
  }
  add('agent', s.agent);
  add('tool', s.tool);
  add('tool.call_id', f?.toolCallId);
  add('model', s.model);
  if (f?.responseModel && f.responseModel !== s.model) add('response model', f.responseModel);
  add('provider', s.provider);
  add('operation', f?.operation);
  add('convention', f?.convention);
  add('tokens.input', s.inputTokens);
  add('tokens.output', s.outputTokens);
  add('tokens.cached', s.cachedTokens);
  add('tokens.reasoning', s.reasoningTokens);
  add('tokens.total', f?.totalTokens ?? null);
  const cost = costOf(x, pricing);
  add('cost', cost.usd);
  add('cost.source', cost.source);
  add('error.type', s.errorType);
  if (s.status === 'error') add('error', true);
  add('input', s.input);
  add('output', s.output);
  add('reasoning', s.reasoning);
  add('system', s.system);
  const attributes = parseObject(s.attributes);
  for (const key of Object.keys(attributes).sort()) add(key, scalar(attributes[key]));
  return tags;
}

function serviceTagsOf(x: RunSpan, run: Row): KeyValue[] {
  const resource = parseObject(x.step.resource);
  const tags: KeyValue[] = [];
  const service = x.fact?.service || str(run.service);
  if (service) tags.push({ key: 'service.name', value: service });
  const env = x.fact?.environment || str(run.environment);
  if (env && !('deployment.environment.name' in resource)) tags.push({ key: 'deployment.environment.name', value: env });
  for (const key of Object.keys(resource).sort()) if (key !== 'service.name') tags.push({ key, value: scalar(resource[key]) });
  return tags;
}

function logsOf(x: RunSpan): { timestamp: number; name: string; fields: KeyValue[] }[] {
  return x.step.events.map((e) => {
    const fields: KeyValue[] = [{ key: 'event', value: e.name }];
    if (e.body !== null && e.body !== '') fields.push({ key: 'body', value: e.body });
    const attributes = parseObject(e.attributes);
    for (const key of Object.keys(attributes).sort()) fields.push({ key, value: scalar(attributes[key]) });
    fields.push({ key: 'source', value: e.source });
    return { timestamp: e.timeUs / 1000, name: e.name, fields };
  });
}

function runningNotice(f: FrameJson, run: Row): FrameJson {
  if (run.status !== 'running') return f;
  const provisional = !run.root_span_id;
  return withNotice(f, 'info', provisional ? 'This run is still running: its agent span has not arrived yet, so its steps are shown under the trace.' : 'This run is still running.');
}

export const runTrace: Capability = async (q, env) => {
  const { run, spans, pricing } = await loadRun(q.options.runId as string, env);
  const ids = new Set(spans.map((x) => x.step.spanId));
  const root = str(run.root_span_id);
  // A span whose parent is not part of the run (the run's agent span not arrived yet, or a caller's
  // span above the run) is shown as a root of the trace.
  const parentOf = (x: RunSpan): string => (x.step.spanId === root || !ids.has(x.step.parentSpanId) ? '' : x.step.parentSpanId);
  const fields: FieldSpec[] = [
    field('traceID', 'string', spans.map(() => str(run.trace_id))),
    field('spanID', 'string', spans.map((x) => x.step.spanId)),
    field('parentSpanID', 'string', spans.map(parentOf)),
    field('operationName', 'string', spans.map((x) => x.step.name || stepName(x.step))),
    field('serviceName', 'string', spans.map((x) => x.fact?.service || str(run.service) || str(run.agent))),
    field('serviceTags', 'json', spans.map((x) => serviceTagsOf(x, run))),
    field('startTime', 'number', spans.map((x) => x.step.startUs / 1000)),
    field('duration', 'number', spans.map((x) => durationOf(x, run, env.nowMs))),
    field('logs', 'json', spans.map(logsOf)),
    field('tags', 'json', spans.map((x) => tagsOf(x, run, x.step.spanId === root, pricing))),
    field('kind', 'string', spans.map((x) => SPAN_KINDS[x.fact?.spanKind ?? 0] ?? 'unspecified')),
    field('statusCode', 'int', spans.map((x) => (x.step.status === 'error' ? 2 : x.fact?.statusCode === 1 ? 1 : 0))),
    field('statusMessage', 'string', spans.map((x) => x.fact?.statusMessage ?? '')),
  ];
  return [runningNotice(frame(`Trace ${str(run.trace_id)}`, fields, { preferredVisualisationType: 'trace' }), run)];
};

export const runSteps: Capability = async (q, env) => {
  const { run, spans, pricing } = await loadRun(q.options.runId as string, env);
  const col = <T>(fn: (x: RunSpan) => T): T[] => spans.map(fn);
  const fields: FieldSpec[] = [
    field('Step', 'int', spans.map((_x, i) => i + 1)),
    field('Kind', 'string', col((x) => x.step.role)),
    field('Name', 'string', col((x) => stepName(x.step))),
    field('Status', 'string', col(statusOf)),
    field('Started', 'time', col((x) => Math.floor(x.step.startUs / 1000))),
    field('Duration', 'number', col((x) => durationOf(x, run, env.nowMs)), { unit: 'ms' }),
    field('Tokens in', 'int', col((x) => x.step.inputTokens), { unit: 'short' }),
    field('Tokens out', 'int', col((x) => x.step.outputTokens), { unit: 'short' }),
    field('Cost', 'number', col((x) => costOf(x, pricing).usd), { unit: 'currencyUSD', decimals: 6, description: 'As reported by the telemetry, else the LLM call\'s tokens at the model price table.' }),
    field('Error', 'string', col(errorText)),
    field('Input', 'string', col((x) => x.step.input)),
    field('Output', 'string', col((x) => x.step.output)),
    field('Reasoning', 'string', col((x) => x.step.reasoning)),
    field('System', 'string', col((x) => x.step.system)),
    field('Span', 'string', col((x) => x.step.name)),
    field('Span ID', 'string', col((x) => x.step.spanId)),
    field('Parent span ID', 'string', col((x) => x.step.parentSpanId)),
  ];
  return [runningNotice(frame('steps', fields, { preferredVisualisationType: 'table' }), run)];
};

/** Longest content quoted in a log line; the whole content is in the steps table and the trace. */
const LINE_CONTENT_CHARS = 500;

function clip(text: string | null): string {
  if (!text) return '';
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > LINE_CONTENT_CHARS ? `${oneLine.slice(0, LINE_CONTENT_CHARS)}…` : oneLine;
}

interface Line {
  timeMs: number;
  order: number;
  body: string;
  severity: 'info' | 'error' | 'debug';
  id: string;
  labels: Record<string, string>;
}

function tokensText(x: RunSpan): string {
  const s = x.step;
  const parts: string[] = [];
  if (s.inputTokens !== null) parts.push(`${s.inputTokens} in`);
  if (s.outputTokens !== null) parts.push(`${s.outputTokens} out`);
  if (s.cachedTokens) parts.push(`${s.cachedTokens} cached`);
  if (s.reasoningTokens) parts.push(`${s.reasoningTokens} reasoning`);
  return parts.length ? `, tokens ${parts.join(' / ')}` : '';
}

export const runEvents: Capability = async (q, env) => {
  const { run, spans, pricing } = await loadRun(q.options.runId as string, env);
  const lines: Line[] = [];
  spans.forEach((x, i) => {
    const s = x.step;
    const step = String(i + 1);
    const name = stepName(s);
    const labels = { run: str(run.run_id), step, kind: s.role, name, span: s.spanId };
    const startMs = s.startUs / 1000;
    const input = clip(s.input);
    lines.push({ timeMs: startMs, order: 0, body: `${s.role} ${name} started${input ? `: input ${input}` : ''}`, severity: 'info', id: `${s.spanId}:start`, labels });
    s.events.forEach((e, j) => {
      const attributes = parseObject(e.attributes);
      const detail = clip(e.body) || clip(Object.entries(attributes).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' '));
      const isError = e.name === 'exception' || /error/i.test(e.name);
      lines.push({ timeMs: e.timeUs / 1000, order: 1, body: `${e.name}${detail ? `: ${detail}` : ''}`, severity: isError ? 'error' : 'info', id: `${s.spanId}:event:${j}`, labels: { ...labels, event: e.name } });
    });
    if (s.status === 'running') return;
    const endMs = startMs + durationOf(x, run, env.nowMs);
    if (s.status === 'error') {
      lines.push({ timeMs: endMs, order: 2, body: `${s.role} ${name} failed: ${errorText(x)}`, severity: 'error', id: `${s.spanId}:error`, labels });
    }
    const output = clip(s.output);
    const usd = costOf(x, pricing).usd;
    const cost = usd !== null ? `, cost $${Number(usd.toPrecision(6))}` : '';
    lines.push({ timeMs: endMs, order: 3, body: `${s.role} ${name} ${s.status === 'error' ? 'ended with an error' : 'finished'} in ${Math.round(durationOf(x, run, env.nowMs))} ms${tokensText(x)}${cost}${output ? `: output ${output}` : ''}`, severity: s.status === 'error' ? 'error' : 'info', id: `${s.spanId}:end`, labels });
  });
  lines.sort((a, b) => a.timeMs - b.timeMs || a.order - b.order);
  const f = frame(
    'run events',
    [
      // Whole milliseconds: the SDK reads time values as integers; the order of lines is kept.
      field('timestamp', 'time', lines.map((l) => Math.floor(l.timeMs))),
      field('body', 'string', lines.map((l) => l.body)),
      field('severity', 'string', lines.map((l) => l.severity)),
      field('id', 'string', lines.map((l) => l.id)),
      field('labels', 'json', lines.map((l) => l.labels)),
    ],
    { type: 'log-lines', typeVersion: [0, 0], preferredVisualisationType: 'logs' },
  );
  return [runningNotice(f, run)];
};
