/**
 * Recognising what a span is (agent, LLM call, tool call, ...) and which convention wrote it.
 * The order matters: OpenLLMetry stamps gen_ai.agent.name on every descendant of an agent, so an
 * agent name alone never makes an agent span; explicit kinds and operations decide first.
 */
import { Role } from '../domain';
import { Attributes } from '../ingest/otlp/types';
import { str } from './attributes';

export interface Recognised {
  role: Role;
  convention: string;
  operation: string;
}

const OTEL_AGENT_OPS = new Set(['invoke_agent', 'create_agent', 'invoke_workflow', 'plan']);
const OTEL_LLM_OPS = new Set(['chat', 'text_completion', 'generate_content', 'embeddings', 'completion', 'realtime_inference', 'speech_to_text', 'text_to_speech']);
const OI_ROLES: Record<string, Role> = {
  AGENT: 'agent',
  LLM: 'llm',
  EMBEDDING: 'llm',
  TOOL: 'tool',
  RETRIEVER: 'retrieval',
  RERANKER: 'retrieval',
};
const VERCEL_TOP = /^ai\.(generateText|streamText|generateObject|streamObject)$/;
const VERCEL_LLM = /^ai\.[A-Za-z]+\.(doGenerate|doStream|doEmbed)$/;

export function recognise(name: string, a: Attributes, parentSpanId: string): Recognised {
  // Voice and video sessions and their turns first: their children may look like LLM calls.
  if (name === 'agent_session' || (name === 'conversation' && a['conversation.id'] !== undefined)) {
    return { role: 'session', convention: name === 'agent_session' ? 'livekit' : 'pipecat', operation: name };
  }
  if (name === 'user_turn' || name === 'agent_turn') return { role: 'turn', convention: 'livekit', operation: name };
  if (name === 'turn' && (a['turn.number'] !== undefined || a['turn.was_interrupted'] !== undefined)) {
    return { role: 'turn', convention: 'pipecat', operation: name };
  }

  const op = str(a, 'gen_ai.operation.name');
  const oiKind = str(a, 'openinference.span.kind').toUpperCase();
  const tlKind = str(a, 'traceloop.span.kind');

  if (oiKind) {
    const role = OI_ROLES[oiKind] ?? (oiKind === 'CHAIN' && parentSpanId === '' ? 'agent' : 'other');
    return { role, convention: 'openinference', operation: oiKind.toLowerCase() };
  }
  if (tlKind) {
    const role: Role = tlKind === 'agent' || tlKind === 'workflow' ? 'agent' : tlKind === 'tool' ? 'tool' : 'other';
    return { role, convention: 'openllmetry', operation: tlKind };
  }
  if (VERCEL_TOP.test(name)) return { role: 'agent', convention: 'vercel-ai', operation: name };
  if (VERCEL_LLM.test(name)) return { role: 'llm', convention: 'vercel-ai', operation: name };
  if (name === 'ai.toolCall') return { role: 'tool', convention: 'vercel-ai', operation: name };

  if (op) {
    const newNames = a['gen_ai.provider.name'] !== undefined || a['gen_ai.usage.input_tokens'] !== undefined;
    const convention = newNames ? 'otel-genai' : 'otel-genai-legacy';
    if (OTEL_AGENT_OPS.has(op)) return { role: 'agent', convention, operation: op };
    if (op === 'execute_tool') return { role: 'tool', convention, operation: op };
    if (op === 'handoff') return { role: 'handoff', convention, operation: op };
    if (op === 'retrieval' || op === 'retrieve') return { role: 'retrieval', convention, operation: op };
    if (OTEL_LLM_OPS.has(op)) return { role: 'llm', convention, operation: op };
    // OpenLLMetry 0.27 writes gen_ai.operation.name = chat, handled above; anything else: a step.
    return { role: 'other', convention, operation: op };
  }
  if (name.startsWith('invoke_agent')) return { role: 'agent', convention: 'otel-genai', operation: 'invoke_agent' };
  if (name.startsWith('execute_tool') || name.startsWith('tools/call ')) return { role: 'tool', convention: name.startsWith('tools/') ? 'mcp' : 'otel-genai', operation: 'execute_tool' };
  if (a['llm.request.type'] !== undefined) return { role: 'llm', convention: 'openllmetry', operation: str(a, 'llm.request.type') };
  if (a['lk.function_tool.name'] !== undefined) return { role: 'tool', convention: 'livekit', operation: name };
  if (name === 'llm_node' || (name === 'llm' && a['gen_ai.request.model'] !== undefined)) {
    return { role: 'llm', convention: name === 'llm_node' ? 'livekit' : 'pipecat', operation: name };
  }
  // An LLM call in a convention we do not know by name still reports a model and usage.
  if (a['gen_ai.request.model'] !== undefined && (a['gen_ai.usage.input_tokens'] !== undefined || a['gen_ai.usage.prompt_tokens'] !== undefined)) {
    return { role: 'llm', convention: 'otel-genai-legacy', operation: 'chat' };
  }
  if (name.toLowerCase().startsWith('handoff')) return { role: 'handoff', convention: 'other', operation: 'handoff' };
  return { role: 'other', convention: 'other', operation: '' };
}
