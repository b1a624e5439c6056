/**
 * GET /api/v1/stream/runs against a real server: a snapshot at once; a new running run appears
 * within a second of its first span being ingested; its duration grows between snapshots; its
 * agent span finishing it shows it completed; clean ends on disconnect and on server stop.
 */
import { postOtlp, spanId, traceId, tracesJson } from '../test-support/otlp';
import { bearer, INGEST_KEY, READ_KEY, startTestServer, TestServer } from '../test-support/server';

let server: TestServer;
let stopped = false;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  if (!stopped) await server.cleanup();
});

interface SseEvent {
  event: string;
  data: string;
  comment?: string;
  at: number;
}

/** A minimal Server-Sent Events reader over fetch. */
class SseClient {
  private buffer = '';
  private queue: SseEvent[] = [];
  private waiting: (() => void) | null = null;
  ended = false;
  readonly abort = new AbortController();
  status = 0;
  contentType = '';

  async open(url: string, key = READ_KEY): Promise<this> {
    const res = await fetch(url, { headers: { ...bearer(key), accept: 'text/event-stream' }, signal: this.abort.signal });
    this.status = res.status;
    this.contentType = res.headers.get('content-type') ?? '';
    if (!res.ok || !res.body) {
      this.buffer = await res.text();
      this.ended = true;
      return this;
    }
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    void (async () => {
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          this.buffer += decoder.decode(value, { stream: true });
          this.parse();
        }
      } catch {
        /* aborted */
      }
      this.ended = true;
      this.waiting?.();
    })();
    return this;
  }

  get body(): string {
    return this.buffer;
  }

  private parse(): void {
    let i: number;
    while ((i = this.buffer.indexOf('\n\n')) >= 0) {
      const block = this.buffer.slice(0, i);
      this.buffer = this.buffer.slice(i + 2);
      const ev: SseEvent = { event: 'message', data: '', at: Date.now() };
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) ev.comment = line.slice(1).trim();
        else if (line.startsWith('data: ')) data.push(line.slice(6));
        else if (line.startsWith('event: ')) ev.event = line.slice(7);
      }
      ev.data = data.join('\n');
      if (data.length || ev.comment !== undefined) this.queue.push(ev);
    }
    this.waiting?.();
  }

  /** The next data event (comments skipped), or throws after timeoutMs. */
  async next(timeoutMs = 3000): Promise<SseEvent> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const i = this.queue.findIndex((e) => e.data !== '');
      if (i >= 0) return this.queue.splice(0, i + 1)[i];
      if (this.ended) throw new Error('stream ended');
      const left = until - Date.now();
      if (left <= 0) throw new Error(`no event within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiting = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.waiting = null;
    }
  }

  /** Snapshots until one satisfies pred. */
  async until(pred: (rows: Record<string, unknown>[]) => boolean, timeoutMs = 3000): Promise<{ rows: Record<string, unknown>[]; at: number }> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const ev = await this.next(Math.max(1, end - Date.now()));
      const r = rowsOf(ev.data);
      if (pred(r)) return { rows: r, at: ev.at };
    }
  }

  close(): void {
    this.abort.abort();
  }
}

function rowsOf(data: string): Record<string, unknown>[] {
  const f = JSON.parse(data);
  const n = f.data.values[0]?.length ?? 0;
  return Array.from({ length: n }, (_, r) => Object.fromEntries(f.schema.fields.map((x: any, i: number) => [x.name, f.data.values[i][r]])));
}

const streamUrl = (q: Record<string, string>) => `${server.url}/api/v1/stream/runs?${new URLSearchParams(q)}`;

async function ingest(spans: Parameters<typeof tracesJson>[0], key = INGEST_KEY): Promise<void> {
  const res = await postOtlp(`${server.url}/v1/traces`, key, JSON.stringify(tracesJson(spans, { 'service.name': 'live-svc' })));
  expect(res.status).toBe(200);
}

describe('GET /api/v1/stream/runs', () => {
  it('a running run appears within a second, its duration ticks, and it completes', async () => {
    const sse = await new SseClient().open(streamUrl({ filters: JSON.stringify({ agent: ['live-agent'] }), limit: '100', range: '3600000' }));
    expect(sse.status).toBe(200);
    expect(sse.contentType).toMatch(/^text\/event-stream/);
    // At once: the current table (nothing yet), as the runs capability's frame.
    const first = await sse.next(1000);
    const frame = JSON.parse(first.data);
    expect(frame.schema.meta.preferredVisualisationType).toBe('table');
    expect(frame.schema.fields.map((f: any) => f.name).slice(0, 5)).toEqual(['Run', 'Agent', 'Status', 'Started', 'Duration']);
    expect(rowsOf(first.data)).toEqual([]);

    // The first span of a new run: an LLM call whose agent span has not ended yet.
    const tid = traceId();
    const root = spanId();
    const t0 = Date.now() - 2000;
    await ingest([{ traceId: tid, spanId: spanId(), parentSpanId: root, name: 'chat gpt-4o', start: t0 + 100, end: t0 + 900, attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'gpt-4o', 'gen_ai.agent.name': 'live-agent' } }]);
    const ingested = Date.now();
    const running = await sse.until((r) => r.some((x) => x.Run === tid));
    expect(running.at - ingested).toBeLessThan(1000);
    const row = running.rows.find((x) => x.Run === tid)!;
    expect(row).toMatchObject({ Agent: 'live-agent', Status: 'running', 'LLM calls': 1 });

    // While it runs, snapshots keep coming (at least once a second) and its duration grows.
    const a = await sse.next(1500);
    const b = await sse.next(1500);
    expect(b.at - a.at).toBeLessThanOrEqual(1500);
    const da = rowsOf(a.data).find((x) => x.Run === tid)!.Duration as number;
    const db = rowsOf(b.data).find((x) => x.Run === tid)!.Duration as number;
    expect(db).toBeGreaterThan(da);

    // The agent span arrives: the run is complete, under its real id.
    await ingest([{ traceId: tid, spanId: root, name: 'invoke_agent live-agent', start: t0, end: Date.now(), attributes: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'live-agent' }, status: { code: 1 } }]);
    const done = await sse.until((r) => r.some((x) => x.Run === `${tid}-${root}`));
    expect(done.rows.map((x) => [x.Run, x.Status])).toEqual([[`${tid}-${root}`, 'completed']]);

    // Another tenant's runs never reach this stream; nothing runs, so nothing more is sent.
    await ingest([{ traceId: traceId(), spanId: spanId(), parentSpanId: spanId(), name: 'chat', start: t0, end: t0 + 10, attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.agent.name': 'live-agent' } }], server.other.ingest);
    await expect(sse.next(1500)).rejects.toThrow(/no event within/);

    sse.close();
    const until = Date.now() + 2000;
    while (server.app.liveRuns.size > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    expect(server.app.liveRuns.size).toBe(0); // the client left: its feed stopped
  });

  it('needs the read scope; bad parameters are a 400 before any stream', async () => {
    const ingestOnly = await new SseClient().open(streamUrl({}), INGEST_KEY);
    expect(ingestOnly.status).toBe(403);
    const bad = await new SseClient().open(streamUrl({ filters: JSON.stringify({ status: ['done'] }) }));
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body).error).toMatch(/^filters.status: unknown value/);
    expect((await new SseClient().open(streamUrl({ limit: '0' }))).status).toBe(400);
    expect((await new SseClient().open(streamUrl({ range: 'soon' }))).status).toBe(400);
  });

  it('ends open streams when the server stops', async () => {
    const sse = await new SseClient().open(streamUrl({}));
    await sse.next(1000);
    const t = Date.now();
    stopped = true;
    await server.cleanup();
    expect(Date.now() - t).toBeLessThan(5000);
    const until = Date.now() + 2000;
    while (!sse.ended && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    expect(sse.ended).toBe(true);
  });
});
