/**
 * Pipecat telemetry for a voice session: `conversation` > `turn` > `stt` / `llm` / `tts`, with
 * `conversation.id`, `turn.number`, `turn.was_interrupted`, `turn.duration_seconds`,
 * `turn.user_bot_latency_seconds` and per-service `metrics.ttfb` (seconds). Services name their
 * vendor in `gen_ai.system`.
 */
import { PROVIDERS } from '../catalog';
import { span, SpanKind, type Plan, type PlannedSpan } from '../plan';
import type { VoiceSession, VoiceTurn } from '../voice';
import { attrs, json, markFailed } from './common';

const SCOPE = 'pipecat';
const s3 = (ms: number) => Math.round(ms) / 1000;

function turnSpan(v: VoiceSession, turn: VoiceTurn): PlannedSpan {
  const end = Math.max(turn.speechEnd, turn.llm.end) + 2;
  const t = span('turn', 'turn', SpanKind.INTERNAL, turn.userStart, end, attrs({
    'turn.number': turn.number,
    'turn.type': 'conversation',
    'turn.was_interrupted': turn.interrupted,
    'turn.duration_seconds': s3(end - turn.userStart),
    'turn.user_bot_latency_seconds': turn.error ? undefined : s3(turn.responseLatencyMs),
  }));
  t.children.push(span('voice', 'stt', SpanKind.INTERNAL, turn.sttStart, turn.sttEnd, attrs({
    'gen_ai.system': v.agent.stt.provider,
    'gen_ai.request.model': v.agent.stt.model,
    'gen_ai.operation.name': 'speech_to_text',
    transcript: v.contentCapture ? turn.transcript : undefined,
    is_final: true,
    language: 'en',
    vad_enabled: true,
    'metrics.ttfb': s3(turn.sttTtfbMs),
  })));
  const step = turn.llm;
  const u = step.usage;
  const llm = span('llm', 'llm', SpanKind.INTERNAL, step.start, step.end, attrs({
    'gen_ai.system': PROVIDERS[step.model.provider].otelLegacy,
    'gen_ai.request.model': step.model.id,
    'gen_ai.operation.name': 'chat',
    'gen_ai.usage.input_tokens': u?.input,
    'gen_ai.usage.output_tokens': u?.output,
    stream: true,
    input: v.contentCapture ? json(step.input) : undefined,
    output: v.contentCapture ? step.output?.text : undefined,
    'metrics.ttfb': step.output ? s3(step.ttftMs) : undefined,
  }), { tokens: u ? { input: u.input, output: u.output, cacheRead: 0, reasoning: 0 } : { input: 0, output: 0, cacheRead: 0, reasoning: 0 } });
  t.children.push(markFailed(llm, step.error, 'llm'));
  if (!turn.error) {
    t.children.push(span('voice', 'tts', SpanKind.INTERNAL, turn.ttsStart, turn.speechEnd, attrs({
      'gen_ai.system': v.agent.tts.provider,
      'gen_ai.request.model': v.agent.tts.model,
      'gen_ai.operation.name': 'text_to_speech',
      'gen_ai.output.type': 'speech',
      voice_id: v.agent.tts.voice,
      text: v.contentCapture ? turn.agentText : undefined,
      'metrics.character_count': turn.agentText.length,
      'metrics.ttfb': s3(turn.ttsTtfbMs),
    })));
  }
  return markFailed(t, turn.error, 'pipeline');
}

export function renderPipecat(v: VoiceSession): Plan {
  const root = span('session', 'conversation', SpanKind.INTERNAL, v.startTime, v.endTime, attrs({
    'conversation.id': v.sessionId,
    'conversation.type': 'voice',
  }));
  root.children = v.turns.map((turn) => turnSpan(v, turn));
  markFailed(root, v.error, 'pipeline');
  return {
    app: { serviceName: v.agent.service, serviceVersion: v.version, environment: v.environment, attributes: { 'service.namespace': 'voice', 'process.runtime.name': 'cpython' } },
    scope: SCOPE,
    root,
  };
}
