/**
 * The generator as a client library: emit one run, one voice session or one non-GenAI trace, and
 * get back what was sent and what a correct server should derive from it (agent, status, counts,
 * token totals). Server tests use this to send known traffic and compare.
 */
import { ATTR_ERROR_TYPE, ATTR_EXCEPTION_TYPE } from '@opentelemetry/semantic-conventions';
import { CAPABILITIES, RUN_RENDERERS, VOICE_RENDERERS, type RunConvention, type VoiceFramework } from './conventions';
import { allSpans, span, SpanKind, type Plan, type PlannedSpan } from './plan';
import { play, type Playback } from './player';
import { buildRunScenario, World, type Environment, type RunScenario, type ScenarioOptions, type TokenUsage } from './scenario';
import type { TelemetrySink } from './telemetry';
import { buildVoiceSession, type VoiceEndReason, type VoiceOptions, type VoiceSession } from './voice';

export type ExpectedStatus = 'completed' | 'failed' | 'timed_out';

export interface PlaybackOptions {
  /** Shared state across emits (users, conversations, seeded randomness); a fresh one otherwise. */
  world?: World;
  /** Seed for a fresh world when none is given. */
  seed?: string | number;
  /**
   * false (default): every span ends at once with its planned timestamps, ready to flush.
   * true: spans end on timers at their planned times (live traffic; see PlayOptions.realtime).
   */
  realtime?: boolean;
  now?: () => number;
}

export type EmitRunOptions = ScenarioOptions & PlaybackOptions;

interface Emitted {
  traceId: string;
  /** Spans that will be exported (all but those that never end). */
  spanCount: number;
  logCount: number;
  startTime: Date;
  /** Planned end of the root span; undefined when it never ends. */
  endTime?: Date;
  /** Resolves when every span that will ever end has ended. */
  done: Promise<void>;
  /** Abandons spans not yet ended (their ends were in the future). */
  cancel(): void;
  /** Spans still waiting on a timer. */
  pending(): number;
}

export interface EmittedRun extends Emitted {
  kind: 'run';
  convention: RunConvention;
  /**
   * The run's identity on the server together with the trace id: the outermost agent span.
   * Undefined for apps that instrument only their LLM client (no agent span at all).
   */
  rootSpanId?: string;
  /** The trace's top span (an HTTP server span above the agent, when there is one). */
  traceRootSpanId: string;
  /** Expected run agent: the agent name, or `service.name` when there is no agent span. */
  agent: string;
  agentVersion: string;
  service: string;
  environment: Environment;
  conversationId: string;
  userId: string;
  /** Final status; a run whose agent span never ends is expected to be inferred as timed out. */
  expectedStatus: ExpectedStatus;
  /** false when the agent span is never sent (the server must infer a timeout). */
  agentSpanEnds: boolean;
  longRunning: boolean;
  errorType?: string;
  toolSpans: number;
  llmSpans: number;
  /** Agent spans, the run's own included (nested agents are steps of the run). */
  agentSpans: number;
  /** Sum over LLM spans of the usage their attributes report (parents' totals not included). */
  tokens: TokenUsage;
  /** Cost reported by the telemetry itself (OpenInference `llm.cost.total`), when present. */
  reportedCostUsd?: number;
  scenario: RunScenario;
  plan: Plan;
}

export interface EmittedSession extends Emitted {
  kind: 'session';
  framework: VoiceFramework;
  rootSpanId: string;
  agent: string;
  agentVersion: string;
  service: string;
  environment: Environment;
  channel: 'voice';
  sessionId: string;
  userId: string;
  turns: number;
  interruptions: number;
  endReason: VoiceEndReason;
  expectedStatus: 'completed' | 'failed';
  llmSpans: number;
  toolSpans: number;
  tokens: TokenUsage;
  /** Mean time from end of user speech to first agent audio, over answered turns. */
  meanResponseLatencyMs: number;
  session: VoiceSession;
  plan: Plan;
}

export interface EmittedNoise extends Emitted {
  kind: 'noise';
  service: string;
}

function errorTypeOf(s: PlannedSpan | undefined): string | undefined {
  if (!s) return undefined;
  const attr = s.attributes[ATTR_ERROR_TYPE];
  if (typeof attr === 'string') return attr;
  const event = s.events?.find((e) => e.name === 'exception');
  const type = event?.attributes?.[ATTR_EXCEPTION_TYPE];
  return typeof type === 'string' ? type : undefined;
}

function tally(spans: PlannedSpan[]): { tokens: TokenUsage; cost?: number } {
  const tokens: TokenUsage = { input: 0, output: 0, cacheRead: 0, reasoning: 0 };
  let cost: number | undefined;
  for (const s of spans) {
    if (s.role !== 'llm' || !s.tokens) continue;
    tokens.input += s.tokens.input;
    tokens.output += s.tokens.output;
    tokens.cacheRead += s.tokens.cacheRead;
    tokens.reasoning += s.tokens.reasoning;
    if (s.costUsd !== undefined) cost = Math.round(((cost ?? 0) + s.costUsd) * 1e8) / 1e8;
  }
  return { tokens, cost };
}

function common(plan: Plan, playback: Playback): Emitted {
  const spans = allSpans(plan.root);
  return {
    traceId: playback.traceId,
    spanCount: spans.filter((s) => s.end !== null).length,
    logCount: spans.filter((s) => s.end !== null).reduce((n, s) => n + (s.logs?.length ?? 0), 0),
    startTime: new Date(plan.root.start),
    endTime: plan.root.end === null ? undefined : new Date(plan.root.end),
    done: playback.done,
    cancel: playback.cancel,
    pending: playback.pending,
  };
}

function worldOf(options: PlaybackOptions): World {
  return options.world ?? new World(options.seed ?? 'agent-insights-demo');
}

/** Builds one agent run in the given convention and sends it through the sink. */
export function emitRun(sink: TelemetrySink, convention: RunConvention, options: EmitRunOptions = {}): EmittedRun {
  const world = worldOf(options);
  const caps = CAPABILITIES[convention];
  const scenario = buildRunScenario(world, {
    ...options,
    allowLlmOnly: caps.llmOnlyApps && options.allowLlmOnly !== false,
    allowSubAgents: caps.subAgents && options.allowSubAgents !== false,
  });
  const plan = RUN_RENDERERS[convention](scenario, world.rng);
  const playback = play(plan, sink, { realtime: options.realtime, now: options.now });
  const spans = allSpans(plan.root);
  const runSpan = spans.find((s) => s.role === 'run');
  const { tokens, cost } = tally(spans);
  const failedStep = spans.find((s) => s.role === 'llm' && s.status !== undefined);
  return {
    kind: 'run',
    convention,
    ...common(plan, playback),
    rootSpanId: runSpan ? playback.spanIds.get(runSpan) : undefined,
    traceRootSpanId: playback.spanIds.get(plan.root) as string,
    agent: scenario.agent.llmOnly ? scenario.agent.service : scenario.agent.name,
    agentVersion: scenario.version,
    service: scenario.agent.service,
    environment: scenario.environment,
    conversationId: scenario.conversationId,
    userId: scenario.userId,
    expectedStatus: scenario.outcome === 'never_ends' ? 'timed_out' : scenario.outcome,
    agentSpanEnds: scenario.endTime !== null,
    longRunning: scenario.longRunning,
    errorType: scenario.error ? errorTypeOf(runSpan ?? failedStep) : undefined,
    toolSpans: spans.filter((s) => s.role === 'tool').length,
    llmSpans: spans.filter((s) => s.role === 'llm').length,
    agentSpans: spans.filter((s) => s.role === 'run' || s.role === 'agent').length,
    tokens,
    reportedCostUsd: cost,
    scenario,
    plan,
  };
}

/** Builds one voice session in the given framework's spans and sends it through the sink. */
export function emitVoiceSession(sink: TelemetrySink, framework: VoiceFramework, options: VoiceOptions & PlaybackOptions = {}): EmittedSession {
  const world = worldOf(options);
  const session = buildVoiceSession(world, { ...options, framework });
  const plan = VOICE_RENDERERS[framework](session);
  const playback = play(plan, sink, { realtime: options.realtime, now: options.now });
  const spans = allSpans(plan.root);
  const answered = session.turns.filter((t) => !t.error);
  return {
    kind: 'session',
    framework,
    ...common(plan, playback),
    rootSpanId: playback.spanIds.get(plan.root) as string,
    // Pipecat's spans name no agent: the session is known by its service.
    agent: framework === 'pipecat' ? session.agent.service : session.agent.name,
    agentVersion: session.version,
    service: session.agent.service,
    environment: session.environment,
    channel: 'voice',
    sessionId: session.sessionId,
    userId: session.userId,
    turns: session.turns.length,
    interruptions: session.turns.filter((t) => t.interrupted).length,
    endReason: session.endReason,
    expectedStatus: session.error ? 'failed' : 'completed',
    llmSpans: spans.filter((s) => s.role === 'llm').length,
    toolSpans: spans.filter((s) => s.role === 'tool').length,
    tokens: tally(spans).tokens,
    meanResponseLatencyMs: answered.length ? answered.reduce((n, t) => n + t.responseLatencyMs, 0) / answered.length : 0,
    session,
    plan,
  };
}

/**
 * A trace with no GenAI span at all (a health check hitting the database). Such traces are not
 * runs; the server should count them and otherwise ignore them.
 */
export function emitNonGenAiTrace(sink: TelemetrySink, options: PlaybackOptions & { startTime?: number; service?: string } = {}): EmittedNoise {
  const world = worldOf(options);
  const rng = world.rng;
  const start = options.startTime ?? Date.now();
  const service = options.service ?? rng.pick(['support-triage-api', 'billing-bot', 'travel-planner-web']);
  const db = rng.float(0.4, 4);
  const root = span('other', 'GET /healthz', SpanKind.SERVER, start, start + db + rng.float(0.5, 3), {
    'http.request.method': 'GET', 'http.route': '/healthz', 'url.path': '/healthz', 'http.response.status_code': 200,
  }, { scope: '@opentelemetry/instrumentation-http' });
  root.children.push(span('other', 'SELECT', SpanKind.CLIENT, start + 0.2, start + 0.2 + db, {
    'db.system.name': 'postgresql', 'db.operation.name': 'SELECT', 'db.query.text': 'SELECT 1',
  }, { scope: '@opentelemetry/instrumentation-pg' }));
  const plan: Plan = { app: { serviceName: service, environment: 'production' }, scope: '@opentelemetry/instrumentation-http', root };
  const playback = play(plan, sink, { realtime: options.realtime, now: options.now });
  return { kind: 'noise', service, ...common(plan, playback) };
}
