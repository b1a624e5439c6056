/** The demo traffic generator as a library, for server tests and benchmarks. */
export { emitNonGenAiTrace, emitRun, emitVoiceSession } from './emit';
export type { EmitRunOptions, EmittedNoise, EmittedRun, EmittedSession, ExpectedStatus, PlaybackOptions } from './emit';
export { RUN_CONVENTIONS, VOICE_FRAMEWORKS } from './conventions';
export type { RunConvention, VoiceFramework } from './conventions';
export { World } from './scenario';
export type { Outcome, RunScenario, ScenarioOptions, TokenUsage } from './scenario';
export { SeededIdGenerator } from './ids';
export { Rng } from './random';
export {
  buildLoggerProvider,
  buildResource,
  buildTracerProvider,
  createInMemorySink,
  createOtlpSink,
  ProviderSink,
} from './telemetry';
export type { ExportTarget, InMemorySink, OtlpProtocol, TelemetrySink } from './telemetry';
export { TrafficScheduler } from './scheduler';
