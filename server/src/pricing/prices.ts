/**
 * The model price table: a JSON file read at start (the shipped server/pricing/prices.json unless
 * AGENT_INSIGHTS_PRICES_FILE names another), never compiled in, so that operators keep prices
 * current without a release. Prices are USD per million tokens.
 *
 * Cost of one LLM call (design.md, "Tokens and cost"), unless the telemetry reports a cost itself:
 *   uncached input x input price + cached x cached price (+ cache writes x cache-write price)
 *   + output x output price.
 * Input tokens are taken as the conventions report them: OTel GenAI counts cached (and cache-write)
 * tokens inside input_tokens, so uncached = input - cached - cache writes. A convention that reports
 * input without its cached part (Anthropic's raw usage fields) shows as fewer input than cached
 * tokens; then all input counts as uncached. Reasoning tokens are part of output tokens in every
 * convention (gen_ai.usage.reasoning.output_tokens is a breakdown of output), so they are priced
 * as output and never added again.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

export interface ModelPrice {
  /** The table's key, lower case. */
  model: string;
  provider: string;
  /** USD per million tokens. */
  input: number;
  cachedInput: number;
  output: number;
  /** Tokens written to a prompt cache; the input price when the table gives none. */
  cacheWrite: number;
}

export interface PriceTable {
  /** Where the table was read from. */
  file: string;
  /** When the prices were taken (YYYY-MM-DD), as the file says. */
  takenOn: string;
  source: string;
  note: string;
  models: Map<string, ModelPrice>;
}

export interface Usage {
  inputTokens: number | null;
  outputTokens: number | null;
  cachedTokens: number | null;
  cacheWriteTokens?: number | null;
}

export class PriceTableError extends Error {}

/** The table shipped with the server: server/pricing/prices.json (from src/pricing and dist/pricing alike). */
export const DEFAULT_PRICES_FILE = resolve(__dirname, '..', '..', 'pricing', 'prices.json');

function price(file: string, model: string, field: string, v: unknown, required: boolean): number | undefined {
  if (v === undefined && !required) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw new PriceTableError(`${file}: models["${model}"].${field} must be a number >= 0 (USD per million tokens), got ${JSON.stringify(v)}`);
  }
  return v;
}

/** Validates a parsed price file; errors name the file, the model and the field. */
export function parsePriceTable(json: unknown, file = 'price table'): PriceTable {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new PriceTableError(`${file}: must be a JSON object with "takenOn", "source" and "models"`);
  const o = json as Record<string, unknown>;
  if (typeof o.takenOn !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(o.takenOn)) {
    throw new PriceTableError(`${file}: "takenOn" must be the date the prices were taken, as YYYY-MM-DD, got ${JSON.stringify(o.takenOn)}`);
  }
  if (typeof o.source !== 'string' || !o.source.trim()) throw new PriceTableError(`${file}: "source" must say where the prices come from`);
  if (typeof o.models !== 'object' || o.models === null || Array.isArray(o.models)) throw new PriceTableError(`${file}: "models" must be an object of model name to prices`);
  const models = new Map<string, ModelPrice>();
  for (const [name, raw] of Object.entries(o.models as Record<string, unknown>)) {
    const key = name.trim().toLowerCase();
    if (!key) throw new PriceTableError(`${file}: a model name is empty`);
    if (models.has(key)) throw new PriceTableError(`${file}: model "${name}" is listed twice (names are compared without case)`);
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new PriceTableError(`${file}: models["${name}"] must be an object {input, cachedInput, output}`);
    const m = raw as Record<string, unknown>;
    const input = price(file, name, 'input', m.input, true) as number;
    models.set(key, {
      model: key,
      provider: typeof m.provider === 'string' ? m.provider : '',
      input,
      cachedInput: price(file, name, 'cachedInput', m.cachedInput, true) as number,
      output: price(file, name, 'output', m.output, true) as number,
      cacheWrite: price(file, name, 'cacheWrite', m.cacheWrite, false) ?? input,
    });
  }
  return { file, takenOn: o.takenOn, source: o.source, note: typeof o.note === 'string' ? o.note : '', models };
}

export function loadPriceTable(file: string = DEFAULT_PRICES_FILE): PriceTable {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new PriceTableError(`cannot read the price table ${file}: ${(e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new PriceTableError(`${file}: not valid JSON: ${(e as Error).message}`);
  }
  return parsePriceTable(json, file);
}

/**
 * The base model of a name: without a provider path ("openai/gpt-4o", "models/gemini-2.5-pro")
 * and without a dated snapshot suffix ("-2024-08-06", "-20250514", Vertex's "@20250514").
 */
export function baseModel(model: string): string {
  return model
    .trim()
    .toLowerCase()
    .replace(/^.*\//, '')
    .replace(/[-@](\d{4}-\d{2}-\d{2}|\d{8})$/, '');
}

/**
 * The price of a call: an exact entry for the model that answered (response model) or was
 * requested wins, then the base model of either. Unknown: null, never a guess.
 */
export function lookupPrice(table: PriceTable, model: string, responseModel = ''): ModelPrice | null {
  const names = [responseModel, model].map((n) => n.trim().toLowerCase()).filter(Boolean);
  for (const n of names) {
    const p = table.models.get(n);
    if (p) return p;
  }
  for (const n of names) {
    const p = table.models.get(baseModel(n));
    if (p) return p;
  }
  return null;
}

/** Tokens of each price class; the SQL in pricing/sql.ts computes the same. */
export function tokenClasses(u: Usage): { uncached: number; cached: number; cacheWrite: number; output: number } {
  const input = u.inputTokens ?? 0;
  const cached = u.cachedTokens ?? 0;
  const cacheWrite = u.cacheWriteTokens ?? 0;
  const rest = input - cached - cacheWrite;
  return { uncached: rest >= 0 ? rest : input, cached, cacheWrite, output: u.outputTokens ?? 0 };
}

/** USD of one call at a price; null without input and output counts (a bare total cannot be priced). */
export function costUsd(p: ModelPrice, u: Usage): number | null {
  if (u.inputTokens === null && u.outputTokens === null) return null;
  const t = tokenClasses(u);
  return (t.uncached * p.input + t.cached * p.cachedInput + t.cacheWrite * p.cacheWrite + t.output * p.output) / 1_000_000;
}
