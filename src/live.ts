/**
 * The live runs channel. Grafana Live multiplexes one channel per path among all its subscribers,
 * and the backend receives the address's `data` with the first subscription (RunStream's
 * req.Data), so the path must name exactly what the data asks for: `runs/<hash of the data>`.
 */
import type { TimeRange } from '@grafana/data';
import { DEFAULTS, Dimension, Filters } from '@agent-insights/model';

import type { AgentQuery } from './types';

/** What the backend's `runs` stream needs to build its snapshots. */
export interface LiveRunsData {
  filters: Filters;
  limit: number;
  search?: string;
  /** Runs started within this many milliseconds before now: the length of the dashboard's range. */
  range?: number;
}

/** The server's bounds for a live window: one second to 90 days. */
const MIN_RANGE_MS = 1000;
const MAX_RANGE_MS = 90 * 86_400_000;

/**
 * The data of a live runs query, in a canonical form (sorted dimensions and values, the window
 * in whole seconds), so that equal queries share one channel.
 */
export function liveRunsData(query: AgentQuery, timeRange?: TimeRange): LiveRunsData {
  const filters: Filters = {};
  for (const dimension of Object.keys(query.filters ?? {}).sort() as Dimension[]) {
    const values = query.filters?.[dimension];
    if (values?.length) {
      filters[dimension] = [...values].sort();
    }
  }
  const limit = typeof query.limit === 'number' && Number.isFinite(query.limit) ? query.limit : DEFAULTS.limit;
  const data: LiveRunsData = { filters, limit };
  if (typeof query.search === 'string' && query.search.trim() !== '') {
    data.search = query.search.trim();
  }
  if (timeRange) {
    const ms = Math.round((timeRange.to.valueOf() - timeRange.from.valueOf()) / 1000) * 1000;
    data.range = Math.min(MAX_RANGE_MS, Math.max(MIN_RANGE_MS, ms));
  }
  return data;
}

/** Two 32-bit FNV-1a hashes with different offsets: 16 hex digits, stable across browsers. */
export function stableHash(text: string): string {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x01000193) ^ (b >>> 13);
  }
  const hex = (n: number) => (n >>> 0).toString(16).padStart(8, '0');
  return hex(a) + hex(b);
}

/** Channel path of a live runs query: `runs/<hash>` (path characters [A-Za-z0-9_-/.=] only). */
export function liveRunsPath(data: LiveRunsData): string {
  return `runs/${stableHash(JSON.stringify(data))}`;
}
