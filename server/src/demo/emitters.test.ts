/**
 * The emitters, checked against what the OpenTelemetry SDK actually exported (in memory): each
 * convention's attribute names, span counts and token sums must match the summary the emitter
 * returns, since server tests rely on that summary as the expected answer.
 */
import type { AttributeValue } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { RUN_CONVENTIONS, type RunConvention } from './conventions';
import { emitNonGenAiTrace, emitRun, emitVoiceSession, type EmittedRun } from './emit';
import { SeededIdGenerator } from './ids';
import { Rng } from './random';
import { World, type Outcome } from './scenario';
import { createInMemorySink, type InMemorySink } from './telemetry';

const ERROR = 2; // SpanStatusCode.ERROR

function newSink(seed = 'ids'): InMemorySink {
  return createInMemorySink({ idGenerator: new SeededIdGenerator(new Rng(seed)) });
}

function spansOf(sink: InMemorySink, traceId: string): ReadableSpan[] {
  return sink.spans().filter((s) => s.spanContext().traceId === traceId);
}

function num(v: AttributeValue | undefined): number {
  return typeof v === 'number' ? v : 0;
}

function sum(spans: ReadableSpan[], ...keys: string[]): number {
  // The first key present wins: a span reports one generation of names, never both.
  return spans.reduce((n, s) => n + num(keys.map((k) => s.attributes[k]).find((v) => v !== undefined)), 0);
}

function withAttr(spans: ReadableSpan[], key: string, value?: AttributeValue): ReadableSpan[] {
  return spans.filter((s) => (value === undefined ? s.attributes[key] !== undefined : s.attributes[key] === value));
}

function runSpanOf(spans: ReadableSpan[], r: EmittedRun): ReadableSpan | undefined {
  return spans.find((s) => s.spanContext().spanId === r.rootSpanId);
}

/** Emits a batch of runs with one world, so agents, outcomes and variants vary across runs. */
function batch(convention: RunConvention, count: number, options: { outcome?: Outcome; seed?: string } = {}) {
  const sink = newSink();
  const world = new World(options.seed ?? `batch-${convention}`);
  const runs = Array.from({ length: count }, () => emitRun(sink, convention, { world, realtime: false, outcome: options.outcome }));
  return { sink, runs };
}

describe('every convention', () => {
  test.each(RUN_CONVENTIONS)('%s: exports what the summary claims, for every outcome', (convention) => {
    const { sink, runs } = batch(convention, 60);
    for (const r of runs) {
      const spans = spansOf(sink, r.traceId);
      expect(spans).toHaveLength(r.spanCount);
      // The run's identity span is exported exactly when the agent span ends.
      if (r.rootSpanId) expect(runSpanOf(spans, r) !== undefined).toBe(r.agentSpanEnds);
      for (const s of spans) {
        expect(s.resource.attributes['service.name']).toBe(r.service);
        expect(s.resource.attributes['deployment.environment.name']).toBe(r.environment);
        expect(s.resource.attributes['service.version']).toBe(r.agentVersion);
        expect(s.resource.attributes['telemetry.sdk.language']).toBe('nodejs');
      }
    }
    const outcomes = new Set(runs.map((r) => (r.agentSpanEnds ? r.expectedStatus : 'never_ends')));
    expect(outcomes.has('completed')).toBe(true);
  });

  test.each(RUN_CONVENTIONS)('%s: failed runs carry an error status and type', (convention) => {
    const { sink, runs } = batch(convention, 15, { outcome: 'failed' });
    for (const r of runs) {
      expect(r.expectedStatus).toBe('failed');
      expect(r.errorType).toBeDefined();
      const spans = spansOf(sink, r.traceId);
      const run = runSpanOf(spans, r) ?? spans.find((s) => s.status.code === ERROR && s.kind !== 1 /* SERVER */);
      expect(run?.status.code).toBe(ERROR);
      const exception = run?.events.find((e) => e.name === 'exception');
      if (convention === 'vercel-ai') {
        // The AI SDK records the exception only; there is no error.type.
        expect(run?.attributes['error.type']).toBeUndefined();
        expect(exception?.attributes?.['exception.type']).toBe(r.errorType);
      } else {
        expect(run?.attributes['error.type']).toBe(r.errorType);
      }
    }
  });

  test.each(RUN_CONVENTIONS)('%s: timeouts name a timeout in error.type or the exception', (convention) => {
    const { sink, runs } = batch(convention, 15, { outcome: 'timed_out' });
    for (const r of runs) {
      expect(r.expectedStatus).toBe('timed_out');
      expect(r.errorType).toMatch(/timeout/i);
      const spans = spansOf(sink, r.traceId);
      const errored = spans.filter((s) => s.status.code === ERROR);
      const types = errored.flatMap((s) => [s.attributes['error.type'], ...s.events.map((e) => e.attributes?.['exception.type'])]);
      expect(types.some((t) => typeof t === 'string' && /timeout/i.test(t))).toBe(true);
    }
  });

  test.each(RUN_CONVENTIONS)('%s: a run whose agent span never ends sends only its children', (convention) => {
    const { sink, runs } = batch(convention, 10, { outcome: 'never_ends' });
    for (const r of runs) {
      expect(r.agentSpanEnds).toBe(false);
      expect(r.expectedStatus).toBe('timed_out');
      expect(r.rootSpanId).toBeDefined();
      const spans = spansOf(sink, r.traceId);
      expect(runSpanOf(spans, r)).toBeUndefined();
      expect(spans.length).toBeGreaterThan(0);
      expect(spans.length).toBe(r.spanCount);
    }
  });
});

describe('OTel GenAI, latest names', () => {
  const { sink, runs } = batch('otel-genai', 60);

  test('operations, counts and per-call token sums match the summary', () => {
    for (const r of runs) {
      const spans = spansOf(sink, r.traceId);
      const chats = withAttr(spans, 'gen_ai.operation.name', 'chat');
      expect(chats).toHaveLength(r.llmSpans);
      expect(withAttr(spans, 'gen_ai.operation.name', 'execute_tool')).toHaveLength(r.toolSpans);
      expect(withAttr(spans, 'gen_ai.operation.name', 'invoke_agent')).toHaveLength(r.agentSpans - (r.agentSpanEnds || !r.rootSpanId ? 0 : 1));
      expect(sum(chats, 'gen_ai.usage.input_tokens')).toBe(r.tokens.input);
      expect(sum(chats, 'gen_ai.usage.output_tokens')).toBe(r.tokens.output);
      expect(sum(chats, 'gen_ai.usage.cache_read.input_tokens')).toBe(r.tokens.cacheRead);
      expect(sum(chats, 'gen_ai.usage.reasoning.output_tokens')).toBe(r.tokens.reasoning);
      for (const c of chats) {
        expect(c.name).toBe(`chat ${c.attributes['gen_ai.request.model']}`);
        expect(c.attributes['gen_ai.provider.name']).toBeDefined();
        expect(c.attributes['gen_ai.system']).toBeUndefined();
        expect(c.attributes['gen_ai.usage.prompt_tokens']).toBeUndefined();
        const input = c.attributes['gen_ai.input.messages'];
        if (input !== undefined) expect(Array.isArray(JSON.parse(input as string))).toBe(true);
      }
      for (const t of withAttr(spans, 'gen_ai.operation.name', 'execute_tool')) {
        expect(t.name).toBe(`execute_tool ${t.attributes['gen_ai.tool.name']}`);
        expect(t.attributes['gen_ai.tool.call.id']).toBeDefined();
      }
    }
  });

  test('agent spans may repeat the totals of their LLM calls (the double-counting trap)', () => {
    const withTotals = runs.filter((r) => {
      const run = runSpanOf(spansOf(sink, r.traceId), r);
      return run?.attributes['gen_ai.usage.input_tokens'] !== undefined;
    });
    expect(withTotals.length).toBeGreaterThan(0);
    for (const r of withTotals) {
      const run = runSpanOf(spansOf(sink, r.traceId), r) as ReadableSpan;
      expect(run.attributes['gen_ai.usage.input_tokens']).toBe(r.tokens.input);
      expect(run.attributes['gen_ai.usage.output_tokens']).toBe(r.tokens.output);
      expect(run.name).toBe(`invoke_agent ${r.agent}`);
      expect(run.attributes['gen_ai.agent.name']).toBe(r.agent);
      expect(run.attributes['gen_ai.conversation.id']).toBe(r.conversationId);
    }
  });

  test('reasoning shows up in tokens and content on some LLM calls', () => {
    const all = runs.flatMap((r) => withAttr(spansOf(sink, r.traceId), 'gen_ai.operation.name', 'chat'));
    expect(withAttr(all, 'gen_ai.usage.reasoning.output_tokens').length).toBeGreaterThan(0);
    const parts = withAttr(all, 'gen_ai.output.messages').flatMap((s) => JSON.parse(s.attributes['gen_ai.output.messages'] as string)[0].parts);
    expect(parts.some((p: { type: string }) => p.type === 'reasoning')).toBe(true);
  });

  test('an HTTP server span above the agent span does not change the run identity', () => {
    const wrapped = runs.filter((r) => r.rootSpanId && r.traceRootSpanId !== r.rootSpanId && r.agentSpanEnds);
    expect(wrapped.length).toBeGreaterThan(0);
    for (const r of wrapped) {
      const spans = spansOf(sink, r.traceId);
      const top = spans.find((s) => s.spanContext().spanId === r.traceRootSpanId) as ReadableSpan;
      expect(top.attributes['http.route']).toBeDefined();
      expect(runSpanOf(spans, r)?.parentSpanContext?.spanId).toBe(r.traceRootSpanId);
    }
  });

  test('an app that instruments only its LLM client has no agent span and is named by its service', () => {
    const s = newSink();
    const r = emitRun(s, 'otel-genai', { agent: 'faq-widget', realtime: false, outcome: 'completed' });
    const spans = spansOf(s, r.traceId);
    expect(r.rootSpanId).toBeUndefined();
    expect(r.agent).toBe('faq-widget');
    expect(withAttr(spans, 'gen_ai.operation.name', 'invoke_agent')).toHaveLength(0);
    expect(withAttr(spans, 'gen_ai.operation.name', 'chat')).toHaveLength(r.llmSpans);
    expect(spans[0].resource.attributes['service.name']).toBe('faq-widget');
  });

  test('sub-agents are nested agent spans', () => {
    const s = newSink();
    const r = emitRun(s, 'otel-genai', { agent: 'research-assistant', subAgent: true, outcome: 'completed', realtime: false });
    const agents = withAttr(spansOf(s, r.traceId), 'gen_ai.operation.name', 'invoke_agent');
    expect(agents).toHaveLength(2);
    const nested = agents.find((a) => a.spanContext().spanId !== r.rootSpanId) as ReadableSpan;
    expect(nested.attributes['gen_ai.agent.name']).toBe('web-researcher');
    expect(nested.parentSpanContext?.spanId).toBe(r.rootSpanId);
  });
});

describe('OTel GenAI, older names with content as log records', () => {
  const { sink, runs } = batch('otel-genai-legacy', 40);

  test('old attribute names, and one gen_ai.choice log per answered LLM call, tied to its span', () => {
    for (const r of runs) {
      const spans = spansOf(sink, r.traceId);
      const chats = withAttr(spans, 'gen_ai.operation.name', 'chat');
      expect(chats).toHaveLength(r.llmSpans);
      expect(sum(chats, 'gen_ai.usage.prompt_tokens')).toBe(r.tokens.input);
      expect(sum(chats, 'gen_ai.usage.completion_tokens')).toBe(r.tokens.output);
      for (const c of chats) {
        expect(c.attributes['gen_ai.system']).toBeDefined();
        expect(c.attributes['gen_ai.provider.name']).toBeUndefined();
        expect(c.attributes['gen_ai.usage.input_tokens']).toBeUndefined();
      }
      const logs = sink.logs().filter((l) => l.spanContext?.traceId === r.traceId);
      expect(logs).toHaveLength(r.logCount);
      const answered = chats.filter((c) => c.status.code !== ERROR);
      const choices = logs.filter((l) => l.eventName === 'gen_ai.choice');
      expect(choices).toHaveLength(answered.length);
      expect(new Set(choices.map((l) => l.spanContext?.spanId))).toEqual(new Set(answered.map((c) => c.spanContext().spanId)));
      for (const c of chats) {
        const user = logs.find((l) => l.eventName === 'gen_ai.user.message' && l.spanContext?.spanId === c.spanContext().spanId);
        expect(user?.attributes['gen_ai.system']).toBe(c.attributes['gen_ai.system']);
      }
    }
    const bodies = sink.logs().filter((l) => l.eventName === 'gen_ai.user.message').map((l) => l.body as Record<string, unknown>);
    expect(bodies.some((b) => typeof b.content === 'string')).toBe(true);
  });
});

describe('OpenInference', () => {
  const { sink, runs } = batch('openinference', 60);

  test('one AGENT span per run (plus sub-agents), TOOL and LLM spans, token counts as claimed', () => {
    for (const r of runs) {
      const spans = spansOf(sink, r.traceId);
      const agents = withAttr(spans, 'openinference.span.kind', 'AGENT');
      const llms = withAttr(spans, 'openinference.span.kind', 'LLM');
      const tools = withAttr(spans, 'openinference.span.kind', 'TOOL');
      expect(agents).toHaveLength(r.agentSpans - (r.agentSpanEnds ? 0 : 1));
      expect(llms).toHaveLength(r.llmSpans);
      expect(tools).toHaveLength(r.toolSpans);
      expect(sum(llms, 'llm.token_count.prompt')).toBe(r.tokens.input);
      expect(sum(llms, 'llm.token_count.completion')).toBe(r.tokens.output);
      expect(sum(llms, 'llm.token_count.prompt_details.cache_read')).toBe(r.tokens.cacheRead);
      expect(sum(llms, 'llm.token_count.completion_details.reasoning')).toBe(r.tokens.reasoning);
      if (r.reportedCostUsd !== undefined) expect(sum(llms, 'llm.cost.total')).toBeCloseTo(r.reportedCostUsd, 6);
      else expect(withAttr(llms, 'llm.cost.total')).toHaveLength(0);
      for (const t of tools) expect(t.attributes['tool.name']).toBe(t.name);
      for (const s of [...agents, ...llms, ...tools]) {
        expect(s.attributes['session.id']).toBe(r.conversationId);
        expect(s.attributes['user.id']).toBe(r.userId);
      }
      if (r.agentSpanEnds) expect(runSpanOf(spans, r)?.attributes['agent.name']).toBe(r.agent);
      for (const l of llms) {
        expect(l.attributes['llm.model_name']).toBeDefined();
        expect(l.attributes['llm.provider']).toBeDefined();
        if (r.scenario.contentCapture) expect(l.attributes['llm.input_messages.0.message.role']).toBe('system');
      }
    }
    expect(runs.some((r) => r.reportedCostUsd !== undefined)).toBe(true);
  });

  test('exactly one AGENT span for a run without sub-agents', () => {
    const s = newSink();
    const r = emitRun(s, 'openinference', { agent: 'support-triage', toolRounds: 2, outcome: 'completed', realtime: false });
    const spans = spansOf(s, r.traceId);
    expect(withAttr(spans, 'openinference.span.kind', 'AGENT')).toHaveLength(1);
    expect(r.llmSpans).toBe(3);
    expect(withAttr(spans, 'openinference.span.kind', 'TOOL')).toHaveLength(r.toolSpans);
    expect(r.toolSpans).toBeGreaterThanOrEqual(2);
  });
});

describe('OpenLLMetry', () => {
  const { sink, runs } = batch('openllmetry', 60);

  test('span kinds, agent name on every descendant, token sums in either generation', () => {
    let sawWorkflow = false;
    let sawLegacy = false;
    for (const r of runs) {
      const spans = spansOf(sink, r.traceId);
      const kinds = (k: string) => withAttr(spans, 'traceloop.span.kind', k);
      expect(kinds('tool')).toHaveLength(r.toolSpans);
      expect(kinds('agent').length + kinds('workflow').length).toBe(r.agentSpans - (r.agentSpanEnds ? 0 : 1));
      const llms = spans.filter((s) => s.attributes['gen_ai.system'] !== undefined);
      expect(llms).toHaveLength(r.llmSpans);
      expect(sum(llms, 'gen_ai.usage.input_tokens', 'gen_ai.usage.prompt_tokens')).toBe(r.tokens.input);
      expect(sum(llms, 'gen_ai.usage.output_tokens', 'gen_ai.usage.completion_tokens')).toBe(r.tokens.output);
      expect(sum(llms, 'gen_ai.usage.cache_read_input_tokens')).toBe(r.tokens.cacheRead);
      for (const s of [...llms, ...kinds('tool')]) expect(s.attributes['gen_ai.agent.name']).toBeDefined();
      if (kinds('workflow').length) sawWorkflow = true;
      if (withAttr(llms, 'llm.request.type', 'chat').length) sawLegacy = true;
      const run = runSpanOf(spans, r);
      if (run) expect(run.attributes['traceloop.entity.name']).toBe(r.agent);
    }
    expect(sawWorkflow).toBe(true);
    expect(sawLegacy).toBe(true);
  });
});

describe('Vercel AI SDK', () => {
  const { sink, runs } = batch('vercel-ai', 60);

  test('doGenerate and toolCall children; the parent carries the sum of its children', () => {
    let checkedTotals = 0;
    for (const r of runs) {
      const spans = spansOf(sink, r.traceId);
      const calls = spans.filter((s) => s.name === 'ai.generateText.doGenerate' || s.name === 'ai.streamText.doStream');
      expect(calls).toHaveLength(r.llmSpans);
      expect(spans.filter((s) => s.name === 'ai.toolCall')).toHaveLength(r.toolSpans);
      expect(sum(calls, 'ai.usage.inputTokens', 'ai.usage.promptTokens')).toBe(r.tokens.input);
      expect(sum(calls, 'gen_ai.usage.input_tokens')).toBe(r.tokens.input);
      expect(sum(calls, 'ai.usage.outputTokens', 'ai.usage.completionTokens')).toBe(r.tokens.output);
      const root = runSpanOf(spans, r);
      if (root && r.expectedStatus === 'completed') {
        expect(['ai.generateText', 'ai.streamText']).toContain(root.name);
        expect(root.attributes['ai.telemetry.functionId']).toBe(r.agent);
        expect(num(root.attributes['ai.usage.inputTokens'] ?? root.attributes['ai.usage.promptTokens'])).toBe(r.tokens.input);
        checkedTotals++;
      }
      for (const s of spans) if (s.name.startsWith('ai.')) expect(s.attributes['error.type']).toBeUndefined();
    }
    expect(checkedTotals).toBeGreaterThan(0);
  });
});

describe('voice sessions', () => {
  test('LiveKit: agent_session with user and agent turns', () => {
    const sink = newSink();
    const world = new World('livekit');
    const spellings = new Set<string>();
    for (let i = 0; i < 10; i++) {
      const v = emitVoiceSession(sink, 'livekit', { world, realtime: false });
      const spans = spansOf(sink, v.traceId);
      const session = spans.filter((s) => s.name === 'agent_session');
      expect(session).toHaveLength(1);
      expect(session[0].spanContext().spanId).toBe(v.rootSpanId);
      expect(session[0].attributes['lk.agent_name']).toBe(v.agent);
      expect(session[0].attributes['lk.room_sid']).toBe(v.sessionId);
      expect(session[0].attributes['lk.close_reason']).toBe(v.endReason);
      expect(session[0].status.code === ERROR).toBe(v.expectedStatus === 'failed');
      expect(spans.filter((s) => s.name === 'user_turn')).toHaveLength(v.turns);
      const agentTurns = spans.filter((s) => s.name === 'agent_turn');
      expect(agentTurns).toHaveLength(v.turns);
      expect(withAttr(agentTurns, 'lk.interrupted', true)).toHaveLength(v.interruptions);
      expect(spans.filter((s) => s.name === 'llm_request')).toHaveLength(v.llmSpans);
      expect(spans.filter((s) => s.name === 'function_tool')).toHaveLength(v.toolSpans);
      expect(withAttr(spans, 'gen_ai.output.type', 'speech').length).toBeGreaterThan(0);
      // Transcripts are spelled lk.user_transcript before Agents 1.7 and lk.pii.user_transcript after.
      const key = v.session.newerSdk ? 'lk.pii.user_transcript' : 'lk.user_transcript';
      const userTurns = spans.filter((s) => s.name === 'user_turn');
      if (v.session.contentCapture) expect(withAttr(userTurns, key)).toHaveLength(v.turns);
      spellings.add(key);
    }
    expect(spellings.size).toBe(2);
  });

  test('Pipecat: conversation > turn > stt / llm / tts', () => {
    const sink = newSink();
    const world = new World('pipecat');
    for (let i = 0; i < 10; i++) {
      const v = emitVoiceSession(sink, 'pipecat', { world, realtime: false });
      const spans = spansOf(sink, v.traceId);
      const conversation = spans.filter((s) => s.name === 'conversation');
      expect(conversation).toHaveLength(1);
      expect(conversation[0].attributes['conversation.id']).toBe(v.sessionId);
      const turns = spans.filter((s) => s.name === 'turn');
      expect(turns).toHaveLength(v.turns);
      expect(turns.map((t) => t.attributes['turn.number'])).toEqual(Array.from({ length: v.turns }, (_, k) => k + 1));
      expect(withAttr(turns, 'turn.was_interrupted', true)).toHaveLength(v.interruptions);
      expect(spans.filter((s) => s.name === 'stt')).toHaveLength(v.turns);
      const llms = spans.filter((s) => s.name === 'llm');
      expect(llms).toHaveLength(v.llmSpans);
      expect(sum(llms, 'gen_ai.usage.input_tokens')).toBe(v.tokens.input);
      expect(withAttr(spans.filter((s) => s.name === 'tts'), 'gen_ai.output.type', 'speech').length).toBe(v.turns - (v.expectedStatus === 'failed' ? 1 : 0));
    }
  });

  test('a session that ends in an error is reported as failed', () => {
    const sink = newSink();
    const v = emitVoiceSession(sink, 'pipecat', { endReason: 'error', realtime: false });
    expect(v.expectedStatus).toBe('failed');
    const root = spansOf(sink, v.traceId).find((s) => s.name === 'conversation');
    expect(root?.status.code).toBe(ERROR);
  });
});

test('a non-GenAI trace carries no GenAI attributes', () => {
  const sink = newSink();
  const t = emitNonGenAiTrace(sink, { realtime: false });
  const spans = spansOf(sink, t.traceId);
  expect(spans).toHaveLength(2);
  for (const s of spans) expect(Object.keys(s.attributes).some((k) => k.startsWith('gen_ai.'))).toBe(false);
});

test('the same seed reproduces the same traffic, ids included', () => {
  const emitAll = () => {
    const sink = newSink('same');
    const world = new World('same');
    for (const c of RUN_CONVENTIONS) emitRun(sink, c, { world, realtime: false, startTime: 1_800_000_000_000 });
    emitVoiceSession(sink, 'livekit', { world, realtime: false, startTime: 1_800_000_000_000 });
    return sink.spans().map((s) => [s.spanContext().traceId, s.spanContext().spanId, s.name, s.startTime, s.endTime, s.attributes]);
  };
  expect(emitAll()).toEqual(emitAll());
});
