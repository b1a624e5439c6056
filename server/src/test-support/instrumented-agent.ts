/**
 * Test support: a small weather agent instrumented by a real instrumentation package, run as a
 * process of its own (`tsx instrumented-agent.ts`) the way an application runs. It is a separate
 * process because the OTLP exporters load node:http through a dynamic import(), which Jest's VM
 * does not support without --experimental-vm-modules; it also gives every run a fresh `openai`
 * module, so no two instrumentations ever patch the same client.
 *
 * The agent asks the model for the weather, runs the get_weather tool the model asks for, and
 * returns the model's answer. Instrumentation (AGENT_INSTRUMENTATION):
 * - openinference: @arizeai/openinference-instrumentation-openai patches the client; the agent and
 *   the tool are wrapped with openinference-core's traceAgent / traceTool.
 * - openllmetry: @traceloop/instrumentation-openai patches the client; the agent and tool spans
 *   are the ones @traceloop/node-server-sdk's withAgent / withTool write.
 * - vercel: the Vercel AI SDK's generateText with experimental_telemetry, over @ai-sdk/openai.
 *
 * Settings come from the environment (see `settings()`); the last line printed is
 * `RESULT {"ok": true, "answer": ...}` or `RESULT {"ok": false, "error": ..., "errorName": ...}`.
 */
import { Span, SpanStatusCode, Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter as OTLPHttpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OTLPProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { traceAgent, traceTool } from '@arizeai/openinference-core';
import { OpenAIInstrumentation as OpenInferenceInstrumentation } from '@arizeai/openinference-instrumentation-openai';
import { SemanticConventions } from '@arizeai/openinference-semantic-conventions';
import { OpenAIInstrumentation as OpenLLMetryInstrumentation } from '@traceloop/instrumentation-openai';
import { createOpenAI } from '@ai-sdk/openai';
import { generateText, stepCountIs, tool } from 'ai';
import OpenAI from 'openai';
import type { ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions';
import { z } from 'zod';
import { AGENT, Instrumentation, WEATHER } from './weather-agent';

export function settings(env: NodeJS.ProcessEnv = process.env) {
  const need = (name: string): string => {
    const v = env[name];
    if (!v) throw new Error(`${name} is required`);
    return v;
  };
  return {
    instrumentation: need('AGENT_INSTRUMENTATION') as Instrumentation,
    /** OTLP/HTTP traces endpoint, e.g. http://127.0.0.1:4318/v1/traces */
    tracesUrl: need('AGENT_TRACES_URL'),
    ingestKey: need('AGENT_INGEST_KEY'),
    wire: (env.AGENT_WIRE ?? 'protobuf') as 'protobuf' | 'json',
    /** The OpenAI-compatible base URL, ending in /v1. */
    baseURL: need('AGENT_OPENAI_BASE_URL'),
    timeoutMs: Number(env.AGENT_OPENAI_TIMEOUT_MS ?? 10_000),
    serviceName: env.AGENT_SERVICE_NAME ?? 'weather-service',
  };
}

type Settings = ReturnType<typeof settings>;

const WEATHER_TOOL: ChatCompletionTool = {
  type: 'function',
  function: {
    name: AGENT.toolName,
    description: 'Current weather for a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};

async function getWeather(args: { city: string }): Promise<string> {
  return JSON.stringify(args.city === WEATHER.city ? WEATHER : { city: args.city, error: 'unknown city' });
}

function openAIClient(s: Settings): OpenAI {
  // No retries: every request the stub sees is one call the instrumentation reports.
  return new OpenAI({ apiKey: 'test-key-not-a-secret', baseURL: s.baseURL, maxRetries: 0, timeout: s.timeoutMs });
}

/** The agent loop: call the model until it stops asking for tools. */
async function weatherLoop(client: OpenAI, callTool: (name: string, args: { city: string }) => Promise<string>): Promise<string> {
  const messages: ChatCompletionMessageParam[] = [
    { role: 'system', content: AGENT.system },
    { role: 'user', content: AGENT.question },
  ];
  for (let turn = 0; turn < 5; turn++) {
    const completion = await client.chat.completions.create({ model: AGENT.model, messages, tools: [WEATHER_TOOL] });
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

async function openInferenceAgent(s: Settings, tracer: Tracer): Promise<string> {
  const instrumentation = new OpenInferenceInstrumentation();
  instrumentation.manuallyInstrument(OpenAI);
  const client = openAIClient(s);
  const weatherTool = traceTool(getWeather, { name: AGENT.toolName, tracer, attributes: { [SemanticConventions.TOOL_NAME]: AGENT.toolName } });
  const agent = traceAgent((question: string) => weatherLoop(client, (_name, args) => weatherTool(args)), {
    name: AGENT.names.openinference,
    tracer,
    attributes: { [SemanticConventions.AGENT_NAME]: AGENT.names.openinference, [SemanticConventions.SESSION_ID]: AGENT.openInferenceSessionId },
  });
  return agent(AGENT.question);
}

/**
 * A span as @traceloop/node-server-sdk's withAgent / withTool write it (`{name}.{kind}`,
 * traceloop.* attributes, gen_ai.agent.name), with the plain OpenTelemetry API: the SDK pins an
 * older OpenTelemetry line than this project. Unlike withAgent, it records a failure on the span.
 */
function traceloopEntity<T>(tracer: Tracer, kind: 'agent' | 'tool', name: string, agentName: string, input: unknown, fn: () => Promise<T>): Promise<T> {
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

async function openLLMetryAgent(s: Settings, tracer: Tracer): Promise<string> {
  const instrumentation = new OpenLLMetryInstrumentation({ traceContent: true });
  instrumentation.manuallyInstrument(OpenAI);
  const client = openAIClient(s);
  const name = AGENT.names.openllmetry;
  return traceloopEntity(tracer, 'agent', name, name, AGENT.question, () =>
    weatherLoop(client, (toolName, args) => traceloopEntity(tracer, 'tool', toolName, name, args, () => getWeather(args))),
  );
}

async function vercelAgent(s: Settings): Promise<string> {
  const openai = createOpenAI({ apiKey: 'test-key-not-a-secret', baseURL: s.baseURL });
  const result = await generateText({
    model: openai.chat(AGENT.model),
    system: AGENT.system,
    prompt: AGENT.question,
    tools: {
      [AGENT.toolName]: tool({
        description: 'Current weather for a city',
        inputSchema: z.object({ city: z.string() }),
        execute: async (args) => JSON.parse(await getWeather(args)) as unknown,
      }),
    },
    stopWhen: stepCountIs(5),
    maxRetries: 0,
    abortSignal: AbortSignal.timeout(s.timeoutMs),
    experimental_telemetry: { isEnabled: true, functionId: AGENT.names.vercel },
  });
  return result.text;
}

async function main(): Promise<void> {
  const s = settings();
  const exporterOptions = { url: s.tracesUrl, headers: { authorization: `Bearer ${s.ingestKey}` } };
  const exporter = s.wire === 'json' ? new OTLPHttpJsonExporter(exporterOptions) : new OTLPProtoExporter(exporterOptions);
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': s.serviceName, 'deployment.environment.name': 'test' }),
    spanProcessors: [new BatchSpanProcessor(exporter)],
  });
  provider.register(); // global tracer provider, AsyncLocalStorage context manager, propagator
  const tracer = provider.getTracer(s.serviceName);

  let result: Record<string, unknown>;
  try {
    const answer =
      s.instrumentation === 'openinference' ? await openInferenceAgent(s, tracer) : s.instrumentation === 'openllmetry' ? await openLLMetryAgent(s, tracer) : await vercelAgent(s);
    result = { ok: true, answer };
  } catch (e) {
    result = { ok: false, error: (e as Error).message, errorName: (e as Error).constructor?.name ?? '' };
  }
  // Spans are exported when they end, in batches: shutting down flushes the last batch.
  await provider.shutdown();
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
}

if (require.main === module) {
  main().catch((e: Error) => {
    process.stderr.write(`${e.stack ?? e.message}\n`);
    process.exit(1);
  });
}
