/**
 * Real clients end to end: the OpenTelemetry JS SDK with its OTLP protobuf and JSON exporters
 * sends runs of every convention (OTel GenAI new and old names, OpenInference, OpenLLMetry, the
 * Vercel AI SDK), voice sessions and a non-GenAI trace; the server's runs and sessions must match
 * what the client says it sent, number for number.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { getJson, INGEST_KEY, READ_KEY, startTestServer, TestServer } from '../test-support/server';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.cleanup());

function runClient(protocol: string): Promise<any> {
  const child = spawn(process.execPath, [require.resolve('tsx/cli'), join(__dirname, '..', 'test-support', 'sdk-client.ts'), server.url, INGEST_KEY, protocol, `sdk-${protocol}`], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) =>
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`client exited ${code}: ${err}`)))),
  );
}

describe.each(['protobuf', 'json'])('OpenTelemetry JS SDK, OTLP/HTTP %s exporter', (protocol) => {
  let sent: any;
  let runs: any[];
  let sessions: any[];

  beforeAll(async () => {
    sent = await runClient(protocol);
    runs = (await getJson<{ runs: any[] }>(`${server.url}/api/v1/runs?limit=10000`, READ_KEY)).runs;
    sessions = (await getJson<{ sessions: any[] }>(`${server.url}/api/v1/sessions?limit=10000`, READ_KEY)).sessions;
  }, 120_000);

  it('sent 20 runs, 2 voice sessions and a trace without GenAI', () => {
    expect(sent.runs).toHaveLength(20);
    expect(sent.sessions).toHaveLength(2);
  });

  it('every run is one run on the server with the agent, status, counts and tokens the client sent', () => {
    // Every difference of every run, so that one failure shows them all.
    const differences: string[] = [];
    for (const r of sent.runs) {
      const label = `${r.convention} ${r.expectedStatus}${r.agentSpanEnds ? '' : ' (agent span never ends)'}`;
      const mine = runs.filter((x) => x.traceId === r.traceId);
      if (mine.length !== 1) {
        differences.push(`${label}: ${mine.length} runs`);
        continue;
      }
      // While its agent span is missing, a run is known only through its children: the agent name
      // where the convention stamps it on them, else the service; the rest comes with the agent span.
      const provisional = !r.agentSpanEnds;
      const stampsAgentOnChildren = ['openinference', 'openllmetry'].includes(r.convention);
      const expected = {
        agent: provisional && !stampsAgentOnChildren ? r.service : r.agent,
        status: r.expectedStatus,
        toolCalls: r.toolSpans,
        llmCalls: r.llmSpans,
        inputTokens: r.tokens.input,
        outputTokens: r.tokens.output,
        cachedTokens: r.tokens.cacheRead,
        reasoningTokens: r.tokens.reasoning,
        environment: r.environment,
        ...(provisional ? {} : { conversationId: r.conversationId, userId: r.userId }),
        ...(r.agentSpanEnds && r.rootSpanId ? { runId: `${r.traceId}-${r.rootSpanId}` } : {}),
        ...(r.reportedCostUsd !== undefined ? { cost: r.reportedCostUsd } : {}),
      };
      for (const [k, v] of Object.entries(expected)) {
        const got = mine[0][k];
        const same = typeof v === 'number' && k === 'cost' ? Math.abs(got - v) < 1e-8 : got === v;
        if (!same) differences.push(`${label}: ${k} ${JSON.stringify(got)}, expected ${JSON.stringify(v)}`);
      }
    }
    expect(differences).toEqual([]);
  });

  it('voice sessions have their turns, interruptions and end reason', () => {
    for (const s of sent.sessions) {
      const got = sessions.filter((x) => x.traceId === s.traceId);
      expect(got).toHaveLength(1);
      expect({ framework: s.framework, agent: got[0].agent, turns: got[0].turns, interruptions: got[0].interruptions, status: got[0].status, channel: got[0].channel }).toEqual({
        framework: s.framework,
        agent: s.agent,
        turns: s.turns,
        interruptions: s.interruptions,
        status: s.expectedStatus,
        channel: 'voice',
      });
      expect(got[0].avgLatencyMs).toBeCloseTo(s.meanResponseLatencyMs, 0);
    }
  });

  it('a trace with no GenAI span is stored but is not a run', () => {
    expect(runs.filter((x) => x.traceId === sent.noise.traceId)).toHaveLength(0);
  });
});
