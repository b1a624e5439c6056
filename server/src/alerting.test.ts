/**
 * The provisioned alert rules (provisioning/alerting/*.yml) are valid Grafana provisioning files
 * and their queries are queries of the one query model: every data source query parses with
 * parseQuery, is a timeSeries query (numeric, labelled series: what alerting needs), names no
 * dashboard variable, and asks for one bucket over the rule's window; every expression refers to
 * something that exists; the condition has the documented shape; the notification policy routes
 * every rule to the webhook contact point; the thresholds in docs/alerting.md are the ones in the
 * file. (What the rules do with data is proven by tests/host/alerts_test.go, which runs their
 * queries through the plugin executable and evaluates them as Grafana does.)
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { GROUP_BY_DIMENSIONS, METRICS, parseQuery } from '@agent-insights/model';
import { planBuckets } from './query/capabilities/buckets';
import { METRIC_DEFINITIONS } from './query/capabilities/metric-definitions';
import { duckdb } from './query/dialect';

const ROOT = join(__dirname, '..', '..');
const ALERTING = join(ROOT, 'provisioning', 'alerting');
const DATASOURCE_UID = 'agent-insights';
const DATASOURCE_TYPE = 'agentinsights-agentinsights-datasource';
const EXPR = '__expr__';

interface RuleQuery {
  refId: string;
  queryType?: string;
  relativeTimeRange?: { from: number; to: number };
  datasourceUid: string;
  model: Record<string, unknown>;
}
interface Rule {
  uid: string;
  title: string;
  condition: string;
  data: RuleQuery[];
  noDataState: string;
  execErrState: string;
  for: string;
  dashboardUid?: string;
  panelId?: number;
  annotations: Record<string, string>;
  labels: Record<string, string>;
}
interface Group {
  orgId: number;
  name: string;
  folder: string;
  interval: string;
  rules: Rule[];
}

const read = (file: string) => parse(readFileSync(join(ALERTING, file), 'utf8'));
const rulesFile = read('rules.yml') as { apiVersion: number; groups: Group[] };
const contactFile = read('contact-points.yml') as {
  apiVersion: number;
  contactPoints: Array<{ orgId: number; name: string; receivers: Array<{ uid: string; type: string; settings: Record<string, unknown> }> }>;
  policies: Array<Policy & { orgId: number }>;
};
interface Policy {
  receiver: string;
  group_by?: string[];
  object_matchers?: Array<[string, string, string]>;
  routes?: Policy[];
}
const rules = rulesFile.groups.flatMap((g) => g.rules);
const docs = readFileSync(join(ROOT, 'docs', 'alerting.md'), 'utf8');

/** Prometheus-style durations as Grafana's provisioning reads them ("1m", "5m", "0s", "1h30m"). */
function seconds(d: string): number {
  const m = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(d);
  if (!m || d === '') throw new Error(`not a duration: ${JSON.stringify(d)}`);
  return (+(m[1] ?? 0) * 24 * 60 + +(m[2] ?? 0) * 60 + +(m[3] ?? 0)) * 60 + +(m[4] ?? 0);
}
const windowOf = (s: number) => (s % 3600 === 0 ? `${s / 3600}h` : `${s / 60}m`);

/** Variables a math expression reads: $name or ${name} (Grafana's lexer: letters, digits, _). */
const mathVars = (expression: string) => [...expression.matchAll(/\$\{?(\w+)\}?/g)].map((m) => m[1]);

/** Inputs of an expression node. */
function inputs(q: RuleQuery): string[] {
  const m = q.model;
  switch (m.type) {
    case 'math':
      return mathVars(String(m.expression));
    case 'reduce':
    case 'threshold':
      return [String(m.expression).replace(/^\$/, '')];
    default:
      throw new Error(`${q.refId}: expression type ${JSON.stringify(m.type)} is not one the rules use (reduce, math, threshold)`);
  }
}

/** The condition's documented shape: `$volume >= MIN && $rate > THRESHOLD`, or a threshold `gt`. */
function conditionOf(rule: Rule): { threshold: number; min?: number; volume?: string; rate?: string } {
  const cond = rule.data.find((d) => d.refId === rule.condition)!;
  if (cond.model.type === 'threshold') {
    const c = (cond.model.conditions as Array<{ evaluator: { type: string; params: number[] } }>)[0];
    expect(c.evaluator.type).toBe('gt');
    return { threshold: c.evaluator.params[0] };
  }
  const m = /^\$(\w+) >= (\d+) && \$(\w+) > (0?\.\d+)$/.exec(String(cond.model.expression));
  if (!m) throw new Error(`${rule.uid}: condition ${JSON.stringify(cond.model.expression)} is not "$volume >= MIN && $rate > THRESHOLD"`);
  return { volume: m[1], min: Number(m[2]), rate: m[3], threshold: Number(m[4]) };
}

/** The data source queries a node depends on, through expressions. */
function sourcesOf(rule: Rule, refId: string, seen = new Set<string>()): RuleQuery[] {
  if (seen.has(refId)) throw new Error(`${rule.uid}: expressions form a cycle through ${refId}`);
  const node = rule.data.find((d) => d.refId === refId)!;
  if (node.datasourceUid !== EXPR) return [node];
  return inputs(node).flatMap((i) => sourcesOf(rule, i, new Set([...seen, refId])));
}

describe('provisioned alert rules (provisioning/alerting/rules.yml)', () => {
  it('is one group in the "Agent Insights" folder, evaluated every minute', () => {
    expect(rulesFile.apiVersion).toBe(1);
    expect(rulesFile.groups).toHaveLength(1);
    expect(rulesFile.groups[0]).toMatchObject({ orgId: 1, folder: 'Agent Insights', interval: '1m' });
    expect(rules.map((r) => r.title)).toEqual(['Agent timeout rate', 'Agent error rate', 'Tool error rate', 'Spend over budget']);
  });

  it('has unique, valid rule uids and titles', () => {
    const uids = rules.map((r) => r.uid);
    expect(new Set(uids).size).toBe(uids.length);
    expect(new Set(rules.map((r) => r.title)).size).toBe(rules.length);
    for (const uid of uids) expect(uid).toMatch(/^[a-zA-Z0-9_-]{1,40}$/);
  });

  describe.each(rules.map((r) => [r.title, r] as const))('%s', (_title, rule) => {
    const refIds = rule.data.map((d) => d.refId);
    const queries = rule.data.filter((d) => d.datasourceUid !== EXPR);
    const expressions = rule.data.filter((d) => d.datasourceUid === EXPR);

    it('has unique refIds, a condition that exists, and only the pinned data source or expressions', () => {
      expect(new Set(refIds).size).toBe(refIds.length);
      expect(refIds).toContain(rule.condition);
      expect(rule.data.find((d) => d.refId === rule.condition)!.datasourceUid).toBe(EXPR);
      for (const d of rule.data) {
        expect([DATASOURCE_UID, EXPR]).toContain(d.datasourceUid);
        expect(d.model.refId).toBe(d.refId);
        expect(d.refId).toMatch(/^\w+$/); // usable as $name in math expressions
      }
      expect(queries.length).toBeGreaterThan(0);
    });

    it('expressions read nodes that exist, without cycles, and every query feeds the condition', () => {
      for (const e of expressions) {
        expect(e.model.datasource).toEqual({ type: EXPR, uid: EXPR });
        for (const i of inputs(e)) expect(refIds).toContain(i);
      }
      const used = new Set(sourcesOf(rule, rule.condition).map((q) => q.refId));
      expect([...used].sort()).toEqual(queries.map((q) => q.refId).sort());
    });

    it.each(queries.map((q) => [q.refId, q] as const))('query %s: a complete timeSeries query of the query model over the window', (_refId, q) => {
      expect(q.model.datasource).toEqual({ type: DATASOURCE_TYPE, uid: DATASOURCE_UID });
      // Alert rules never see dashboard variables: nothing in the query may be one.
      expect(JSON.stringify(q.model)).not.toContain('$');
      const range = q.relativeTimeRange!;
      expect(range.to).toBe(0);
      expect(range.from).toBeGreaterThanOrEqual(600);
      expect(range.from).toBeLessThanOrEqual(7 * 86400);
      // Grafana reads intervalMs and maxDataPoints from the model (numbers) and sends them as the
      // query's interval and max data points; the plugin passes them on.
      expect(q.model.intervalMs).toBe(range.from * 1000);
      expect(q.model.maxDataPoints).toBe(1);

      for (const now of [Date.UTC(2026, 0, 15, 12, 0, 0), Date.UTC(2026, 0, 15, 12, 59, 59, 999), Date.UTC(2026, 0, 15, 23, 30), Date.UTC(2026, 2, 29, 0, 0, 1)]) {
        const resolved = parseQuery(q.model, {
          range: { from: now - range.from * 1000, to: now - range.to * 1000 },
          intervalMs: q.model.intervalMs as number,
          maxDataPoints: q.model.maxDataPoints as number,
        });
        expect(resolved.queryType).toBe('timeSeries');
        expect(METRICS).toContain(q.model.metric);
        expect(resolved.options.metric).toBe(q.model.metric);
        if (q.model.groupBy !== undefined) expect(GROUP_BY_DIMENSIONS).toContain(resolved.options.groupBy);
        // One bucket over the whole window, wherever "now" falls: the series' one point is the
        // figure over the window (what the panel's stat of the same metric shows).
        expect(planBuckets(resolved, duckdb).keys).toHaveLength(1);
      }
    });

    it('reduces rates with last (the one point) and counts with sum, replacing "no value" by 0', () => {
      for (const e of expressions.filter((x) => x.model.type === 'reduce')) {
        const [source] = inputs(e).map((i) => rule.data.find((d) => d.refId === i)!);
        expect(source.datasourceUid).toBe(DATASOURCE_UID);
        const additive = METRIC_DEFINITIONS[source.model.metric as keyof typeof METRIC_DEFINITIONS].additive;
        expect(e.model.reducer).toBe(additive ? 'sum' : 'last');
        // Strict mode would give NaN for a rate without a finished run, which Grafana reads as
        // alerting; 0 is "nothing to report".
        expect(e.model.settings).toEqual({ mode: 'replaceNN', replaceWithValue: 0 });
      }
    });

    it('has the documented condition: volume first, then the rate (or a budget threshold)', () => {
      const c = conditionOf(rule);
      if (c.rate) {
        const rate = sourcesOf(rule, c.rate);
        expect(rate).toHaveLength(1);
        expect(METRIC_DEFINITIONS[rate[0].model.metric as keyof typeof METRIC_DEFINITIONS].unit).toBe('percentunit');
        expect(c.threshold).toBeGreaterThan(0);
        expect(c.threshold).toBeLessThan(1);
        expect(c.min).toBeGreaterThanOrEqual(1);
        // Volume and rate come from queries over the same window and dimension.
        const volume = sourcesOf(rule, c.volume!);
        for (const v of volume) {
          expect(v.relativeTimeRange).toEqual(rate[0].relativeTimeRange);
          expect(v.model.groupBy).toBe(rate[0].model.groupBy);
          expect(METRIC_DEFINITIONS[v.model.metric as keyof typeof METRIC_DEFINITIONS].additive).toBe(true);
        }
      }
    });

    it('pages sensibly: no data is OK, a failing query is an Error, labels and annotations for the notification', () => {
      expect(rule.noDataState).toBe('OK');
      expect(rule.execErrState).toBe('Error');
      expect(seconds(rule.for)).toBeLessThanOrEqual(15 * 60);
      expect(rule.labels).toMatchObject({ team: 'agent-platform', app: 'agent-insights' });
      expect(['critical', 'warning']).toContain(rule.labels.severity);
      for (const a of ['summary', 'description', 'runbook', '__dashboardUid__', '__panelId__']) expect(rule.annotations[a]).toBeTruthy();
      expect(rule.annotations.__dashboardUid__).toBe(rule.dashboardUid);
      expect(rule.annotations.__panelId__).toBe(String(rule.panelId));
      const groupBy = queries.find((q) => q.model.groupBy)?.model.groupBy as string | undefined;
      if (groupBy) expect(rule.annotations.summary).toContain(`{{ $labels.${groupBy} }}`);
      // Every $values.<refId> an annotation prints is a node of the rule.
      for (const text of Object.values(rule.annotations)) for (const m of text.matchAll(/\$values\.(\w+)/g)) expect(refIds).toContain(m[1]);
      // The description states the threshold and minimum of the condition.
      const c = conditionOf(rule);
      if (c.rate) {
        expect(rule.annotations.description).toContain(`${+(c.threshold * 100).toFixed(2)}%`);
        expect(rule.annotations.description).toContain(`at least ${c.min}`);
      } else expect(rule.annotations.description).toContain(String(c.threshold));
    });

    it('is in the table of docs/alerting.md with its window, threshold and minimum', () => {
      const c = conditionOf(rule);
      const q = sourcesOf(rule, c.rate ?? rule.condition)[0];
      const metric = `\`${q.model.metric}\`${q.model.groupBy ? ` by ${q.model.groupBy}` : ''}`;
      const threshold = c.rate ? `> ${c.threshold} (${+(c.threshold * 100).toFixed(2)} %)` : `> ${c.threshold} ${METRIC_DEFINITIONS.credits.label.toLowerCase()}`;
      const volume = c.rate ? `${c.min} ${c.volume === 'finished' ? 'finished runs' : c.volume}` : 'none';
      const row = `| ${rule.title} | \`${rule.uid}\` | ${metric} | ${windowOf(q.relativeTimeRange!.from)} | ${threshold} | ${volume} | ${rule.for} | ${rule.labels.severity} |`;
      expect(docs).toContain(row);
    });
  });

  const dashboardsDir = join(ROOT, 'dashboards');
  const haveDashboards = existsSync(dashboardsDir) && readdirSync(dashboardsDir).some((f) => f.endsWith('.json'));
  (haveDashboards ? it : it.skip)('links every rule to a panel of a provisioned dashboard that plots its metric', () => {
    interface Panel {
      id: number;
      title?: string;
      targets?: Array<{ queryType?: string; metric?: string }>;
      panels?: Panel[];
    }
    const panels = new Map<string, Map<number, Panel>>();
    const collect = (list: Panel[] = [], into: Map<number, Panel>) => {
      for (const p of list) {
        into.set(p.id, p);
        collect(p.panels, into);
      }
    };
    for (const f of readdirSync(dashboardsDir).filter((x) => x.endsWith('.json'))) {
      const d = JSON.parse(readFileSync(join(dashboardsDir, f), 'utf8'));
      const ids = new Map<number, Panel>();
      collect(d.panels, ids);
      panels.set(d.uid, ids);
    }
    for (const rule of rules) {
      const dashboard = panels.get(rule.annotations.__dashboardUid__);
      const panel = dashboard?.get(rule.panelId!);
      // The panel shows the figure the rule alerts on: a time series of the rule's rate (or credits).
      const c = conditionOf(rule);
      const metric = sourcesOf(rule, c.rate ?? rule.condition)[0].model.metric;
      const plotted = (panel?.targets ?? []).filter((t) => t.queryType === 'timeSeries').map((t) => t.metric);
      expect({ rule: rule.uid, dashboard: !!dashboard, panel: panel?.id, plotted }).toEqual({ rule: rule.uid, dashboard: true, panel: rule.panelId, plotted: [metric] });
    }
  });
});

describe('contact point and notification policy (provisioning/alerting/contact-points.yml)', () => {
  const [contactPoint] = contactFile.contactPoints;

  it('is a webhook whose URL comes from AGENT_INSIGHTS_ALERT_WEBHOOK_URL', () => {
    expect(contactFile.apiVersion).toBe(1);
    expect(contactFile.contactPoints).toHaveLength(1);
    expect(contactPoint.receivers).toHaveLength(1);
    expect(contactPoint.receivers[0]).toMatchObject({ uid: 'agent-insights-webhook', type: 'webhook' });
    // Grafana's provisioning replaces $NAME with the variable of its environment.
    expect(contactPoint.receivers[0].settings.url).toBe('$AGENT_INSIGHTS_ALERT_WEBHOOK_URL');
    expect(docs).toContain('AGENT_INSIGHTS_ALERT_WEBHOOK_URL');
  });

  it('routes every rule to the webhook, one notification group per rule and agent (or tool)', () => {
    expect(contactFile.policies).toHaveLength(1);
    const root = contactFile.policies[0];
    const names = new Set(contactFile.contactPoints.map((c) => c.name));
    const matches = (p: Policy, labels: Record<string, string>) =>
      (p.object_matchers ?? []).every(([name, op, value]) => {
        if (op === '=') return labels[name] === value;
        if (op === '!=') return labels[name] !== value;
        throw new Error(`matcher operator ${op} not expected here`);
      });
    /** The policy an alert with these labels ends at (first matching child, recursively). */
    const route = (p: Policy, labels: Record<string, string>): Policy => {
      const child = (p.routes ?? []).find((r) => matches(r, labels));
      return child ? route(child, labels) : p;
    };
    const all = (p: Policy): Policy[] => [p, ...(p.routes ?? []).flatMap(all)];
    for (const p of all(root)) expect(names).toContain(p.receiver);
    for (const rule of rules) {
      const labels = { ...rule.labels, alertname: rule.title, grafana_folder: 'Agent Insights' };
      const p = route(root, labels);
      expect(p).not.toBe(root);
      expect(p.receiver).toBe(contactPoint.name);
      expect(p.group_by).toEqual(expect.arrayContaining(['alertname', 'agent']));
      const groupBy = rule.data.find((d) => d.model.groupBy)?.model.groupBy as string | undefined;
      if (groupBy) expect(p.group_by).toContain(groupBy);
    }
  });
});
