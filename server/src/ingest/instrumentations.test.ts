/**
 * Real instrumentation packages against the real server: the `openai` client, patched by
 * OpenInference and by OpenLLMetry (and the Vercel AI SDK's own telemetry), talks to a local
 * OpenAI-compatible stub; the OpenTelemetry SDK exports the spans those packages write over
 * OTLP/HTTP; the test reads back what a user would check in the API. The spans are therefore
 * exactly what the packages emit, not what someone believed they emit.
 *
 * Every scenario is the same small agent: ask for the weather, the model calls get_weather, the
 * tool answers, the model answers. The stub's usage per call is below; a run's tokens must be the
 * sum over its LLM calls, never doubled by a total on a parent span.
 */
import { context, propagation, Span, SpanStatusCode, trace, Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter as OTLPHttpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OTLPProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { traceAgent, traceTool } from '@arizeai/openinference-core';
import { OpenAIInstrumentation as OpenInferenceOpenAIInstrumentation } from '@arizeai/openinference-instrumentation-openai';
import { OpenInferenceSpanKind, SemanticConventions } from '@arizeai/openinference-semantic-conventions';
import { OpenAIInstrumentation as OpenLLMetryOpenAIInstrumentation } from '@traceloop/instrumentation-openai';
import { createOpenAI } from '@ai-sdk/openai';
import { generateText, stepCountIs, tool } from 'ai';
import type OpenAIClient from 'openai';
import type { ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions';
import { z } from 'zod';
import { OpenAIStub, startOpenAIStub, StubReply, StubUsage } from '../test-support/openai-stub';
import { getJson, INGEST_KEY, READ_KEY, startTestServer, TestServer } from '../test-support/server';

type OpenAIClass = typeof OpenAIClient;

const MODEL = 'gpt-4o-mini';
const QUESTION = 'What is the weather in Paris right now?';
const ANSWER = 'It is 18°C and sunny in Paris.';
const TOOL_RESULT = JSON.stringify({ city: 'Paris', temperatureC: 18, conditions: 'sunny' });

const TURN1: StubUsage = { promptTokens: 120, completionTokens: 30, cachedTokens: 20, reasoningTokens: 10 };
const TURN2: StubUsage = { promptTokens: 180, completionTokens: 45, cachedTokens: 100, reasoningTokens: 15 };
/** What the run must add up to: 300 in, 75 out, 375 total, 120 cached, 25 reasoning. */
const SUM = {
  input: TURN1.promptTokens + TURN2.promptTokens,
  output: TURN1.completionTokens + TURN2.completionTokens,
  total: TURN1.promptTokens + TURN1.completionTokens + TURN2.promptTokens + TURN2.completionTokens,
  cached: TURN1.cachedTokens + TURN2.cachedTokens,
  reasoning: TURN1.reasoningTokens + TURN2.reasoningTokens,
};

const toolTurn: StubReply = { kind: 'tool_call', tool: 'get_weather', arguments: { city: 'Paris' }, usage: TURN1 };
const answerTurn: StubReply = { kind: 'text', text: ANSWER, usage: TURN2 };

const WEATHER_TOOL: ChatCompletionTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Current weather for a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};

// ---------------------------------------------------------------------------------------------
// Plumbing: the server, the stub, and an OpenTelemetry SDK set up the way an application does.

interface Harness {
  server: TestServer;
  stub: OpenAIStub;
  provider: NodeTracerProvider;
  tracer: Tracer;
}

let h: Harness | undefined;

async function setUp(script: StubReply[], wire: 'protobuf' | 'json', serviceName: string): Promise<Harness> {
  const server = await startTestServer();
  const stub = await startOpenAIStub(script);
  const exporterOptions = { url: `${server.url}/v1/traces`, headers: { authorization: `Bearer ${INGEST_KEY}` } };
  const exporter = wire === 'protobuf' ? new OTLPProtoExporter(exporterOptions) : new OTLPHttpJsonExporter(exporterOptions);
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': serviceName, 'deployment.environment.name': 'test' }),
    spanProcessors: [new BatchSpanProcessor(exporter)],
  });
  provider.register(); // global tracer provider, context manager (AsyncLocalStorage) and propagator
  h = { server, stub, provider, tracer: provider.getTracer(serviceName) };
  return h;
}

afterEach(async () => {
  if (!h) return;
  const { server, stub, provider } = h;
  h = undefined;
  await provider.shutdown();
  trace.disable();
  context.disable();
  propagation.disable();
  await stub.close();
  await server.cleanup();
});

/**
 * A copy of the `openai` package of its own: each instrumentation patches the client's prototype,
 * and two of them on one copy would both report every call.
 */
function freshOpenAI(): OpenAIClass {
  let OpenAI: OpenAIClass | undefined;
  jest.isolateModules(() => {
    OpenAI = (require('openai') as { OpenAI: OpenAIClass }).OpenAI;
  });
  return OpenAI as OpenAIClass;
}

function clientFor(OpenAI: OpenAIClass, stub: OpenAIStub, options: { timeoutMs?: number } = {}): OpenAIClient {
  return new OpenAI({ apiKey: 'test-key-not-a-secret', baseURL: stub.baseURL, maxRetries: 0, timeout: options.timeoutMs ?? 10_000 });
}

/** The agent loop every scenario runs: call the model until it stops asking for tools. */
async function weatherAgent(client: OpenAIClient, callTool: (name: string, args: { city: string }) => Promise<string>): Promise<string> {
  const messages: ChatCompletionMessageParam[] = [
    { role: 'system', content: 'You are a weather assistant. Use the tools.' },
    { role: 'user', content: QUESTION },
  ];
  for (let turn = 0; turn < 5; turn++) {
    const completion = await client.chat.completions.create({ model: MODEL, messages, tools: [WEATHER_TOOL] });
    const message = completion.choices[0].message;
    messages.push(message);
    if (!message.tool_calls?.length) return message.content ?? '';
    for (const call of message.tool_calls) {
      if (call.type !== 'function') continue;
      const result = await callTool(call.function.name, JSON.parse(call.function.arguments) as { city: string });
      messages.push({ role: 'tool', tool_call_id: call.id, content: result });
    }
  }
  throw new Error('the agent did not finish in 5 turns');
}

async function getWeather(args: { city: string }): Promise<string> {
  return args.city === 'Paris' ? TOOL_RESULT : JSON.stringify({ city: args.city, error: 'unknown city' });
}

interface RunView {
  runId: string;
  agent: string;
  status: string;
  toolCalls: number;
  llmCalls: number;
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
  cachedTokens: number;
  reasoningTokens: number;
  models: string;
  errorType: string;
  service: string;
  conversationId: string;
}

interface StepView {
  spanId: string;
  parentSpanId: string;
  role: string;
  name: string;
  status: string;
  model: string;
  tool: string;
  inputTokens: number | null;
  outputTokens: number | null;
  input: string | null;
  output: string | null;
  events: { name: string; body: string | null }[];
}

/** Flushes the SDK (the exporter has then had its answer) and reads runs back through the API. */
async function flushAndReadRuns(harness: Harness): Promise<RunView[]> {
  await harness.provider.forceFlush();
  const { runs } = await getJson<{ runs: RunView[] }>(`${harness.server.url}/api/v1/runs`, READ_KEY);
  return runs;
}

async function readSteps(harness: Harness, runId: string): Promise<StepView[]> {
  const { steps } = await getJson<{ steps: StepView[] }>(`${harness.server.url}/api/v1/runs/${encodeURIComponent(runId)}`, READ_KEY);
  return steps;
}

function only<T>(items: T[], what: string): T {
  if (items.length !== 1) throw new Error(`expected exactly one ${what}, got ${items.length}: ${JSON.stringify(items, null, 1)}`);
  return items[0];
}

/** The numbers a user checks on a completed two-call, one-tool run. */
function expectCompletedWeatherRun(run: RunView, agent: string, tokens: { cached: number; reasoning: number }): void {
  expect(run).toMatchObject({
    agent,
    status: 'completed',
    llmCalls: 2,
    toolCalls: 1,
    inputTokens: SUM.input,
    outputTokens: SUM.output,
    totalTokens: SUM.total,
    cachedTokens: tokens.cached,
    reasoningTokens: tokens.reasoning,
    models: MODEL,
  });
}

function expectLlmStepsWithContent(steps: StepView[]): StepView[] {
  const llm = steps.filter((s) => s.role === 'llm');
  expect(llm).toHaveLength(2);
  for (const s of llm) {
    expect(s.model).toBe(MODEL);
    expect(s.input).toContain(QUESTION);
  }
  const [first, second] = llm.sort((a, b) => (a.inputTokens ?? 0) - (b.inputTokens ?? 0));
  expect([first.inputTokens, first.outputTokens]).toEqual([TURN1.promptTokens, TURN1.completionTokens]);
  expect([second.inputTokens, second.outputTokens]).toEqual([TURN2.promptTokens, TURN2.completionTokens]);
  expect(first.output).toContain('get_weather'); // the model's tool call
  expect(second.input).toContain('sunny'); // the tool's result went back to the model
  expect(second.output).toContain(ANSWER);
  return llm;
}

// ---------------------------------------------------------------------------------------------

describe('OpenInference (@arizeai/openinference-instrumentation-openai)', () => {
  /** An agent as OpenInference users write one: traceAgent / traceTool from openinference-core. */
  function instrumentedAgent(harness: Harness, options: { timeoutMs?: number } = {}) {
    const OpenAI = freshOpenAI();
    const instrumentation = new OpenInferenceOpenAIInstrumentation();
    instrumentation.manuallyInstrument(OpenAI);
    const client = clientFor(OpenAI, harness.stub, options);
    const weatherTool = traceTool(getWeather, {
      name: 'get_weather',
      tracer: harness.tracer,
      attributes: { [SemanticConventions.TOOL_NAME]: 'get_weather' },
    });
    return traceAgent((question: string) => weatherAgent(client, (_name, args) => weatherTool(args)), {
      name: 'weather-agent',
      tracer: harness.tracer,
      attributes: { [SemanticConventions.AGENT_NAME]: 'weather-agent', [SemanticConventions.SESSION_ID]: 'conv-oi-1' },
    });
  }

  it('makes one completed run: 2 LLM calls, 1 tool call, tokens summed once, content kept', async () => {
    const harness = await setUp([toolTurn, answerTurn], 'protobuf', 'weather-service-oi');
    const agent = instrumentedAgent(harness);

    await expect(agent(QUESTION)).resolves.toBe(ANSWER);

    const run = only(await flushAndReadRuns(harness), 'run');
    expectCompletedWeatherRun(run, 'weather-agent', { cached: SUM.cached, reasoning: SUM.reasoning });
    expect(run).toMatchObject({ conversationId: 'conv-oi-1', service: 'weather-service-oi' });

    const steps = await readSteps(harness, run.runId);
    expect(steps.map((s) => s.role).sort()).toEqual(['agent', 'llm', 'llm', 'tool']);
    const llm = expectLlmStepsWithContent(steps);
    expect(llm.every((s) => s.status === 'ok')).toBe(true);
    const toolStep = only(steps.filter((s) => s.role === 'tool'), 'tool step');
    expect(toolStep).toMatchObject({ tool: 'get_weather', status: 'ok' });
    expect(toolStep.input).toContain('Paris');
    expect(toolStep.output).toContain('sunny');
    // The stub requested 2 chat completions; OpenInference reported both.
    expect(harness.stub.requests).toHaveLength(2);
  });

  it('a 500 from the model fails the LLM step and the run', async () => {
    const harness = await setUp([toolTurn, { kind: 'error', status: 500, message: 'The server had an error while processing your request.' }], 'protobuf', 'weather-service-oi');
    const agent = instrumentedAgent(harness);

    await expect(agent(QUESTION)).rejects.toThrow(/500/);

    const run = only(await flushAndReadRuns(harness), 'run');
    expect(run).toMatchObject({
      agent: 'weather-agent',
      status: 'failed',
      llmCalls: 2,
      toolCalls: 1,
      // Only the first call reported usage.
      inputTokens: TURN1.promptTokens,
      outputTokens: TURN1.completionTokens,
      totalTokens: TURN1.promptTokens + TURN1.completionTokens,
    });
    const steps = await readSteps(harness, run.runId);
    const failed = only(steps.filter((s) => s.role === 'llm' && s.status === 'error'), 'failed LLM step');
    expect(failed.events.map((e) => e.name)).toContain('exception');
  });
});

describe('OpenLLMetry (@traceloop/instrumentation-openai)', () => {
  /**
   * The spans @traceloop/node-server-sdk's withAgent / withTool write (`{name}.agent`, `{name}.tool`,
   * traceloop.* attributes, gen_ai.agent.name on the entity), written with the plain OpenTelemetry
   * API: the SDK itself pins an older OpenTelemetry line than this project uses. Unlike withAgent,
   * this records an error on the agent span, as a hand-written span should.
   */
  function entitySpan<T>(tracer: Tracer, kind: 'agent' | 'tool', name: string, input: unknown, fn: () => Promise<T>, agentName: string): Promise<T> {
    return tracer.startActiveSpan(`${name}.${kind}`, async (span: Span) => {
      span.setAttributes({
        'traceloop.span.kind': kind,
        'traceloop.entity.name': name,
        'traceloop.entity.path': '',
        'gen_ai.agent.name': agentName,
        'traceloop.entity.input': JSON.stringify({ args: [input], kwargs: {} }),
        ...(kind === 'agent' ? { 'traceloop.workflow.name': name } : {}),
      });
      try {
        const result = await fn();
        span.setAttribute('traceloop.entity.output', JSON.stringify(result));
        return result;
      } catch (e) {
        span.recordException(e as Error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: (e as Error).message });
        throw e;
      } finally {
        span.end();
      }
    });
  }

  function runAgent(harness: Harness, options: { timeoutMs?: number } = {}): Promise<string> {
    const OpenAI = freshOpenAI();
    const instrumentation = new OpenLLMetryOpenAIInstrumentation({ traceContent: true });
    instrumentation.manuallyInstrument(OpenAI);
    const client = clientFor(OpenAI, harness.stub, options);
    const agentName = 'support-agent';
    return entitySpan(harness.tracer, 'agent', agentName, QUESTION, () =>
      weatherAgent(client, (name, args) => entitySpan(harness.tracer, 'tool', name, args, () => getWeather(args), agentName)), agentName,
    );
  }

  it('makes one completed run: 2 LLM calls, 1 tool call, tokens summed once, content kept', async () => {
    const harness = await setUp([toolTurn, answerTurn], 'json', 'support-service-tl');

    await expect(runAgent(harness)).resolves.toBe(ANSWER);

    const run = only(await flushAndReadRuns(harness), 'run');
    // OpenLLMetry 0.27 reports input/output/total tokens for chat, not cached or reasoning tokens.
    expectCompletedWeatherRun(run, 'support-agent', { cached: 0, reasoning: 0 });

    const steps = await readSteps(harness, run.runId);
    expect(steps.map((s) => s.role).sort()).toEqual(['agent', 'llm', 'llm', 'tool']);
    const llm = expectLlmStepsWithContent(steps);
    expect(llm.map((s) => s.name)).toEqual([`chat ${MODEL}`, `chat ${MODEL}`]);
    const toolStep = only(steps.filter((s) => s.role === 'tool'), 'tool step');
    expect(toolStep).toMatchObject({ tool: 'get_weather', name: 'get_weather.tool', status: 'ok' });
    expect(toolStep.output).toContain('sunny');
    expect(harness.stub.requests).toHaveLength(2);
  });

  it('a model call that times out makes the run timed_out', async () => {
    const harness = await setUp([toolTurn, { kind: 'stall', ms: 5_000 }], 'json', 'support-service-tl');

    await expect(runAgent(harness, { timeoutMs: 300 })).rejects.toThrow(/timed out/i);

    const run = only(await flushAndReadRuns(harness), 'run');
    expect(run).toMatchObject({
      agent: 'support-agent',
      status: 'timed_out',
      errorType: 'APIConnectionTimeoutError',
      toolCalls: 1,
      // OpenLLMetry 0.27 ends a non-streaming chat span only on success: the call that timed out
      // is never exported, so the run shows the one call that answered.
      llmCalls: 1,
      inputTokens: TURN1.promptTokens,
      outputTokens: TURN1.completionTokens,
    });
  });
});

describe('Vercel AI SDK (ai + @ai-sdk/openai, experimental_telemetry)', () => {
  function runAgent(harness: Harness) {
    const openai = createOpenAI({ apiKey: 'test-key-not-a-secret', baseURL: harness.stub.baseURL });
    return generateText({
      model: openai.chat(MODEL),
      system: 'You are a weather assistant. Use the tools.',
      prompt: QUESTION,
      tools: {
        get_weather: tool({
          description: 'Current weather for a city',
          inputSchema: z.object({ city: z.string() }),
          execute: async (args) => JSON.parse(await getWeather(args)) as unknown,
        }),
      },
      stopWhen: stepCountIs(5),
      maxRetries: 0,
      experimental_telemetry: { isEnabled: true, functionId: 'my-agent' },
    });
  }

  it('makes one completed run named after functionId, tokens from the doGenerate steps only', async () => {
    const harness = await setUp([toolTurn, answerTurn], 'protobuf', 'vercel-service');

    const result = await runAgent(harness);
    expect(result.text).toBe(ANSWER);

    const run = only(await flushAndReadRuns(harness), 'run');
    // ai.generateText carries the sum of its steps as ai.usage.*; counting it as well would double.
    expectCompletedWeatherRun(run, 'my-agent', { cached: SUM.cached, reasoning: SUM.reasoning });

    const steps = await readSteps(harness, run.runId);
    expect(steps.map((s) => s.role).sort()).toEqual(['agent', 'llm', 'llm', 'tool']);
    expectLlmStepsWithContent(steps);
    const toolStep = only(steps.filter((s) => s.role === 'tool'), 'tool step');
    expect(toolStep).toMatchObject({ tool: 'get_weather', status: 'ok' });
    expect(toolStep.output).toContain('sunny');
  });

  it('a 500 from the model fails the run', async () => {
    const harness = await setUp([toolTurn, { kind: 'error', status: 500, message: 'The server had an error while processing your request.' }], 'protobuf', 'vercel-service');

    await expect(runAgent(harness)).rejects.toThrow();

    const run = only(await flushAndReadRuns(harness), 'run');
    expect(run).toMatchObject({ agent: 'my-agent', status: 'failed', toolCalls: 1, inputTokens: TURN1.promptTokens, outputTokens: TURN1.completionTokens });
    const steps = await readSteps(harness, run.runId);
    expect(steps.filter((s) => s.role === 'llm' && s.status === 'error')).toHaveLength(1);
  });
});

