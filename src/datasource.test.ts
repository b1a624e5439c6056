import {
  CoreApp,
  DataFrame,
  DataQueryRequest,
  DataQueryResponse,
  DataSourceInstanceSettings,
  dateTime,
  FieldType,
  LoadingState,
  createDataFrame,
} from '@grafana/data';
import { BackendSrv, GrafanaLiveSrv, setBackendSrv, setGrafanaLiveSrv, setTemplateSrv } from '@grafana/runtime';
import { firstValueFrom, lastValueFrom, of } from 'rxjs';
import { toArray } from 'rxjs/operators';

import { DataSource } from './datasource';
import { liveRunsPath } from './live';
import { RUN_TRACE_LINK_TITLE } from './links';
import { FakeTemplateSrv } from './test/templateSrv';
import { AgentVariableSupport } from './variables';
import { AgentInsightsOptions, AgentQuery, VariableQuery } from './types';

const settings = {
  id: 7,
  uid: 'agent-insights-uid',
  type: 'agentinsights-agentinsights-datasource',
  name: 'Agent Insights',
  access: 'proxy',
  readOnly: false,
  jsonData: { url: 'http://localhost:4318' },
  meta: { id: 'agentinsights-agentinsights-datasource', info: { version: '0.1.0' } },
} as unknown as DataSourceInstanceSettings<AgentInsightsOptions>;

const range = {
  from: dateTime(1_700_000_000_000),
  to: dateTime(1_700_003_600_000),
  raw: { from: 'now-1h', to: 'now' },
};

function request(
  targets: AgentQuery[],
  extra: Partial<DataQueryRequest<AgentQuery>> = {}
): DataQueryRequest<AgentQuery> {
  return {
    requestId: 'Q1',
    interval: '1m',
    intervalMs: 60_000,
    maxDataPoints: 500,
    range,
    scopedVars: {},
    targets,
    timezone: 'browser',
    app: CoreApp.Dashboard,
    startTime: 0,
    ...extra,
  };
}

/** A runs table as the server sends it (the SDK's frame JSON). */
function runsFrameJson(refId: string) {
  return {
    schema: {
      name: 'runs',
      refId,
      fields: [
        { name: 'Run', type: 'string', typeInfo: { frame: 'string' } },
        { name: 'Agent', type: 'string', typeInfo: { frame: 'string' } },
      ],
    },
    data: {
      values: [
        ['trace1:span1', 'trace2:span2'],
        ['support', 'billing'],
      ],
    },
  };
}

let templateSrv: FakeTemplateSrv;
let fetch: jest.Mock;
let getDataStream: jest.Mock;
let ds: DataSource;

beforeEach(() => {
  templateSrv = new FakeTemplateSrv([
    { name: 'agent', value: ['support', 'billing'], options: ['support', 'billing', 'triage'] },
    { name: 'env', value: '$__all', options: ['prod', 'staging'] },
    { name: 'status', value: ['failed'], options: ['completed', 'failed'] },
    { name: 'tool', value: 'search', options: ['search', 'browse'] },
    { name: 'limit', value: '50' },
    { name: 'metric', value: 'errorRate' },
  ]);
  setTemplateSrv(templateSrv);
  fetch = jest.fn(() =>
    of({
      data: { results: { A: { status: 200, frames: [runsFrameJson('A')] } } },
      status: 200,
      ok: true,
      headers: {},
      url: '',
    })
  );
  setBackendSrv({ fetch } as unknown as BackendSrv);
  getDataStream = jest.fn(() =>
    of<DataQueryResponse>({
      state: LoadingState.Streaming,
      data: [
        createDataFrame({
          name: 'runs',
          fields: [{ name: 'Run', type: FieldType.string, values: ['trace3:span3'] }],
        }),
      ],
    })
  );
  setGrafanaLiveSrv({ getDataStream } as unknown as GrafanaLiveSrv);
  ds = new DataSource(settings);
});

afterEach(() => jest.restoreAllMocks());

/** The queries the data source sent to Grafana's /api/ds/query. */
function sentQueries(): Array<AgentQuery & Record<string, unknown>> {
  expect(fetch).toHaveBeenCalledTimes(1);
  return fetch.mock.calls[0][0].data.queries;
}

describe('defaults', () => {
  it('starts a new panel with the runs table of the query model', () => {
    expect(ds.getDefaultQuery(CoreApp.PanelEditor)).toEqual({ queryType: 'runs', filters: {}, limit: 100 });
  });

  it('skips hidden queries', () => {
    expect(ds.filterQuery({ refId: 'A', queryType: 'runs', hide: true })).toBe(false);
    expect(ds.filterQuery({ refId: 'A', queryType: 'runs' })).toBe(true);
  });

  it('skips a run-detail query until its run is chosen', () => {
    templateSrv.setVariables([{ name: 'run', value: '', options: [] }]);
    expect(ds.filterQuery({ refId: 'A', queryType: 'runTrace', runId: '$run' })).toBe(false);
    expect(ds.filterQuery({ refId: 'A', queryType: 'runSteps' })).toBe(false);
    templateSrv.setVariables([{ name: 'run', value: 'abc-123', options: ['abc-123'] }]);
    expect(ds.filterQuery({ refId: 'A', queryType: 'runEvents', runId: '$run' })).toBe(true);
  });
});

describe('applyTemplateVariables', () => {
  it('expands a multi-value variable to several filter values', () => {
    const q = ds.applyTemplateVariables(
      { refId: 'A', queryType: 'runs', filters: { agent: ['$agent'], status: ['${status}'] } },
      {}
    );
    expect(q.filters).toEqual({ agent: ['support', 'billing'], status: ['failed'] });
  });

  it('drops a filter whose variable is set to "All" instead of listing every value', () => {
    const q = ds.applyTemplateVariables(
      { refId: 'A', queryType: 'runs', filters: { environment: ['$env'], agent: ['$agent'] } },
      {}
    );
    expect(q.filters).toEqual({ agent: ['support', 'billing'] });
    expect(q.filters).not.toHaveProperty('environment');
  });

  it('drops "All" also when the variable has a custom all value', () => {
    templateSrv.setVariables([{ name: 'env', value: '$__all', options: ['prod'], allValue: '*' }]);
    const q = ds.applyTemplateVariables(
      { refId: 'A', queryType: 'runs', filters: { environment: ['${env:csv}'] } },
      {}
    );
    expect(q.filters).toEqual({});
  });

  it('uses the scoped value of a repeated panel', () => {
    const q = ds.applyTemplateVariables(
      { refId: 'A', queryType: 'runs', filters: { agent: ['$agent'] } },
      { agent: { text: 'triage', value: 'triage' } }
    );
    expect(q.filters).toEqual({ agent: ['triage'] });
  });

  it('keeps literal values, removes duplicates and empty lists', () => {
    const q = ds.applyTemplateVariables(
      { refId: 'A', queryType: 'runs', filters: { agent: ['support', '$agent'], model: [] } },
      {}
    );
    expect(q.filters).toEqual({ agent: ['support', 'billing'] });
  });

  it('interpolates every text and number option', () => {
    const q = ds.applyTemplateVariables(
      {
        refId: 'A',
        queryType: 'timeSeries',
        metric: '$metric',
        groupBy: '$groupBy',
        limit: '$limit',
        search: 'conv-$tool',
        runId: '${tool}',
      },
      { groupBy: { text: 'agent', value: 'agent' } }
    );
    expect(q).toMatchObject({
      metric: 'errorRate',
      groupBy: 'agent',
      limit: 50,
      search: 'conv-search',
      runId: 'search',
    });
  });

  it('merges ad hoc filters given by Grafana: "=" narrows, labels map to dimensions, "!=" is ignored', () => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => {});
    const q = ds.applyTemplateVariables({ refId: 'A', queryType: 'runs', filters: { agent: ['$agent'] } }, {}, [
      { key: 'agent', operator: '=', value: 'billing' },
      { key: 'Model', operator: '=', value: 'gpt-4o' },
      { key: 'tool', operator: '!=', value: 'search' },
      { key: 'environment', operator: '=|', value: 'prod', values: ['prod', 'staging'] },
    ]);
    expect(q.filters).toEqual({ agent: ['billing'], model: ['gpt-4o'], environment: ['prod', 'staging'] });
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('only "=" is supported'));
  });

  it('lets an ad hoc filter replace a panel filter it does not overlap', () => {
    const q = ds.applyTemplateVariables({ refId: 'A', queryType: 'runs', filters: { agent: ['support'] } }, {}, [
      { key: 'agent', operator: '=', value: 'triage' },
    ]);
    expect(q.filters).toEqual({ agent: ['triage'] });
  });

  it('reads ad hoc filters from the TemplateSrv when Grafana does not pass them', () => {
    templateSrv.adhoc = [{ key: 'channel', operator: '=', value: 'voice' }];
    const q = ds.applyTemplateVariables({ refId: 'A', queryType: 'runs', filters: {} }, {});
    expect(q.filters).toEqual({ channel: ['voice'] });
  });
});

describe('query', () => {
  it('sends each query with the dashboard time zone, variables filled, hidden queries left out', async () => {
    await firstValueFrom(
      ds.query(
        request(
          [
            { refId: 'A', queryType: 'runs', filters: { agent: ['$agent'], environment: ['$env'] }, limit: 100 },
            { refId: 'B', queryType: 'runStats', hide: true },
          ],
          { timezone: 'Europe/Berlin' }
        )
      )
    );
    const [query, ...rest] = sentQueries();
    expect(rest).toHaveLength(0);
    expect(query).toMatchObject({
      refId: 'A',
      queryType: 'runs',
      timezone: 'Europe/Berlin',
      filters: { agent: ['support', 'billing'] },
    });
    expect(query.filters).not.toHaveProperty('environment');
  });

  it("resolves the 'browser' time zone to the browser's IANA zone and 'utc' to UTC", async () => {
    const resolved = Intl.DateTimeFormat().resolvedOptions();
    jest
      .spyOn(Intl.DateTimeFormat.prototype, 'resolvedOptions')
      .mockReturnValue({ ...resolved, timeZone: 'Asia/Tokyo' });
    await firstValueFrom(ds.query(request([{ refId: 'A', queryType: 'runs' }], { timezone: 'browser' })));
    expect(sentQueries()[0].timezone).toBe('Asia/Tokyo');
    fetch.mockClear();
    await firstValueFrom(ds.query(request([{ refId: 'A', queryType: 'runs' }], { timezone: 'utc' })));
    expect(sentQueries()[0].timezone).toBe('UTC');
  });

  it('links each run of a runs table to its trace in this data source', async () => {
    const rsp = await firstValueFrom(ds.query(request([{ refId: 'A', queryType: 'runs' }])));
    const frame = rsp.data[0] as DataFrame;
    const run = frame.fields.find((f) => f.name === 'Run')!;
    expect(run.config.links).toEqual([
      {
        title: RUN_TRACE_LINK_TITLE,
        url: '',
        internal: {
          datasourceUid: 'agent-insights-uid',
          datasourceName: 'Agent Insights',
          query: { refId: 'A', queryType: 'runTrace', runId: '${__value.raw}' },
        },
      },
    ]);
    expect(frame.fields.find((f) => f.name === 'Agent')!.config.links).toBeUndefined();
    expect(frame.meta?.preferredVisualisationType).toBe('table');
  });

  it('subscribes a live runs query to the runs channel of this data source, replacing the table', async () => {
    const responses = await lastValueFrom(
      ds
        .query(
          request([
            {
              refId: 'A',
              queryType: 'runs',
              live: true,
              limit: '$limit',
              filters: { status: ['$status'], agent: ['$agent'], environment: ['$env'] },
            },
          ])
        )
        .pipe(toArray())
    );
    expect(fetch).not.toHaveBeenCalled();
    expect(getDataStream).toHaveBeenCalledTimes(1);
    const options = getDataStream.mock.calls[0][0];
    const data = { filters: { agent: ['billing', 'support'], status: ['failed'] }, limit: 50, range: 3_600_000 };
    expect(options.addr).toEqual({
      scope: 'ds',
      stream: 'agent-insights-uid',
      namespace: 'agent-insights-uid',
      path: liveRunsPath(data),
      data,
    });
    expect(options.addr.path).toMatch(/^runs\/[0-9a-f]{16}$/);
    expect(options.buffer).toEqual({ action: 'replace' });

    const frame = responses[0].data[0] as DataFrame;
    expect(frame.refId).toBe('A');
    expect(frame.fields[0].config.links?.[0].internal?.query).toMatchObject({
      queryType: 'runTrace',
      runId: '${__value.raw}',
    });
  });

  it('gives the same channel to the same live query and another to a different one', () => {
    const path = (q: AgentQuery) => {
      getDataStream.mockClear();
      ds.query(request([q])).subscribe();
      return getDataStream.mock.calls[0][0].addr.path;
    };
    const a = path({
      refId: 'A',
      queryType: 'runs',
      live: true,
      limit: 100,
      filters: { agent: ['x', 'y'], status: ['failed'] },
    });
    const b = path({
      refId: 'B',
      queryType: 'runs',
      live: true,
      limit: 100,
      filters: { status: ['failed'], agent: ['y', 'x'] },
    });
    const c = path({
      refId: 'A',
      queryType: 'runs',
      live: true,
      limit: 10,
      filters: { agent: ['x', 'y'], status: ['failed'] },
    });
    expect(a).toBe(b);
    expect(c).not.toBe(a);
  });

  it('runs live and other queries side by side', async () => {
    await lastValueFrom(
      ds
        .query(
          request([
            { refId: 'A', queryType: 'runs', live: true },
            { refId: 'B', queryType: 'runStats' },
          ])
        )
        .pipe(toArray())
    );
    expect(getDataStream).toHaveBeenCalledTimes(1);
    expect(sentQueries().map((q) => q.refId)).toEqual(['B']);
  });
});

describe('resources for variables and ad hoc filters', () => {
  it('lists ad hoc filter keys from the values resource', async () => {
    const getResource = jest.spyOn(ds, 'getResource').mockResolvedValue({ keys: [{ key: 'agent', label: 'Agent' }] });
    await expect(ds.getTagKeys()).resolves.toEqual([{ text: 'Agent', value: 'agent' }]);
    expect(getResource).toHaveBeenCalledWith('values');
  });

  it('lists ad hoc filter values in the time range, narrowed by the other "=" filters', async () => {
    const getResource = jest.spyOn(ds, 'getResource').mockResolvedValue({ values: ['web_search', 'calculator'] });
    const values = await ds.getTagValues({
      key: 'tool',
      timeRange: range,
      filters: [
        { key: 'agent', operator: '=', value: 'support' },
        { key: 'tool', operator: '=', value: 'web_search' },
        { key: 'model', operator: '!=', value: 'gpt-4o' },
      ],
    });
    expect(values).toEqual([
      { text: 'web_search', value: 'web_search' },
      { text: 'calculator', value: 'calculator' },
    ]);
    expect(getResource).toHaveBeenCalledWith('values/tool', {
      from: 1_700_000_000_000,
      to: 1_700_003_600_000,
      agent: ['support'],
    });
  });

  it('gives a variable the values of its dimension, filtered by other variables ("All" dropped)', async () => {
    const getResource = jest.spyOn(ds, 'getResource').mockResolvedValue({ values: ['web_search'] });
    const query: VariableQuery = {
      refId: 'tools',
      dimension: 'tool',
      filters: { agent: ['$agent'], environment: ['$env'] },
    };
    const variables = ds.variables as AgentVariableSupport;
    const rsp = await firstValueFrom(
      variables.query({ ...request([]), targets: [query] } as unknown as DataQueryRequest<VariableQuery>)
    );
    expect(getResource).toHaveBeenCalledWith('values/tool', {
      from: 1_700_000_000_000,
      to: 1_700_003_600_000,
      agent: ['support', 'billing'],
    });
    const frame = rsp.data[0] as DataFrame;
    expect(frame.fields.map((f) => [f.name, f.values])).toEqual([
      ['text', ['web_search']],
      ['value', ['web_search']],
    ]);
  });

  it('accepts a variable query written as a plain dimension name', async () => {
    const getResource = jest.spyOn(ds, 'getResource').mockResolvedValue({ values: ['prod'] });
    await expect(ds.metricFindQuery('environment', { range })).resolves.toEqual([{ text: 'prod', value: 'prod' }]);
    expect(getResource).toHaveBeenCalledWith('values/environment', { from: 1_700_000_000_000, to: 1_700_003_600_000 });
  });
});
