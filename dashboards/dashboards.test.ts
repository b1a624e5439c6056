/**
 * @jest-environment-options {"customExportConditions": ["node", "require", "default"]}
 *
 * The provisioned dashboards, data source, dashboard provider and compose stack, checked without
 * a Grafana: every file is valid and agrees with the others (data source uid, plugin id, paths),
 * panel types exist in Grafana, variables resolve, links lead to dashboards that exist, every
 * panel query is a query of the one query model after the plugin fills its variables (with "All",
 * with several values, with ad hoc filters), and each panel's field selectors and transformations
 * (run with Grafana's own transformers from @grafana/data) find their fields in the server's real
 * answers (tests/golden/frames). Running every query against a server, through the built plugin
 * executable, is the plugin host test's part (tests/host/provisioned_test.go).
 */
import fs from 'fs';
import path from 'path';
import { firstValueFrom } from 'rxjs';
import {
  createTheme,
  DataFrame,
  DataFrameJSON,
  dataFrameFromJSON,
  DataTransformerConfig,
  DataTransformerInfo,
  getFieldDisplayName,
  getFieldDisplayValues,
  rangeUtil,
  ReduceDataOptions,
  standardTransformers,
  standardTransformersRegistry,
  stringToJsRegex,
  transformDataFrame,
} from '@grafana/data';
import { DIMENSIONS, parseQuery, QueryType } from '@agent-insights/model';

import { variableNames } from '../src/interpolation';
import {
  alertingFiles,
  alertQueries,
  allPanels,
  Dashboard,
  DATASOURCE_UID,
  EXPRESSION_UID,
  loadDashboards,
  Panel,
  panelQueries,
  PLUGIN_ID,
  PROVISIONING_DIR,
  readYaml,
  REPO_ROOT,
  VariableValues,
} from '../tests/provisioning/provisioning';

// Grafana's transformers, registered as Grafana registers them at start (the deprecated
// seriesToColumns alias repeats joinByField's id).
standardTransformersRegistry.setInit(() =>
  [...new Map(Object.values(standardTransformers).map((t) => [t.id, t])).values()].map((t) => ({
    id: t.id,
    name: t.name,
    description: t.description,
    transformation: () => Promise.resolve(t as DataTransformerInfo),
    editor: () => null,
    imageDark: '',
    imageLight: '',
  }))
);

/** Panel types built into Grafana 12 and 13 (no panel plugin needs installing). */
const CORE_PANEL_TYPES = [
  'alertlist',
  'annolist',
  'barchart',
  'bargauge',
  'candlestick',
  'canvas',
  'dashlist',
  'datagrid',
  'flamegraph',
  'gauge',
  'geomap',
  'heatmap',
  'histogram',
  'logs',
  'news',
  'nodeGraph',
  'piechart',
  'row',
  'stat',
  'state-timeline',
  'status-history',
  'table',
  'text',
  'timeseries',
  'traces',
  'trend',
  'xychart',
];

/** Whether a version satisfies a `>=x.y.z` range (the form of grafanaDependency). */
function satisfiesAtLeast(version: string, range: string): boolean {
  const floor = range.match(/^>=\s*(\d+)\.(\d+)\.(\d+)$/);
  if (!floor) {
    throw new Error(`grafanaDependency ${range}: expected the form >=x.y.z`);
  }
  const v = version.split('.').map(Number);
  const f = floor.slice(1).map(Number);
  for (let i = 0; i < 3; i++) {
    if (v[i] !== f[i]) {
      return v[i] > f[i];
    }
  }
  return true;
}

/** Variables Grafana itself provides (data links, panel links, URLs). */
const isBuiltIn = (name: string) => name.startsWith('__');

const SHARED_VARIABLES = ['environment', 'agent', 'tool', 'model'];

/** The panel type each query type is drawn with, where it matters. */
const PANEL_FOR_QUERY: Partial<Record<string, QueryType[]>> = {
  traces: ['runTrace'],
  logs: ['runEvents'],
  heatmap: ['heatmap'],
  timeseries: ['timeSeries', 'creditForecast', 'llmTokens'],
};

/** A real answer of the server for each query type (kept true by server/src/query/golden.test.ts). */
const GOLDEN: Record<QueryType, string> = {
  runs: 'runs.json',
  runTrace: 'run-trace.json',
  runSteps: 'run-steps.json',
  runEvents: 'run-events.json',
  runStats: 'run-stats.json',
  timeSeries: 'time-series-runs-by-agent.json',
  toolMetrics: 'tool-metrics.json',
  toolErrors: 'tool-errors.json',
  llmTokens: 'llm-tokens-day.json',
  creditForecast: 'credit-forecast-week-over-budget.json',
  modelShare: 'model-share.json',
  costPerConversation: 'cost-per-conversation.json',
  heatmap: 'heatmap-hour-of-day-berlin.json',
  sessionStats: 'session-stats.json',
};

function goldenFrames(queryType: QueryType): DataFrame[] {
  const file = path.join(REPO_ROOT, 'tests', 'golden', 'frames', GOLDEN[queryType]);
  const answer = JSON.parse(fs.readFileSync(file, 'utf8')) as { results: Record<string, { frames: DataFrameJSON[] }> };
  return Object.values(answer.results)[0].frames.map((f) => dataFrameFromJSON(f));
}

const dashboards = loadDashboards();
const byUid = new Map(dashboards.map((d) => [d.dashboard.uid, d.dashboard]));
const RANGE = {
  range: { from: Date.parse('2026-01-01T00:00:00Z'), to: Date.parse('2026-01-08T00:00:00Z') },
  timezone: 'Europe/Berlin',
};

/** Every string in a JSON value, with where it is. */
function strings(value: unknown, at = ''): Array<[string, string]> {
  if (typeof value === 'string') {
    return [[at, value]];
  }
  if (Array.isArray(value)) {
    return value.flatMap((v, i) => strings(v, `${at}[${i}]`));
  }
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => strings(v, at ? `${at}.${k}` : k));
  }
  return [];
}

/** Every object with a `datasource` member, with where it is. */
function datasourceRefs(value: unknown, at = ''): Array<[string, unknown]> {
  if (Array.isArray(value)) {
    return value.flatMap((v, i) => datasourceRefs(v, `${at}[${i}]`));
  }
  if (value && typeof value === 'object') {
    const own: Array<[string, unknown]> =
      'datasource' in value ? [[at, (value as { datasource: unknown }).datasource]] : [];
    return [...own, ...Object.entries(value).flatMap(([k, v]) => datasourceRefs(v, at ? `${at}.${k}` : k))];
  }
  return [];
}

/** Dashboard uids that a URL or markdown text links to (/d/<uid>). */
function linkedUids(text: string): string[] {
  return [...text.matchAll(/\/d\/([A-Za-z0-9_-]+)/g)].map((m) => m[1]);
}

function dataPanels(dashboard: Dashboard): Panel[] {
  return allPanels(dashboard).filter((p) => (p.targets ?? []).length > 0);
}

function nameOf(p: Panel): string {
  return `#${p.id} "${p.title}"`;
}

async function transformed(panel: Panel, frames: DataFrame[]): Promise<DataFrame[]> {
  const transformations = (panel.transformations ?? []) as DataTransformerConfig[];
  return transformations.length ? firstValueFrom(transformDataFrame(transformations, frames)) : frames;
}

function fieldNames(frames: DataFrame[]): string[] {
  return frames.flatMap((f) => f.fields.map((field) => getFieldDisplayName(field, f, frames)));
}

describe('dashboards', () => {
  it('there is one per section, each with a unique, stable uid and title', () => {
    const titles = dashboards.map((d) => d.dashboard.title);
    expect(titles).toEqual(
      expect.arrayContaining([
        'Agent Insights: Overview',
        'Agent Insights: Live runs',
        'Agent Insights: Agent runs',
        'Agent Insights: Tools',
        'Agent Insights: LLM usage and cost',
        'Agent Insights: Voice and video',
      ])
    );
    expect(new Set(byUid.keys()).size).toBe(dashboards.length);
    expect(new Set(titles).size).toBe(dashboards.length);
    for (const { dashboard } of dashboards) {
      expect(dashboard.uid).toMatch(/^[a-z0-9-]{1,40}$/);
    }
  });

  describe.each(dashboards.map((d) => [d.file, d] as const))('%s', (file, { dashboard }) => {
    const panels = allPanels(dashboard);
    const defined = new Set(dashboard.templating.list.map((v) => v.name));

    it('is a classic dashboard JSON model that Grafana 12 and 13 read', () => {
      expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
      expect(dashboard.schemaVersion).toBeLessThanOrEqual(41);
      expect(Array.isArray(dashboard.panels)).toBe(true);
      expect(dashboard).not.toHaveProperty('id', expect.any(Number));
      expect(dashboard.tags).toContain('agent-insights');
      expect(typeof dashboard.description).toBe('string');
    });

    it('uses only the provisioned Agent Insights data source, by its pinned uid', () => {
      const refs = datasourceRefs(dashboard).filter(([, ref]) => ref !== undefined);
      expect(refs.length).toBeGreaterThan(0);
      for (const [at, ref] of refs) {
        const r = ref as { type?: string; uid?: string };
        if (r.uid === '-- Grafana --' && at.startsWith('annotations')) {
          continue; // Grafana's built-in annotations
        }
        expect({ at, ...r }).toEqual({ at, type: PLUGIN_ID, uid: DATASOURCE_UID });
      }
      for (const p of dataPanels(dashboard)) {
        expect({ panel: nameOf(p), uid: p.datasource?.uid }).toEqual({ panel: nameOf(p), uid: DATASOURCE_UID });
      }
    });

    it('has panels of types built into Grafana, with unique ids, a place, a title and a description', () => {
      const ids = panels.map((p) => p.id);
      expect(new Set(ids).size).toBe(ids.length);
      for (const p of panels) {
        expect({ panel: nameOf(p), type: CORE_PANEL_TYPES.includes(p.type) }).toEqual({ panel: nameOf(p), type: true });
        expect(p.gridPos).toEqual(
          expect.objectContaining({
            x: expect.any(Number),
            y: expect.any(Number),
            w: expect.any(Number),
            h: expect.any(Number),
          })
        );
        expect(p.gridPos!.x + p.gridPos!.w).toBeLessThanOrEqual(24);
        if (p.targets?.length) {
          expect({ panel: nameOf(p), title: p.title.length > 3 }).toEqual({ panel: nameOf(p), title: true });
          expect({ panel: nameOf(p), description: (p.description ?? '').length > 20 }).toEqual({
            panel: nameOf(p),
            description: true,
          });
        }
      }
    });

    it('gives every figure a unit', () => {
      for (const p of dataPanels(dashboard).filter((x) =>
        ['stat', 'timeseries', 'barchart', 'bargauge', 'piechart', 'heatmap', 'gauge'].includes(x.type)
      )) {
        expect({ panel: nameOf(p), unit: typeof p.fieldConfig?.defaults.unit }).toEqual({
          panel: nameOf(p),
          unit: 'string',
        });
      }
    });

    it('shares the agent, tool, model and environment variables (multi-value, "All" without a custom value) and ad hoc filters', () => {
      for (const name of SHARED_VARIABLES) {
        const v = dashboard.templating.list.find((x) => x.name === name);
        expect(v).toEqual(
          expect.objectContaining({
            type: 'query',
            multi: true,
            includeAll: true,
            datasource: { type: PLUGIN_ID, uid: DATASOURCE_UID },
          })
        );
        // With no custom all value, Grafana sends "$__all" and the plugin drops the filter.
        expect(v!.allValue ?? null).toBeNull();
        const query = v!.query as { dimension: string; filters?: Record<string, string[]> };
        expect(query.dimension).toBe(name);
        expect(Object.keys(query.filters ?? {}).every((d) => (DIMENSIONS as readonly string[]).includes(d))).toBe(true);
      }
      expect(dashboard.templating.list.filter((v) => v.type === 'adhoc')).toEqual([
        expect.objectContaining({ datasource: { type: PLUGIN_ID, uid: DATASOURCE_UID } }),
      ]);
    });

    it('uses only variables it defines (or Grafana built-ins)', () => {
      const names = new Set(dashboard.templating.list.map((v) => v.name));
      expect(names.size).toBe(dashboard.templating.list.length);
      const unresolved = strings(dashboard)
        .flatMap(([at, text]) => variableNames(text).map((name) => ({ at, name })))
        .filter(({ name }) => !defined.has(name) && !isBuiltIn(name));
      expect(unresolved).toEqual([]);
      // A variable's own query may only use variables defined before it (Grafana resolves in order).
      dashboard.templating.list.forEach((v, i) => {
        const before = new Set(dashboard.templating.list.slice(0, i).map((x) => x.name));
        for (const [, text] of strings(v.query)) {
          for (const name of variableNames(text)) {
            expect({ variable: v.name, uses: name, definedBefore: before.has(name) }).toEqual({
              variable: v.name,
              uses: name,
              definedBefore: true,
            });
          }
        }
      });
    });

    it('links to every other section, and every link leads to a dashboard that exists', () => {
      const others = dashboards.map((d) => d.dashboard.uid).filter((uid) => uid !== dashboard.uid);
      const top = dashboard.links.flatMap((l) =>
        l.type === 'dashboards'
          ? dashboards
              .filter((d) => (l.tags ?? []).every((t) => d.dashboard.tags?.includes(t)))
              .map((d) => d.dashboard.uid)
          : linkedUids(l.url ?? '')
      );
      expect(new Set(top)).toEqual(new Set(others));
      for (const l of dashboard.links) {
        expect(l).toEqual(expect.objectContaining({ keepTime: true, includeVars: true }));
      }
      for (const [at, text] of strings(dashboard.panels)) {
        for (const uid of linkedUids(text)) {
          expect({ at, uid, exists: byUid.has(uid) }).toEqual({ at, uid, exists: true });
        }
      }
    });

    it('has valid relative times on panels that show a fixed window', () => {
      for (const p of panels.filter((x) => x.timeFrom)) {
        expect({ panel: nameOf(p), timeFrom: p.timeFrom, valid: rangeUtil.isValidTimeSpan(p.timeFrom!) }).toEqual({
          panel: nameOf(p),
          timeFrom: p.timeFrom,
          valid: true,
        });
      }
    });

    it('draws each query type with a panel that shows it', () => {
      for (const q of panelQueries({ file, dashboard }, { run: 'r' })) {
        const allowed = PANEL_FOR_QUERY[q.panelType];
        if (allowed) {
          expect({ panel: q.name, queryType: q.query.queryType, ok: allowed.includes(q.query.queryType) }).toEqual({
            panel: q.name,
            queryType: q.query.queryType,
            ok: true,
          });
        }
        for (const [panelType, types] of Object.entries(PANEL_FOR_QUERY)) {
          if (panelType !== 'timeseries' && types!.includes(q.query.queryType)) {
            expect({ panel: q.name, type: q.panelType }).toEqual({ panel: q.name, type: panelType });
          }
        }
      }
    });

    const scenarios: Array<
      [string, VariableValues, Array<{ key: string; operator: string; value: string; values?: string[] }>]
    > = [
      ['"All" everywhere (as the dashboard opens)', { run: 'da7a5e70000000000000000000000001-00000000000003e8' }, []],
      [
        'several values, a search, a run',
        {
          environment: ['production', 'staging'],
          agent: ['support-triage', 'billing-bot'],
          tool: ['web_search'],
          model: ['gpt-4o', 'claude-sonnet-4'],
          search: 'c1',
          run: 'da7a5e70000000000000000000000001',
        },
        [],
      ],
      [
        'ad hoc filters',
        { agent: ['support-triage'], run: 'r1' },
        [
          { key: 'channel', operator: '=', value: 'voice' },
          { key: 'Agent version', operator: '=', value: '1.2.0' },
        ],
      ],
    ];

    it.each(scenarios)('every panel query is a valid query of the model with %s', (_, values, adhoc) => {
      const queries = panelQueries({ file, dashboard }, values, adhoc);
      expect(queries.length).toBe(
        dataPanels(dashboard).reduce((n, p) => n + p.targets!.filter((t) => !t.hide).length, 0)
      );
      for (const q of queries) {
        let parsed;
        try {
          parsed = parseQuery(q.query, RANGE);
        } catch (e) {
          throw new Error(`${q.name}: ${(e as Error).message} in ${JSON.stringify(q.query)}`);
        }
        expect(JSON.stringify(q.query)).not.toMatch(/\$|\[\[/);
        const filters = parsed.filters;
        for (const name of SHARED_VARIABLES) {
          const dimension = name as keyof typeof filters;
          const wanted = values[name];
          const adhocValue = adhoc.find((a) => a.key === name)?.value;
          const usesVariable = JSON.stringify((q.target as { filters?: unknown }).filters ?? {}).includes(`$${name}`);
          if (!usesVariable && !adhocValue) {
            continue;
          }
          // "All" (the default) drops the filter; chosen values become the filter.
          expect({ query: q.name, dimension, values: filters[dimension] }).toEqual({
            query: q.name,
            dimension,
            values: wanted === undefined || wanted === '$__all' ? (adhocValue ? [adhocValue] : undefined) : wanted,
          });
        }
        for (const a of adhoc) {
          const dimension = a.key === 'Agent version' ? 'agentVersion' : a.key;
          if (!SHARED_VARIABLES.includes(dimension)) {
            expect({ query: q.name, [dimension]: filters[dimension as keyof typeof filters] }).toEqual({
              query: q.name,
              [dimension]: [a.value],
            });
          }
        }
      }
    });

    it('every choice of its list variables gives valid queries', () => {
      for (const v of dashboard.templating.list.filter((x) => x.type === 'custom')) {
        for (const option of v.options ?? []) {
          for (const q of panelQueries({ file, dashboard }, { [v.name]: option.value, run: 'r' })) {
            expect(() => parseQuery(q.query, RANGE)).not.toThrow();
          }
        }
      }
    });

    it("finds the fields it shows in the server's answers, after its transformations", async () => {
      for (const p of dataPanels(dashboard)) {
        const queryType = panelQueries({ file, dashboard: { ...dashboard, panels: [p] } }, { run: 'r' })[0].query
          .queryType;
        const frames = await transformed(p, goldenFrames(queryType));
        const names = fieldNames(frames);
        const where = `${file} ${nameOf(p)} (${queryType}: ${names.join(', ')})`;
        const reduce = p.options?.reduceOptions as ReduceDataOptions | undefined;
        if (reduce?.fields) {
          const pattern = stringToJsRegex(reduce.fields);
          expect({ where, matches: names.filter((n) => pattern.test(n)).length > 0 }).toEqual({ where, matches: true });
        }
        if (p.type === 'stat') {
          const shown = getFieldDisplayValues({
            data: frames,
            reduceOptions: reduce!,
            fieldConfig: p.fieldConfig as never,
            replaceVariables: (s: string) => s,
            theme: createTheme(),
            timeZone: 'utc',
          });
          expect({
            where,
            shown: shown.length > 0 && shown.every((s) => s.display.text !== '' && s.display.text !== 'No data'),
          }).toEqual({ where, shown: true });
        }
        if (p.type === 'barchart') {
          const xField = (p.options as { xField: string }).xField;
          expect({ where, xField: names.includes(xField), values: names.length > 1 }).toEqual({
            where,
            xField: true,
            values: true,
          });
        }
        if (queryType !== 'timeSeries') {
          for (const o of p.fieldConfig?.overrides ?? []) {
            if (o.matcher.id === 'byName') {
              expect({ where, override: o.matcher.options, exists: names.includes(String(o.matcher.options)) }).toEqual(
                { where, override: o.matcher.options, exists: true }
              );
            }
          }
        }
      }
    });
  });

  it('Live runs: the runs table streams, colours statuses and opens a run in the run-detail view of the same dashboard', () => {
    const live = byUid.get('agent-insights-live-runs')!;
    const table = allPanels(live).find((p) => p.targets?.[0]?.queryType === 'runs')!;
    expect(table.type).toBe('table');
    expect(table.targets![0]).toEqual(expect.objectContaining({ live: true, search: '$search' }));
    const status = table.fieldConfig!.overrides.find((o) => o.matcher.options === 'Status')!;
    const mappings = status.properties.find((p) => p.id === 'mappings')!.value as Array<{
      options: Record<string, { color: string }>;
    }>;
    expect(Object.fromEntries(Object.entries(mappings[0].options).map(([k, v]) => [k, v.color]))).toEqual({
      running: 'blue',
      completed: 'green',
      failed: 'red',
      timed_out: 'orange',
    });
    const run = table.fieldConfig!.overrides.find((o) => o.matcher.options === 'Run')!;
    const links = run.properties.find((p) => p.id === 'links')!.value as Array<{ url: string }>;
    expect(links[0].url).toMatch(new RegExp(`^/d/${live.uid}\\?var-run=\\$\\{__value\\.raw\\}`));
    for (const [type, queryType] of [
      ['traces', 'runTrace'],
      ['table', 'runSteps'],
      ['logs', 'runEvents'],
    ]) {
      expect(
        allPanels(live).filter(
          (p) => p.type === type && p.targets?.[0]?.queryType === queryType && p.targets[0].runId === '$run'
        )
      ).toHaveLength(1);
    }
    expect(live.templating.list.map((v) => [v.name, v.type])).toEqual(
      expect.arrayContaining([
        ['search', 'textbox'],
        ['run', 'textbox'],
      ])
    );
  });
});

describe('provisioning', () => {
  const datasources = readYaml<{ apiVersion: number; datasources: Array<Record<string, unknown>> }>(
    path.join(PROVISIONING_DIR, 'datasources', 'agent-insights.yml')
  );
  const providers = readYaml<{
    apiVersion: number;
    providers: Array<Record<string, unknown> & { options: { path: string } }>;
  }>(path.join(PROVISIONING_DIR, 'dashboards', 'agent-insights.yml'));
  const compose = readYaml<{
    services: Record<
      string,
      {
        image?: string;
        environment?: Record<string, string>;
        volumes?: string[];
        depends_on?: Record<string, { condition: string }>;
        healthcheck?: unknown;
      }
    >;
  }>(path.join(REPO_ROOT, 'docker-compose.yml'));
  const grafana = compose.services.grafana;

  it('provisions the one data source with the pinned uid, the plugin type, the server URL and the read key from the environment', () => {
    expect(fs.readdirSync(path.join(PROVISIONING_DIR, 'datasources')).filter((f) => /\.ya?ml$/.test(f))).toEqual([
      'agent-insights.yml',
    ]);
    expect(datasources.apiVersion).toBe(1);
    expect(datasources.datasources).toEqual([
      expect.objectContaining({
        uid: DATASOURCE_UID,
        type: PLUGIN_ID,
        access: 'proxy',
        jsonData: expect.objectContaining({ url: expect.stringMatching(/^\$\{?AGENT_INSIGHTS_\w+\}?$/) }),
        secureJsonData: { apiKey: expect.stringMatching(/^\$\{?AGENT_INSIGHTS_READ_KEY\}?$/) },
      }),
    ]);
  });

  it('gives Grafana every environment variable the provisioning files use', () => {
    const files = [
      path.join(PROVISIONING_DIR, 'datasources', 'agent-insights.yml'),
      path.join(PROVISIONING_DIR, 'dashboards', 'agent-insights.yml'),
      ...alertingFiles(),
    ];
    for (const file of files) {
      const text = fs.readFileSync(file, 'utf8').replace(/^\s*#.*$/gm, '');
      for (const m of text.matchAll(/\$\{?([A-Z][A-Z0-9_]+)\}?/g)) {
        expect({
          file: path.relative(REPO_ROOT, file),
          variable: m[1],
          given: m[1] in (grafana.environment ?? {}),
        }).toEqual({
          file: path.relative(REPO_ROOT, file),
          variable: m[1],
          given: true,
        });
      }
    }
  });

  it('provisions the dashboards folder, mounted where the provider reads it, in the folder "Agent Insights"', () => {
    expect(providers.apiVersion).toBe(1);
    expect(providers.providers).toHaveLength(1);
    const provider = providers.providers[0];
    expect(provider).toEqual(expect.objectContaining({ type: 'file', folder: 'Agent Insights' }));
    const volumes = grafana.volumes ?? [];
    expect(volumes).toContain(`./dashboards:${provider.options.path}:ro`);
    expect(volumes).toContain('./provisioning:/etc/grafana/provisioning:ro');
  });

  it("runs a pinned Grafana within the plugin's range, with the built plugin mounted and allowed unsigned", () => {
    const pluginJson = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'src', 'plugin.json'), 'utf8'));
    expect(pluginJson.id).toBe(PLUGIN_ID);
    const image = grafana.image ?? '';
    const m = image.match(
      /^grafana\/grafana(?:-oss|-enterprise)?:\$\{GRAFANA_VERSION:-(\d+\.\d+\.\d+)\}$|^grafana\/grafana(?:-oss|-enterprise)?:(\d+\.\d+\.\d+)$/
    );
    expect({ image, pinned: Boolean(m) }).toEqual({ image, pinned: true });
    const version = m![1] ?? m![2];
    expect({ version, inRange: satisfiesAtLeast(version, pluginJson.dependencies.grafanaDependency) }).toEqual({
      version,
      inRange: true,
    });
    expect(grafana.environment?.GF_PLUGINS_ALLOW_LOADING_UNSIGNED_PLUGINS).toBe(PLUGIN_ID);
    expect((grafana.volumes ?? []).some((v) => v.endsWith(`:/var/lib/grafana/plugins/${PLUGIN_ID}:ro`))).toBe(true);
    expect(grafana.healthcheck).toBeDefined();
    expect(grafana.depends_on?.server?.condition).toBe('service_healthy');
  });

  describe('alert rules', () => {
    const queries = alertQueries();
    const ruleQueries = queries.filter((q) => q.datasourceUid !== EXPRESSION_UID);

    (queries.length === 0 ? it.skip : it)(
      'query the provisioned data source, need no dashboard variable, and are queries of the model',
      () => {
        for (const q of ruleQueries) {
          expect({ query: q.name, uid: q.datasourceUid }).toEqual({ query: q.name, uid: DATASOURCE_UID });
          expect({ query: q.name, variables: variableNames(JSON.stringify(q.model)) }).toEqual({
            query: q.name,
            variables: [],
          });
          expect(() => parseQuery(q.model, RANGE)).not.toThrow();
        }
      }
    );

    (queries.length === 0 ? it.skip : it)('link to dashboard panels that exist', () => {
      const seen = new Set<string>();
      for (const q of queries) {
        const uid = q.annotations.__dashboardUid__;
        const panelId = q.annotations.__panelId__;
        if (!uid || seen.has(`${q.ruleUid}`)) {
          continue;
        }
        seen.add(`${q.ruleUid}`);
        const dashboard = byUid.get(uid);
        expect({ rule: q.ruleUid, dashboard: uid, exists: Boolean(dashboard) }).toEqual({
          rule: q.ruleUid,
          dashboard: uid,
          exists: true,
        });
        const panel = allPanels(dashboard!).find((p) => String(p.id) === String(panelId));
        expect({ rule: q.ruleUid, panel: panelId, exists: Boolean(panel) }).toEqual({
          rule: q.ruleUid,
          panel: panelId,
          exists: true,
        });
      }
    });
  });
});
