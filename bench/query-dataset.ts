/**
 * The query benchmark's dataset: N spans (default 10 million) of a realistic agent fleet, written
 * into a fresh DuckDB file through the server's own storage code (DuckDBStore.commit with the runs
 * and sessions that deriveTrace derives), in large batches, in time order as ingest would write
 * them. Deterministic (seeded), so two files of the same size hold the same data.
 *
 *   npx tsx --tsconfig server/tsconfig.json bench/query-dataset.ts [--spans=10000000] [--db=path] [--batch=50000]
 *
 * Shape (what the figures in docs/benchmarks.md were measured on):
 * - 10 agents (8 text, 2 voice) with 2-3 versions each, 15 tools, 6 models from 3 providers,
 *   2 environments (90% production), 12 services, 60,000 conversations of 6,000 users.
 * - Runs spread over the 30 days before the anchor time (the time of generation, rounded down to
 *   the minute), with a daily (working hours) and weekly (quieter weekends) rhythm.
 * - A text run: 1 agent span, 4-11 LLM calls (tokens, cached and reasoning tokens by model), 0-2
 *   tool calls after each LLM call but the last (tool error rates of 1-8%, an exception event on
 *   each failed tool call): about 17 spans. ~90% completed, ~6% failed, ~2.5% timed out; the
 *   last ~150 runs before the anchor are still running (their agent span has not arrived).
 * - ~1.2% of traces are voice (10% of those video) sessions: a LiveKit-style agent_session with
 *   4-20 user/agent turns, an agent run (agent span, LLM call, sometimes a tool) inside each agent
 *   turn, so that a trace holds many runs.
 * - Content capture is on for 7 of the 10 agents: their LLM spans carry input/output messages of a
 *   few hundred bytes (and the first call a system prompt), their tool spans arguments and results.
 *   Attributes and resources are JSON of 150-300 bytes, as the normaliser keeps them.
 *
 * The file is reused: if it exists with its sidecar (<db>.json) naming the same parameters and the
 * spans table holds the recorded count, generation is skipped.
 */
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tmpdir } from 'node:os';
import { replacementOf } from '../server/src/derive/trace';
import { emptySpanRecord, EventRecord, SpanRecord } from '../server/src/domain';
import { DuckDBStore } from '../server/src/store/duckdb/duckdb-store';
import { CommitBatch } from '../server/src/store/store';

export const GENERATOR_VERSION = 1;
export const TENANT = 'bench';
export const DAYS = 30;

export interface DatasetOptions {
  spans: number;
  db: string;
  batch: number;
  seed: number;
}

export interface DatasetMeta {
  generatorVersion: number;
  seed: number;
  targetSpans: number;
  tenant: string;
  /** Epoch ms: the end of the 30 days the runs are spread over. */
  anchorMs: number;
  spans: number;
  events: number;
  runs: number;
  sessions: number;
  traces: number;
  generationSeconds: number;
  generatedAt: string;
  fileBytes: number;
}

// ---------- deterministic randomness ----------

class Rng {
  constructor(private s: number) {}
  /** mulberry32 */
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)];
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  hex(chars: number): string {
    let out = '';
    while (out.length < chars) out += Math.floor(this.next() * 4294967296).toString(16).padStart(8, '0');
    return out.slice(0, chars);
  }
  /** Index from cumulative weights. */
  weighted(cum: number[]): number {
    const x = this.next() * cum[cum.length - 1];
    let i = 0;
    while (cum[i] < x) i++;
    return i;
  }
}

const cumulative = (ws: number[]): number[] => ws.reduce<number[]>((acc, w) => [...acc, (acc[acc.length - 1] ?? 0) + w], []);

// ---------- the fleet ----------

interface Model {
  name: string;
  /** Dated snapshots the provider answers with (the response model). */
  snapshots: string[];
  provider: string;
  cachedShare: number;
  reasoning: boolean;
}
const MODELS: Model[] = [
  { name: 'gpt-4o', snapshots: ['gpt-4o-2024-08-06', 'gpt-4o-2024-11-20'], provider: 'openai', cachedShare: 0.4, reasoning: false },
  { name: 'gpt-4o-mini', snapshots: ['gpt-4o-mini-2024-07-18'], provider: 'openai', cachedShare: 0.3, reasoning: false },
  { name: 'o3-mini', snapshots: ['o3-mini-2025-01-31'], provider: 'openai', cachedShare: 0.2, reasoning: true },
  { name: 'claude-sonnet-4', snapshots: ['claude-sonnet-4-20250514'], provider: 'anthropic', cachedShare: 0.5, reasoning: true },
  { name: 'claude-3-5-haiku', snapshots: ['claude-3-5-haiku-20241022'], provider: 'anthropic', cachedShare: 0.3, reasoning: false },
  { name: 'gemini-2.5-flash', snapshots: ['gemini-2.5-flash'], provider: 'google', cachedShare: 0.1, reasoning: false },
];

interface Tool {
  name: string;
  errorRate: number;
  ms: [number, number];
}
const TOOLS: Tool[] = [
  { name: 'lookup_order', errorRate: 0.02, ms: [40, 400] },
  { name: 'create_ticket', errorRate: 0.01, ms: [80, 600] },
  { name: 'web_search', errorRate: 0.05, ms: [300, 2500] },
  { name: 'fetch_url', errorRate: 0.08, ms: [100, 3000] },
  { name: 'sql_query', errorRate: 0.04, ms: [20, 1500] },
  { name: 'send_email', errorRate: 0.01, ms: [100, 800] },
  { name: 'calendar_lookup', errorRate: 0.02, ms: [50, 500] },
  { name: 'crm_update', errorRate: 0.03, ms: [100, 900] },
  { name: 'refund_payment', errorRate: 0.06, ms: [200, 1800] },
  { name: 'search_kb', errorRate: 0.01, ms: [30, 300] },
  { name: 'get_weather', errorRate: 0.02, ms: [50, 400] },
  { name: 'book_flight', errorRate: 0.07, ms: [500, 4000] },
  { name: 'code_search', errorRate: 0.02, ms: [100, 1200] },
  { name: 'run_tests', errorRate: 0.08, ms: [1000, 9000] },
  { name: 'slack_post', errorRate: 0.01, ms: [60, 500] },
];
const TOOL_ERRORS = ['HTTPError', 'TimeoutError', 'ValidationError', 'RateLimitError', 'PermissionDenied'];
const TOOL_ERROR_WEIGHTS = cumulative([40, 20, 20, 15, 5]);

interface Agent {
  name: string;
  service: string;
  versions: string[];
  tools: string[];
  models: string[];
  weight: number;
  convention: 'otel-genai' | 'openinference' | 'openllmetry';
  content: boolean;
  voice: boolean;
  language: string;
}
const AGENTS: Agent[] = [
  { name: 'support-triage', service: 'support-api', versions: ['2.3.0', '2.4.0', '2.4.1'], tools: ['lookup_order', 'create_ticket', 'search_kb', 'send_email'], models: ['gpt-4o', 'gpt-4o-mini'], weight: 30, convention: 'otel-genai', content: true, voice: false, language: 'python' },
  { name: 'research-assistant', service: 'research-worker', versions: ['0.9.2', '1.0.0'], tools: ['web_search', 'fetch_url', 'search_kb'], models: ['claude-sonnet-4', 'o3-mini'], weight: 15, convention: 'openinference', content: true, voice: false, language: 'python' },
  { name: 'billing-bot', service: 'billing-api', versions: ['1.1.0', '1.2.0'], tools: ['lookup_order', 'refund_payment', 'crm_update', 'send_email'], models: ['gpt-4o-mini'], weight: 12, convention: 'otel-genai', content: false, voice: false, language: 'node' },
  { name: 'code-reviewer', service: 'ci-bots', versions: ['3.0.0', '3.1.0'], tools: ['code_search', 'run_tests', 'slack_post'], models: ['claude-sonnet-4', 'gpt-4o'], weight: 9, convention: 'openllmetry', content: true, voice: false, language: 'python' },
  { name: 'sales-qualifier', service: 'sales-agents', versions: ['1.0.0', '1.0.1'], tools: ['crm_update', 'calendar_lookup', 'send_email', 'web_search'], models: ['gpt-4o', 'gemini-2.5-flash'], weight: 8, convention: 'otel-genai', content: true, voice: false, language: 'node' },
  { name: 'onboarding-guide', service: 'hr-portal', versions: ['0.4.0', '0.5.0'], tools: ['search_kb', 'calendar_lookup', 'slack_post'], models: ['claude-3-5-haiku'], weight: 6, convention: 'otel-genai', content: false, voice: false, language: 'python' },
  { name: 'incident-responder', service: 'ops-bots', versions: ['1.7.0', '1.8.0', '1.8.2'], tools: ['sql_query', 'fetch_url', 'slack_post', 'create_ticket'], models: ['o3-mini', 'gpt-4o'], weight: 5, convention: 'openllmetry', content: true, voice: false, language: 'python' },
  { name: 'data-analyst', service: 'analytics-api', versions: ['2.0.0', '2.1.0'], tools: ['sql_query', 'code_search', 'fetch_url'], models: ['claude-sonnet-4', 'gemini-2.5-flash'], weight: 7, convention: 'openinference', content: false, voice: false, language: 'python' },
  { name: 'receptionist', service: 'front-desk', versions: ['1.2.0', '1.3.0'], tools: ['calendar_lookup', 'get_weather', 'book_flight'], models: ['gpt-4o-mini', 'gemini-2.5-flash'], weight: 0, convention: 'otel-genai', content: true, voice: true, language: 'python' },
  { name: 'phone-support', service: 'call-center', versions: ['0.8.0', '0.9.0'], tools: ['lookup_order', 'create_ticket', 'get_weather'], models: ['gpt-4o-mini', 'claude-3-5-haiku'], weight: 0, convention: 'otel-genai', content: true, voice: true, language: 'python' },
];
const TEXT_AGENTS = AGENTS.filter((a) => !a.voice);
const VOICE_AGENTS = AGENTS.filter((a) => a.voice);
const TEXT_AGENT_WEIGHTS = cumulative(TEXT_AGENTS.map((a) => a.weight));
const CONVERSATIONS = 60_000;
const USERS = 6_000;
const SERVICES = [...new Set(AGENTS.map((a) => a.service))];
const VOICE_SHARE = 0.012;
const RUNNING_RUNS = 150;

// ---------- text that compresses like text ----------

const WORDS = (
  'the a to of and in is for on with that this it your order can you please we i be are was have not will as at by from ' +
  'customer account refund invoice payment shipping delivery ticket issue error request status update search result results ' +
  'query table report data summary analysis code review test failed passed build deploy service latency incident alert ' +
  'user agent tool call answer question details number date time today tomorrow week month price plan subscription ' +
  'flight booking hotel weather meeting calendar email message slack channel team manager policy document article ' +
  'knowledge base steps next check found missing available unavailable confirmed cancelled pending approved denied ' +
  'thanks hello sorry help need want would like could should know see make sure also more information about which ' +
  'when where how why what there here then than because however therefore first second finally based following'
).split(' ');

class TextPool {
  private readonly sentences: string[] = [];
  constructor(rng: Rng, size: number) {
    for (let i = 0; i < size; i++) {
      const n = rng.int(8, 22);
      const words: string[] = [];
      for (let w = 0; w < n; w++) words.push(rng.pick(WORDS));
      const s = words.join(' ');
      this.sentences.push(s[0].toUpperCase() + s.slice(1) + (rng.chance(0.15) ? '?' : '.'));
    }
  }
  /** About `bytes` of prose, with an identifier in it so that no two are equal. */
  text(rng: Rng, bytes: number, id: string): string {
    let out = '';
    let idPlaced = false;
    while (out.length < bytes) {
      out += (out ? ' ' : '') + rng.pick(this.sentences);
      if (!idPlaced && rng.chance(0.5)) {
        out += ` Reference ${id}.`;
        idPlaced = true;
      }
    }
    return out;
  }
}

const json = (s: string): string => JSON.stringify(s);

// ---------- records ----------

function baseSpan(): SpanRecord {
  return { ...emptySpanRecord(TENANT, ''), spanKind: 1 };
}

/** Prices per million tokens (input, cached input, output), for the reported costs of OpenInference agents. */
const PRICES: Record<string, [number, number, number]> = {
  'gpt-4o': [2.5, 1.25, 10],
  'gpt-4o-mini': [0.15, 0.075, 0.6],
  'o3-mini': [1.1, 0.55, 4.4],
  'claude-sonnet-4': [3, 0.3, 15],
  'claude-3-5-haiku': [0.8, 0.08, 4],
  'gemini-2.5-flash': [0.3, 0.075, 2.5],
};

interface Context {
  rng: Rng;
  text: TextPool;
  resources: Map<string, string>;
}

interface RunShape {
  agent: Agent;
  version: string;
  environment: string;
  conversation: string;
  user: string;
  channel: '' | 'voice' | 'video';
}

function resourceOf(ctx: Context, a: Agent, version: string, environment: string): string {
  const key = `${a.name}/${version}/${environment}`;
  let r = ctx.resources.get(key);
  if (!r) {
    r = JSON.stringify({
      'service.name': a.service,
      'service.version': version,
      'deployment.environment.name': environment,
      'telemetry.sdk.language': a.language,
      'telemetry.sdk.name': 'opentelemetry',
      'telemetry.sdk.version': a.language === 'python' ? '1.38.0' : '2.2.0',
      'host.name': `${a.service}-${environment === 'production' ? 'prod' : 'stg'}-7d9f${ctx.rng.hex(4)}`,
    });
    ctx.resources.set(key, r);
  }
  return r;
}

/**
 * The spans of one agent run starting at startUs: an agent span and its LLM and tool calls.
 * Returns the spans, their events, and the end of the run.
 */
function agentRun(
  ctx: Context,
  traceId: string,
  parentSpanId: string,
  startUs: number,
  shape: RunShape,
  outcome: 'completed' | 'failed' | 'timed_out' | 'running',
  llmCalls: number,
  spans: SpanRecord[],
  events: EventRecord[],
): number {
  const { rng, text } = ctx;
  const a = shape.agent;
  const resource = resourceOf(ctx, a, shape.version, shape.environment);
  const rootId = rng.hex(16);
  const common = (s: SpanRecord): SpanRecord => {
    s.traceId = traceId;
    s.service = a.service;
    s.environment = shape.environment;
    s.channel = shape.channel;
    s.resource = resource;
    s.convention = a.convention;
    // Descendants name their agent (OpenLLMetry stamps it on every span; so do many SDKs).
    s.agentName = a.name;
    return s;
  };
  let t = startUs + rng.int(2, 40) * 1000;
  let failedTool: string | null = null;
  const modelName = rng.pick(a.models);
  const model = MODELS.find((m) => m.name === modelName)!;
  let context = rng.int(400, 2500);
  for (let i = 0; i < llmCalls; i++) {
    const last = i === llmCalls - 1;
    const llm = common(baseSpan());
    llm.spanId = rng.hex(16);
    llm.parentSpanId = rootId;
    llm.role = 'llm';
    llm.operation = 'chat';
    llm.name = `chat ${model.name}`;
    llm.spanKind = 3;
    llm.model = model.name;
    llm.responseModel = rng.pick(model.snapshots);
    llm.provider = model.provider;
    const input = context + rng.int(0, 400);
    const output = rng.int(30, last ? 900 : 250);
    const cached = rng.chance(model.cachedShare * 1.6) ? Math.floor(input * rng.next() * 0.8) : 0;
    const reasoning = model.reasoning ? rng.int(50, 1500) : 0;
    llm.inputTokens = input;
    llm.outputTokens = output + reasoning;
    llm.cachedTokens = cached;
    llm.reasoningTokens = model.reasoning ? reasoning : null;
    llm.totalTokens = input + output + reasoning;
    if (a.convention === 'openinference') {
      const [pi, pc, po] = PRICES[model.name];
      llm.cost = Math.round(((input - cached) * pi + cached * pc + (output + reasoning) * po) * 1e3) / 1e9;
    }
    const ms = rng.int(250, 900) + Math.floor((output + reasoning) * (model.reasoning ? 12 : 8) * (0.5 + rng.next()));
    llm.startUs = t;
    llm.endUs = t + ms * 1000;
    llm.statusCode = 1;
    llm.attributes = `{"gen_ai.request.temperature":${(rng.int(0, 10) / 10).toFixed(1)},"gen_ai.request.max_tokens":${rng.pick([1024, 2048, 4096])},"gen_ai.response.id":"resp_${rng.hex(24)}","gen_ai.response.finish_reasons":["${last ? 'stop' : 'tool_calls'}"],"server.address":"api.${model.provider}.example"}`;
    if (a.content) {
      if (i === 0) llm.systemContent = json(text.text(rng, rng.int(250, 450), a.name));
      llm.inputContent = `[{"role":"user","parts":[{"type":"text","content":${json(text.text(rng, rng.int(150, 500), shape.conversation))}}]}]`;
      llm.outputContent = `[{"role":"assistant","parts":[{"type":"text","content":${json(text.text(rng, rng.int(100, 450), llm.spanId))}}]}]`;
      if (reasoning && rng.chance(0.3)) llm.reasoningContent = json(text.text(rng, rng.int(200, 600), llm.spanId));
    }
    spans.push(llm);
    t = llm.endUs + rng.int(1, 30) * 1000;
    context += output + rng.int(100, 900);
    if (last) break;
    // Tool calls the model asked for.
    const calls = rng.weighted(TOOL_CALL_WEIGHTS);
    for (let c = 0; c < calls; c++) {
      const toolName = rng.pick(a.tools);
      const tool = TOOLS.find((x) => x.name === toolName)!;
      const ts = common(baseSpan());
      ts.spanId = rng.hex(16);
      ts.parentSpanId = rootId;
      ts.role = 'tool';
      ts.operation = 'execute_tool';
      ts.name = `execute_tool ${tool.name}`;
      ts.toolName = tool.name;
      ts.toolCallId = `call_${rng.hex(20)}`;
      const ms = rng.int(tool.ms[0], tool.ms[1]);
      ts.startUs = t;
      ts.endUs = t + ms * 1000;
      const err = rng.chance(tool.errorRate) || (outcome === 'failed' && failedTool === null && i === llmCalls - 2 && c === calls - 1);
      if (err) {
        ts.statusCode = 2;
        ts.errorType = TOOL_ERRORS[rng.weighted(TOOL_ERROR_WEIGHTS)];
        ts.statusMessage = `${tool.name} failed: ${ts.errorType}`;
        failedTool = tool.name;
        events.push({
          tenant: TENANT,
          traceId,
          spanId: ts.spanId,
          timeUs: ts.endUs,
          name: 'exception',
          source: 'span_event',
          body: null,
          attributes: `{"exception.type":"${ts.errorType}","exception.message":"${tool.name} returned ${ts.errorType}","exception.stacktrace":"Traceback (most recent call last): tools/${tool.name}.py line ${rng.int(10, 400)}"}`,
          key: `${ts.spanId}:exception`,
        });
      } else {
        ts.statusCode = 1;
      }
      ts.attributes = `{"gen_ai.tool.type":"function","gen_ai.tool.description":"${tool.name.replace(/_/g, ' ')}","code.function":"${tool.name}"}`;
      if (a.content) {
        ts.inputContent = `{"query":${json(text.text(rng, rng.int(40, 140), shape.conversation))},"limit":${rng.int(1, 20)}}`;
        ts.outputContent = err ? null : json(text.text(rng, rng.int(120, 450), ts.toolCallId));
      }
      spans.push(ts);
      t = ts.endUs + rng.int(1, 20) * 1000;
    }
  }
  const endUs = outcome === 'timed_out' ? Math.max(t, startUs + 300_000_000) : t + rng.int(1, 30) * 1000;
  if (outcome !== 'running') {
    const root = common(baseSpan());
    root.spanId = rootId;
    root.parentSpanId = parentSpanId;
    root.role = 'agent';
    root.operation = 'invoke_agent';
    root.name = `invoke_agent ${a.name}`;
    root.agentVersion = shape.version;
    root.conversationId = shape.conversation;
    root.userId = shape.user;
    root.startUs = startUs;
    root.endUs = endUs;
    root.spanKind = parentSpanId ? 1 : 2;
    if (outcome === 'completed') root.statusCode = 1;
    else {
      root.statusCode = 2;
      root.errorType = outcome === 'timed_out' ? 'TimeoutError' : failedTool ? 'ToolError' : rng.pick(['ContextLengthExceeded', 'RateLimitError', 'GuardrailViolation']);
      root.timeoutHint = outcome === 'timed_out';
      root.statusMessage = outcome === 'timed_out' ? 'agent deadline of 300 s exceeded' : failedTool ? `tool ${failedTool} failed` : root.errorType;
    }
    root.attributes = `{"gen_ai.agent.id":"agt_${a.name}","gen_ai.agent.description":"${a.name.replace(/-/g, ' ')} agent","gen_ai.conversation.id":"${shape.conversation}","user.id":"${shape.user}"}`;
    spans.push(root);
  } else {
    // Only the children have arrived: they point at the agent span that has not.
    for (const s of spans) if (s.parentSpanId === rootId) s.conversationId = shape.conversation;
  }
  return endUs;
}
const TOOL_CALL_WEIGHTS = cumulative([15, 40, 45]); // 0, 1 or 2 tool calls after an LLM call: 1.3 on average

function textTrace(ctx: Context, startUs: number, outcome: 'completed' | 'failed' | 'timed_out' | 'running', spans: SpanRecord[], events: EventRecord[]): void {
  const { rng } = ctx;
  const agent = TEXT_AGENTS[rng.weighted(TEXT_AGENT_WEIGHTS)];
  const conv = rng.int(0, CONVERSATIONS - 1);
  const shape: RunShape = {
    agent,
    version: agent.versions[Math.min(agent.versions.length - 1, Math.floor(rng.next() * rng.next() * agent.versions.length * 1.5))],
    environment: rng.chance(0.9) ? 'production' : 'staging',
    conversation: `conv-${conv.toString(36).padStart(4, '0')}`,
    user: `user-${(conv % USERS).toString(36).padStart(3, '0')}`,
    channel: '',
  };
  agentRun(ctx, rng.hex(32), '', startUs, shape, outcome, rng.int(4, 11), spans, events);
}

function voiceTrace(ctx: Context, startUs: number, spans: SpanRecord[], events: EventRecord[]): void {
  const { rng } = ctx;
  const agent = rng.pick(VOICE_AGENTS);
  const traceId = rng.hex(32);
  const sessionId = rng.hex(16);
  const conv = rng.int(0, CONVERSATIONS - 1);
  const shape: RunShape = {
    agent,
    version: rng.pick(agent.versions),
    environment: rng.chance(0.9) ? 'production' : 'staging',
    conversation: `conv-${conv.toString(36).padStart(4, '0')}`,
    user: `user-${(conv % USERS).toString(36).padStart(3, '0')}`,
    channel: rng.chance(0.1) ? 'video' : 'voice',
  };
  const resource = resourceOf(ctx, agent, shape.version, shape.environment);
  const turns = rng.int(4, 20);
  let t = startUs + 500_000;
  let interruptions = 0;
  for (let i = 0; i < turns; i++) {
    const user = baseSpan();
    Object.assign(user, { traceId, spanId: rng.hex(16), parentSpanId: sessionId, name: 'user_turn', role: 'turn', convention: 'livekit', operation: 'user_turn', service: agent.service, environment: shape.environment, channel: shape.channel, resource, statusCode: 0 });
    user.startUs = t;
    user.endUs = t + rng.int(1500, 6000) * 1000;
    user.attributes = `{"lk.user_transcript":"${rng.pick(WORDS)} ${rng.pick(WORDS)} ${rng.pick(WORDS)}","lk.transcript_confidence":0.${rng.int(80, 99)}}`;
    spans.push(user);
    t = user.endUs;
    const turn = baseSpan();
    const interrupted = rng.chance(0.12);
    if (interrupted) interruptions++;
    Object.assign(turn, { traceId, spanId: rng.hex(16), parentSpanId: sessionId, name: 'agent_turn', role: 'turn', convention: 'livekit', operation: 'agent_turn', service: agent.service, environment: shape.environment, channel: shape.channel, resource, statusCode: 0, interrupted });
    turn.latencyMs = rng.int(450, 2200);
    turn.startUs = t;
    const runEnd = agentRun(ctx, traceId, turn.spanId, t + 20_000, shape, rng.chance(0.97) ? 'completed' : 'failed', rng.int(1, 2), spans, events);
    turn.endUs = runEnd + rng.int(500, 4000) * 1000;
    turn.attributes = `{"lk.e2e_latency":${(turn.latencyMs / 1000).toFixed(3)},"lk.interrupted":${interrupted}}`;
    spans.push(turn);
    t = turn.endUs + rng.int(200, 3000) * 1000;
  }
  const session = baseSpan();
  const dropped = rng.chance(0.04);
  Object.assign(session, { traceId, spanId: sessionId, parentSpanId: '', name: 'agent_session', role: 'session', convention: 'livekit', operation: 'agent_session', agentName: agent.name, agentVersion: shape.version, service: agent.service, environment: shape.environment, channel: shape.channel, resource, conversationId: shape.conversation, userId: shape.user });
  session.startUs = startUs;
  session.endUs = t;
  session.statusCode = dropped ? 2 : 1;
  session.errorType = dropped ? 'ConnectionLost' : '';
  session.statusMessage = dropped ? 'participant connection lost' : '';
  session.endReason = dropped ? 'error' : rng.pick(['user_hangup', 'user_hangup', 'agent_hangup', 'user_left']);
  session.attributes = `{"lk.room_sid":"RM_${rng.hex(12)}","lk.job_id":"AJ_${rng.hex(12)}","lk.close_reason":"${session.endReason}","lk.interruptions":${interruptions}}`;
  spans.push(session);
}

// ---------- time ----------

/** Relative traffic by hour of day (UTC) and day of week (0 = Sunday). */
const HOUR_WEIGHT = [0.15, 0.1, 0.1, 0.1, 0.15, 0.25, 0.4, 0.6, 0.85, 1, 1, 0.95, 0.9, 0.95, 1, 1, 0.95, 0.85, 0.7, 0.55, 0.45, 0.35, 0.25, 0.2];
const DAY_WEIGHT = [0.35, 1, 1, 1, 1, 0.9, 0.4];

/** Sorted start times (epoch µs) of n traces over the DAYS days before anchor. */
function startTimes(rng: Rng, n: number, anchorMs: number): Float64Array {
  const from = anchorMs - DAYS * 86_400_000;
  const out = new Float64Array(n);
  for (let i = 0; i < n; ) {
    const t = from + rng.next() * (anchorMs - from - 60_000);
    const d = new Date(t);
    // A slowly growing fleet: the last day has 30% more traffic than the first.
    const growth = 0.77 + 0.23 * ((t - from) / (anchorMs - from));
    if (rng.next() < HOUR_WEIGHT[d.getUTCHours()] * DAY_WEIGHT[d.getUTCDay()] * growth) out[i++] = Math.round(t * 1000);
  }
  return out.sort();
}

// ---------- generation ----------

/** Spans per trace on average, measured on this generator (used to size the number of traces). */
const SPANS_PER_TRACE = 17.5;

export function sidecarPath(db: string): string {
  return `${db}.json`;
}

export function defaultDbPath(spans: number): string {
  return join(tmpdir(), 'agent-insights-bench', `query-${spans}.duckdb`);
}

/** The dataset's meta if the file exists, matches the options and holds the recorded span count. */
export async function existingDataset(o: DatasetOptions): Promise<DatasetMeta | null> {
  if (!existsSync(o.db) || !existsSync(sidecarPath(o.db))) return null;
  const meta = JSON.parse(readFileSync(sidecarPath(o.db), 'utf8')) as DatasetMeta;
  if (meta.generatorVersion !== GENERATOR_VERSION || meta.seed !== o.seed || meta.targetSpans !== o.spans) return null;
  const store = new DuckDBStore(o.db);
  await store.open();
  try {
    const c = await store.counts(TENANT);
    return c.spans === meta.spans && c.runs === meta.runs ? meta : null;
  } finally {
    await store.close();
  }
}

export async function generateDataset(o: DatasetOptions, log: (s: string) => void = (s) => console.log(s)): Promise<DatasetMeta> {
  for (const f of [o.db, `${o.db}.wal`, sidecarPath(o.db)]) rmSync(f, { force: true });
  const rng = new Rng(o.seed);
  const ctx: Context = { rng, text: new TextPool(new Rng(o.seed ^ 0x5eed), 20_000), resources: new Map() };
  const anchorMs = Math.floor(Date.now() / 60_000) * 60_000;
  const traces = Math.max(10, Math.round(o.spans / SPANS_PER_TRACE));
  const times = startTimes(rng, traces, anchorMs);
  // The last RUNNING_RUNS text traces are still running: spread over the last few minutes.
  const runningFrom = Math.max(0, traces - Math.min(RUNNING_RUNS, Math.floor(traces / 1000)));
  for (let i = runningFrom; i < traces; i++) times[i] = (anchorMs - 10 * 60_000 + ((i - runningFrom) / (traces - runningFrom)) * 9 * 60_000) * 1000;

  const store = new DuckDBStore(o.db);
  await store.open();
  const started = Date.now();
  const totals = { spans: 0, events: 0, runs: 0, sessions: 0 };
  let batch: CommitBatch = { spans: [], events: [], derived: [] };
  let lastLog = started;
  let commitMs = 0;
  const flush = async (): Promise<void> => {
    if (!batch.spans.length) return;
    const c0 = Date.now();
    await store.commit(batch);
    commitMs += Date.now() - c0;
    totals.spans += batch.spans.length;
    totals.events += batch.events.length;
    batch = { spans: [], events: [], derived: [] };
    if (Date.now() - lastLog > 10_000) {
      lastLog = Date.now();
      const s = (Date.now() - started) / 1000;
      log(`  ${totals.spans.toLocaleString('en')} spans, ${totals.runs.toLocaleString('en')} runs in ${s.toFixed(0)} s (${Math.round(totals.spans / s).toLocaleString('en')} spans/s; ${(commitMs / 1000).toFixed(0)} s of it in commits)`);
    }
  };
  const spans: SpanRecord[] = [];
  const events: EventRecord[] = [];
  for (let i = 0; i < traces; i++) {
    spans.length = 0;
    events.length = 0;
    const voice = i < runningFrom && rng.chance(VOICE_SHARE);
    if (voice) voiceTrace(ctx, times[i], spans, events);
    else {
      const outcome = i >= runningFrom ? 'running' : rng.chance(0.06) ? 'failed' : rng.chance(0.027) ? 'timed_out' : 'completed';
      textTrace(ctx, times[i], outcome, spans, events);
    }
    const traceId = spans[0].traceId;
    // Every derived fact the store keeps, as the writer commits them.
    const derived = replacementOf(TENANT, traceId, spans, { newTrace: true });
    totals.runs += derived.runs.length;
    totals.sessions += derived.sessions.length;
    for (const s of spans) batch.spans.push(s);
    for (const e of events) batch.events.push(e);
    batch.derived.push(derived);
    if (batch.spans.length >= o.batch) await flush();
  }
  await flush();
  const generationSeconds = (Date.now() - started) / 1000;
  await store.read('CHECKPOINT');
  await store.close();
  const meta: DatasetMeta = {
    generatorVersion: GENERATOR_VERSION,
    seed: o.seed,
    targetSpans: o.spans,
    tenant: TENANT,
    anchorMs,
    ...totals,
    traces,
    generationSeconds,
    generatedAt: new Date().toISOString(),
    fileBytes: statSync(o.db).size,
  };
  writeFileSync(sidecarPath(o.db), JSON.stringify(meta, null, 2));
  return meta;
}

export function datasetOptions(option: (name: string, fallback: string) => string): DatasetOptions {
  const spans = Number(option('spans', '10000000'));
  if (!(Number.isInteger(spans) && spans >= 1000)) throw new Error(`--spans must be an integer of at least 1000, got ${spans}`);
  const batch = Number(option('batch', '50000'));
  return { spans, db: option('db', '') || defaultDbPath(spans), batch, seed: Number(option('seed', '20260101')) };
}

export function option(name: string, fallback: string): string {
  const flag = process.argv.find((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (flag) return flag.includes('=') ? flag.slice(flag.indexOf('=') + 1) : 'true';
  return process.env[`BENCH_${name.toUpperCase().replace(/-/g, '_')}`] ?? fallback;
}

export const mib = (bytes: number): string => `${(bytes / 1048576).toFixed(0)} MiB`;

async function main(): Promise<void> {
  const o = datasetOptions(option);
  const existing = await existingDataset(o);
  if (existing && option('force', 'false') !== 'true') {
    console.log(`dataset ${o.db} exists (${existing.spans.toLocaleString('en')} spans, generated in ${existing.generationSeconds.toFixed(0)} s, ${mib(existing.fileBytes)}); --force to regenerate`);
    return;
  }
  console.log(`generating ${o.spans.toLocaleString('en')} spans into ${o.db} (batches of ${o.batch.toLocaleString('en')} spans) ...`);
  const meta = await generateDataset(o);
  console.log(JSON.stringify(meta, null, 2));
  console.log(`done in ${meta.generationSeconds.toFixed(1)} s: ${meta.spans.toLocaleString('en')} spans, ${meta.runs.toLocaleString('en')} runs, ${meta.sessions.toLocaleString('en')} sessions; file ${mib(meta.fileBytes)} (${dirname(o.db)})`);
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
