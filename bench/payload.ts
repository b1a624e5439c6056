/**
 * Benchmark payloads: realistic agent traces (one invoke_agent span, chat spans with gen_ai usage
 * and message content, execute_tool spans), encoded once with the OpenTelemetry JS OTLP encoders
 * (@opentelemetry/otlp-transformer, the code the SDK exporters use) into request templates.
 *
 * Every request must carry fresh trace and span ids, or the server would deduplicate it. Encoding
 * 512 spans per request on the fly would make the client the bottleneck, so each template's ids
 * contain a 4-byte marker at a fixed place (trace id bytes 4..8, span id bytes 0..4). After
 * encoding, the marker's positions in the body are recorded; a request is a copy of a template with
 * a new sequence number written over every marker: a memcpy and a few thousand 4-byte writes.
 *
 *   trace id = run nonce (4) | sequence (4) | random (8)   -> unique per request and trace
 *   span id  = sequence (4)  | random (4)                  -> unique per request and span
 */
import { randomBytes } from 'node:crypto';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { SpanKind, SpanStatusCode, type Attributes, type HrTime, type SpanContext } from '@opentelemetry/api';

export type Format = 'protobuf' | 'json';

export interface Template {
  format: Format;
  body: Buffer;
  /** Byte offsets of every marker (4 bytes in protobuf, 8 hex characters in JSON). */
  offsets: Uint32Array;
  spans: number;
  events: number;
  traces: number;
}

// ---------- deterministic randomness (the content, not the ids) ----------

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Rng {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  float(): number {
    return this.next();
  }
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  pick<T>(list: readonly T[]): T {
    return list[Math.floor(this.next() * list.length)];
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

const WORDS = (
  'the customer order invoice refund shipping account password reset billing plan upgrade ' +
  'please could you check whether status of my request was processed yesterday today ' +
  'according to our policy we can offer a replacement or store credit within thirty days ' +
  'I have looked up the tracking number and the parcel is currently in transit at the depot ' +
  'summary analysis result table query database latency error timeout retry cache index ' +
  'deployment service cluster region configuration feature flag experiment metric dashboard ' +
  'thanks for your patience let me know if there is anything else I can help with regarding this ' +
  'escalate ticket priority agent handoff knowledge base article section paragraph source citation ' +
  'über café naïve résumé 東京 データ'
).split(/\s+/);

function prose(rng: Rng, bytes: number): string {
  const parts: string[] = [];
  let len = 0;
  let sentence = 0;
  while (len < bytes) {
    let w = rng.pick(WORDS);
    if (sentence === 0) w = w[0].toUpperCase() + w.slice(1);
    sentence++;
    if (sentence > rng.int(6, 16)) {
      w += '.';
      sentence = 0;
    }
    parts.push(w);
    len += w.length + 1;
  }
  return parts.join(' ');
}

/** An id of base-62 characters: never looks like the hex markers. */
function token(rng: Rng, n: number): string {
  const A = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let s = '';
  for (let i = 0; i < n; i++) s += A[rng.int(0, A.length - 1)];
  return s;
}

const AGENTS = ['support-triage', 'billing-assistant', 'code-reviewer', 'research-agent', 'travel-planner', 'ops-copilot'];
const MODELS = [
  { provider: 'openai', model: 'gpt-4o-2024-08-06', host: 'api.openai.com' },
  { provider: 'openai', model: 'gpt-4.1-mini', host: 'api.openai.com' },
  { provider: 'anthropic', model: 'claude-sonnet-4-20250514', host: 'api.anthropic.com' },
  { provider: 'gcp.gemini', model: 'gemini-2.5-flash', host: 'generativelanguage.googleapis.com' },
];
const TOOLS = [
  { name: 'search_knowledge_base', description: 'Full-text search over help-centre articles' },
  { name: 'get_order', description: 'Looks up an order by id' },
  { name: 'issue_refund', description: 'Issues a refund for an order line' },
  { name: 'run_sql', description: 'Runs a read-only SQL query against the analytics replica' },
  { name: 'fetch_url', description: 'Fetches a web page and returns its text' },
  { name: 'send_email', description: 'Sends an email to the customer' },
];

// ---------- spans ----------

function hr(us: number): HrTime {
  return [Math.floor(us / 1e6), Math.round((us % 1e6) * 1000)];
}

interface SpanSpec {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: SpanKind;
  startUs: number;
  endUs: number;
  attributes: Attributes;
  error?: { type: string; message: string };
}

function readable(s: SpanSpec, resource: ReadableSpan['resource'], scope: ReadableSpan['instrumentationScope']): ReadableSpan {
  const ctx: SpanContext = { traceId: s.traceId, spanId: s.spanId, traceFlags: 1 };
  const events: ReadableSpan['events'] = s.error
    ? [
        {
          name: 'exception',
          time: hr(s.endUs - 10),
          attributes: {
            'exception.type': s.error.type,
            'exception.message': s.error.message,
            'exception.stacktrace': `${s.error.type}: ${s.error.message}\n    at callTool (/app/dist/tools/runner.js:88:13)\n    at async Agent.step (/app/dist/agent.js:214:22)`,
          },
        },
      ]
    : [];
  return {
    name: s.name,
    kind: s.kind,
    spanContext: () => ctx,
    parentSpanContext: s.parentSpanId ? { traceId: s.traceId, spanId: s.parentSpanId, traceFlags: 1 } : undefined,
    startTime: hr(s.startUs),
    endTime: hr(s.endUs),
    duration: hr(s.endUs - s.startUs),
    status: s.error ? { code: SpanStatusCode.ERROR, message: s.error.message } : { code: SpanStatusCode.UNSET },
    attributes: s.attributes,
    links: [],
    events,
    ended: true,
    resource,
    instrumentationScope: scope,
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  };
}

function messages(role: string, text: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify([{ role, parts: [{ type: 'text', content: text }], ...extra }]);
}

interface TraceIds {
  traceId: string;
  newSpanId: () => string;
}

/** One agent run of `size` spans: invoke_agent, then chat and execute_tool steps. */
function agentTrace(rng: Rng, ids: TraceIds, size: number, nowUs: number): { specs: SpanSpec[]; events: number } {
  const agent = rng.pick(AGENTS);
  const llm = rng.pick(MODELS);
  const conversation = `conv_${token(rng, 16)}`;
  const user = `user_${rng.int(1, 5000)}`;
  const rootId = ids.newSpanId();
  const start = nowUs - rng.int(60, 600) * 1e6;
  const common: Attributes = {
    'gen_ai.agent.name': agent,
    'gen_ai.agent.id': `agent_${agent}`,
    'gen_ai.conversation.id': conversation,
  };

  const specs: SpanSpec[] = [];
  let t = start + rng.int(1, 20) * 1000;
  let prev = 'tool';
  let inTokens = 0;
  let outTokens = 0;
  let events = 0;
  for (let i = 0; i < size - 1; i++) {
    const kind = i === size - 2 ? 'chat' : prev === 'chat' ? 'tool' : rng.chance(0.5) ? 'tool' : 'chat';
    prev = kind;
    const spanId = ids.newSpanId();
    if (kind === 'chat') {
      const dur = rng.int(300, 4000) * 1000;
      const input = rng.int(400, 40000);
      const output = rng.int(20, 1500);
      const cached = rng.chance(0.6) ? rng.int(0, input) : 0;
      inTokens += input;
      outTokens += output;
      const toolCall = i !== size - 2;
      const attributes: Attributes = {
        ...common,
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': llm.provider,
        'gen_ai.request.model': llm.model,
        'gen_ai.response.model': llm.model,
        'gen_ai.response.id': `chatcmpl-${token(rng, 24)}`,
        'gen_ai.request.temperature': rng.pick([0, 0.2, 0.7, 1]),
        'gen_ai.request.top_p': 0.95,
        'gen_ai.request.max_tokens': rng.pick([1024, 2048, 4096]),
        'gen_ai.response.finish_reasons': [toolCall ? 'tool_calls' : 'stop'],
        'gen_ai.usage.input_tokens': input,
        'gen_ai.usage.output_tokens': output,
        'gen_ai.usage.cache_read.input_tokens': cached,
        'gen_ai.output.type': 'text',
        'server.address': llm.host,
        'server.port': 443,
        'user.id': user,
        'gen_ai.input.messages': messages('user', prose(rng, rng.int(200, 3000))),
        'gen_ai.output.messages': toolCall
          ? JSON.stringify([
              {
                role: 'assistant',
                parts: [{ type: 'tool_call', id: `call_${token(rng, 20)}`, name: rng.pick(TOOLS).name, arguments: { query: prose(rng, 60) } }],
                finish_reason: 'tool_calls',
              },
            ])
          : messages('assistant', prose(rng, rng.int(200, 2500)), { finish_reason: 'stop' }),
      };
      if (i === 0) attributes['gen_ai.system_instructions'] = JSON.stringify([{ type: 'text', content: `You are ${agent}. ${prose(rng, 400)}` }]);
      specs.push({ traceId: ids.traceId, spanId, parentSpanId: rootId, name: `chat ${llm.model}`, kind: SpanKind.CLIENT, startUs: t, endUs: t + dur, attributes });
      t += dur + rng.int(1, 5) * 1000;
    } else {
      const tool = rng.pick(TOOLS);
      const dur = rng.int(5, 900) * 1000;
      const failed = rng.chance(0.04);
      const attributes: Attributes = {
        ...common,
        'gen_ai.operation.name': 'execute_tool',
        'gen_ai.tool.name': tool.name,
        'gen_ai.tool.type': 'function',
        'gen_ai.tool.description': tool.description,
        'gen_ai.tool.call.id': `call_${token(rng, 20)}`,
        'gen_ai.tool.call.arguments': JSON.stringify({ query: prose(rng, rng.int(40, 300)), limit: rng.int(1, 20) }),
        'tool.attempt': rng.int(1, 3),
        'tool.cache_hit': rng.chance(0.3),
      };
      if (failed) attributes['error.type'] = 'TimeoutError';
      else {
        let result = prose(rng, rng.int(200, 4000));
        // Now and then a secret in a tool result: the redaction stage must find it.
        if (rng.chance(0.02)) result += ` config: api_key=${token(rng, 32)} password=${token(rng, 12)}`;
        attributes['gen_ai.tool.call.result'] = JSON.stringify({ ok: true, text: result });
      }
      specs.push({
        traceId: ids.traceId,
        spanId,
        parentSpanId: rootId,
        name: `execute_tool ${tool.name}`,
        kind: SpanKind.INTERNAL,
        startUs: t,
        endUs: t + dur,
        attributes,
        error: failed ? { type: 'TimeoutError', message: `${tool.name} timed out after ${dur / 1000} ms` } : undefined,
      });
      if (failed) events++;
      t += dur + rng.int(1, 5) * 1000;
    }
  }
  const root: SpanSpec = {
    traceId: ids.traceId,
    spanId: rootId,
    parentSpanId: '',
    name: `invoke_agent ${agent}`,
    kind: SpanKind.INTERNAL,
    startUs: start,
    endUs: t + rng.int(1, 10) * 1000,
    attributes: {
      ...common,
      'gen_ai.operation.name': 'invoke_agent',
      'gen_ai.agent.description': `Handles ${agent.replace('-', ' ')} requests end to end`,
      'gen_ai.agent.version': `1.${rng.int(0, 9)}.${rng.int(0, 30)}`,
      'gen_ai.provider.name': llm.provider,
      'gen_ai.request.model': llm.model,
      'gen_ai.usage.input_tokens': inTokens,
      'gen_ai.usage.output_tokens': outTokens,
      'user.id': user,
      'session.id': `sess_${token(rng, 12)}`,
      'app.request_id': `req_${token(rng, 22)}`,
      'app.tenant_tier': rng.pick(['free', 'team', 'enterprise']),
      'app.region': rng.pick(['eu-west-1', 'us-east-1', 'ap-southeast-2']),
      'app.feature_flags': ['new-planner', 'tool-cache'],
      'gen_ai.input.messages': messages('user', prose(rng, rng.int(100, 1200))),
      'gen_ai.output.messages': messages('assistant', prose(rng, rng.int(200, 2000)), { finish_reason: 'stop' }),
    },
  };
  // SDK exporters send a span when it ends: the children before their agent span.
  specs.push(root);
  return { specs, events };
}

// ---------- templates ----------

function hexOf(b: Buffer): string {
  return b.toString('hex');
}

/**
 * A request of `spans` spans in traces of 10 to 20 spans, both encodings, with marker positions.
 * `runNonce` (4 bytes) starts every trace id; `seed` makes the content differ between templates.
 */
export function buildTemplates(seed: number, spans: number, runNonce: Buffer, formats: Format[]): Template[] {
  // A marker can, very rarely, also occur by chance elsewhere in a body: then try another one.
  for (let attempt = 0; ; attempt++) {
    try {
      return buildOnce(seed, spans, runNonce, formats);
    } catch (e) {
      if (attempt >= 4) throw e;
    }
  }
}

function buildOnce(seed: number, spans: number, runNonce: Buffer, formats: Format[]): Template[] {
  const rng = new Rng(seed);
  let marker = randomBytes(4);
  marker[0] |= 0x80; // not ASCII: cannot occur in the (ASCII-heavy) protobuf strings by accident
  const markerHex = hexOf(marker);

  const seenSpan = new Set<string>();
  const newSpanId = (): string => {
    for (;;) {
      const id = hexOf(Buffer.concat([marker, randomBytes(4)]));
      if (!seenSpan.has(id)) {
        seenSpan.add(id);
        return id;
      }
    }
  };
  const sizes: number[] = [];
  let left = spans;
  while (left > 0) {
    let n = rng.int(10, 20);
    if (left - n < 10) n = left <= 20 ? left : left - 10;
    sizes.push(n);
    left -= n;
  }
  const service = rng.pick(AGENTS);
  const resource = resourceFromAttributes({
    'service.name': `${service}-svc`,
    'service.version': `2.${rng.int(0, 9)}.${rng.int(0, 99)}`,
    'service.instance.id': token(rng, 12),
    'deployment.environment.name': 'bench',
    'telemetry.sdk.name': 'opentelemetry',
    'telemetry.sdk.language': 'nodejs',
    'telemetry.sdk.version': '2.2.0',
    'host.name': `worker-${rng.int(1, 40)}`,
    'cloud.region': 'eu-west-1',
  });
  const scope = { name: '@example/agent-framework', version: '0.9.4' };
  const nowUs = Date.now() * 1000;
  const readables: ReadableSpan[] = [];
  let events = 0;
  for (const size of sizes) {
    const traceId = hexOf(Buffer.concat([runNonce, marker, randomBytes(8)]));
    const t = agentTrace(rng, { traceId, newSpanId }, size, nowUs);
    events += t.events;
    for (const s of t.specs) readables.push(readable(s, resource, scope));
  }
  // trace id, span id, and a parent id on every span but the agent span
  const expected = 2 * spans + (spans - sizes.length);

  return formats.map((format) => {
    const body = Buffer.from(format === 'protobuf' ? (ProtobufTraceSerializer.serializeRequest(readables) as Uint8Array) : (JsonTraceSerializer.serializeRequest(readables) as Uint8Array));
    const needle = format === 'protobuf' ? marker : Buffer.from(markerHex, 'latin1');
    const offsets: number[] = [];
    for (let i = body.indexOf(needle); i !== -1; i = body.indexOf(needle, i + 1)) offsets.push(i);
    if (offsets.length !== expected) {
      throw new Error(`template ${seed} (${format}): found ${offsets.length} id markers, expected ${expected}; a chance collision`);
    }
    return { format, body, offsets: Uint32Array.from(offsets), spans, events, traces: sizes.length };
  });
}

const HEX = '0123456789abcdef';

/** A copy of the template with `seq` written over every id marker: fresh, unique ids. */
export function instantiate(t: Template, seq: number): Buffer {
  const out = Buffer.allocUnsafe(t.body.length);
  t.body.copy(out);
  if (t.format === 'protobuf') {
    for (const o of t.offsets) out.writeUInt32BE(seq >>> 0, o);
  } else {
    const hex = Buffer.alloc(8);
    for (let i = 0; i < 8; i++) hex[i] = HEX.charCodeAt((seq >>> (28 - 4 * i)) & 15);
    for (const o of t.offsets) hex.copy(out, o);
  }
  return out;
}
