/**
 * Template variables, ad hoc filters and the time zone: how a stored query becomes the query the
 * server runs. Pure functions over a TemplateSrv, so that they are testable without Grafana.
 */
import type { AdHocVariableFilter, ScopedVars } from '@grafana/data';
import type { TemplateSrv } from '@grafana/runtime';
import { ALL_VALUES, Dimension, DIMENSION_LABELS, DIMENSIONS, Filters } from '@agent-insights/model';

import type { AgentQuery } from './types';

/** Grafana's value of a variable set to "All" (when no custom all value is configured). */
const ALL_VARIABLE_VALUE = '$__all';

/** Joins the values of a multi-value variable inside one replace() call; no real value holds it. */
const MULTI_SEPARATOR = '\u001f';

/** `$name`, `[[name]]`, `[[name:format]]`, `${name}`, `${name.field}`, `${name:format}`. */
const VARIABLE_PATTERN = /\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?:\.[^:^}]+)?(?::[^}]+)?\}/g;

export function variableNames(text: string): string[] {
  const names: string[] = [];
  for (const m of text.matchAll(VARIABLE_PATTERN)) {
    names.push(m[1] ?? m[2] ?? m[4]);
  }
  return names;
}

function isAllValue(value: unknown): boolean {
  if (Array.isArray(value)) {
    return value.some(isAllValue);
  }
  return value === ALL_VARIABLE_VALUE;
}

/**
 * Is the variable set to "All"? Read from the panel's scoped variables (repeated panels) or the
 * dashboard's variables; the formatted text "All" also counts, for Grafana versions whose
 * getVariables() does not expose the current value.
 */
export function isAllSelected(name: string, templateSrv: TemplateSrv, scopedVars?: ScopedVars): boolean {
  const scoped = scopedVars?.[name];
  if (scoped) {
    return isAllValue(scoped.value);
  }
  const variable = templateSrv.getVariables().find((v) => v.name === name) as
    { current?: { value?: unknown } } | undefined;
  if (!variable) {
    return false;
  }
  if (isAllValue(variable.current?.value)) {
    return true;
  }
  return templateSrv.replace(`\${${name}}`, scopedVars, 'text') === 'All';
}

/** A custom format: a multi-value variable expands to several values, joined for splitting. */
function joinMulti(value: unknown): string {
  return Array.isArray(value) ? value.map(String).join(MULTI_SEPARATOR) : String(value ?? '');
}

/** A single-valued text field: a multi-value variable becomes comma-separated values. */
function commaSeparated(value: unknown): string {
  return Array.isArray(value) ? value.map(String).join(',') : String(value ?? '');
}

/**
 * The values of one filter with variables filled in: a multi-value variable expands to its values;
 * `undefined` when a variable is set to "All" (or to a custom all value the model knows), which
 * drops the filter rather than listing every value, so that new values appear without editing.
 */
export function interpolateValues(
  values: string[],
  templateSrv: TemplateSrv,
  scopedVars?: ScopedVars
): string[] | undefined {
  const out: string[] = [];
  for (const raw of values) {
    const text = String(raw);
    if (variableNames(text).some((name) => isAllSelected(name, templateSrv, scopedVars))) {
      return undefined;
    }
    const replaced = templateSrv.replace(text, scopedVars, joinMulti);
    for (const value of replaced.split(MULTI_SEPARATOR)) {
      if (ALL_VALUES.includes(value)) {
        return undefined;
      }
      if (value !== '' && !out.includes(value)) {
        out.push(value);
      }
    }
  }
  return out;
}

/** Filters with variables filled in; dimensions that end up empty or "All" are dropped. */
export function interpolateFilters(
  filters: Filters | undefined,
  templateSrv: TemplateSrv,
  scopedVars?: ScopedVars
): Filters {
  const out: Filters = {};
  for (const [dimension, values] of Object.entries(filters ?? {}) as Array<[Dimension, string[] | undefined]>) {
    const list = Array.isArray(values) ? values : values === undefined || values === null ? [] : [String(values)];
    const filled = interpolateValues(list, templateSrv, scopedVars);
    if (filled && filled.length > 0) {
      out[dimension] = filled;
    }
  }
  return out;
}

/** The dimension an ad hoc filter key names: the key itself, or its label ("Agent version"). */
export function toDimension(key: string): Dimension | undefined {
  if ((DIMENSIONS as readonly string[]).includes(key)) {
    return key as Dimension;
  }
  const lower = key.trim().toLowerCase();
  return DIMENSIONS.find((d) => DIMENSION_LABELS[d].toLowerCase() === lower);
}

/** Operators an ad hoc filter can use here: equality ('=') and "one of" ('=|', Grafana 11.5+). */
const EQUALS = '=';
const ONE_OF = '=|';

/**
 * Merges ad hoc filters into a query's filters. Only equality is supported: the server's filters
 * are lists of values to include, so '!=', regex and comparison operators are ignored (with a
 * console warning). An ad hoc filter narrows each panel: on a dimension the panel filters itself,
 * only the values in both remain; when none remain, the ad hoc filter replaces the panel's own
 * filter on that dimension (the dashboard-wide choice wins). Keys that are not dimensions are
 * ignored with a warning.
 */
export function mergeAdHocFilters(filters: Filters, adhoc: AdHocVariableFilter[] | undefined): Filters {
  if (!adhoc?.length) {
    return filters;
  }
  const wanted: Filters = {};
  for (const f of adhoc) {
    const dimension = toDimension(f.key);
    if (!dimension) {
      console.warn(`Agent Insights: ad hoc filter on "${f.key}" ignored: not a dimension (${DIMENSIONS.join(', ')})`);
      continue;
    }
    if (f.operator !== EQUALS && f.operator !== ONE_OF) {
      console.warn(`Agent Insights: ad hoc filter "${f.key} ${f.operator} ${f.value}" ignored: only "=" is supported`);
      continue;
    }
    const values = f.operator === ONE_OF && f.values?.length ? f.values : [f.value];
    const previous = wanted[dimension];
    // Two ad hoc filters on one dimension both apply: only values in both remain.
    wanted[dimension] = previous ? previous.filter((v) => values.includes(v)) : [...values];
  }
  const out: Filters = { ...filters };
  for (const [dimension, values] of Object.entries(wanted) as Array<[Dimension, string[]]>) {
    const own = out[dimension];
    const both = own?.length ? own.filter((v) => values.includes(v)) : [];
    out[dimension] = both.length > 0 ? both : values;
  }
  return out;
}

/** A number typed into a field (possibly through a variable): a number when it reads as one. */
function toNumber(value: string): number | string {
  const n = Number(value);
  return value.trim() !== '' && Number.isFinite(n) ? n : value;
}

const TEXT_FIELDS = ['search', 'runId', 'metric', 'groupBy', 'period', 'heatmap', 'heatmapMetric'] as const;
const NUMBER_FIELDS = ['limit', 'budget'] as const;

/** Fills every variable of a query: its text options, numeric options and filters, then ad hoc filters. */
export function interpolateQuery(
  query: AgentQuery,
  templateSrv: TemplateSrv,
  scopedVars: ScopedVars | undefined,
  adhoc: AdHocVariableFilter[] | undefined
): AgentQuery {
  const out: Record<string, unknown> = { ...query };
  for (const field of TEXT_FIELDS) {
    const value = query[field];
    if (typeof value === 'string') {
      const filled = templateSrv.replace(value, scopedVars, commaSeparated).trim();
      out[field] = filled === '' ? undefined : filled;
    }
  }
  for (const field of NUMBER_FIELDS) {
    const value = query[field];
    if (typeof value === 'string') {
      const filled = templateSrv.replace(value, scopedVars, commaSeparated).trim();
      out[field] = filled === '' ? undefined : toNumber(filled);
    }
  }
  out.filters = mergeAdHocFilters(interpolateFilters(query.filters, templateSrv, scopedVars), adhoc);
  return out as AgentQuery;
}

/**
 * The IANA zone the server uses for days, weeks, months and heatmaps: Grafana's 'browser' (and an
 * unset zone, which means the browser's) becomes the browser's own zone, 'utc' becomes 'UTC'.
 */
export function resolveTimeZone(timeZone: string | undefined): string {
  if (!timeZone || timeZone === 'browser' || timeZone === 'default') {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  }
  if (timeZone.toLowerCase() === 'utc') {
    return 'UTC';
  }
  return timeZone;
}
