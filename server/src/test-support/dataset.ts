/**
 * Test support: a small dataset whose every figure can be worked out by hand, sent through the
 * real OTLP receiver and native API. Query tests assert these figures.
 *
 * All times are relative to ANCHOR = midnight UTC two days ago, so that everything lies in the
 * past (runs_v infers timeouts from the clock) and within retention.
 *
 * | # | agent              | env     | status    | start        | duration | tools (ms, status)                         | LLM calls (model in/out/cached/reasoning)      | conv/user |
 * |---|--------------------|---------|-----------|--------------|----------|--------------------------------------------|------------------------------------------------|-----------|
 * | 1 | support-triage     | prod    | completed | A+1h         | 10 s     | lookup_order 200 ok, create_ticket 300 ok  | gpt-4o 100/20/50/0, gpt-4o 200/40/0/0          | c1/u1     |
 * | 2 | support-triage     | prod    | failed    | A+2h         | 4 s      | lookup_order 500 error HTTPError           | gpt-4o 150/10/0/0                              | c1/u1     |
 * | 3 | support-triage     | staging | timed_out | A+3h         | 300 s    | -                                          | gpt-4o-mini 50/5/0/0                           | c2/u2     |
 * | 4 | research-assistant | prod    | completed | A+3h30m      | 20 s     | web_search 100, 200, 300 ok                | claude-sonnet-4 1000/500/0/100, cost $0.02     | c3/u3     |
 * | 5 | research-assistant | prod    | running   | now-1min     | (open)   | web_search 400 ok                          | -                                              | -         |
 * | 6 | billing-bot        | prod    | completed | A+25h        | 2 s      | -                                          | gpt-4o 300/30/0/0                              | c4/u1     |
 *
 * Voice: a LiveKit session (receptionist, A+5h, 120 s, 3 agent turns, 1 interrupted, latencies
 * 0.8/1.0/1.2 s, closed by user_hangup); a native video session (tutor, A+6h, 240 s, 18 turns,
 * 3 interruptions, 850 ms, cost 0.42).
 */
import { postJson } from './server';
import { postOtlp, SpanSpec, tracesJson } from './otlp';

export const DAY_MS = 86_400_000;

export function anchorMs(now = Date.now()): number {
  return Math.floor(now / DAY_MS) * DAY_MS - 2 * DAY_MS;
}

const hex = (n: number, len: number): string => n.toString(16).padStart(len, '0');
export const traceIdOf = (run: number): string => `da7a5e7${hex(run, 25)}`;
export const rootSpanOf = (run: number): string => hex(run * 1000, 16);
export const runIdOf = (run: number): string => `${traceIdOf(run)}-${rootSpanOf(run)}`;

interface Llm {
  model: string;
  provider: string;
  input: number;
  output: number;
  cached?: number;
  reasoning?: number;
  cost?: number;
}
interface Tool {
  name: string;
  ms: number;
  error?: string;
}
interface RunSpec {
  n: number;
  agent: string;
  env: string;
  start: number;
  durationMs: number | null;
  status: 'completed' | 'failed' | 'timed_out' | 'running';
  tools: Tool[];
  llms: Llm[];
  conversation?: string;
  user?: string;
}

export function datasetRuns(anchor: number, now: number): RunSpec[] {
  const H = 3_600_000;
  return [
    { n: 1, agent: 'support-triage', env: 'production', start: anchor + H, durationMs: 10_000, status: 'completed', tools: [{ name: 'lookup_order', ms: 200 }, { name: 'create_ticket', ms: 300 }], llms: [{ model: 'gpt-4o', provider: 'openai', input: 100, output: 20, cached: 50 }, { model: 'gpt-4o', provider: 'openai', input: 200, output: 40 }], conversation: 'c1', user: 'u1' },
    { n: 2, agent: 'support-triage', env: 'production', start: anchor + 2 * H, durationMs: 4_000, status: 'failed', tools: [{ name: 'lookup_order', ms: 500, error: 'HTTPError' }], llms: [{ model: 'gpt-4o', provider: 'openai', input: 150, output: 10 }], conversation: 'c1', user: 'u1' },
    { n: 3, agent: 'support-triage', env: 'staging', start: anchor + 3 * H, durationMs: 300_000, status: 'timed_out', tools: [], llms: [{ model: 'gpt-4o-mini', provider: 'openai', input: 50, output: 5 }], conversation: 'c2', user: 'u2' },
    { n: 4, agent: 'research-assistant', env: 'production', start: anchor + 3.5 * H, durationMs: 20_000, status: 'completed', tools: [{ name: 'web_search', ms: 100 }, { name: 'web_search', ms: 200 }, { name: 'web_search', ms: 300 }], llms: [{ model: 'claude-sonnet-4', provider: 'anthropic', input: 1000, output: 500, reasoning: 100, cost: 0.02 }], conversation: 'c3', user: 'u3' },
    { n: 5, agent: 'research-assistant', env: 'production', start: now - 60_000, durationMs: null, status: 'running', tools: [{ name: 'web_search', ms: 400 }], llms: [] },
    { n: 6, agent: 'billing-bot', env: 'production', start: anchor + 25 * H, durationMs: 2_000, status: 'completed', tools: [], llms: [{ model: 'gpt-4o', provider: 'openai', input: 300, output: 30 }], conversation: 'c4', user: 'u1' },
  ];
}

function spansOf(r: RunSpec): SpanSpec[] {
  const traceId = traceIdOf(r.n);
  const root = rootSpanOf(r.n);
  const spans: SpanSpec[] = [];
  let t = r.start + 10;
  let child = 1;
  const next = () => hex(r.n * 1000 + child++, 16);
  for (const l of r.llms) {
    spans.push({
      traceId,
      spanId: next(),
      parentSpanId: root,
      name: `chat ${l.model}`,
      start: t,
      end: t + 500,
      attributes: {
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': l.provider,
        'gen_ai.request.model': l.model,
        'gen_ai.usage.input_tokens': l.input,
        'gen_ai.usage.output_tokens': l.output,
        ...(l.cached ? { 'gen_ai.usage.cache_read.input_tokens': l.cached } : {}),
        ...(l.reasoning ? { 'gen_ai.usage.reasoning.output_tokens': l.reasoning } : {}),
        ...(l.cost !== undefined ? { 'llm.cost.total': l.cost } : {}),
        'gen_ai.input.messages': JSON.stringify([{ role: 'user', parts: [{ type: 'text', content: `question ${r.n}` }] }]),
        'gen_ai.output.messages': JSON.stringify([{ role: 'assistant', parts: [{ type: 'reasoning', content: `thinking about ${r.n}` }, { type: 'text', content: `answer ${r.n}` }] }]),
      },
    });
    t += 600;
  }
  for (const tool of r.tools) {
    spans.push({
      traceId,
      spanId: next(),
      parentSpanId: root,
      name: `execute_tool ${tool.name}`,
      start: t,
      end: t + tool.ms,
      attributes: { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': tool.name, 'gen_ai.tool.call.arguments': `{"run":${r.n}}`, 'gen_ai.tool.call.result': tool.error ? 'failed' : '"ok"', ...(tool.error ? { 'error.type': tool.error } : {}) },
      status: tool.error ? { code: 2, message: `${tool.name} failed` } : { code: 1 },
    });
    t += tool.ms + 10;
  }
  if (r.status !== 'running') {
    const error: Record<string, string> = r.status === 'failed' ? { 'error.type': 'ToolError' } : {};
    spans.push({
      traceId,
      spanId: root,
      name: `invoke_agent ${r.agent}`,
      start: r.start,
      end: r.start + (r.durationMs as number),
      attributes: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': r.agent, ...(r.conversation ? { 'gen_ai.conversation.id': r.conversation } : {}), ...(r.user ? { 'user.id': r.user } : {}), ...error },
      status: r.status === 'completed' ? { code: 1 } : { code: 2, message: r.status === 'timed_out' ? 'agent deadline exceeded' : 'tool failed' },
      events: r.status === 'timed_out' ? [{ name: 'exception', time: r.start + (r.durationMs as number), attributes: { 'exception.type': 'TimeoutError', 'exception.message': 'agent deadline exceeded' } }] : [],
    });
  } else {
    // A running run: only its children have arrived, and they name their agent.
    for (const s of spans) s.attributes = { ...s.attributes, 'gen_ai.agent.name': r.agent };
  }
  return spans;
}

function voiceSpans(anchor: number): SpanSpec[] {
  const traceId = traceIdOf(100);
  const session = rootSpanOf(100);
  const start = anchor + 5 * 3_600_000;
  const turn = (i: number, latency: number, interrupted: boolean): SpanSpec => ({ traceId, spanId: hex(100_000 + i, 16), parentSpanId: session, name: 'agent_turn', start: start + i * 20_000, end: start + i * 20_000 + 5_000, attributes: { 'lk.e2e_latency': latency, 'lk.interrupted': interrupted } });
  return [
    turn(1, 0.8, false),
    turn(2, 1.0, true),
    turn(3, 1.2, false),
    { traceId, spanId: hex(100_010, 16), parentSpanId: session, name: 'user_turn', start: start + 1000, end: start + 2000 },
    { traceId, spanId: session, name: 'agent_session', start, end: start + 120_000, attributes: { 'lk.agent_name': 'receptionist', 'lk.room_sid': 'RM_dataset', 'lk.close_reason': 'user_hangup' } },
  ];
}

export interface SeededDataset {
  anchor: number;
  now: number;
}

/** Sends the dataset to a server (runs per environment, as the resource says). */
export async function seedDataset(url: string, ingestKey: string, now = Date.now()): Promise<SeededDataset> {
  const anchor = anchorMs(now);
  for (const r of datasetRuns(anchor, now)) {
    const res = await postOtlp(`${url}/v1/traces`, ingestKey, JSON.stringify(tracesJson(spansOf(r), { 'service.name': `${r.agent}-svc`, 'deployment.environment.name': r.env })));
    if (res.status !== 200) throw new Error(`seeding run ${r.n}: ${res.status} ${res.body.toString()}`);
  }
  const voice = await postOtlp(`${url}/v1/traces`, ingestKey, JSON.stringify(tracesJson(voiceSpans(anchor), { 'service.name': 'front-desk', 'deployment.environment.name': 'production' })));
  if (voice.status !== 200) throw new Error(`seeding voice: ${voice.status}`);
  const video = await postJson(`${url}/api/v1/events`, ingestKey, {
    events: [
      { type: 'session.started', sessionId: 'vid-dataset', agent: 'tutor', channel: 'video', startTime: anchor + 6 * 3_600_000, environment: 'production' },
      { type: 'session.finished', sessionId: 'vid-dataset', endTime: anchor + 6 * 3_600_000 + 240_000, turns: 18, interruptions: 3, avgResponseLatencyMs: 850, endReason: 'user_left', cost: 0.42 },
    ],
  });
  if (video.status !== 200) throw new Error(`seeding video: ${video.status}`);
  return { anchor, now };
}
