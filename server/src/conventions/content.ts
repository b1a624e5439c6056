/**
 * Content of a step (prompt, completion, tool input and output, reasoning, system instructions)
 * from whichever attributes its convention uses: JSON strings, structured values, or OpenInference's
 * and OpenLLMetry's flattened `....N.message.role` keys, which are reassembled into one list.
 * Returns the raw text and the attribute keys it consumed, which are then not kept twice.
 */
import { Attributes, AttrValue } from '../ingest/otlp/types';
import { text } from './attributes';

export interface ExtractedContent {
  input: string | null;
  output: string | null;
  reasoning: string | null;
  system: string | null;
  consumed: Set<string>;
}

const INPUT_KEYS = ['gen_ai.input.messages', 'gen_ai.tool.call.arguments', 'input.value', 'traceloop.entity.input', 'ai.toolCall.args', 'ai.prompt.messages', 'ai.prompt'];
const OUTPUT_KEYS = ['gen_ai.output.messages', 'gen_ai.tool.call.result', 'output.value', 'traceloop.entity.output', 'ai.toolCall.result', 'ai.response.text', 'ai.response.object', 'ai.response.toolCalls'];
const REASONING_KEYS = ['ai.response.reasoning', 'gen_ai.reasoning.content'];
const SYSTEM_KEYS = ['gen_ai.system_instructions'];
const FLATTENED = [
  { prefix: 'llm.input_messages.', side: 'input' as const },
  { prefix: 'llm.output_messages.', side: 'output' as const },
  { prefix: 'gen_ai.prompt.', side: 'input' as const },
  { prefix: 'gen_ai.completion.', side: 'output' as const },
];

/** Puts `a.0.message.role = x` style keys back together as [{message: {role: x}}] style lists. */
function unflatten(entries: [string, AttrValue][]): unknown[] {
  const root: Record<string, unknown> = {};
  for (const [path, value] of entries) {
    const parts = path.split('.');
    let node: Record<string, unknown> = root;
    for (let i = 0; i < parts.length - 1; i++) {
      const next = node[parts[i]];
      if (typeof next !== 'object' || next === null) node[parts[i]] = {};
      node = node[parts[i]] as Record<string, unknown>;
    }
    node[parts[parts.length - 1]] = value;
  }
  return Object.keys(root)
    .sort((x, y) => Number(x) - Number(y))
    .map((k) => {
      const v = root[k] as Record<string, unknown>;
      return typeof v === 'object' && v !== null && 'message' in v ? v.message : v;
    });
}

/** Reasoning parts inside structured messages: {type: 'reasoning', content|text} or OpenInference contents. */
function reasoningIn(messages: unknown): string[] {
  const found: string[] = [];
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(visit);
    if (typeof v !== 'object' || v === null) return;
    const o = v as Record<string, unknown>;
    const type = o.type ?? o['message_content.type'];
    if (type === 'reasoning' || type === 'thinking') {
      const t = o.content ?? o.text ?? o.thinking ?? o['message_content.text'];
      if (typeof t === 'string') found.push(t);
    }
    Object.values(o).forEach(visit);
  };
  visit(messages);
  return found;
}

function parsed(t: string | null): unknown {
  if (t === null) return null;
  const c = t.trimStart()[0];
  if (c !== '[' && c !== '{') return null;
  try {
    return JSON.parse(t);
  } catch {
    return null;
  }
}

export function extractContent(a: Attributes): ExtractedContent {
  const consumed = new Set<string>();
  const pick = (keys: string[]): string | null => {
    let found: string | null = null;
    for (const k of keys) {
      if (a[k] === undefined) continue;
      consumed.add(k);
      if (found === null) found = text(a[k]);
    }
    return found;
  };
  let input = pick(INPUT_KEYS);
  let output = pick(OUTPUT_KEYS);
  let reasoning = pick(REASONING_KEYS);
  const system = pick(SYSTEM_KEYS);

  for (const { prefix, side } of FLATTENED) {
    const entries: [string, AttrValue][] = [];
    for (const k in a) {
      if (k.startsWith(prefix) && /^\d/.test(k.slice(prefix.length))) {
        entries.push([k.slice(prefix.length), a[k]]);
        consumed.add(k);
      }
    }
    if (entries.length === 0) continue;
    const messages = unflatten(entries);
    const joined = JSON.stringify(messages);
    if (side === 'input' && input === null) input = joined;
    if (side === 'output' && output === null) output = joined;
    if (side === 'output' && reasoning === null) {
      const r = reasoningIn(messages);
      if (r.length) reasoning = r.join('\n');
    }
  }
  if (reasoning === null) {
    const r = reasoningIn(parsed(output));
    if (r.length) reasoning = r.join('\n');
  }
  return { input, output, reasoning, system, consumed };
}
