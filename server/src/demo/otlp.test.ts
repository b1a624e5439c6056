/**
 * End to end: the generator's entry point (main.ts), run as its own process, against a local
 * OTLP/HTTP receiver. It runs outside Jest's module sandbox because the OTLP exporters load
 * node:http through a dynamic import(), which Jest's VM does not support without
 * --experimental-vm-modules.
 */
import { spawn } from 'node:child_process';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

async function receiver(): Promise<{ server: Server; url: string; received: Received[] }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) });
      const json = (req.headers['content-type'] ?? '').includes('json');
      res.writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' });
      res.end(json ? '{}' : undefined);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received };
}

function runDemo(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const tsx = require.resolve('tsx/cli');
  const child = spawn(process.execPath, [tsx, path.join(__dirname, 'main.ts')], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, output })));
}

type JsonSpan = { traceId: string; spanId: string; name: string; attributes: { key: string; value: Record<string, unknown> }[] };

describe.each([
  ['protobuf', 'application/x-protobuf'],
  ['json', 'application/json'],
])('demo over OTLP/HTTP %s', (protocol, contentType) => {
  test('backfill and live traffic reach /v1/traces and /v1/logs with the configured headers', async () => {
    const { server, url, received } = await receiver();
    try {
      const { code, output } = await runDemo({
        OTEL_EXPORTER_OTLP_ENDPOINT: url,
        OTEL_EXPORTER_OTLP_HEADERS: 'Authorization=Bearer%20demo-key',
        DEMO_PROTOCOL: protocol,
        DEMO_SEED: 'e2e',
        DEMO_BACKFILL_HOURS: '0.25',
        DEMO_BACKFILL_RUNS_PER_MINUTE: '4',
        DEMO_RUNS_PER_MINUTE: '300',
        DEMO_DURATION_SECONDS: '2',
        DEMO_DRAIN_SECONDS: '0',
        DEMO_CONVENTIONS: 'otel-genai-legacy,openinference',
      });
      expect({ code, output }).toEqual({ code: 0, output: expect.stringContaining('[demo] stopped') });

      const traces = received.filter((x) => x.path === '/v1/traces');
      const logs = received.filter((x) => x.path === '/v1/logs');
      expect(traces.length).toBeGreaterThan(0);
      expect(logs.length).toBeGreaterThan(0); // the legacy convention sends content as log records
      for (const x of [...traces, ...logs]) {
        expect(x.headers['content-type']).toContain(contentType);
        expect(x.headers.authorization).toBe('Bearer demo-key');
        expect(x.body.length).toBeGreaterThan(0);
      }
      if (protocol === 'json') {
        const spans: JsonSpan[] = traces
          .flatMap((x) => JSON.parse(x.body.toString()).resourceSpans)
          .flatMap((rs: { scopeSpans: { spans: JsonSpan[] }[] }) => rs.scopeSpans.flatMap((ss) => ss.spans));
        const kinds = new Set(spans.flatMap((s) => s.attributes.filter((a) => a.key === 'openinference.span.kind').map((a) => a.value.stringValue)));
        expect(kinds.has('AGENT') && kinds.has('LLM') && kinds.has('TOOL')).toBe(true);
        expect(spans.some((s) => s.name.startsWith('invoke_agent '))).toBe(true);
        expect(spans.every((s) => /^[0-9a-f]{32}$/i.test(s.traceId))).toBe(true);
      }
    } finally {
      server.close();
    }
  });
});
