/**
 * What happens in one agent run, independent of how it is written down in telemetry.
 *
 * A scenario is plain data: the agent, who asked, every LLM call and tool call with its timing,
 * token usage, content and errors, and how the run ends. The convention renderers
 * (conventions/*.ts) turn one scenario into spans in their own vocabulary, so the same run can be
 * sent as OTel GenAI, OpenInference, OpenLLMetry or Vercel AI SDK spans, and tests can compare
 * what was sent against what the scenario says should be counted.
 *
 * All times are absolute epoch milliseconds (fractions allowed).
 */
import { AGENTS, model, tool, type AgentSpec, type ModelSpec, type SubAgentSpec, type ToolContext, type ToolSpec } from './catalog';
import { Rng } from './random';

export type Outcome = 'completed' | 'failed' | 'timed_out' | 'never_ends';
export type Environment = 'production' | 'staging';

export interface TokenUsage {
  /** Input tokens as providers report them: cached tokens included. */
  input: number;
  /** Output tokens: reasoning tokens included. */
  output: number;
  cacheRead: number;
  reasoning: number;
}

export interface ToolCallRequest {
  id: string;
  name: string;
  arguments: Record<string, unknown>;
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content?: string;
  toolCalls?: ToolCallRequest[];
  toolCallId?: string;
}

export interface StepError {
  /** Exception type as the agent's language names it; also the `error.type` value. */
  type: string;
  message: string;
  timeout: boolean;
}

export interface LlmStep {
  kind: 'llm';
  start: number;
  end: number;
  model: ModelSpec;
  responseId: string;
  temperature: number;
  maxTokens: number;
  streaming: boolean;
  ttftMs: number;
  /** The full prompt, system message first. */
  input: ChatMessage[];
  output?: {
    text?: string;
    toolCalls?: ToolCallRequest[];
    /** Reasoning summary text, when the model reasoned and content capture is on. */
    reasoning?: string;
    finishReason: 'stop' | 'tool_calls';
  };
  /** Absent when the call failed before the provider reported usage. */
  usage?: TokenUsage;
  error?: StepError;
}

export interface ToolStep {
  kind: 'tool';
  start: number;
  end: number;
  tool: ToolSpec;
  call: ToolCallRequest;
  result?: unknown;
  error?: StepError;
}

export interface SubAgentStep {
  kind: 'agent';
  start: number;
  end: number;
  agent: SubAgentSpec;
  input: string;
  output?: string;
  steps: Step[];
  error?: StepError;
}

export type Step = LlmStep | ToolStep | SubAgentStep;

export interface RunScenario {
  agent: AgentSpec;
  environment: Environment;
  version: string;
  conversationId: string;
  userId: string;
  startTime: number;
  /** When the agent span ends; null when it never does (the process hung or died). */
  endTime: number | null;
  outcome: Outcome;
  /** The error the agent span reports (failed and timed-out runs). */
  error?: StepError;
  longRunning: boolean;
  primaryModel: ModelSpec;
  systemPrompt: string;
  userMessage: string;
  finalAnswer?: string;
  steps: Step[];
  /** Whether an HTTP server span sits above the agent span (it must not become the run). */
  httpWrapper: boolean;
  /** Whether prompts and completions are captured (it is opt-in everywhere). */
  contentCapture: boolean;
}

export interface OutcomeRates {
  failed: number;
  timedOut: number;
  neverEnds: number;
  longRunning: number;
  /** Share of traffic that goes to staging, where release candidates fail more often. */
  stagingShare: number;
}

export const DEFAULT_RATES: OutcomeRates = {
  failed: 0.06,
  timedOut: 0.03,
  neverEnds: 0.015,
  longRunning: 0.04,
  stagingShare: 0.2,
};

export interface ScenarioOptions {
  agent?: string;
  outcome?: Outcome;
  longRunning?: boolean;
  environment?: Environment;
  startTime?: number;
  /** Force (true) or forbid (false) a hand-off to a sub-agent; default: sometimes, when the agent has one. */
  subAgent?: boolean;
  contentCapture?: boolean;
  httpWrapper?: boolean;
  /** Whether agents without an agent span (LLM-only apps) may be picked. */
  allowLlmOnly?: boolean;
  /** Whether the rendering convention can express nested agents. */
  allowSubAgents?: boolean;
  /** Exact number of tool rounds (overrides the agent's usual range). */
  toolRounds?: number;
}

interface Conversation {
  id: string;
  userId: string;
  lastAt: number;
}

/**
 * Long-lived state across runs: the seeded generator, the user population and open conversations,
 * so that conversations have several runs and a few heavy users dominate (as in real traffic).
 */
export class World {
  readonly rng: Rng;
  readonly rates: OutcomeRates;
  private readonly users: [string, number][];
  private readonly conversations = new Map<string, Conversation[]>();

  constructor(seed: string | number = 'agent-insights-demo', rates: Partial<OutcomeRates> = {}) {
    this.rng = new Rng(seed);
    this.rates = { ...DEFAULT_RATES, ...rates };
    // Zipf-like weights: user-1001 is much busier than user-1060.
    this.users = Array.from({ length: 60 }, (_, i) => [`user-${1001 + i}`, 1 / Math.pow(i + 1, 0.8)]);
  }

  pickUser(): string {
    return this.rng.weighted(this.users);
  }

  /** Continues a recent conversation of this agent, or starts a new one. */
  conversation(agentName: string, at: number, prefix = 'conv_'): Conversation {
    const pool = this.conversations.get(agentName) ?? [];
    this.conversations.set(agentName, pool);
    const recent = pool.filter((c) => Math.abs(at - c.lastAt) < 30 * 60_000);
    if (recent.length > 0 && this.rng.chance(0.45)) {
      const c = this.rng.pick(recent);
      c.lastAt = Math.max(c.lastAt, at);
      return c;
    }
    const c: Conversation = { id: `${prefix}${this.rng.token(20)}`, userId: this.pickUser(), lastAt: at };
    pool.push(c);
    if (pool.length > 50) pool.shift();
    return c;
  }

  pickEnvironment(): Environment {
    return this.rng.chance(this.rates.stagingShare) ? 'staging' : 'production';
  }

  pickOutcome(env: Environment): Outcome {
    // Release candidates on staging fail and time out about twice as often.
    const k = env === 'staging' ? 2 : 1;
    const r = this.rng.next();
    const { failed, timedOut, neverEnds } = this.rates;
    if (r < failed * k) return 'failed';
    if (r < (failed + timedOut) * k) return 'timed_out';
    if (r < (failed + timedOut) * k + neverEnds) return 'never_ends';
    return 'completed';
  }
}

// ---------------------------------------------------------------------------------------------

const LLM_ERRORS: Record<ModelSpec['provider'], string[]> = {
  openai: ['openai.RateLimitError', 'openai.InternalServerError', 'openai.BadRequestError'],
  anthropic: ['anthropic.RateLimitError', 'anthropic.InternalServerError', 'anthropic.APIStatusError'],
  google: ['google.api_core.exceptions.ResourceExhausted', 'google.api_core.exceptions.ServiceUnavailable'],
};

const LLM_TIMEOUTS: Record<ModelSpec['provider'], string> = {
  openai: 'openai.APITimeoutError',
  anthropic: 'anthropic.APITimeoutError',
  google: 'TimeoutError',
};

/** Errors raised by the agent framework itself, after the model answered. */
const AGENT_ERRORS = ['OutputGuardrailTripwireTriggered', 'MaxTurnsExceeded', 'pydantic_core.ValidationError'];

const LLM_TIMEOUT_MS = 60_000;

function responseId(rng: Rng, m: ModelSpec): string {
  if (m.provider === 'openai') return `chatcmpl-${rng.token(29)}`;
  if (m.provider === 'anthropic') return `msg_${rng.token(24)}`;
  return rng.token(22);
}

function callId(rng: Rng, m: ModelSpec): string {
  return m.provider === 'anthropic' ? `toolu_${rng.token(24)}` : `call_${rng.token(24)}`;
}

function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

function messageText(m: ChatMessage): string {
  return (m.content ?? '') + (m.toolCalls ? JSON.stringify(m.toolCalls) : '');
}

interface Failure {
  round: number;
  on: 'llm' | 'tool' | 'agent';
  timeout: boolean;
}

interface Hang {
  round: number;
  after: 'llm' | 'tool';
}

interface LoopInput {
  rng: Rng;
  model: ModelSpec;
  tools: ToolSpec[];
  toolCtx: ToolContext;
  systemPrompt: string;
  userMessage: string;
  finalAnswer: string;
  reasoningText: string;
  reasoningShare: number;
  contentCapture: boolean;
  rounds: number;
  start: number;
  /** Padding for tool schemas and retrieved context, which real prompts carry. */
  contextTokens: number;
  failure?: Failure;
  hang?: Hang;
  long?: { round: number; ms: number };
  subAgent?: { spec: SubAgentSpec; round: number };
}

interface LoopOutput {
  steps: Step[];
  end: number;
  error?: StepError;
  finalText?: string;
  hung: boolean;
}

function llmCall(
  inp: LoopInput,
  messages: ChatMessage[],
  start: number,
  round: number,
  prevInput: number,
  out: { toolCalls?: ToolCallRequest[]; text?: string },
): LlmStep {
  const { rng, model: m } = inp;
  const promptText = messages.map(messageText).join('\n');
  const input = estimateTokens(promptText) + inp.contextTokens + 4 * messages.length;
  // Prompt caching: later rounds resend the earlier prompt, so most of it is a cache hit.
  // Providers cache in 128-token blocks above a 1,024-token minimum.
  let cacheRead = 0;
  const prefix = round > 0 ? prevInput : inp.contextTokens;
  if (prefix >= 1024 && rng.chance(round > 0 ? 0.8 : 0.3)) cacheRead = Math.min(input - 1, Math.floor(prefix / 128) * 128);
  const visible = out.text
    ? estimateTokens(out.text) + rng.int(0, 12)
    : (out.toolCalls ?? []).reduce((n, c) => n + 18 + estimateTokens(JSON.stringify(c.arguments)), 0);
  const reasoning = m.reasoning && rng.chance(inp.reasoningShare) ? rng.int(64, 1600) : 0;
  const ttftMs = m.firstTokenMs * rng.logNormal(1, 0.35) + reasoning * m.msPerOutputToken * 0.8;
  const duration = ttftMs + visible * m.msPerOutputToken * rng.logNormal(1, 0.2);
  return {
    kind: 'llm',
    start,
    end: start + duration,
    model: m,
    responseId: responseId(rng, m),
    temperature: rng.pick([0, 0.2, 0.7, 1]),
    maxTokens: rng.pick([1024, 2048, 4096]),
    streaming: rng.chance(0.5),
    ttftMs,
    input: messages.slice(),
    output: {
      text: out.text,
      toolCalls: out.toolCalls && out.toolCalls.length > 0 ? out.toolCalls : undefined,
      reasoning: reasoning > 0 && inp.contentCapture && inp.reasoningText ? inp.reasoningText : undefined,
      finishReason: out.toolCalls && out.toolCalls.length > 0 ? 'tool_calls' : 'stop',
    },
    usage: { input, output: visible + reasoning, cacheRead, reasoning },
  };
}

/** Picks the tools one round calls: usually one, sometimes two in parallel. */
function toolsForRound(inp: LoopInput, round: number): ToolSpec[] {
  const { rng, tools } = inp;
  if (tools.length === 0) return [];
  const count = tools.length > 1 && rng.chance(0.25) ? 2 : 1;
  // Agents tend to follow their tools' natural order (look up, then act, then notify).
  const startIndex = Math.min(round + rng.int(0, 1), tools.length - 1);
  const chosen: ToolSpec[] = [];
  for (let i = 0; i < count; i++) chosen.push(tools[(startIndex + i) % tools.length]);
  if (inp.long?.round === round) {
    const longTool = tools.find((t) => t.canRunLong);
    if (longTool && !chosen.includes(longTool)) chosen[0] = longTool;
  }
  return chosen;
}

/** Simulates the classic agent loop: call the model, run the tools it asks for, repeat, answer. */
function runLoop(inp: LoopInput): LoopOutput {
  const { rng } = inp;
  const steps: Step[] = [];
  const messages: ChatMessage[] = [
    { role: 'system', content: inp.systemPrompt },
    { role: 'user', content: inp.userMessage },
  ];
  let t = inp.start + rng.float(2, 25);
  let prevInput = 0;

  for (let round = 0; round <= inp.rounds; round++) {
    const wantsTools = round < inp.rounds;
    const handOff = wantsTools && inp.subAgent?.round === round ? inp.subAgent.spec : undefined;
    const roundTools = wantsTools && !handOff ? toolsForRound(inp, round) : [];
    const calls: ToolCallRequest[] = handOff
      ? [{ id: callId(rng, inp.model), name: `transfer_to_${handOff.name.replace(/-/g, '_')}`, arguments: { question: inp.userMessage } }]
      : roundTools.map((ts) => ({ id: callId(rng, inp.model), name: ts.name, arguments: ts.args(inp.toolCtx) }));

    const llm = llmCall(inp, messages, t, round, prevInput, wantsTools ? { toolCalls: calls } : { text: inp.finalAnswer });
    const f = inp.failure;
    if (f && f.round === round && f.on === 'llm') {
      const type = f.timeout ? LLM_TIMEOUTS[inp.model.provider] : rng.pick(LLM_ERRORS[inp.model.provider]);
      llm.error = {
        type,
        message: f.timeout ? `Request timed out after ${LLM_TIMEOUT_MS / 1000}s` : `${type.split('.').pop()}: the provider rejected the request`,
        timeout: f.timeout,
      };
      llm.end = llm.start + (f.timeout ? LLM_TIMEOUT_MS : rng.float(150, 2500));
      llm.output = undefined;
      llm.usage = undefined;
      steps.push(llm);
      return { steps, end: llm.end, error: llm.error, hung: false };
    }
    steps.push(llm);
    t = llm.end;
    prevInput = llm.usage?.input ?? prevInput;
    if (inp.hang && inp.hang.round === round && (inp.hang.after === 'llm' || !wantsTools)) return { steps, end: t, hung: true };
    if (!wantsTools) {
      if (f && f.on === 'agent') {
        const type = rng.pick(AGENT_ERRORS);
        return { steps, end: t + rng.float(1, 20), error: { type, message: `${type}: the answer was rejected by a guardrail`, timeout: false }, hung: false };
      }
      return { steps, end: t, finalText: inp.finalAnswer, hung: false };
    }
    messages.push({ role: 'assistant', toolCalls: calls });

    if (handOff) {
      const sub = runSubAgent(inp, handOff, t + rng.float(1, 6), f && f.round === round && f.on === 'tool' ? f : undefined);
      steps.push(sub);
      t = sub.end + rng.float(1, 8);
      if (sub.error) return { steps, end: t, error: sub.error, hung: false };
      messages.push({ role: 'tool', toolCallId: calls[0].id, content: sub.output ?? '' });
      continue;
    }

    let roundEnd = t;
    let fatal: StepError | undefined;
    calls.forEach((call, i) => {
      const ts = roundTools[i];
      const start = t + rng.float(1, 8) + i * rng.float(0, 3);
      let duration = rng.logNormal(ts.latency.medianMs, ts.latency.sigma);
      if (inp.long && inp.long.round === round && i === 0) duration = inp.long.ms;
      const step: ToolStep = { kind: 'tool', start, end: start + duration, tool: ts, call };
      const failsHere = f && f.round === round && f.on === 'tool' && i === calls.length - 1;
      if (failsHere && f.timeout) {
        step.end = start + ts.timeoutMs;
        step.error = { type: ts.timeoutType, message: `${ts.name} timed out after ${ts.timeoutMs / 1000}s`, timeout: true };
        fatal = step.error;
      } else if (failsHere) {
        step.error = { type: rng.pick(ts.errorTypes), message: `${ts.name} failed and the agent gave up`, timeout: false };
        fatal = step.error;
      } else if (rng.chance(ts.errorRate)) {
        // A tool error the agent recovers from: the model sees the error and carries on.
        step.error = { type: rng.pick(ts.errorTypes), message: `${ts.name} returned an error`, timeout: false };
      } else {
        step.result = ts.result(inp.toolCtx, call.arguments);
      }
      steps.push(step);
      roundEnd = Math.max(roundEnd, step.end);
    });
    t = roundEnd + rng.float(1, 10);
    if (fatal) return { steps, end: t, error: fatal, hung: false };
    if (inp.hang && inp.hang.round === round) return { steps, end: t, hung: true };
    for (const [i, call] of calls.entries()) {
      const step = steps[steps.length - calls.length + i] as ToolStep;
      messages.push({ role: 'tool', toolCallId: call.id, content: JSON.stringify(step.error ? { error: step.error.message } : step.result) });
    }
  }
  throw new Error('unreachable: the last round always answers');
}

function runSubAgent(parent: LoopInput, spec: SubAgentSpec, start: number, failure?: Failure): SubAgentStep {
  const { rng } = parent;
  const question = parent.userMessage;
  const loop = runLoop({
    ...parent,
    model: model(spec.model),
    tools: spec.tools.map(tool),
    systemPrompt: `You are ${spec.name}. ${spec.description} Return a short list of sources with one-line findings.`,
    userMessage: question,
    finalAnswer: 'Found three relevant sources; the two most recent agree on the trend, the third uses an older baseline.',
    reasoningShare: 0,
    rounds: 1,
    start,
    contextTokens: rng.int(200, 600),
    failure: failure ? { round: 0, on: 'tool', timeout: failure.timeout } : undefined,
    hang: undefined,
    long: undefined,
    subAgent: undefined,
  });
  return {
    kind: 'agent',
    start,
    end: loop.end + rng.float(1, 10),
    agent: spec,
    input: question,
    output: loop.finalText,
    steps: loop.steps,
    error: loop.error,
  };
}

/** Builds one run: picks agent, environment, user, conversation and outcome unless given. */
export function buildRunScenario(world: World, opts: ScenarioOptions = {}): RunScenario {
  const rng = world.rng;
  const candidates = AGENTS.filter((a) => (opts.agent ? a.name === opts.agent : opts.allowLlmOnly !== false || !a.llmOnly));
  if (candidates.length === 0) throw new Error(`no agent matches ${opts.agent}`);
  const agent = rng.weighted(candidates.map((a) => [a, a.weight] as const));
  const environment = opts.environment ?? world.pickEnvironment();
  const startTime = opts.startTime ?? Date.now();
  const conv = world.conversation(agent.name, startTime);
  const primaryModel = model(rng.weighted(agent.models));
  const tools = agent.tools.map(tool);

  let rounds = opts.toolRounds ?? (tools.length === 0 ? 0 : rng.int(agent.toolRounds[0], agent.toolRounds[1]));
  if (tools.length === 0) rounds = 0;
  let outcome = opts.outcome ?? world.pickOutcome(environment);
  // An LLM-only app has no agent span that could stay open; its "hang" is just a failed call.
  if (agent.llmOnly && outcome === 'never_ends') outcome = 'failed';
  // A long run needs a tool call to be long in.
  if (opts.longRunning && rounds === 0 && tools.length > 0) rounds = 1;
  const longRunning = rounds > 0 && (opts.longRunning ?? rng.chance(world.rates.longRunning));

  let failure: Failure | undefined;
  if (outcome === 'failed' || outcome === 'timed_out') {
    const timeout = outcome === 'timed_out';
    const on = rounds === 0
      ? (timeout ? 'llm' : rng.weighted<'llm' | 'agent'>([['llm', 0.7], ['agent', agent.llmOnly ? 0 : 0.3]]))
      : rng.weighted<'llm' | 'tool' | 'agent'>([['tool', 0.5], ['llm', 0.35], ['agent', timeout || agent.llmOnly ? 0 : 0.15]]);
    failure = { on, timeout, round: on === 'tool' ? rng.int(0, rounds - 1) : on === 'agent' ? rounds : rng.int(0, rounds) };
  }
  let hang: Hang | undefined;
  if (outcome === 'never_ends') {
    const round = rng.int(0, rounds);
    hang = { round, after: round < rounds && rng.chance(0.5) ? 'tool' : 'llm' };
  }
  const long = longRunning ? { round: rng.int(0, rounds - 1), ms: rng.float(150_000, 540_000) } : undefined;
  const allowSub = opts.allowSubAgents !== false && agent.subAgent !== undefined && rounds > 0;
  const useSub = allowSub && (opts.subAgent ?? rng.chance(0.35));
  // Hand off in a round that is neither the long round nor (for simplicity) a hang round.
  let subRound = useSub ? rng.int(0, rounds - 1) : -1;
  if (useSub && long && long.round === subRound) subRound = -1;
  if (useSub && hang && hang.round === subRound) subRound = -1;

  const subject = agent.subject(rng);
  const contentCapture = opts.contentCapture ?? rng.chance(0.85);
  const userMessage = agent.userMessage(subject, rng);
  const finalAnswer = agent.finalAnswer(subject, rng);
  const loop = runLoop({
    rng,
    model: primaryModel,
    tools,
    toolCtx: { rng, subject },
    systemPrompt: agent.systemPrompt,
    userMessage,
    finalAnswer,
    reasoningText: agent.reasoning(subject),
    reasoningShare: agent.reasoningShare,
    contentCapture,
    rounds,
    start: startTime,
    contextTokens: tools.length * 110 + rng.int(150, 2200),
    failure,
    hang,
    long,
    subAgent: subRound >= 0 && agent.subAgent ? { spec: agent.subAgent, round: subRound } : undefined,
  });

  // A sub-agent failure may have turned a planned tool failure into an agent-level one; either
  // way the run's status follows the error that ended it.
  if (loop.error) outcome = loop.error.timeout ? 'timed_out' : 'failed';

  return {
    agent,
    environment,
    version: agent.versions[environment],
    conversationId: conv.id,
    userId: conv.userId,
    startTime,
    endTime: loop.hung ? null : loop.end + rng.float(2, 30),
    outcome: loop.hung ? 'never_ends' : outcome,
    error: loop.error,
    longRunning: long !== undefined && loop.steps.some((s) => s.kind === 'tool' && s.end - s.start >= long.ms - 1),
    primaryModel,
    systemPrompt: agent.systemPrompt,
    userMessage,
    finalAnswer: loop.finalText,
    steps: loop.steps,
    httpWrapper: agent.llmOnly === true || rng.chance(0.25),
    contentCapture,
  };
}

// ---------------------------------------------------------------------------------------------
// Walking the steps

/** Every LLM step, including those inside sub-agents. */
export function llmSteps(steps: Step[]): LlmStep[] {
  return steps.flatMap((s) => (s.kind === 'llm' ? [s] : s.kind === 'agent' ? llmSteps(s.steps) : []));
}

export function toolSteps(steps: Step[]): ToolStep[] {
  return steps.flatMap((s) => (s.kind === 'tool' ? [s] : s.kind === 'agent' ? toolSteps(s.steps) : []));
}

export function sumUsage(steps: LlmStep[]): TokenUsage {
  const total: TokenUsage = { input: 0, output: 0, cacheRead: 0, reasoning: 0 };
  for (const s of steps) {
    if (!s.usage) continue;
    total.input += s.usage.input;
    total.output += s.usage.output;
    total.cacheRead += s.usage.cacheRead;
    total.reasoning += s.usage.reasoning;
  }
  return total;
}
