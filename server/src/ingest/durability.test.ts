/**
 * A 200 answer means the data survives kill -9: the server runs as its own process, is killed
 * with SIGKILL right after its last acknowledgement, restarted on the same file, and every
 * acknowledged span is there.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postOtlp, SpanSpec, spanId, traceId, tracesProtobuf } from '../test-support/otlp';

const INGEST = 'durability-ingest-key-0123456789';
const READ = 'durability-read-key-0123456789ab';

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function startProcess(dir: string, port: number): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', join(__dirname, '..', 'main.ts')], {
    cwd: join(__dirname, '..', '..'),
    env: {
      ...process.env,
      AGENT_INSIGHTS_HOST: '127.0.0.1',
      AGENT_INSIGHTS_PORT: String(port),
      AGENT_INSIGHTS_DATA: join(dir, 'durable.duckdb'),
      AGENT_INSIGHTS_INGEST_KEY: INGEST,
      AGENT_INSIGHTS_READ_KEY: READ,
      AGENT_INSIGHTS_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

async function waitReady(url: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`${url}/readyz`)).ok) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('server did not become ready in 30 s');
}

function batch(tid: string, n: number): SpanSpec[] {
  const root = spanId();
  const now = Date.now();
  const spans: SpanSpec[] = [{ traceId: tid, spanId: root, name: 'invoke_agent durable', start: now - 1000, end: now, attributes: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'durable' } }];
  for (let i = 1; i < n; i++) {
    spans.push({ traceId: tid, spanId: spanId(), parentSpanId: root, name: 'execute_tool t', start: now - 900, end: now - 800, attributes: { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': `tool-${i % 7}`, 'gen_ai.tool.call.arguments': 'x'.repeat(200) } });
  }
  return spans;
}

it('every acknowledged span survives SIGKILL right after the acknowledgement', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'agent-insights-durability-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let child = startProcess(dir, port);
  try {
    await waitReady(url);
    const acked = new Map<string, number>();
    const spansPerRequest = 100;
    // 40 requests from 8 concurrent clients; the server is killed the moment the last answer is in.
    const requests = Array.from({ length: 40 }, () => traceId());
    const bodies = new Map(requests.map((tid) => [tid, tracesProtobuf(batch(tid, spansPerRequest))]));
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < requests.length) {
          const tid = requests[next++];
          const res = await postOtlp(`${url}/v1/traces`, INGEST, bodies.get(tid) as Buffer, 'application/x-protobuf');
          if (res.status === 200) acked.set(tid, spansPerRequest);
        }
      }),
    );
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(acked.size).toBe(40);

    child = startProcess(dir, port);
    await waitReady(url);
    const stats = (await (await fetch(`${url}/api/v1/stats`, { headers: { authorization: `Bearer ${READ}` } })).json()) as { spans: number; runs: number };
    expect(stats.spans).toBe(40 * spansPerRequest);
    expect(stats.runs).toBe(40);
    const runs = ((await (await fetch(`${url}/api/v1/runs?limit=100`, { headers: { authorization: `Bearer ${READ}` } })).json()) as { runs: { traceId: string; toolCalls: number }[] }).runs;
    for (const tid of acked.keys()) expect(runs.find((r) => r.traceId === tid)?.toolCalls).toBe(spansPerRequest - 1);

    // After the restart, a retry of an acknowledged batch is still recognised as a duplicate.
    const again = await postOtlp(`${url}/v1/traces`, INGEST, bodies.get(requests[0]) as Buffer, 'application/x-protobuf');
    expect(again.status).toBe(200);
    const after = (await (await fetch(`${url}/api/v1/stats`, { headers: { authorization: `Bearer ${READ}` } })).json()) as { spans: number };
    expect(after.spans).toBe(40 * spansPerRequest);
  } finally {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
