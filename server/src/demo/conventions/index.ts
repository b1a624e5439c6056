/** The conventions a run or a voice session can be written in, by name. */
import type { Plan } from '../plan';
import type { Rng } from '../random';
import type { RunScenario } from '../scenario';
import type { VoiceSession } from '../voice';
import { renderLiveKit } from './livekit';
import { renderOpenInference } from './openinference';
import { renderOpenLlmetry } from './openllmetry';
import { renderOtelLatest, renderOtelLegacy } from './otel-genai';
import { renderPipecat } from './pipecat';
import { renderVercel } from './vercel';

export type RunConvention = 'otel-genai' | 'otel-genai-legacy' | 'openinference' | 'openllmetry' | 'vercel-ai';
export type VoiceFramework = 'livekit' | 'pipecat';

export const RUN_CONVENTIONS: readonly RunConvention[] = ['otel-genai', 'otel-genai-legacy', 'openinference', 'openllmetry', 'vercel-ai'];
export const VOICE_FRAMEWORKS: readonly VoiceFramework[] = ['livekit', 'pipecat'];

export const RUN_RENDERERS: Record<RunConvention, (s: RunScenario, rng: Rng) => Plan> = {
  'otel-genai': renderOtelLatest,
  'otel-genai-legacy': renderOtelLegacy,
  openinference: renderOpenInference,
  openllmetry: renderOpenLlmetry,
  'vercel-ai': renderVercel,
};

export const VOICE_RENDERERS: Record<VoiceFramework, (v: VoiceSession) => Plan> = {
  livekit: renderLiveKit,
  pipecat: renderPipecat,
};

/** What a convention can express, which decides what kind of scenario it is given. */
export const CAPABILITIES: Record<RunConvention, { subAgents: boolean; llmOnlyApps: boolean }> = {
  'otel-genai': { subAgents: true, llmOnlyApps: true },
  'otel-genai-legacy': { subAgents: true, llmOnlyApps: true },
  openinference: { subAgents: true, llmOnlyApps: false },
  openllmetry: { subAgents: true, llmOnlyApps: false },
  'vercel-ai': { subAgents: false, llmOnlyApps: false },
};

export function isRunConvention(name: string): name is RunConvention {
  return (RUN_CONVENTIONS as readonly string[]).includes(name);
}
