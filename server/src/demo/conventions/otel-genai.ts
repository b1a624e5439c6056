/**
 * OpenTelemetry GenAI semantic conventions, in both generations seen in the wild:
 *
 * - latest: what instrumentations send with OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental
 *   (`gen_ai.provider.name`, `gen_ai.usage.input_tokens`/`output_tokens`, cache and reasoning
 *   counts, content as `gen_ai.input.messages`/`gen_ai.output.messages` JSON strings). The
 *   `invoke_agent` span usually repeats the usage totals of its children: a double-counting trap.
 * - legacy: `gen_ai.system`, `gen_ai.usage.prompt_tokens`/`completion_tokens`, and prompts and
 *   completions sent as log records (`gen_ai.user.message`, `gen_ai.choice`, ...) carrying the
 *   trace and span ids of their LLM span, so a receiver without /v1/logs never sees content.
 */
import { model, PROVIDERS } from '../catalog';
import { span, SpanKind, type Plan, type PlannedLog, type PlannedSpan } from '../plan';
import type { Rng } from '../random';
import { llmSteps, sumUsage, type ChatMessage, type LlmStep, type RunScenario, type Step, type SubAgentStep, type ToolStep } from '../scenario';
import { appFor, attrs, json, markFailed, positive, wrapInHttp } from './common';

export type OtelGeneration = 'latest' | 'legacy';

const AGENT_SCOPE = 'opentelemetry.instrumentation.openai_agents';

// --- content in the current JSON shape (parts) -----------------------------------------------

function inputMessages(messages: ChatMessage[]): { system: unknown[]; chat: unknown[] } {
  const system: unknown[] = [];
  const chat: unknown[] = [];
  for (const m of messages) {
    if (m.role === 'system') system.push({ type: 'text', content: m.content ?? '' });
    else if (m.role === 'tool') chat.push({ role: 'tool', parts: [{ type: 'tool_call_response', id: m.toolCallId, response: m.content }] });
    else if (m.toolCalls) chat.push({ role: m.role, parts: m.toolCalls.map((c) => ({ type: 'tool_call', id: c.id, name: c.name, arguments: c.arguments })) });
    else chat.push({ role: m.role, parts: [{ type: 'text', content: m.content ?? '' }] });
  }
  return { system, chat };
}

function outputMessages(step: LlmStep): unknown[] {
  const out = step.output;
  if (!out) return [];
  const parts: unknown[] = [];
  if (out.reasoning) parts.push({ type: 'reasoning', content: out.reasoning });
  if (out.text) parts.push({ type: 'text', content: out.text });
  for (const c of out.toolCalls ?? []) parts.push({ type: 'tool_call', id: c.id, name: c.name, arguments: c.arguments });
  return [{ role: 'assistant', parts, finish_reason: out.finishReason }];
}

// --- content as log records (legacy) ---------------------------------------------------------

function legacyLogs(step: LlmStep, system: string, capture: boolean): PlannedLog[] {
  const attributes = { 'gen_ai.system': system };
  const at = (eventName: string, time: number, body: Record<string, unknown>): PlannedLog => ({
    eventName,
    time,
    // Older receivers look for the event name in an attribute, newer ones in the record's field.
    attributes: { ...attributes, 'event.name': eventName },
    body: body as PlannedLog['body'],
  });
  const toolCalls = (calls: NonNullable<ChatMessage['toolCalls']>) =>
    calls.map((c) => ({ id: c.id, type: 'function', function: capture ? { name: c.name, arguments: json(c.arguments) } : { name: c.name } }));
  const logs: PlannedLog[] = step.input.map((m) => {
    const content = capture && m.content !== undefined ? { content: m.content } : {};
    if (m.role === 'system') return at('gen_ai.system.message', step.start, { ...content });
    if (m.role === 'user') return at('gen_ai.user.message', step.start, { ...content });
    if (m.role === 'tool') return at('gen_ai.tool.message', step.start, { ...content, id: m.toolCallId });
    return at('gen_ai.assistant.message', step.start, { ...content, ...(m.toolCalls ? { tool_calls: toolCalls(m.toolCalls) } : {}) });
  });
  if (step.output) {
    const message: Record<string, unknown> = { role: 'assistant' };
    if (capture && step.output.text) message.content = step.output.text;
    if (step.output.toolCalls) message.tool_calls = toolCalls(step.output.toolCalls);
    logs.push(at('gen_ai.choice', step.end, { index: 0, finish_reason: step.output.finishReason, message }));
  }
  return logs;
}

// --- spans -------------------------------------------------------------------------------------

interface Ctx {
  s: RunScenario;
  rng: Rng;
  gen: OtelGeneration;
}

function llmSpan({ s, gen }: Ctx, step: LlmStep): PlannedSpan {
  const p = PROVIDERS[step.model.provider];
  const u = step.usage;
  const latest = gen === 'latest';
  const common = {
    'gen_ai.operation.name': 'chat',
    'gen_ai.request.model': step.model.id,
    'gen_ai.request.temperature': step.temperature,
    'gen_ai.request.max_tokens': step.maxTokens,
    'gen_ai.response.model': step.output ? step.model.responseModel : undefined,
    'gen_ai.response.id': step.output ? step.responseId : undefined,
    'gen_ai.response.finish_reasons': step.output ? [step.output.finishReason] : undefined,
    'server.address': p.serverAddress,
    'server.port': 443,
  };
  let attributes;
  if (latest) {
    const content = s.contentCapture ? inputMessages(step.input) : undefined;
    attributes = attrs({
      ...common,
      'gen_ai.provider.name': p.otel,
      'gen_ai.conversation.id': s.conversationId,
      'gen_ai.output.type': 'text',
      'gen_ai.usage.input_tokens': u?.input,
      'gen_ai.usage.output_tokens': u?.output,
      'gen_ai.usage.cache_read.input_tokens': positive(u?.cacheRead),
      'gen_ai.usage.reasoning.output_tokens': positive(u?.reasoning),
      'gen_ai.response.time_to_first_chunk': step.streaming && step.output ? Math.round(step.ttftMs) / 1000 : undefined,
      'gen_ai.system_instructions': content && content.system.length ? json(content.system) : undefined,
      'gen_ai.input.messages': content ? json(content.chat) : undefined,
      'gen_ai.output.messages': content && step.output ? json(outputMessages(step)) : undefined,
    });
  } else {
    attributes = attrs({
      ...common,
      'gen_ai.system': p.otelLegacy,
      'gen_ai.usage.prompt_tokens': u?.input,
      'gen_ai.usage.completion_tokens': u?.output,
    });
  }
  const planned = span('llm', `chat ${step.model.id}`, SpanKind.CLIENT, step.start, step.end, attributes, {
    scope: p.otelScope,
    tokens: u
      ? { input: u.input, output: u.output, cacheRead: latest ? u.cacheRead : 0, reasoning: latest ? u.reasoning : 0 }
      : { input: 0, output: 0, cacheRead: 0, reasoning: 0 },
    logs: latest ? undefined : legacyLogs(step, p.otelLegacy, s.contentCapture),
  });
  return markFailed(planned, step.error, 'llm');
}

function toolSpan({ s, gen }: Ctx, step: ToolStep): PlannedSpan {
  const capture = gen === 'latest' && s.contentCapture;
  const planned = span('tool', `execute_tool ${step.tool.name}`, SpanKind.INTERNAL, step.start, step.end, attrs({
    'gen_ai.operation.name': 'execute_tool',
    'gen_ai.tool.name': step.tool.name,
    'gen_ai.tool.call.id': step.call.id,
    'gen_ai.tool.type': 'function',
    'gen_ai.tool.description': step.tool.description,
    'gen_ai.tool.call.arguments': capture ? json(step.call.arguments) : undefined,
    'gen_ai.tool.call.result': capture && step.result !== undefined ? json(step.result) : undefined,
  }), { scope: AGENT_SCOPE });
  return markFailed(planned, step.error, 'tools');
}

function agentAttributes(ctx: Ctx, a: { name: string; id: string; description: string }, steps: Step[], modelId: string, withTotals: boolean) {
  const { s, gen } = ctx;
  const provider = PROVIDERS[model(modelId).provider];
  const totals = withTotals ? sumUsage(llmSteps(steps)) : undefined;
  return attrs({
    'gen_ai.operation.name': 'invoke_agent',
    ...(gen === 'latest' ? { 'gen_ai.provider.name': provider.otel, 'gen_ai.agent.version': s.version } : { 'gen_ai.system': provider.otelLegacy }),
    'gen_ai.agent.name': a.name,
    'gen_ai.agent.id': a.id,
    'gen_ai.agent.description': a.description,
    'gen_ai.conversation.id': s.conversationId,
    'gen_ai.request.model': modelId,
    // The trap: totals of every LLM call below, on a span that is not an LLM call.
    'gen_ai.usage.input_tokens': totals?.input,
    'gen_ai.usage.output_tokens': totals?.output,
    'gen_ai.usage.cache_read.input_tokens': positive(totals?.cacheRead),
    'gen_ai.usage.reasoning.output_tokens': positive(totals?.reasoning),
  });
}

function stepSpans(ctx: Ctx, steps: Step[]): PlannedSpan[] {
  return steps.map((step) => (step.kind === 'llm' ? llmSpan(ctx, step) : step.kind === 'tool' ? toolSpan(ctx, step) : subAgentSpan(ctx, step)));
}

function subAgentSpan(ctx: Ctx, step: SubAgentStep): PlannedSpan {
  const withTotals = ctx.gen === 'latest' && ctx.rng.chance(0.5);
  const planned = span('agent', `invoke_agent ${step.agent.name}`, SpanKind.INTERNAL, step.start, step.end,
    agentAttributes(ctx, step.agent, step.steps, step.agent.model, withTotals), { scope: AGENT_SCOPE });
  planned.children = stepSpans(ctx, step.steps);
  return markFailed(planned, step.error, 'handoff');
}

export function renderOtelGenAi(s: RunScenario, rng: Rng, gen: OtelGeneration): Plan {
  const ctx: Ctx = { s, rng, gen };
  const app = appFor(s, 'python');
  const children = stepSpans(ctx, s.steps);

  if (s.agent.llmOnly) {
    // No agent framework: the app's HTTP handler calls the model directly. The server must still
    // see a run, named after service.name.
    const [first] = children;
    const root = wrapInHttp(s, first, rng, '/api/faq');
    // The app knows its signed-in user and says so on its own span (OTel's general user.id).
    root.attributes['user.id'] = s.userId;
    root.children = children;
    root.end = s.endTime;
    return { app, scope: AGENT_SCOPE, root };
  }

  const withTotals = gen === 'latest' && rng.chance(0.7);
  const attributes = agentAttributes(ctx, s.agent, s.steps, s.primaryModel.id, withTotals && s.endTime !== null);
  attributes['user.id'] = s.userId;
  if (gen === 'latest') {
    if (s.contentCapture) {
      attributes['gen_ai.input.messages'] = json([{ role: 'user', parts: [{ type: 'text', content: s.userMessage }] }]);
      if (s.finalAnswer) attributes['gen_ai.output.messages'] = json([{ role: 'assistant', parts: [{ type: 'text', content: s.finalAnswer }], finish_reason: 'stop' }]);
    }
  }
  const agentSpan = span('run', `invoke_agent ${s.agent.name}`, SpanKind.INTERNAL, s.startTime, s.endTime, attributes, { scope: AGENT_SCOPE });
  agentSpan.children = children;
  markFailed(agentSpan, s.error, 'agent');
  return { app, scope: AGENT_SCOPE, root: s.httpWrapper ? wrapInHttp(s, agentSpan, rng, '/v1/chat') : agentSpan };
}

export const renderOtelLatest = (s: RunScenario, rng: Rng): Plan => renderOtelGenAi(s, rng, 'latest');
export const renderOtelLegacy = (s: RunScenario, rng: Rng): Plan => renderOtelGenAi(s, rng, 'legacy');
