/**
 * Real instrumentation packages against the real server. A weather agent built on the real
 * `openai` client (or the Vercel AI SDK) runs as its own process (test-support/instrumented-agent.ts)
 * against a local OpenAI-compatible stub; OpenInference, OpenLLMetry or the AI SDK's own
 * telemetry writes the spans, and the OpenTelemetry SDK exports them over OTLP/HTTP to a test
 * server. The test then reads back what a user would check. So the spans are exactly what those
 * packages emit, not what someone believed they emit.
 *
 * Every scenario: the model asks for get_weather, the tool answers, the model answers. The
 * stub's usage per call is below; a run's tokens must be the sum over its LLM calls, never doubled
 * by a total that a parent span also carries.
 */
import { OpenAIStub, startOpenAIStub, StubReply, StubUsage } from '../test-support/openai-stub';
import { getJson, INGEST_KEY, READ_KEY, startTestServer, TestServer } from '../test-support/server';
import { AGENT, AgentResult, AgentRunOptions, runInstrumentedAgent } from '../test-support/weather-agent';

const ANSWER = 'It is 18°C and sunny in Paris.';

const TURN1: StubUsage = { promptTokens: 120, completionTokens: 30, cachedTokens: 20, reasoningTokens: 10 };
const TURN2: StubUsage = { promptTokens: 180, completionTokens: 45, cachedTokens: 100, reasoningTokens: 15 };
/** What a run of both calls adds up to: 300 in, 75 out, 375 total, 120 cached, 25 reasoning. */
const SUM = {
  input: TURN1.promptTokens + TURN2.promptTokens,
  output: TURN1.completionTokens + TURN2.completionTokens,
  total: TURN1.promptTokens + TURN1.completionTokens + TURN2.promptTokens + TURN2.completionTokens,
  cached: TURN1.cachedTokens + TURN2.cachedTokens,
  reasoning: TURN1.reasoningTokens + TURN2.reasoningTokens,
};

const toolTurn: StubReply = { kind: 'tool_call', tool: AGENT.toolName, arguments: { city: 'Paris' }, usage: TURN1 };
const answerTurn: StubReply = { kind: 'text', text: ANSWER, usage: TURN2 };
const serverError: StubReply = { kind: 'error', status: 500, message: 'The server had an error while processing your request.' };

// A child process per scenario (tsx compiles the agent on start): allow for a slow machine.
jest.setTimeout(120_000);

let server: TestServer | undefined;
let stub: OpenAIStub | undefined;

afterEach(async () => {
  await stub?.close();
  await server?.cleanup();
  stub = undefined;
  server = undefined;
});

/** Starts a server and a stub playing the script, runs the agent, and returns the outcome. */
async function scenario(script: StubReply[], o: Pick<AgentRunOptions, 'instrumentation' | 'wire' | 'serviceName' | 'timeoutMs'>): Promise<{ server: TestServer; stub: OpenAIStub; result: AgentResult }> {
  server = await startTestServer();
  stub = await startOpenAIStub(script);
  const result = await runInstrumentedAgent({ ...o, serverUrl: server.url, ingestKey: INGEST_KEY, openAIBaseURL: stub.baseURL });
  return { server, stub, result };
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
  errorMessage: string;
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

async function readRuns(server: TestServer): Promise<RunView[]> {
  const { runs } = await getJson<{ runs: RunView[] }>(`${server.url}/api/v1/runs`, READ_KEY);
  return runs;
}

async function readSteps(server: TestServer, runId: string): Promise<StepView[]> {
  const { steps } = await getJson<{ steps: StepView[] }>(`${server.url}/api/v1/runs/${encodeURIComponent(runId)}`, READ_KEY);
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
    models: AGENT.model,
  });
}

function expectLlmStepsWithContent(steps: StepView[]): StepView[] {
  const llm = steps.filter((s) => s.role === 'llm');
  expect(llm).toHaveLength(2);
  for (const s of llm) {
    expect(s.model).toBe(AGENT.model);
    expect(s.input).toContain(AGENT.question);
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

describe('OpenInference: @arizeai/openinference-instrumentation-openai, traceAgent / traceTool', () => {
  const options = { instrumentation: 'openinference', wire: 'protobuf', serviceName: 'weather-service-oi' } as const;

  it('makes one completed run: 2 LLM calls, 1 tool call, tokens summed once, content kept', async () => {
    const { server, stub, result } = await scenario([toolTurn, answerTurn], options);
    expect(result).toEqual({ ok: true, answer: ANSWER });
    expect(stub.requests).toHaveLength(2);

    const run = only(await readRuns(server), 'run');
    expectCompletedWeatherRun(run, AGENT.names.openinference, { cached: SUM.cached, reasoning: SUM.reasoning });
    expect(run).toMatchObject({ conversationId: AGENT.openInferenceSessionId, service: 'weather-service-oi' });

    const steps = await readSteps(server, run.runId);
    expect(steps.map((s) => s.role).sort()).toEqual(['agent', 'llm', 'llm', 'tool']);
    const llm = expectLlmStepsWithContent(steps);
    expect(llm.map((s) => s.status)).toEqual(['ok', 'ok']);
    const toolStep = only(steps.filter((s) => s.role === 'tool'), 'tool step');
    expect(toolStep).toMatchObject({ tool: AGENT.toolName, status: 'ok' });
    expect(toolStep.input).toContain('Paris');
    expect(toolStep.output).toContain('sunny');
  });

  it('a 500 from the model: the run failed; the failed call itself is not reported', async () => {
    const { server, result } = await scenario([toolTurn, serverError], options);
    expect(result).toMatchObject({ ok: false, errorName: 'InternalServerError' });

    const run = only(await readRuns(server), 'run');
    expect(run).toMatchObject({
      agent: AGENT.names.openinference,
      status: 'failed',
      toolCalls: 1,
      // OpenInference 4.2 ends an LLM span when the call answers or throws at once, not when the
      // call's promise rejects: the call that got the 500 is never exported.
      llmCalls: 1,
      inputTokens: TURN1.promptTokens,
      outputTokens: TURN1.completionTokens,
      totalTokens: TURN1.promptTokens + TURN1.completionTokens,
    });
    expect(run.errorMessage).toMatch(/^500 /);
    const steps = await readSteps(server, run.runId);
    const agentStep = only(steps.filter((s) => s.role === 'agent'), 'agent step');
    expect(agentStep.status).toBe('error');
    expect(agentStep.events.map((e) => e.name)).toContain('exception');
  });
});

describe('OpenLLMetry: @traceloop/instrumentation-openai, withAgent / withTool spans', () => {
  const options = { instrumentation: 'openllmetry', wire: 'json', serviceName: 'support-service-tl' } as const;

  it('makes one completed run: 2 LLM calls, 1 tool call, tokens summed once, content kept', async () => {
    const { server, stub, result } = await scenario([toolTurn, answerTurn], options);
    expect(result).toEqual({ ok: true, answer: ANSWER });
    expect(stub.requests).toHaveLength(2);

    const run = only(await readRuns(server), 'run');
    // OpenLLMetry 0.27 reports input, output and total tokens of a chat call, not cached or reasoning.
    expectCompletedWeatherRun(run, AGENT.names.openllmetry, { cached: 0, reasoning: 0 });

    const steps = await readSteps(server, run.runId);
    expect(steps.map((s) => s.role).sort()).toEqual(['agent', 'llm', 'llm', 'tool']);
    const llm = expectLlmStepsWithContent(steps);
    expect(llm.map((s) => s.name)).toEqual([`chat ${AGENT.model}`, `chat ${AGENT.model}`]);
    const toolStep = only(steps.filter((s) => s.role === 'tool'), 'tool step');
    expect(toolStep).toMatchObject({ tool: AGENT.toolName, name: `${AGENT.toolName}.tool`, status: 'ok' });
    expect(toolStep.output).toContain('sunny');
  });

  it('a model call that times out: the run is timed_out', async () => {
    const { server, result } = await scenario([toolTurn, { kind: 'stall', ms: 10_000 }], { ...options, timeoutMs: 1_000 });
    expect(result).toMatchObject({ ok: false, errorName: 'APIConnectionTimeoutError' });

    const run = only(await readRuns(server), 'run');
    expect(run).toMatchObject({
      agent: AGENT.names.openllmetry,
      status: 'timed_out',
      // The OpenTelemetry SDK's recordException takes exception.type from error.name, which the
      // openai client's errors leave as 'Error'; the message names the timeout.
      errorType: 'Error',
      errorMessage: 'Request timed out.',
      toolCalls: 1,
      // OpenLLMetry 0.27 ends a non-streaming chat span only when the call succeeds: the call that
      // timed out is never exported, so the run shows the one call that answered.
      llmCalls: 1,
      inputTokens: TURN1.promptTokens,
      outputTokens: TURN1.completionTokens,
    });
  });
});

describe('Vercel AI SDK: generateText with experimental_telemetry over @ai-sdk/openai', () => {
  const options = { instrumentation: 'vercel', wire: 'protobuf', serviceName: 'vercel-service' } as const;

  it('makes one completed run named after functionId, tokens from the doGenerate steps only', async () => {
    const { server, stub, result } = await scenario([toolTurn, answerTurn], options);
    expect(result).toEqual({ ok: true, answer: ANSWER });
    expect(stub.requests).toHaveLength(2);

    const run = only(await readRuns(server), 'run');
    // ai.generateText carries the sum of its steps as ai.usage.*: counted as well, it would double.
    expectCompletedWeatherRun(run, AGENT.names.vercel, { cached: SUM.cached, reasoning: SUM.reasoning });

    const steps = await readSteps(server, run.runId);
    expect(steps.map((s) => s.role).sort()).toEqual(['agent', 'llm', 'llm', 'tool']);
    expectLlmStepsWithContent(steps);
    const toolStep = only(steps.filter((s) => s.role === 'tool'), 'tool step');
    expect(toolStep).toMatchObject({ tool: AGENT.toolName, status: 'ok' });
    expect(toolStep.output).toContain('sunny');
  });

  it('a 500 from the model: the run failed', async () => {
    const { server, result } = await scenario([toolTurn, serverError], options);
    expect(result.ok).toBe(false);

    const run = only(await readRuns(server), 'run');
    expect(run).toMatchObject({ agent: AGENT.names.vercel, status: 'failed', toolCalls: 1, inputTokens: TURN1.promptTokens, outputTokens: TURN1.completionTokens });
    const steps = await readSteps(server, run.runId);
    expect(steps.filter((s) => s.role === 'llm' && s.status === 'error')).toHaveLength(1);
  });
});
