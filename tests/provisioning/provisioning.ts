/**
 * The provisioned dashboards and alert rules as queries: reads dashboards/*.json and
 * provisioning/alerting/*.yml, lists every panel target and every alert rule query, and fills
 * dashboard variables exactly as the plugin does in the browser (src/interpolation.ts, through a
 * TemplateSrv that follows Grafana's rules: a multi-value variable set to "All" drops the filter).
 *
 * Used by the Jest checks (dashboards/dashboards.test.ts: every query parses with the query
 * model) and by the plugin host test (tests/host/provisioned_test.go, through
 * tests/host/provisioned-queries.ts: every query runs through the built plugin executable).
 */
import fs from 'fs';
import path from 'path';
import { parse as parseYaml } from 'yaml';
import type { AdHocVariableFilter } from '@grafana/data';

import { interpolateQuery } from '../../src/interpolation';
import type { AgentQuery } from '../../src/types';
import { FakeTemplateSrv, FakeVariable } from '../../src/test/templateSrv';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
export const DASHBOARDS_DIR = path.join(REPO_ROOT, 'dashboards');
export const PROVISIONING_DIR = path.join(REPO_ROOT, 'provisioning');
export const PLUGIN_ID = 'agentinsights-agentinsights-datasource';
/** The data source uid pinned in provisioning/datasources/agent-insights.yml. */
export const DATASOURCE_UID = 'agent-insights';
/** Grafana's "expressions" pseudo data source in alert rules (reduce, math, threshold). */
export const EXPRESSION_UID = '__expr__';

// ---------------------------------------------------------------------------------------------
// Dashboards

export interface DataSourceRef {
  type?: string;
  uid?: string;
}

export interface Target extends Record<string, unknown> {
  refId: string;
  datasource?: DataSourceRef;
  hide?: boolean;
}

export interface Panel extends Record<string, unknown> {
  id: number;
  type: string;
  title: string;
  description?: string;
  datasource?: DataSourceRef;
  targets?: Target[];
  panels?: Panel[];
  timeFrom?: string;
  links?: Array<{ title: string; url: string }>;
  transformations?: Array<{ id: string; options: unknown; disabled?: boolean }>;
  fieldConfig?: {
    defaults: Record<string, unknown>;
    overrides: Array<{ matcher: { id: string; options: unknown }; properties: Array<{ id: string; value: unknown }> }>;
  };
  options?: Record<string, unknown>;
  gridPos?: { x: number; y: number; w: number; h: number };
}

export interface Variable extends Record<string, unknown> {
  name: string;
  type: string;
  query?: unknown;
  multi?: boolean;
  includeAll?: boolean;
  allValue?: string | null;
  current?: { text?: unknown; value?: unknown };
  options?: Array<{ text: string; value: string }>;
  datasource?: DataSourceRef;
}

export interface Dashboard extends Record<string, unknown> {
  uid: string;
  title: string;
  tags?: string[];
  schemaVersion: number;
  panels: Panel[];
  templating: { list: Variable[] };
  links: Array<{ title: string; type: string; url?: string; tags?: string[] }>;
}

export interface DashboardFile {
  file: string;
  dashboard: Dashboard;
}

export function loadDashboards(dir = DASHBOARDS_DIR): DashboardFile[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({ file, dashboard: JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as Dashboard }));
}

/** Every panel, those inside rows (collapsed or not) included; rows themselves too. */
export function allPanels(dashboard: Dashboard): Panel[] {
  const out: Panel[] = [];
  const walk = (panels: Panel[] | undefined) => {
    for (const p of panels ?? []) {
      out.push(p);
      walk(p.panels);
    }
  };
  walk(dashboard.panels);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Variables as the plugin fills them

/**
 * Values to give the dashboard's variables: a name maps to a value (a list for a multi-value
 * variable, '$__all' for "All"). Variables not named keep their saved current value, except
 * query variables, which default to "All" (as the provisioned dashboards open).
 */
export type VariableValues = Record<string, string | string[]>;

function savedValue(v: Variable): string | string[] {
  const value = v.current?.value;
  if (Array.isArray(value)) {
    return value.map(String);
  }
  if (value === undefined || value === null) {
    return typeof v.query === 'string' ? v.query : '';
  }
  return String(value);
}

export function templateVariables(dashboard: Dashboard, values: VariableValues = {}): FakeVariable[] {
  return dashboard.templating.list
    .filter((v) => v.type !== 'adhoc')
    .map((v) => {
      const given = values[v.name];
      const value = given !== undefined ? given : v.type === 'query' ? '$__all' : savedValue(v);
      return {
        name: v.name,
        value,
        options: (v.options ?? []).map((o) => String(o.value)),
        allValue: v.allValue ?? undefined,
      };
    });
}

/** A target with the dashboard's variables and ad hoc filters filled in, as the plugin sends it. */
export function fillTarget(target: Target, variables: FakeVariable[], adhoc: AdHocVariableFilter[] = []): AgentQuery {
  const templateSrv = new FakeTemplateSrv(variables);
  const { datasource: _ds, hide: _hide, ...rest } = target;
  return interpolateQuery(rest as unknown as AgentQuery, templateSrv, undefined, adhoc);
}

export interface PanelQuery {
  /** "<file> #<panel id> <panel title> / <refId>": names the query in failures. */
  name: string;
  file: string;
  dashboardUid: string;
  panelId: number;
  panelTitle: string;
  panelType: string;
  target: Target;
  query: AgentQuery;
}

/** Every visible panel target of a dashboard, filled with the given variable values. */
export function panelQueries(
  { file, dashboard }: DashboardFile,
  values: VariableValues = {},
  adhoc: AdHocVariableFilter[] = []
): PanelQuery[] {
  const variables = templateVariables(dashboard, values);
  const out: PanelQuery[] = [];
  for (const panel of allPanels(dashboard)) {
    for (const target of panel.targets ?? []) {
      if (target.hide) {
        continue;
      }
      out.push({
        name: `${file} #${panel.id} "${panel.title}" / ${target.refId}`,
        file,
        dashboardUid: dashboard.uid,
        panelId: panel.id,
        panelTitle: panel.title,
        panelType: panel.type,
        target,
        query: fillTarget(target, variables, adhoc),
      });
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Alert rules (provisioning/alerting/*.yml, written by Grafana's file provisioning format)

export interface AlertQuery {
  /** "<file> <rule uid or title> / <refId>". */
  name: string;
  file: string;
  ruleUid?: string;
  ruleTitle?: string;
  refId: string;
  datasourceUid: string;
  /** Seconds before now, as Grafana's relativeTimeRange. */
  relativeTimeRange?: { from: number; to: number };
  model: Record<string, unknown>;
  annotations: Record<string, string>;
}

interface AlertFile {
  groups?: Array<{
    name?: string;
    rules?: Array<{
      uid?: string;
      title?: string;
      data?: Array<{
        refId: string;
        datasourceUid: string;
        relativeTimeRange?: { from: number; to: number };
        model?: Record<string, unknown>;
      }>;
      annotations?: Record<string, string>;
    }>;
  }>;
}

export function alertingFiles(dir = path.join(PROVISIONING_DIR, 'alerting')): string[] {
  if (!fs.existsSync(dir)) {
    return [];
  }
  return fs
    .readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => path.join(dir, f));
}

export function readYaml<T>(file: string): T {
  return parseYaml(fs.readFileSync(file, 'utf8')) as T;
}

/** Every query (data source and expression) of every provisioned alert rule. */
export function alertQueries(files = alertingFiles()): AlertQuery[] {
  const out: AlertQuery[] = [];
  for (const file of files) {
    const doc = readYaml<AlertFile>(file) ?? {};
    for (const group of doc.groups ?? []) {
      for (const rule of group.rules ?? []) {
        for (const q of rule.data ?? []) {
          out.push({
            name: `${path.relative(REPO_ROOT, file)} ${rule.uid ?? rule.title} / ${q.refId}`,
            file: path.relative(REPO_ROOT, file),
            ruleUid: rule.uid,
            ruleTitle: rule.title,
            refId: q.refId,
            datasourceUid: q.datasourceUid,
            relativeTimeRange: q.relativeTimeRange,
            model: q.model ?? {},
            annotations: rule.annotations ?? {},
          });
        }
      }
    }
  }
  return out;
}
