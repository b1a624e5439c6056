/**
 * Filters: each dimension multi-valued; an empty list, or Grafana's "All" ($__all), means no
 * filter rather than "every value", so that new agents appear without editing a dashboard.
 */
import { CLOSED_VALUES, Dimension, DIMENSIONS } from './dimensions';

export type Filters = Partial<Record<Dimension, string[]>>;

/** What Grafana sends for a multi-value variable set to "All" when no custom all value is set. */
export const ALL_VALUES = ['$__all', '*', 'All'];

export class ValidationError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

/**
 * Validates and normalises filters from any source (JSON from the plugin, alert rules, the API):
 * unknown dimensions and values outside a closed set are errors naming the field and the allowed
 * values; "All" and empty lists drop the filter; duplicates are removed.
 */
export function parseFilters(input: unknown, field = 'filters'): Filters {
  if (input === undefined || input === null) return {};
  if (typeof input !== 'object' || Array.isArray(input)) throw new ValidationError(field, 'must be an object of dimension to list of values');
  const out: Filters = {};
  for (const [key, raw] of Object.entries(input as Record<string, unknown>)) {
    if (!(DIMENSIONS as readonly string[]).includes(key)) {
      throw new ValidationError(`${field}.${key}`, `unknown dimension; allowed: ${DIMENSIONS.join(', ')}`);
    }
    const dim = key as Dimension;
    const list = raw === undefined || raw === null ? [] : Array.isArray(raw) ? raw : [raw];
    const values: string[] = [];
    for (const [i, v] of list.entries()) {
      if (typeof v !== 'string' && typeof v !== 'number') throw new ValidationError(`${field}.${key}[${i}]`, 'must be a string');
      values.push(String(v));
    }
    if (values.length === 0 || values.some((v) => ALL_VALUES.includes(v))) continue;
    const closed = CLOSED_VALUES[dim];
    const bad = closed ? values.filter((v) => !closed.includes(v)) : [];
    if (bad.length) throw new ValidationError(`${field}.${key}`, `unknown value(s) ${bad.map((b) => `"${b}"`).join(', ')}; allowed: ${closed!.join(', ')}`);
    out[dim] = [...new Set(values)];
  }
  return out;
}
