/**
 * OpenInference (Arize Phoenix and friends): `openinference.span.kind` AGENT / LLM / TOOL, model
 * in `llm.model_name` (the response model, often a dated snapshot), token counts in
 * `llm.token_count.*`, messages flattened into indexed attributes
 * (`llm.input_messages.0.message.role`), `input.value`/`output.value` on every span, and
 * `session.id`/`user.id` propagated to every span of the trace. Some setups also report cost in
 * `llm.cost.*`, which then wins over a price table.
 */
import type { Attributes } from '@opentelemetry/api';
import { PROVIDERS } from '../catalog';
import { span, SpanKind, type Plan, type PlannedSpan } from '../plan';
import type { Rng } from '../random';
import type { ChatMessage, LlmStep, RunScenario, Step, SubAgentStep, ToolStep } from '../scenario';
import { appFor, attrs, costOf, json, markFailed, positive, wrapInHttp } from './common';

const AGENT_SCOPE = 'openinference.instrumentation.openai_agents';

interface Ctx {
  s: RunScenario;
  rng: Rng;
  /** Whether this deployment reports cost on LLM spans (a span processor adds it). */
  reportCost: boolean;
}

function flattenMessage(prefix: string, m: ChatMessage, out: Attributes): void {
  out[`${prefix}.message.role`] = m.role;
  if (m.content !== undefined) out[`${prefix}.message.content`] = m.content;
  if (m.toolCallId) out[`${prefix}.message.tool_call_id`] = m.toolCallId;
  m.toolCalls?.forEach((c, j) => {
    out[`${prefix}.message.tool_calls.${j}.tool_call.id`] = c.id;
    out[`${prefix}.message.tool_calls.${j}.tool_call.function.name`] = c.name;
    out[`${prefix}.message.tool_calls.${j}.tool_call.function.arguments`] = json(c.arguments);
  });
}

/** Session and user ride on every span: OpenInference copies them from context. */
function contextAttributes(s: RunScenario): Attributes {
  return {
    'session.id': s.conversationId,
    'user.id': s.userId,
    metadata: json({ agent_version: s.version, environment: s.environment }),
  };
}

function llmSpan(ctx: Ctx, step: LlmStep): PlannedSpan {
  const { s } = ctx;
  const p = PROVIDERS[step.model.provider];
  const u = step.usage;
  const a: Attributes = {
    ...contextAttributes(s),
    ...attrs({
      'openinference.span.kind': 'LLM',
      'llm.model_name': step.output ? step.model.responseModel : step.model.id,
      'llm.provider': p.openinference,
      'llm.system': p.openinferenceSystem,
      'llm.invocation_parameters': json({ model: step.model.id, temperature: step.temperature, max_tokens: step.maxTokens, stream: step.streaming }),
      'llm.token_count.prompt': u?.input,
      'llm.token_count.completion': u?.output,
      'llm.token_count.total': u ? u.input + u.output : undefined,
      'llm.token_count.prompt_details.cache_read': positive(u?.cacheRead),
      'llm.token_count.completion_details.reasoning': positive(u?.reasoning),
    }),
  };
  s.agent.tools.forEach((name, k) => {
    a[`llm.tools.${k}.tool.json_schema`] = json({ type: 'function', function: { name } });
  });
  if (s.contentCapture) {
    step.input.forEach((m, i) => flattenMessage(`llm.input_messages.${i}`, m, a));
    a['input.value'] = json({ model: step.model.id, messages: step.input.map((m) => ({ role: m.role, content: m.content ?? null })) });
    a['input.mime_type'] = 'application/json';
    const out = step.output;
    if (out) {
      const prefix = 'llm.output_messages.0';
      a[`${prefix}.message.role`] = 'assistant';
      if (out.reasoning) {
        // Reasoning arrives as a typed content part next to the answer text.
        a[`${prefix}.message.contents.0.message_content.type`] = 'reasoning';
        a[`${prefix}.message.contents.0.message_content.text`] = out.reasoning;
        if (out.text) {
          a[`${prefix}.message.contents.1.message_content.type`] = 'text';
          a[`${prefix}.message.contents.1.message_content.text`] = out.text;
        }
      } else if (out.text) {
        a[`${prefix}.message.content`] = out.text;
      }
      flattenMessage(prefix, { role: 'assistant', toolCalls: out.toolCalls }, a);
      a['output.value'] = out.text ?? json({ tool_calls: out.toolCalls });
      a['output.mime_type'] = out.text ? 'text/plain' : 'application/json';
    }
  }
  let costUsd: number | undefined;
  if (ctx.reportCost && u) {
    const cost = costOf(step.model, u);
    a['llm.cost.prompt'] = cost.prompt;
    a['llm.cost.completion'] = cost.completion;
    a['llm.cost.total'] = cost.total;
    costUsd = cost.total;
  }
  const planned = span('llm', p.openinferenceSpanName, SpanKind.INTERNAL, step.start, step.end, a, {
    scope: p.openinferenceScope,
    tokens: u ? { ...u } : { input: 0, output: 0, cacheRead: 0, reasoning: 0 },
    costUsd,
  });
  return markFailed(planned, step.error, 'llm');
}

function toolSpan(ctx: Ctx, step: ToolStep): PlannedSpan {
  const { s } = ctx;
  const planned = span('tool', step.tool.name, SpanKind.INTERNAL, step.start, step.end, {
    ...contextAttributes(s),
    ...attrs({
      'openinference.span.kind': 'TOOL',
      'tool.name': step.tool.name,
      'tool.id': step.call.id,
      'tool.description': step.tool.description,
      'tool.parameters': json(step.tool.parameters),
      'input.value': s.contentCapture ? json(step.call.arguments) : undefined,
      'input.mime_type': s.contentCapture ? 'application/json' : undefined,
      'output.value': s.contentCapture && step.result !== undefined ? json(step.result) : undefined,
      'output.mime_type': s.contentCapture && step.result !== undefined ? 'application/json' : undefined,
    }),
  }, { scope: AGENT_SCOPE });
  return markFailed(planned, step.error, 'tools');
}

function stepSpans(ctx: Ctx, steps: Step[]): PlannedSpan[] {
  return steps.map((step) => (step.kind === 'llm' ? llmSpan(ctx, step) : step.kind === 'tool' ? toolSpan(ctx, step) : subAgentSpan(ctx, step)));
}

function agentAttributes(ctx: Ctx, name: string, input: string, output: string | undefined): Attributes {
  const capture = ctx.s.contentCapture;
  return {
    ...contextAttributes(ctx.s),
    ...attrs({
      'openinference.span.kind': 'AGENT',
      'agent.name': name,
      'input.value': capture ? input : undefined,
      'input.mime_type': capture ? 'text/plain' : undefined,
      'output.value': capture ? output : undefined,
      'output.mime_type': capture && output ? 'text/plain' : undefined,
    }),
  };
}

function subAgentSpan(ctx: Ctx, step: SubAgentStep): PlannedSpan {
  const planned = span('agent', step.agent.name, SpanKind.INTERNAL, step.start, step.end, agentAttributes(ctx, step.agent.name, step.input, step.output), { scope: AGENT_SCOPE });
  planned.children = stepSpans(ctx, step.steps);
  return markFailed(planned, step.error, 'handoff');
}

export function renderOpenInference(s: RunScenario, rng: Rng): Plan {
  const ctx: Ctx = { s, rng, reportCost: rng.chance(0.4) };
  const agentSpan = span('run', s.agent.name, SpanKind.INTERNAL, s.startTime, s.endTime, agentAttributes(ctx, s.agent.name, s.userMessage, s.finalAnswer), { scope: AGENT_SCOPE });
  agentSpan.children = stepSpans(ctx, s.steps);
  markFailed(agentSpan, s.error, 'agent');
  return { app: appFor(s, 'python'), scope: AGENT_SCOPE, root: s.httpWrapper ? wrapInHttp(s, agentSpan, rng, '/v1/chat') : agentSpan };
}
