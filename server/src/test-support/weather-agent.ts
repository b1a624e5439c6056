/**
 * Test support: starting the instrumented weather agent (instrumented-agent.ts) as a process of
 * its own, and what it and the tests that read its runs back agree on. Nothing here loads an
 * instrumentation: that happens only in the child process.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

export type Instrumentation = 'openinference' | 'openllmetry' | 'vercel';

export const AGENT = {
  model: 'gpt-4o-mini',
  question: 'What is the weather in Paris right now?',
  system: 'You are a weather assistant. Use the tools.',
  toolName: 'get_weather',
  /** Agent names as each convention's users set them. */
  names: { openinference: 'weather-agent', openllmetry: 'support-agent', vercel: 'my-agent' } as Record<Instrumentation, string>,
  openInferenceSessionId: 'conv-oi-1',
} as const;

export const WEATHER = { city: 'Paris', temperatureC: 18, conditions: 'sunny' };

export interface AgentRunOptions {
  instrumentation: Instrumentation;
  /** The Agent Insights server's base URL; spans go to its /v1/traces. */
  serverUrl: string;
  ingestKey: string;
  wire: 'protobuf' | 'json';
  /** The OpenAI-compatible stub's base URL, ending in /v1. */
  openAIBaseURL: string;
  serviceName: string;
  /** The OpenAI client's timeout per request. */
  timeoutMs?: number;
}

export type AgentResult = { ok: true; answer: string } | { ok: false; error: string; errorName: string };

/** Runs the agent to its end (spans flushed) and returns what it printed as its RESULT. */
export function runInstrumentedAgent(o: AgentRunOptions): Promise<AgentResult> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    AGENT_INSTRUMENTATION: o.instrumentation,
    AGENT_TRACES_URL: `${o.serverUrl}/v1/traces`,
    AGENT_INGEST_KEY: o.ingestKey,
    AGENT_WIRE: o.wire,
    AGENT_OPENAI_BASE_URL: o.openAIBaseURL,
    AGENT_SERVICE_NAME: o.serviceName,
    ...(o.timeoutMs ? { AGENT_OPENAI_TIMEOUT_MS: String(o.timeoutMs) } : {}),
  };
  const child = spawn(process.execPath, [require.resolve('tsx/cli'), join(__dirname, 'instrumented-agent.ts')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      const line = stdout.split('\n').reverse().find((l) => l.startsWith('RESULT '));
      if (code !== 0 || !line) return reject(new Error(`instrumented agent (${o.instrumentation}) exited with ${code}:\n${stdout}\n${stderr}`));
      resolve(JSON.parse(line.slice('RESULT '.length)) as AgentResult);
    });
  });
}
