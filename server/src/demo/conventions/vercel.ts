/**
 * The Vercel AI SDK's own telemetry (`experimental_telemetry: { isEnabled: true, functionId }`):
 * a top-level `ai.generateText` / `ai.streamText` span that carries `ai.usage.*` sums over the
 * whole call, one `ai.generateText.doGenerate` / `ai.streamText.doStream` child per model call
 * carrying its own `ai.usage.*` and `gen_ai.usage.*`, and `ai.toolCall` spans for tools. Summing
 * every span double-counts. v4 names usage `promptTokens`/`completionTokens`, v5
 * `inputTokens`/`outputTokens` (plus cached and reasoning counts).
 *
 * Errors are recorded as exception events and span status only; there is no `error.type`, so a
 * timeout is recognisable only by the exception type (`TimeoutError`).
 */
import type { Attributes } from '@opentelemetry/api';
import { PROVIDERS } from '../catalog';
import { span, SpanKind, type Plan, type PlannedSpan } from '../plan';
import type { Rng } from '../random';
import { llmSteps, sumUsage, type ChatMessage, type LlmStep, type RunScenario, type StepError, type TokenUsage, type ToolStep } from '../scenario';
import { appFor, attrs, json, markFailed, positive, wrapInHttp } from './common';

export type VercelVersion = 'v4' | 'v5';

const SCOPE = 'ai';

interface Ctx {
  s: RunScenario;
  version: VercelVersion;
  fn: 'generateText' | 'streamText';
  functionId: string;
}

/** How the AI SDK (a JS library) names the error the scenario describes. */
function jsErrorType(err: StepError, where: 'llm' | 'tool' | 'agent'): string {
  if (err.timeout) return 'TimeoutError';
  if (where === 'llm') return 'AI_APICallError';
  if (where === 'tool') return 'AI_ToolExecutionError';
  return 'AI_TypeValidationError';
}

function usageAttributes(version: VercelVersion, u: TokenUsage): Attributes {
  return version === 'v4'
    ? { 'ai.usage.promptTokens': u.input, 'ai.usage.completionTokens': u.output }
    : attrs({
        'ai.usage.inputTokens': u.input,
        'ai.usage.outputTokens': u.output,
        'ai.usage.totalTokens': u.input + u.output,
        'ai.usage.cachedInputTokens': positive(u.cacheRead),
        'ai.usage.reasoningTokens': positive(u.reasoning),
      });
}

/** Tokens as this version reports them (v4 has no cached or reasoning counts). */
function reported(version: VercelVersion, u: TokenUsage | undefined): TokenUsage {
  if (!u) return { input: 0, output: 0, cacheRead: 0, reasoning: 0 };
  return version === 'v4' ? { input: u.input, output: u.output, cacheRead: 0, reasoning: 0 } : { ...u };
}

function promptMessages(messages: ChatMessage[]): unknown[] {
  return messages.map((m) => {
    if (m.role === 'tool') return { role: 'tool', content: [{ type: 'tool-result', toolCallId: m.toolCallId, result: m.content }] };
    if (m.toolCalls) return { role: 'assistant', content: m.toolCalls.map((c) => ({ type: 'tool-call', toolCallId: c.id, toolName: c.name, args: c.arguments })) };
    if (m.role === 'system') return { role: 'system', content: m.content };
    return { role: m.role, content: [{ type: 'text', text: m.content }] };
  });
}

/** Attributes the SDK puts on every span of the call. */
function common(ctx: Ctx, operation: string): Attributes {
  return {
    'operation.name': `${operation} ${ctx.functionId}`,
    'ai.operationId': operation,
    'resource.name': ctx.functionId,
    'ai.telemetry.functionId': ctx.functionId,
    'ai.telemetry.metadata.userId': ctx.s.userId,
    'ai.telemetry.metadata.sessionId': ctx.s.conversationId,
    'ai.telemetry.metadata.agentVersion': ctx.s.version,
  };
}

function modelCallSpan(ctx: Ctx, step: LlmStep): PlannedSpan {
  const { s, version, fn } = ctx;
  const p = PROVIDERS[step.model.provider];
  const operation = fn === 'generateText' ? 'ai.generateText.doGenerate' : 'ai.streamText.doStream';
  const u = step.usage;
  const out = step.output;
  const finish = out ? (out.finishReason === 'tool_calls' ? 'tool-calls' : 'stop') : undefined;
  const a: Attributes = {
    ...common(ctx, operation),
    ...attrs({
      'ai.model.id': step.model.id,
      'ai.model.provider': p.vercel,
      'ai.settings.maxRetries': 2,
      'ai.prompt.messages': s.contentCapture ? json(promptMessages(step.input)) : undefined,
      'ai.prompt.tools': s.contentCapture && s.agent.tools.length ? s.agent.tools.map((name) => json({ type: 'function', name })) : undefined,
      'ai.prompt.toolChoice': s.contentCapture ? json({ type: 'auto' }) : undefined,
      'ai.response.text': s.contentCapture ? out?.text : undefined,
      'ai.response.toolCalls': s.contentCapture && out?.toolCalls
        ? json(out.toolCalls.map((c) => ({ toolCallType: 'function', toolCallId: c.id, toolName: c.name, args: json(c.arguments) })))
        : undefined,
      'ai.response.finishReason': finish,
      'ai.response.id': out ? step.responseId : undefined,
      'ai.response.model': out ? step.model.responseModel : undefined,
      'ai.response.timestamp': out ? new Date(step.start + step.ttftMs).toISOString() : undefined,
      'ai.response.msToFirstChunk': fn === 'streamText' && out ? Math.round(step.ttftMs * 10) / 10 : undefined,
      'ai.response.msToFinish': fn === 'streamText' && out ? Math.round((step.end - step.start) * 10) / 10 : undefined,
      'gen_ai.system': p.vercel,
      'gen_ai.request.model': step.model.id,
      'gen_ai.request.temperature': step.temperature,
      'gen_ai.request.max_tokens': step.maxTokens,
      'gen_ai.response.model': out ? step.model.responseModel : undefined,
      'gen_ai.response.id': out ? step.responseId : undefined,
      'gen_ai.response.finish_reasons': finish ? [finish] : undefined,
      'gen_ai.usage.input_tokens': u?.input,
      'gen_ai.usage.output_tokens': u?.output,
    }),
    ...(u ? usageAttributes(version, u) : {}),
  };
  const planned = span('llm', operation, SpanKind.INTERNAL, step.start, step.end, a, { tokens: reported(version, u) });
  return step.error ? markFailed(planned, step.error, 'model', { errorType: false, language: 'nodejs', type: jsErrorType(step.error, 'llm') }) : planned;
}

function toolCallSpan(ctx: Ctx, step: ToolStep): PlannedSpan {
  const capture = ctx.s.contentCapture;
  const planned = span('tool', 'ai.toolCall', SpanKind.INTERNAL, step.start, step.end, {
    ...common(ctx, 'ai.toolCall'),
    ...attrs({
      'ai.toolCall.name': step.tool.name,
      'ai.toolCall.id': step.call.id,
      'ai.toolCall.args': capture ? json(step.call.arguments) : undefined,
      'ai.toolCall.result': capture && step.result !== undefined ? json(step.result) : undefined,
    }),
  });
  return step.error ? markFailed(planned, step.error, 'tools', { errorType: false, language: 'nodejs', type: jsErrorType(step.error, 'tool') }) : planned;
}

export function renderVercel(s: RunScenario, rng: Rng, version?: VercelVersion): Plan {
  const ctx: Ctx = {
    s,
    version: version ?? (rng.chance(0.6) ? 'v5' : 'v4'),
    fn: rng.chance(0.3) ? 'streamText' : 'generateText',
    functionId: s.agent.name,
  };
  const operation = `ai.${ctx.fn}`;
  const p = PROVIDERS[s.primaryModel.provider];
  const succeeded = !s.error && s.endTime !== null;
  const a: Attributes = {
    ...common(ctx, operation),
    ...attrs({
      'ai.model.id': s.primaryModel.id,
      'ai.model.provider': p.vercel,
      'ai.settings.maxRetries': 2,
      'ai.settings.maxSteps': ctx.version === 'v4' ? 8 : undefined,
      'ai.prompt': s.contentCapture ? json({ system: s.systemPrompt, prompt: s.userMessage }) : undefined,
      'ai.response.text': s.contentCapture && succeeded ? s.finalAnswer : undefined,
      'ai.response.finishReason': succeeded ? 'stop' : undefined,
    }),
    // The trap: the sum over every doGenerate below, on a span that is not a model call.
    ...(succeeded ? usageAttributes(ctx.version, sumUsage(llmSteps(s.steps))) : {}),
  };
  const root = span('run', operation, SpanKind.INTERNAL, s.startTime, s.endTime, a, { scope: SCOPE });
  root.children = s.steps.map((step) => {
    if (step.kind === 'llm') return modelCallSpan(ctx, step);
    if (step.kind === 'tool') return toolCallSpan(ctx, step);
    throw new Error('the Vercel AI SDK has no nested agents; build the scenario with allowSubAgents: false');
  });
  if (s.error) {
    const where = s.steps.some((st) => st.error === s.error && st.kind === 'llm') ? 'llm' : s.steps.some((st) => st.error === s.error) ? 'tool' : 'agent';
    markFailed(root, s.error, 'generate', { errorType: false, language: 'nodejs', type: jsErrorType(s.error, where) });
  }
  return { app: appFor(s, 'nodejs'), scope: SCOPE, root: s.httpWrapper ? wrapInHttp(s, root, rng, '/api/chat') : root };
}
