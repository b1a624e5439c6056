/**
 * Each convention, normalised and derived: the runs, steps and sessions a user would count.
 * Spans are written as the conventions' instrumentations write them (attribute names from
 * telemetry-conventions.md), including the traps.
 */
import { ContentPolicy } from '../content/policy';
import { loadConfig } from '../config';
import { normaliseSpan } from '../conventions/normalise';
import { Attributes, OtlpSpan } from '../ingest/otlp/types';
import { deriveTrace } from './trace';

const policy = new ContentPolicy(loadConfig({}));
const T = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
const BASE = Date.UTC(2026, 10, 1, 12) * 1000; // microseconds

let nextId = 1;
const id = (): string => (nextId++).toString(16).padStart(16, '0');

function span(p: { id?: string; parent?: string; name: string; start?: number; end?: number; a?: Attributes; status?: number; message?: string; events?: OtlpSpan['events']; resource?: Attributes }): OtlpSpan {
  return {
    resource: p.resource ?? { 'service.name': 'shop-api', 'deployment.environment.name': 'production' },
    scope: 'test',
    traceId: T,
    spanId: p.id ?? id(),
    parentSpanId: p.parent ?? '',
    name: p.name,
    kind: 1,
    startUs: BASE + (p.start ?? 0) * 1000,
    endUs: BASE + (p.end ?? 1000) * 1000,
    attributes: p.a ?? {},
    events: p.events ?? [],
    statusCode: p.status ?? 0,
    statusMessage: p.message ?? '',
  };
}

const derive = (spans: OtlpSpan[]) => deriveTrace(T, spans.map((s) => normaliseSpan('acme', s, policy)));

describe('OTel GenAI, new names', () => {
  const agent = id();
  const spans = [
    span({ id: agent, name: 'invoke_agent support', end: 5000, a: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'support', 'gen_ai.agent.version': '2.1', 'gen_ai.conversation.id': 'conv-1', 'gen_ai.provider.name': 'openai', 'gen_ai.usage.input_tokens': 999, 'gen_ai.usage.output_tokens': 999 } }),
    span({ parent: agent, name: 'chat gpt-4o', start: 100, end: 900, a: { 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-4o', 'gen_ai.response.model': 'gpt-4o-2024-08-06', 'gen_ai.usage.input_tokens': 120, 'gen_ai.usage.output_tokens': 30, 'gen_ai.usage.cache_read.input_tokens': 100, 'gen_ai.usage.reasoning.output_tokens': 10 } }),
    span({ parent: agent, name: 'execute_tool lookup_order', start: 1000, end: 1500, a: { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'lookup_order', 'gen_ai.tool.call.arguments': '{"order":"A1"}', 'gen_ai.tool.call.result': '{"status":"shipped"}' } }),
    span({ parent: agent, name: 'chat gpt-4o', start: 1600, end: 2500, a: { 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-4o', 'gen_ai.usage.input_tokens': 200, 'gen_ai.usage.output_tokens': 50 } }),
  ];

  it('is one completed run whose tokens come from its LLM steps, not the agent total', () => {
    const { runs, stepRun } = derive(spans);
    expect(runs).toHaveLength(1);
    const r = runs[0];
    expect(r).toMatchObject({
      runId: `${T}-${agent}`,
      agent: 'support',
      agentVersion: '2.1',
      status: 'completed',
      toolCalls: 1,
      llmCalls: 2,
      inputTokens: 320,
      outputTokens: 80,
      cachedTokens: 100,
      reasoningTokens: 10,
      totalTokens: 400,
      conversationId: 'conv-1',
      environment: 'production',
      service: 'shop-api',
      models: 'gpt-4o',
      channel: 'text',
    });
    expect(r.endUs! - r.startUs).toBe(5_000_000);
    expect(stepRun.size).toBe(4);
  });

  it('keeps tool input and output as content and the agent total out of the LLM sum', () => {
    const tool = normaliseSpan('acme', spans[2], policy);
    expect(tool.role).toBe('tool');
    expect(tool.toolName).toBe('lookup_order');
    expect(tool.inputContent).toBe('{"order":"A1"}');
    expect(tool.outputContent).toBe('{"status":"shipped"}');
    expect(JSON.parse(tool.attributes)).not.toHaveProperty('gen_ai.tool.call.arguments');
  });

  it('uses an agent span total only when no LLM step reports usage', () => {
    const { runs } = derive([spans[0], spans[2]]);
    expect(runs[0].inputTokens).toBe(999);
    expect(runs[0].llmCalls).toBe(0);
  });
});

describe('OTel GenAI, old names', () => {
  it('reads gen_ai.system and prompt/completion tokens', () => {
    const agent = id();
    const s = span({ parent: agent, name: 'chat gpt-4o-mini', a: { 'gen_ai.operation.name': 'chat', 'gen_ai.system': 'openai', 'gen_ai.request.model': 'gpt-4o-mini', 'gen_ai.usage.prompt_tokens': 40, 'gen_ai.usage.completion_tokens': 7 } });
    const rec = normaliseSpan('acme', s, policy);
    expect(rec).toMatchObject({ role: 'llm', provider: 'openai', model: 'gpt-4o-mini', inputTokens: 40, outputTokens: 7, totalTokens: 47, convention: 'otel-genai-legacy' });
    const { runs } = derive([span({ id: agent, name: 'invoke_agent', a: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'legacy-bot' } }), s]);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ agent: 'legacy-bot', inputTokens: 40, outputTokens: 7, llmCalls: 1 });
  });
});

describe('OpenInference', () => {
  const agent = id();
  const spans = [
    span({ id: agent, name: 'research', end: 8000, a: { 'openinference.span.kind': 'AGENT', 'agent.name': 'research-assistant', 'session.id': 's-9', 'user.id': 'u-7', 'input.value': 'find flights' } }),
    span({ parent: agent, name: 'ChatCompletion', start: 10, end: 400, a: { 'openinference.span.kind': 'LLM', 'llm.model_name': 'claude-sonnet-4', 'llm.provider': 'anthropic', 'llm.token_count.prompt': 300, 'llm.token_count.completion': 60, 'llm.token_count.total': 360, 'llm.token_count.completion_details.reasoning': 20, 'llm.cost.total': 0.0123, 'llm.input_messages.0.message.role': 'user', 'llm.input_messages.0.message.content': 'find flights', 'llm.output_messages.0.message.role': 'assistant', 'llm.output_messages.0.message.contents.0.message_content.type': 'reasoning', 'llm.output_messages.0.message.contents.0.message_content.text': 'The user wants flights; search first.' } }),
    span({ parent: agent, name: 'search', start: 500, end: 900, a: { 'openinference.span.kind': 'TOOL', 'tool.name': 'web_search', 'input.value': '{"q":"flights"}', 'output.value': '3 results' } }),
    span({ parent: agent, name: 'search', start: 950, end: 990, a: { 'openinference.span.kind': 'TOOL', 'tool.name': 'web_search' }, status: 2, message: 'rate limited' }),
  ];

  it('is one run with conversation, user, reported cost and reasoning', () => {
    const { runs } = derive(spans);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ agent: 'research-assistant', status: 'completed', toolCalls: 2, llmCalls: 1, inputTokens: 300, outputTokens: 60, reasoningTokens: 20, totalTokens: 360, cost: 0.0123, conversationId: 's-9', userId: 'u-7', models: 'claude-sonnet-4' });
    const llm = normaliseSpan('acme', spans[1], policy);
    expect(llm.reasoningContent).toBe('The user wants flights; search first.');
    expect(JSON.parse(llm.inputContent!)).toEqual([{ role: 'user', content: 'find flights' }]);
    expect(llm.provider).toBe('anthropic');
  });
});

describe('OpenLLMetry', () => {
  it('does not take gen_ai.agent.name on descendants for agent spans', () => {
    const wf = id();
    const llm1 = id();
    const spans = [
      span({ id: wf, name: 'travel.workflow', end: 3000, a: { 'traceloop.span.kind': 'workflow', 'traceloop.entity.name': 'travel-planner', 'traceloop.workflow.name': 'travel-planner', 'traceloop.association.properties.user_id': 'u-1', 'traceloop.association.properties.session_id': 'c-3' } }),
      span({ id: llm1, parent: wf, name: 'openai.chat', a: { 'gen_ai.operation.name': 'chat', 'gen_ai.agent.name': 'travel-planner', 'gen_ai.system': 'openai', 'gen_ai.request.model': 'gpt-4o', 'gen_ai.usage.input_tokens': 50, 'gen_ai.usage.output_tokens': 5, 'gen_ai.usage.total_tokens': 55, 'llm.request.type': 'chat', 'gen_ai.prompt.0.role': 'user', 'gen_ai.prompt.0.content': 'plan a trip', 'gen_ai.completion.0.role': 'assistant', 'gen_ai.completion.0.content': 'Sure' } }),
      span({ parent: wf, name: 'get_weather.tool', a: { 'traceloop.span.kind': 'tool', 'traceloop.entity.name': 'get_weather', 'gen_ai.agent.name': 'travel-planner', 'traceloop.entity.input': '{"city":"Oslo"}', 'traceloop.entity.output': '"rain"' } }),
    ];
    const recs = spans.map((s) => normaliseSpan('acme', s, policy));
    expect(recs.map((r) => r.role)).toEqual(['agent', 'llm', 'tool']);
    expect(recs[2].toolName).toBe('get_weather');
    expect(JSON.parse(recs[1].inputContent!)).toEqual([{ role: 'user', content: 'plan a trip' }]);
    const { runs } = derive(spans);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ runId: `${T}-${wf}`, agent: 'travel-planner', llmCalls: 1, toolCalls: 1, totalTokens: 55, userId: 'u-1', conversationId: 'c-3' });
  });
});

describe('Vercel AI SDK', () => {
  it('counts doGenerate children and ignores the ai.usage sum on ai.generateText', () => {
    const top = id();
    const spans = [
      span({ id: top, name: 'ai.generateText', end: 4000, a: { 'ai.telemetry.functionId': 'code-reviewer', 'ai.usage.promptTokens': 330, 'ai.usage.completionTokens': 45, 'ai.model.id': 'gpt-4o', 'ai.model.provider': 'openai.chat', 'ai.telemetry.metadata.userId': 'dev-4' } }),
      span({ parent: top, name: 'ai.generateText.doGenerate', start: 10, end: 1000, a: { 'ai.usage.promptTokens': 130, 'ai.usage.completionTokens': 15, 'gen_ai.usage.input_tokens': 130, 'gen_ai.usage.output_tokens': 15, 'ai.model.id': 'gpt-4o', 'ai.model.provider': 'openai.chat', 'gen_ai.request.model': 'gpt-4o' } }),
      span({ parent: top, name: 'ai.toolCall', start: 1100, end: 1200, a: { 'ai.toolCall.name': 'read_file', 'ai.toolCall.id': 'call_1', 'ai.toolCall.args': '{"path":"a.ts"}', 'ai.toolCall.result': '"..."' } }),
      span({ parent: top, name: 'ai.generateText.doGenerate', start: 1300, end: 3900, a: { 'ai.usage.promptTokens': 200, 'ai.usage.completionTokens': 30, 'gen_ai.usage.input_tokens': 200, 'gen_ai.usage.output_tokens': 30, 'ai.model.id': 'gpt-4o', 'ai.model.provider': 'openai.chat' } }),
    ];
    const { runs } = derive(spans);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ agent: 'code-reviewer', llmCalls: 2, toolCalls: 1, inputTokens: 330, outputTokens: 45, userId: 'dev-4' });
    expect(normaliseSpan('acme', spans[1], policy).provider).toBe('openai');
  });
});

describe('run states', () => {
  it('a run seen only through its children is running, named from their agent name, by trace id', () => {
    const missingAgent = id();
    const spans = [
      span({ parent: missingAgent, name: 'chat gpt-4o', a: { 'gen_ai.operation.name': 'chat', 'gen_ai.agent.name': 'billing-bot', 'gen_ai.request.model': 'gpt-4o', 'gen_ai.usage.input_tokens': 10, 'gen_ai.usage.output_tokens': 2 } }),
      span({ parent: missingAgent, name: 'execute_tool refund', a: { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'refund' } }),
    ];
    const running = derive(spans).runs;
    expect(running).toHaveLength(1);
    expect(running[0]).toMatchObject({ runId: T, status: 'running', agent: 'billing-bot', toolCalls: 1, llmCalls: 1, endUs: null });

    // When the agent span arrives (last, as OpenTelemetry exports it), its real status wins.
    const done = derive([...spans, span({ id: missingAgent, name: 'invoke_agent billing-bot', end: 9000, a: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'billing-bot' }, status: 1 })]).runs;
    expect(done).toHaveLength(1);
    expect(done[0]).toMatchObject({ runId: `${T}-${missingAgent}`, status: 'completed', toolCalls: 1, llmCalls: 1 });
  });

  it('a timeout known only from an exception event is timed_out', () => {
    const spans = [
      span({
        name: 'invoke_agent planner',
        a: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'planner' },
        status: 2,
        events: [{ name: 'exception', timeUs: BASE, attributes: { 'exception.type': 'asyncio.TimeoutError', 'exception.message': 'agent exceeded 300s' } }],
      }),
    ];
    expect(derive(spans).runs[0]).toMatchObject({ status: 'timed_out', errorType: 'asyncio.TimeoutError', errorMessage: 'agent exceeded 300s' });
  });

  it('an error that is not a timeout is failed, with error.type; an unnamed agent takes the service name', () => {
    const spans = [span({ name: 'invoke_agent', a: { 'gen_ai.operation.name': 'invoke_agent', 'error.type': 'ToolError' }, status: 2, message: 'tool crashed' })];
    expect(derive(spans).runs[0]).toMatchObject({ status: 'failed', errorType: 'ToolError', errorMessage: 'tool crashed', agent: 'shop-api' });
  });

  it('sub-agents are steps of the outermost agent run, and traces without GenAI are not runs', () => {
    const outer = id();
    const inner = id();
    const runs = derive([
      span({ id: outer, name: 'invoke_agent triage', a: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'triage' } }),
      span({ id: inner, parent: outer, name: 'invoke_agent billing', a: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'billing' } }),
      span({ parent: inner, name: 'execute_tool refund', a: { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'refund' } }),
    ]).runs;
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ agent: 'triage', toolCalls: 1 });
    expect(derive([span({ name: 'GET /health' }), span({ name: 'SELECT users' })]).runs).toHaveLength(0);
  });

  it('an application that instruments only its LLM client is one run named after its service', () => {
    const root = id();
    const runs = derive([
      span({ id: root, name: 'POST /chat', resource: { 'service.name': 'chat-frontend' } }),
      span({ parent: root, name: 'chat gpt-4o-mini', a: { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'gpt-4o-mini', 'gen_ai.usage.input_tokens': 5, 'gen_ai.usage.output_tokens': 1 } }),
    ]).runs;
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ agent: 'chat-frontend', status: 'completed', llmCalls: 1, totalTokens: 6 });
  });
});

describe('voice sessions', () => {
  it('LiveKit: agent_session with turns, interruptions and latency', () => {
    const session = id();
    const spans = [
      span({ id: session, name: 'agent_session', end: 60_000, a: { 'lk.agent_name': 'receptionist', 'lk.room_sid': 'RM_123', 'lk.close_reason': 'user_hangup' } }),
      span({ parent: session, name: 'user_turn', start: 1000, end: 2000 }),
      span({ parent: session, name: 'agent_turn', start: 2000, end: 4000, a: { 'lk.e2e_latency': 0.8, 'lk.interrupted': false } }),
      span({ parent: session, name: 'agent_turn', start: 9000, end: 9500, a: { 'lk.e2e_latency': 1.2, 'lk.interrupted': true } }),
    ];
    const { sessions, runs } = derive(spans);
    expect(runs).toHaveLength(0);
    expect(sessions).toHaveLength(1);
    expect(sessions[0]).toMatchObject({ sessionId: 'RM_123', agent: 'receptionist', channel: 'voice', turns: 2, interruptions: 1, endReason: 'user_hangup', status: 'completed' });
    expect(sessions[0].avgLatencyMs).toBeCloseTo(1000);
  });

  it('Pipecat: conversation > turn, with an agent run inside a turn counted as a run', () => {
    const conv = id();
    const turn = id();
    const agent = id();
    const spans = [
      span({ id: conv, name: 'conversation', end: 30_000, a: { 'conversation.id': 'pc-1', 'conversation.type': 'voice' } }),
      span({ id: turn, parent: conv, name: 'turn', start: 100, end: 3000, a: { 'turn.number': 1, 'turn.was_interrupted': true, 'turn.user_bot_latency_seconds': 0.5 } }),
      span({ id: agent, parent: turn, name: 'invoke_agent concierge', start: 200, end: 2900, a: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'concierge', 'gen_ai.output.type': 'speech' } }),
      span({ parent: agent, name: 'chat gpt-4o', start: 300, end: 900, a: { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'gpt-4o', 'gen_ai.usage.input_tokens': 30, 'gen_ai.usage.output_tokens': 9 } }),
    ];
    const { sessions, runs } = derive(spans);
    expect(sessions).toHaveLength(1);
    expect(sessions[0]).toMatchObject({ sessionId: 'pc-1', turns: 1, interruptions: 1, avgLatencyMs: 500 });
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ agent: 'concierge', channel: 'voice', llmCalls: 1, totalTokens: 39 });
  });
});
