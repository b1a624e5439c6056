/**
 * Test support: a local OpenAI-compatible chat completions endpoint, so that the real `openai`
 * client (and the instrumentations that patch it) can be driven without a network. It plays a
 * script of replies, one per request: a tool call, a text answer, an HTTP error or a stall.
 * Every reply carries `usage` as OpenAI reports it, including cached and reasoning tokens.
 */
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';

export interface StubUsage {
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
  reasoningTokens: number;
}

export type StubReply =
  | { kind: 'tool_call'; tool: string; arguments: Record<string, unknown>; usage: StubUsage }
  | { kind: 'text'; text: string; usage: StubUsage }
  /** An OpenAI-style error body with this HTTP status. */
  | { kind: 'error'; status: number; message: string }
  /** No answer for this long (the client's timeout should fire first). */
  | { kind: 'stall'; ms: number };

export interface OpenAIStub {
  /** Base URL for the client, ending in /v1. */
  baseURL: string;
  /** Parsed request bodies, in order. */
  requests: Record<string, unknown>[];
  close(): Promise<void>;
}

/** The model the stub answers as: a dated snapshot of whatever was requested. */
export const RESPONSE_MODEL_SUFFIX = '-2024-07-18';

function usageBody(u: StubUsage) {
  return {
    prompt_tokens: u.promptTokens,
    completion_tokens: u.completionTokens,
    total_tokens: u.promptTokens + u.completionTokens,
    prompt_tokens_details: { cached_tokens: u.cachedTokens, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: u.reasoningTokens, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  };
}

function message(reply: Extract<StubReply, { kind: 'tool_call' | 'text' }>, n: number) {
  if (reply.kind === 'text') return { role: 'assistant', content: reply.text, refusal: null, annotations: [] };
  return {
    role: 'assistant',
    content: null,
    refusal: null,
    annotations: [],
    tool_calls: [{ id: `call_stub_${n}`, type: 'function', function: { name: reply.tool, arguments: JSON.stringify(reply.arguments) } }],
  };
}

function completion(reply: Extract<StubReply, { kind: 'tool_call' | 'text' }>, model: string, n: number) {
  return {
    id: `chatcmpl-stub${n}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: model + RESPONSE_MODEL_SUFFIX,
    system_fingerprint: 'fp_stub',
    service_tier: 'default',
    choices: [{ index: 0, message: message(reply, n), logprobs: null, finish_reason: reply.kind === 'text' ? 'stop' : 'tool_calls' }],
    usage: usageBody(reply.usage),
  };
}

/** The same answer as server-sent events, usage in a last chunk when stream_options.include_usage asks for it. */
function streamChunks(reply: Extract<StubReply, { kind: 'tool_call' | 'text' }>, model: string, n: number, includeUsage: boolean): unknown[] {
  const base = { id: `chatcmpl-stub${n}`, object: 'chat.completion.chunk', created: Math.floor(Date.now() / 1000), model: model + RESPONSE_MODEL_SUFFIX, system_fingerprint: 'fp_stub' };
  const chunk = (delta: unknown, finish: string | null) => ({ ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }], ...(includeUsage ? { usage: null } : {}) });
  const out: unknown[] = [chunk({ role: 'assistant', content: reply.kind === 'text' ? '' : null, refusal: null }, null)];
  if (reply.kind === 'text') {
    for (const piece of reply.text.match(/.{1,8}/gs) ?? []) out.push(chunk({ content: piece }, null));
    out.push(chunk({}, 'stop'));
  } else {
    out.push(chunk({ tool_calls: [{ index: 0, id: `call_stub_${n}`, type: 'function', function: { name: reply.tool, arguments: '' } }] }, null));
    out.push(chunk({ tool_calls: [{ index: 0, function: { arguments: JSON.stringify(reply.arguments) } }] }, null));
    out.push(chunk({}, 'tool_calls'));
  }
  if (includeUsage) out.push({ ...base, choices: [], usage: usageBody(reply.usage) });
  return out;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'x-request-id': 'req_stub' });
  res.end(JSON.stringify(body));
}

/** Starts the stub on 127.0.0.1 and a free port; each chat request takes the next reply of the script. */
export async function startOpenAIStub(script: StubReply[]): Promise<OpenAIStub> {
  const requests: Record<string, unknown>[] = [];
  const stalled = new Set<ServerResponse>();
  const server: Server = createServer((req, res) => {
    void (async () => {
      const raw = await readBody(req);
      if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
        return sendJson(res, 404, { error: { message: `stub: no route ${req.method} ${req.url}`, type: 'invalid_request_error', code: null, param: null } });
      }
      const body = JSON.parse(raw) as Record<string, unknown>;
      requests.push(body);
      const n = requests.length;
      const reply = script[n - 1];
      if (!reply) {
        return sendJson(res, 500, { error: { message: `stub: no reply scripted for request ${n}`, type: 'server_error', code: null, param: null } });
      }
      if (reply.kind === 'error') {
        return sendJson(res, reply.status, { error: { message: reply.message, type: reply.status >= 500 ? 'server_error' : 'invalid_request_error', code: null, param: null } });
      }
      if (reply.kind === 'stall') {
        stalled.add(res);
        const t = setTimeout(() => {
          stalled.delete(res);
          sendJson(res, 504, { error: { message: 'stub: stalled', type: 'server_error', code: null, param: null } });
        }, reply.ms);
        res.on('close', () => clearTimeout(t));
        return;
      }
      const model = String(body.model ?? 'gpt-4o-mini');
      if (body.stream === true) {
        const includeUsage = (body.stream_options as { include_usage?: boolean } | undefined)?.include_usage === true;
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        for (const c of streamChunks(reply, model, n, includeUsage)) res.write(`data: ${JSON.stringify(c)}\n\n`);
        res.end('data: [DONE]\n\n');
        return;
      }
      sendJson(res, 200, completion(reply, model, n));
    })().catch((e: Error) => sendJson(res, 500, { error: { message: `stub: ${e.message}`, type: 'server_error' } }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    async close() {
      for (const res of stalled) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
