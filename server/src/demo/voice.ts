/**
 * What happens in one voice session, independent of the framework that reports it.
 *
 * A session is a phone or WebRTC call: turns in which the user speaks, speech-to-text produces a
 * transcript, the LLM answers (sometimes after calling a tool), text-to-speech speaks the answer,
 * and the user sometimes interrupts. The LiveKit and Pipecat renderers (conventions/livekit.ts,
 * conventions/pipecat.ts) write the same session as each framework's spans. Sessions are not
 * agent runs: they have their own entity on the server (turns, interruptions, latency, end reason).
 */
import { model, tool, VOICE_AGENTS, type VoiceAgentSpec } from './catalog';
import type { Environment, LlmStep, StepError, ToolStep, World } from './scenario';

export type VoiceEndReason = 'participant_disconnected' | 'user_initiated' | 'job_shutdown' | 'error';

export interface VoiceTurn {
  number: number;
  userStart: number;
  userEnd: number;
  transcript: string;
  /** Speech-to-text: streaming recognition over the utterance, final transcript at `sttEnd`. */
  sttStart: number;
  sttEnd: number;
  sttTtfbMs: number;
  transcriptConfidence: number;
  llm: LlmStep;
  /** A function tool and the second LLM call that uses its result (LiveKit agents only). */
  tool?: ToolStep;
  followUp?: LlmStep;
  agentText: string;
  ttsStart: number;
  ttsTtfbMs: number;
  /** First audio out: the user hears the agent from here. */
  speechStart: number;
  /** End of the agent's audio: cut short when interrupted. */
  speechEnd: number;
  /** Time from the end of the user's speech to the first audio out. */
  responseLatencyMs: number;
  interrupted: boolean;
  /** The call failed in this turn (only the last turn of an errored session). */
  error?: StepError;
}

export interface VoiceSession {
  agent: VoiceAgentSpec;
  environment: Environment;
  version: string;
  /** LiveKit room sid / Pipecat conversation id. */
  sessionId: string;
  roomName: string;
  jobId: string;
  userId: string;
  startTime: number;
  /** null when the session never reports its end (the worker died). */
  endTime: number | null;
  turns: VoiceTurn[];
  endReason: VoiceEndReason;
  error?: StepError;
  contentCapture: boolean;
  /**
   * Whether the agent runs a newer framework release. LiveKit Agents 1.7 moved content attributes
   * under an `lk.pii.` prefix (so they can be redacted), so both spellings are in the wild.
   */
  newerSdk: boolean;
}

export interface VoiceOptions {
  agent?: string;
  framework?: 'livekit' | 'pipecat';
  turns?: number;
  startTime?: number;
  endReason?: VoiceEndReason;
  environment?: Environment;
}

const SPEECH_MS_PER_CHAR = 62;

export function buildVoiceSession(world: World, opts: VoiceOptions = {}): VoiceSession {
  const rng = world.rng;
  const candidates = VOICE_AGENTS.filter((a) => (!opts.agent || a.name === opts.agent) && (!opts.framework || a.framework === opts.framework));
  if (candidates.length === 0) throw new Error(`no voice agent matches ${opts.agent ?? opts.framework}`);
  const agent = rng.weighted(candidates.map((a) => [a, a.weight] as const));
  const environment = opts.environment ?? world.pickEnvironment();
  const startTime = opts.startTime ?? Date.now();
  const llmModel = model(agent.llm);
  const endReason: VoiceEndReason = opts.endReason
    ?? rng.weighted<VoiceEndReason>([['participant_disconnected', 70], ['user_initiated', 15], ['job_shutdown', 5], ['error', environment === 'staging' ? 14 : 6]]);
  const turnCount = opts.turns ?? rng.int(3, 12);
  const contentCapture = rng.chance(0.85);
  const newerSdk = rng.chance(0.5);
  // Every call is its own session (a LiveKit room, a Pipecat conversation), never continued.
  const sessionId = agent.framework === 'livekit' ? `RM_${rng.token(12)}` : `conv_${rng.token(20)}`;
  const userId = world.pickUser();
  const history: { role: 'system' | 'user' | 'assistant'; content: string }[] = [
    { role: 'system', content: `You are ${agent.name}, a friendly voice assistant. Keep answers short: they are spoken aloud.` },
  ];

  const turns: VoiceTurn[] = [];
  let t = startTime + rng.float(400, 1500);
  let error: StepError | undefined;
  for (let n = 1; n <= turnCount; n++) {
    const transcript = agent.userLines[(n - 1) % agent.userLines.length];
    const agentText = agent.agentLines[n % agent.agentLines.length];
    const userStart = t;
    const userEnd = userStart + transcript.length * SPEECH_MS_PER_CHAR * rng.logNormal(1, 0.15);
    const sttTtfbMs = rng.float(120, 350);
    const sttEnd = userEnd + rng.float(150, 600);
    history.push({ role: 'user', content: transcript });

    const failsHere = endReason === 'error' && n === turnCount;
    const llmStart = sttEnd + rng.float(80, 400); // end-of-turn detection
    const ttft = llmModel.firstTokenMs * rng.logNormal(0.8, 0.3);
    const input = 180 + history.reduce((k, m) => k + Math.ceil(m.content.length / 4) + 4, 0);
    const output = Math.ceil(agentText.length / 4) + rng.int(0, 6);
    const llm: LlmStep = {
      kind: 'llm', start: llmStart, end: llmStart + ttft + output * llmModel.msPerOutputToken, model: llmModel,
      responseId: `chatcmpl-${rng.token(29)}`, temperature: 0.6, maxTokens: 512, streaming: true, ttftMs: ttft,
      input: history.map((m) => ({ ...m })),
      output: { text: agentText, finishReason: 'stop' },
      usage: { input, output, cacheRead: input >= 1024 ? Math.floor(input / 128) * 128 : 0, reasoning: 0 },
    };
    if (failsHere) {
      error = { type: rng.pick(['openai.APIConnectionError', 'openai.RateLimitError']), message: 'LLM request failed after 3 attempts', timeout: false };
      llm.error = error;
      llm.output = undefined;
      llm.usage = undefined;
      llm.end = llmStart + rng.float(2_000, 6_000);
    }

    let toolStep: ToolStep | undefined;
    let followUp: LlmStep | undefined;
    let speechSource = llm;
    if (!failsHere && agent.tools.length > 0 && rng.chance(0.25)) {
      const ts = tool(rng.pick(agent.tools));
      const ctx = { rng, subject: { order: `A${rng.int(100000, 999999)}`, product: 'order', customer: userId, issue: 'late delivery' } };
      const call = { id: `call_${rng.token(24)}`, name: ts.name, arguments: ts.args(ctx) };
      llm.output = { toolCalls: [call], finishReason: 'tool_calls' };
      llm.usage = { input, output: 24, cacheRead: 0, reasoning: 0 };
      llm.end = llmStart + ttft + 24 * llmModel.msPerOutputToken;
      const toolStart = llm.end + rng.float(1, 5);
      toolStep = { kind: 'tool', start: toolStart, end: toolStart + rng.logNormal(ts.latency.medianMs, ts.latency.sigma), tool: ts, call, result: ts.result(ctx, call.arguments) };
      const fStart = toolStep.end + rng.float(1, 5);
      const fTtft = llmModel.firstTokenMs * rng.logNormal(0.8, 0.3);
      followUp = {
        ...llm, start: fStart, end: fStart + fTtft + output * llmModel.msPerOutputToken, ttftMs: fTtft,
        responseId: `chatcmpl-${rng.token(29)}`,
        input: [...history, { role: 'assistant', toolCalls: [call] }, { role: 'tool', toolCallId: call.id, content: JSON.stringify(toolStep.result) }],
        output: { text: agentText, finishReason: 'stop' },
        usage: { input: input + 60, output, cacheRead: 0, reasoning: 0 },
      };
      speechSource = followUp;
    }

    // Speech synthesis streams: it starts on the first LLM tokens, audio follows after its ttfb.
    const ttsStart = speechSource.start + speechSource.ttftMs + rng.float(5, 30);
    const ttsTtfbMs = rng.float(110, 420);
    const speechStart = ttsStart + ttsTtfbMs;
    const fullSpeech = agentText.length * SPEECH_MS_PER_CHAR * rng.logNormal(1, 0.1);
    const interrupted = !failsHere && n < turnCount && rng.chance(0.14);
    const speechEnd = failsHere ? llm.end : speechStart + (interrupted ? fullSpeech * rng.float(0.2, 0.7) : fullSpeech);
    if (!failsHere) history.push({ role: 'assistant', content: agentText });

    turns.push({
      number: n, userStart, userEnd, transcript, sttStart: userStart + rng.float(20, 120), sttEnd, sttTtfbMs,
      transcriptConfidence: Math.round(rng.float(0.82, 0.99) * 100) / 100,
      llm, tool: toolStep, followUp, agentText, ttsStart, ttsTtfbMs, speechStart, speechEnd,
      responseLatencyMs: speechStart - userEnd, interrupted, error: failsHere ? error : undefined,
    });
    if (failsHere) {
      t = llm.end;
      break;
    }
    // After an interruption the user is already talking; otherwise there is a pause.
    t = interrupted ? speechEnd + rng.float(50, 300) : speechEnd + rng.float(600, 4_000);
  }

  return {
    agent,
    environment,
    version: agent.versions[environment],
    sessionId,
    roomName: `call-${rng.token(10).toLowerCase()}`,
    jobId: `AJ_${rng.token(12)}`,
    userId,
    startTime,
    endTime: t + rng.float(200, 1500),
    turns,
    endReason,
    error,
    contentCapture,
    newerSdk,
  };
}
