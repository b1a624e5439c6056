/**
 * OpenLLMetry (Traceloop SDK): `traceloop.span.kind` workflow / agent / task / tool, names in
 * `traceloop.entity.name`, decorated function inputs and outputs in `traceloop.entity.input` /
 * `.output` (JSON), prompts and completions flattened into `gen_ai.prompt.N.*` /
 * `gen_ai.completion.N.*`, association properties for session and user.
 *
 * Two generations are emitted: the JS SDK 0.27 style (`gen_ai.operation.name` = chat,
 * `gen_ai.usage.input_tokens`/`output_tokens`/`total_tokens`) and the older style
 * (`llm.request.type`, `gen_ai.usage.prompt_tokens`/`completion_tokens`, `llm.usage.total_tokens`).
 * Both stamp `gen_ai.agent.name` on every descendant of an agent, so an agent name alone does not
 * make a span an agent span.
 */
import type { Attributes } from '@opentelemetry/api';
import { PROVIDERS } from '../catalog';
import { span, SpanKind, type Plan, type PlannedSpan } from '../plan';
import type { Rng } from '../random';
import type { ChatMessage, LlmStep, RunScenario, Step, SubAgentStep, ToolStep } from '../scenario';
import { appFor, attrs, json, markFailed, positive, wrapInHttp } from './common';

export type OpenLlmetryStyle = 'js-0.27' | 'legacy';

const SDK_SCOPE = '@traceloop/node-server-sdk';
const NODE = { language: 'nodejs' } as const;

interface Ctx {
  s: RunScenario;
  rng: Rng;
  style: OpenLlmetryStyle;
  workflow: string;
}

/** Attributes the SDK copies onto every span inside an agent (and the workflow). */
function inherited(ctx: Ctx, agentName: string, path: string): Attributes {
  return {
    ...conversation(ctx),
    'gen_ai.agent.name': agentName,
    'traceloop.workflow.name': ctx.workflow,
    'traceloop.entity.path': path,
    'traceloop.association.properties.session_id': ctx.s.conversationId,
    'traceloop.association.properties.user_id': ctx.s.userId,
  };
}

/** The JS SDK's withConversation() stamps the conversation id on every span inside it. */
function conversation(ctx: Ctx): Attributes {
  return ctx.style === 'js-0.27' ? { 'gen_ai.conversation.id': ctx.s.conversationId } : {};
}

function flattenPrompt(prefix: string, m: ChatMessage, out: Attributes): void {
  out[`${prefix}.role`] = m.role;
  if (m.content !== undefined) out[`${prefix}.content`] = m.content;
  if (m.toolCallId) out[`${prefix}.tool_call_id`] = m.toolCallId;
  m.toolCalls?.forEach((c, j) => {
    out[`${prefix}.tool_calls.${j}.id`] = c.id;
    out[`${prefix}.tool_calls.${j}.name`] = c.name;
    out[`${prefix}.tool_calls.${j}.arguments`] = json(c.arguments);
  });
}

function llmSpan(ctx: Ctx, step: LlmStep, agentName: string, path: string): PlannedSpan {
  const { s, style } = ctx;
  const p = PROVIDERS[step.model.provider];
  const u = step.usage;
  const a: Attributes = {
    ...inherited(ctx, agentName, path),
    ...attrs({
      'gen_ai.system': p.openllmetry,
      'gen_ai.request.model': step.model.id,
      'gen_ai.request.temperature': step.temperature,
      'gen_ai.request.max_tokens': step.maxTokens,
      'gen_ai.response.model': step.output ? step.model.responseModel : undefined,
      'gen_ai.response.id': step.output ? step.responseId : undefined,
      'llm.is_streaming': step.streaming,
      'gen_ai.usage.cache_read_input_tokens': positive(u?.cacheRead),
    }),
  };
  if (style === 'js-0.27') {
    Object.assign(a, attrs({
      'gen_ai.operation.name': 'chat',
      'gen_ai.usage.input_tokens': u?.input,
      'gen_ai.usage.output_tokens': u?.output,
      'gen_ai.usage.total_tokens': u ? u.input + u.output : undefined,
    }));
  } else {
    Object.assign(a, attrs({
      'llm.request.type': 'chat',
      'gen_ai.usage.prompt_tokens': u?.input,
      'gen_ai.usage.completion_tokens': u?.output,
      'llm.usage.total_tokens': u ? u.input + u.output : undefined,
    }));
  }
  if (s.contentCapture) {
    step.input.forEach((m, i) => flattenPrompt(`gen_ai.prompt.${i}`, m, a));
    if (step.output) {
      flattenPrompt('gen_ai.completion.0', { role: 'assistant', content: step.output.text, toolCalls: step.output.toolCalls }, a);
      a['gen_ai.completion.0.finish_reason'] = step.output.finishReason;
    }
  }
  const planned = span('llm', p.openllmetrySpanName, SpanKind.CLIENT, step.start, step.end, a, {
    scope: p.openllmetryScope,
    tokens: u ? { input: u.input, output: u.output, cacheRead: u.cacheRead, reasoning: 0 } : { input: 0, output: 0, cacheRead: 0, reasoning: 0 },
  });
  return markFailed(planned, step.error, 'llm', NODE);
}

function toolSpan(ctx: Ctx, step: ToolStep, agentName: string, path: string): PlannedSpan {
  const capture = ctx.s.contentCapture;
  const planned = span('tool', `${step.tool.name}.tool`, SpanKind.INTERNAL, step.start, step.end, {
    ...inherited(ctx, agentName, `${path}.${step.tool.name}`),
    ...attrs({
      'traceloop.span.kind': 'tool',
      'traceloop.entity.name': step.tool.name,
      'traceloop.entity.input': capture ? json({ args: [], kwargs: step.call.arguments }) : undefined,
      'traceloop.entity.output': capture && step.result !== undefined ? json(step.result) : undefined,
    }),
  }, { scope: SDK_SCOPE });
  return markFailed(planned, step.error, 'tools', NODE);
}

function stepSpans(ctx: Ctx, steps: Step[], agentName: string, path: string): PlannedSpan[] {
  return steps.map((step) =>
    step.kind === 'llm' ? llmSpan(ctx, step, agentName, path)
      : step.kind === 'tool' ? toolSpan(ctx, step, agentName, path)
        : subAgentSpan(ctx, step, path));
}

function agentSpan(ctx: Ctx, role: 'run' | 'agent', name: string, start: number, end: number | null, input: string, output: string | undefined, path: string): PlannedSpan {
  const capture = ctx.s.contentCapture;
  return span(role, `${name}.agent`, SpanKind.INTERNAL, start, end, {
    ...inherited(ctx, name, path),
    ...attrs({
      'traceloop.span.kind': 'agent',
      'traceloop.entity.name': name,
      'traceloop.entity.input': capture ? json({ args: [input], kwargs: {} }) : undefined,
      'traceloop.entity.output': capture && output ? json(output) : undefined,
    }),
  }, { scope: SDK_SCOPE });
}

function subAgentSpan(ctx: Ctx, step: SubAgentStep, parentPath: string): PlannedSpan {
  const path = `${parentPath}.${step.agent.name}`;
  const planned = agentSpan(ctx, 'agent', step.agent.name, step.start, step.end, step.input, step.output, path);
  planned.children = stepSpans(ctx, step.steps, step.agent.name, path);
  return markFailed(planned, step.error, 'handoff', NODE);
}

export function renderOpenLlmetry(s: RunScenario, rng: Rng, style?: OpenLlmetryStyle): Plan {
  const ctx: Ctx = { s, rng, style: style ?? (rng.chance(0.6) ? 'js-0.27' : 'legacy'), workflow: s.agent.name };
  // Half of the apps wrap the agent in a @workflow of the same name; then the workflow span is the
  // outermost agent-like span and so the run, and the agent span inside it is a step.
  const useWorkflow = rng.chance(0.5);
  const agentStart = useWorkflow ? s.startTime + rng.float(0.2, 2) : s.startTime;
  const agentEnd = useWorkflow && s.endTime !== null ? s.endTime - rng.float(0.2, 2) : s.endTime;
  const agent = agentSpan(ctx, useWorkflow ? 'agent' : 'run', s.agent.name, agentStart, agentEnd, s.userMessage, s.finalAnswer, s.agent.name);
  agent.children = stepSpans(ctx, s.steps, s.agent.name, s.agent.name);
  markFailed(agent, s.error, 'agent', NODE);

  let run = agent;
  if (useWorkflow) {
    const capture = s.contentCapture;
    run = span('run', `${s.agent.name}.workflow`, SpanKind.INTERNAL, s.startTime, s.endTime, {
      ...conversation(ctx),
      ...attrs({
        'traceloop.span.kind': 'workflow',
        'traceloop.entity.name': s.agent.name,
        'traceloop.workflow.name': s.agent.name,
        'traceloop.association.properties.session_id': s.conversationId,
        'traceloop.association.properties.user_id': s.userId,
        'traceloop.entity.input': capture ? json({ args: [s.userMessage], kwargs: {} }) : undefined,
        'traceloop.entity.output': capture && s.finalAnswer ? json(s.finalAnswer) : undefined,
      }),
    }, { scope: SDK_SCOPE });
    run.children = [agent];
    markFailed(run, s.error, 'workflow', NODE);
  }
  return { app: appFor(s, 'nodejs'), scope: SDK_SCOPE, root: s.httpWrapper ? wrapInHttp(s, run, rng, '/api/chat') : run };
}
