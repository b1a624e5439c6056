/**
 * LiveKit Agents telemetry for a voice session: an `agent_session` span for the whole call
 * (`lk.agent_name`, `lk.room_sid`, `lk.close_reason`), and per turn a `user_turn` and an
 * `agent_turn` (`lk.interrupted`, `lk.e2e_latency` in seconds) with `llm_node` > `llm_request`,
 * `function_tool` and `tts_node` inside. The LLM request carries OTel GenAI attributes.
 * Content attributes (transcripts, chat context, tool arguments) are spelled `lk.…` by older
 * releases and `lk.pii.…` from Agents 1.7 on; sessions use either.
 */
import { PROVIDERS } from '../catalog';
import { span, SpanKind, type Plan, type PlannedSpan } from '../plan';
import type { LlmStep, ToolStep } from '../scenario';
import type { VoiceSession, VoiceTurn } from '../voice';
import { attrs, json, markFailed, positive } from './common';

const SCOPE = 'livekit-agents';
const s3 = (ms: number) => Math.round(ms) / 1000;

/** The name of a content attribute, in the spelling of the session's framework release. */
function content(v: VoiceSession, name: string): string {
  return v.newerSdk ? `lk.pii.${name}` : `lk.${name}`;
}

function llmNode(v: VoiceSession, step: LlmStep): PlannedSpan {
  const p = PROVIDERS[step.model.provider];
  const u = step.usage;
  const request = span('llm', 'llm_request', SpanKind.CLIENT, step.start + 1, step.end, attrs({
    'gen_ai.operation.name': 'chat',
    'gen_ai.provider.name': p.otel,
    'gen_ai.request.model': step.model.id,
    'gen_ai.response.model': step.output ? step.model.responseModel : undefined,
    'gen_ai.usage.input_tokens': u?.input,
    'gen_ai.usage.output_tokens': u?.output,
    'gen_ai.usage.cache_read.input_tokens': positive(u?.cacheRead),
    [content(v, 'chat_ctx')]: v.contentCapture ? json(step.input) : undefined,
    [content(v, 'response.text')]: v.contentCapture ? step.output?.text : undefined,
    [content(v, 'response.function_calls')]: v.contentCapture && step.output?.toolCalls ? json(step.output.toolCalls) : undefined,
  }), { tokens: u ? { ...u } : { input: 0, output: 0, cacheRead: 0, reasoning: 0 } });
  markFailed(request, step.error, 'llm');
  const node = span('voice', 'llm_node', SpanKind.INTERNAL, step.start, step.end + 0.5, attrs({
    'lk.response.ttft': step.output ? s3(step.ttftMs) : undefined,
  }));
  node.children = [request];
  return markFailed(node, step.error, 'llm');
}

function functionTool(v: VoiceSession, step: ToolStep): PlannedSpan {
  return span('tool', 'function_tool', SpanKind.INTERNAL, step.start, step.end, attrs({
    'lk.function_tool.name': step.tool.name,
    'lk.function_tool.id': step.call.id,
    [content(v, 'function_tool.arguments')]: v.contentCapture ? json(step.call.arguments) : undefined,
    [content(v, 'function_tool.output')]: v.contentCapture ? json(step.result) : undefined,
    'lk.function_tool.is_error': step.error !== undefined,
  }));
}

function turnSpans(v: VoiceSession, turn: VoiceTurn): PlannedSpan[] {
  const transcriptionDelay = turn.sttEnd - turn.userEnd;
  const user = span('turn', 'user_turn', SpanKind.INTERNAL, turn.userStart, turn.sttEnd, attrs({
    [content(v, 'user_transcript')]: v.contentCapture ? turn.transcript : undefined,
    'lk.transcript_confidence': turn.transcriptConfidence,
    'lk.transcription_delay': s3(transcriptionDelay),
  }));
  const agentStart = turn.llm.start - 2;
  const agent = span('turn', 'agent_turn', SpanKind.INTERNAL, agentStart, Math.max(turn.speechEnd, turn.llm.end) + 1, attrs({
    'lk.interrupted': turn.interrupted,
    'lk.e2e_latency': turn.error ? undefined : s3(turn.responseLatencyMs),
    'lk.generation_id': `gen_${turn.number}`,
    'gen_ai.output.type': 'speech',
  }));
  agent.children.push(llmNode(v, turn.llm));
  if (turn.tool) agent.children.push(functionTool(v, turn.tool));
  if (turn.followUp) agent.children.push(llmNode(v, turn.followUp));
  if (!turn.error) {
    agent.children.push(span('voice', 'tts_node', SpanKind.INTERNAL, turn.ttsStart, turn.speechEnd, attrs({
      'lk.response.ttfb': s3(turn.ttsTtfbMs),
      'gen_ai.output.type': 'speech',
      'gen_ai.request.model': v.agent.tts.model,
      'lk.tts.provider': v.agent.tts.provider,
      [content(v, 'input_text')]: v.contentCapture ? turn.agentText : undefined,
    })));
  }
  markFailed(agent, turn.error, 'agent_activity');
  return [user, agent];
}

export function renderLiveKit(v: VoiceSession): Plan {
  const root = span('session', 'agent_session', SpanKind.INTERNAL, v.startTime, v.endTime, attrs({
    'lk.agent_name': v.agent.name,
    'lk.room_name': v.roomName,
    'lk.room_sid': v.sessionId,
    'lk.job_id': v.jobId,
    'lk.participant_identity': v.userId,
    'lk.close_reason': v.endTime === null ? undefined : v.endReason,
    'lk.stt.model': `${v.agent.stt.provider}/${v.agent.stt.model}`,
    'lk.tts.model': `${v.agent.tts.provider}/${v.agent.tts.model}`,
  }));
  root.children = v.turns.flatMap((turn) => turnSpans(v, turn));
  markFailed(root, v.error, 'agent_session');
  return {
    app: { serviceName: v.agent.service, serviceVersion: v.version, environment: v.environment, attributes: { 'service.namespace': 'voice', 'process.runtime.name': 'cpython' } },
    scope: SCOPE,
    root,
  };
}
