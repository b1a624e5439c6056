/**
 * The query benchmark's results as markdown tables for docs/benchmarks.md: every capability over
 * each window, the provisioned dashboards, and the raw SQL aggregates beside the engine's figure,
 * with the issue's targets (p95 at most 100 ms per query, 500 ms per dashboard) marked.
 */
import { Summary } from './query-timing';

export const TARGET_QUERY_MS = 100;
export const TARGET_DASHBOARD_MS = 500;

export interface QueryResult extends Summary {
  name: string;
  window: string;
  what: string;
  queryType: string;
  storageCalls: number;
  frames: number;
  rows: number;
  bytes: number;
  error?: string;
  plan?: { file: string; hot: string[] };
}

export interface RawResult extends Summary {
  name: string;
  window: string;
  what: string;
  engine: string;
  rows: number;
  error?: string;
  engineP50?: number;
  engineP95?: number;
  /** One figure from both answers (last run of each): how close the raw reading is to the engine's. */
  check?: { label: string; raw: number; engine?: number };
}

export interface DashboardResult {
  file: string;
  title: string;
  window: string;
  range: string;
  panels: number;
  /** Panel queries with different answers (several panels often ask the same query). */
  distinct: number;
  /** Panel queries by type, "runStats x8, timeSeries x8". */
  types: string;
  perPanel?: Summary & { concurrency: number; ok: boolean; bytes: number };
  oneRequest?: Summary & { ok: boolean; bytes: number };
}

const fmt = (x: number | undefined): string => (x === undefined || Number.isNaN(x) ? '' : x >= 100 ? Math.round(x).toLocaleString('en') : String(x));
const mark = (p95: number | undefined, target: number): string => (p95 === undefined || Number.isNaN(p95) ? '' : p95 <= target ? 'met' : '**missed**');

export function capabilitiesTable(rs: QueryResult[]): string {
  const lines = [
    `| Query | Window | runs | p50 ms | p95 ms | CPU ms (p50) | rows | p95 ≤ ${TARGET_QUERY_MS} ms |`,
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const r of rs) {
    lines.push(
      r.error
        ? `| ${r.name} | ${r.window} | | | | | | error: ${r.error} |`
        : `| ${r.name} | ${r.window} | ${r.runs} | ${fmt(r.p50)} | ${fmt(r.p95)} | ${fmt(r.cpuP50)} | ${r.rows.toLocaleString('en')} | ${mark(r.p95, TARGET_QUERY_MS)} |`,
    );
  }
  const ok = rs.filter((r) => !r.error);
  lines.push('', `Target met by ${ok.filter((r) => r.p95 <= TARGET_QUERY_MS).length} of ${rs.length} queries.`);
  return lines.join('\n');
}

export function dashboardsTable(ds: DashboardResult[]): string {
  const lines = [
    `| Dashboard | Window | panel queries (distinct) | one request per panel: p50 / p95 ms | all in one request: p50 / p95 ms | p95 ≤ ${TARGET_DASHBOARD_MS} ms |`,
    '| --- | --- | ---: | ---: | ---: | --- |',
  ];
  for (const d of ds) {
    const pp = d.perPanel ? `${fmt(d.perPanel.p50)} / ${fmt(d.perPanel.p95)}${d.perPanel.ok ? '' : ' (errors)'} (${d.perPanel.runs}×)` : '';
    const one = d.oneRequest ? `${fmt(d.oneRequest.p50)} / ${fmt(d.oneRequest.p95)}${d.oneRequest.ok ? '' : ' (errors)'} (${d.oneRequest.runs}×)` : '';
    lines.push(`| ${d.title} (${d.file}) | ${d.window === 'as saved' ? `as saved (${d.range})` : d.window} | ${d.panels} (${d.distinct}) | ${pp} | ${one} | ${mark(d.perPanel?.p95, TARGET_DASHBOARD_MS)} |`);
  }
  return lines.join('\n');
}

const big = (x: number): string => (Math.abs(x) >= 1000 ? Math.round(x).toLocaleString('en') : String(Math.round(x * 100) / 100));
const checkText = (c: RawResult['check']): string => (c ? `${c.label}: ${big(c.raw)} / ${c.engine === undefined || Number.isNaN(c.engine) ? '–' : big(c.engine)}` : '');

export function rawTable(rs: RawResult[]): string {
  const lines = [
    '| Aggregate (raw SQL on `spans`) | Window | raw p50 / p95 ms | raw CPU ms (p50) | rows | engine query | engine p50 / p95 ms | engine ÷ raw (p50) | same figure: raw / engine |',
    '| --- | --- | ---: | ---: | ---: | --- | ---: | ---: | ---: |',
  ];
  for (const r of rs) {
    const ratio = r.engineP50 !== undefined && r.p50 > 0 ? `${(r.engineP50 / r.p50).toFixed(1)}×` : '';
    lines.push(
      r.error
        ? `| ${r.name} | ${r.window} | error: ${r.error} | | | ${r.engine} | | | |`
        : `| ${r.name} | ${r.window} | ${fmt(r.p50)} / ${fmt(r.p95)} | ${fmt(r.cpuP50)} | ${r.rows.toLocaleString('en')} | ${r.engine} | ${r.engineP50 === undefined ? 'not measured' : `${fmt(r.engineP50)} / ${fmt(r.engineP95)}`} | ${ratio} | ${checkText(r.check)} |`,
    );
  }
  return lines.join('\n');
}
