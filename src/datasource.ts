import {
  AdHocVariableFilter,
  CoreApp,
  DataQueryRequest,
  DataQueryResponse,
  DataSourceGetTagKeysOptions,
  DataSourceGetTagValuesOptions,
  DataSourceInstanceSettings,
  getTimeZone,
  LegacyMetricFindQueryOptions,
  LiveChannelScope,
  MetricFindValue,
  ScopedVars,
  StreamingFrameAction,
  TimeRange,
} from '@grafana/data';
import { DataSourceWithBackend, getGrafanaLiveSrv, getTemplateSrv, TemplateSrv } from '@grafana/runtime';
import { merge, Observable, of } from 'rxjs';
import { map } from 'rxjs/operators';
import { defaultQuery, Dimension, DIMENSION_LABELS, DIMENSIONS, Filters } from '@agent-insights/model';

import { interpolateFilters, interpolateQuery, resolveTimeZone, toDimension } from './interpolation';
import { decorateFrames } from './links';
import { liveRunsData, liveRunsPath } from './live';
import { AgentInsightsOptions, AgentQuery, QueryType, ValueKeysResponse, ValuesResponse, VariableQuery } from './types';
import { AgentVariableSupport, toVariableQuery } from './variables';

/** Grafana before scenes-powered dashboards handed ad hoc filters out through the TemplateSrv. */
type LegacyTemplateSrv = TemplateSrv & { getAdhocFilters?: (datasourceName: string) => AdHocVariableFilter[] };

function isLiveRuns(query: AgentQuery): boolean {
  return query.queryType === 'runs' && query.live === true;
}

/** Query types that show one run and need its id. */
const RUN_DETAIL_TYPES: readonly QueryType[] = ['runTrace', 'runSteps', 'runEvents'];

export class DataSource extends DataSourceWithBackend<AgentQuery, AgentInsightsOptions> {
  constructor(instanceSettings: DataSourceInstanceSettings<AgentInsightsOptions>) {
    super(instanceSettings);
    this.variables = new AgentVariableSupport(this);
  }

  /** A new panel or Explore pane starts with the runs table, which shows data at once. */
  getDefaultQuery(_: CoreApp): Partial<AgentQuery> {
    const { refId: _refId, ...query } = defaultQuery();
    return query;
  }

  /**
   * Skips hidden queries, and run-detail queries whose run is not chosen yet (a dashboard's `$run`
   * before a run is clicked): an empty panel, not a "runId is required" error.
   */
  filterQuery(query: AgentQuery): boolean {
    if (query.hide) return false;
    if (RUN_DETAIL_TYPES.includes(query.queryType)) {
      return getTemplateSrv().replace(query.runId ?? '').trim() !== '';
    }
    return true;
  }

  /**
   * Fills template variables in every option and filter ("All" drops a filter), then merges the
   * dashboard's ad hoc filters ('=' only). Ad hoc filters come as the argument on Grafana with
   * scenes-powered dashboards and from the TemplateSrv before that.
   */
  applyTemplateVariables(query: AgentQuery, scopedVars: ScopedVars, filters?: AdHocVariableFilter[]): AgentQuery {
    const templateSrv = getTemplateSrv();
    const adhoc = filters ?? (templateSrv as LegacyTemplateSrv).getAdhocFilters?.(this.name);
    return interpolateQuery(query, templateSrv, scopedVars, adhoc);
  }

  targetContainsTemplate(query: AgentQuery): boolean {
    const templateSrv = getTemplateSrv();
    const texts = [
      query.search,
      query.runId,
      query.metric,
      query.groupBy,
      query.period,
      query.heatmap,
      query.heatmapMetric,
      query.limit,
      query.budget,
    ];
    const filterValues = Object.values(query.filters ?? {}).flat();
    return [...texts, ...filterValues].some((t) => typeof t === 'string' && templateSrv.containsTemplate(t));
  }

  /**
   * Every query carries the dashboard's time zone; live runs queries subscribe to the backend's
   * `runs` stream (Grafana Live), the others go to the backend as usual. Runs tables get a link
   * from each run to its trace.
   */
  query(request: DataQueryRequest<AgentQuery>): Observable<DataQueryResponse> {
    const timezone = resolveTimeZone(getTimeZone({ timeZone: request.timezone }));
    const targets = request.targets.filter((q) => this.filterQuery(q)).map((q) => ({ ...q, timezone }));
    const queryTypes: Record<string, QueryType> = Object.fromEntries(targets.map((q) => [q.refId, q.queryType]));

    const streams: Array<Observable<DataQueryResponse>> = targets
      .filter(isLiveRuns)
      .map((q) => this.liveRuns(q, request));
    const others = targets.filter((q) => !isLiveRuns(q));
    if (others.length > 0) {
      streams.push(
        super
          .query({ ...request, targets: others })
          .pipe(map((rsp) => ({ ...rsp, data: decorateFrames(rsp.data ?? [], queryTypes, this) })))
      );
    }
    return streams.length > 0 ? merge(...streams) : of({ data: [] });
  }

  /**
   * A live runs table: complete snapshots on `ds/<uid>/runs/<hash>`, each replacing the last, of
   * the runs started within the dashboard range's length before now.
   */
  private liveRuns(query: AgentQuery, request: DataQueryRequest<AgentQuery>): Observable<DataQueryResponse> {
    const filled = this.applyTemplateVariables(query, request.scopedVars, request.filters);
    const data = liveRunsData(filled, request.range);
    const key = `agentinsights-live-${query.refId}`;
    return getGrafanaLiveSrv()
      .getDataStream({
        key,
        addr: {
          scope: LiveChannelScope.DataSource,
          // `stream` is the field's name from Grafana 12.x on; `namespace` keeps older runtimes working.
          stream: this.uid,
          // eslint-disable-next-line @typescript-eslint/no-deprecated
          namespace: this.uid,
          path: liveRunsPath(data),
          data,
        },
        buffer: { action: StreamingFrameAction.Replace },
      })
      .pipe(
        map((rsp) => {
          const frames = rsp.data ?? [];
          for (const frame of frames) {
            if (frame && !frame.refId) {
              frame.refId = query.refId;
            }
          }
          return { ...rsp, key, data: decorateFrames(frames, { [query.refId]: 'runs' }, this) };
        })
      );
  }

  getQueryDisplayText(query: AgentQuery): string {
    const filters = Object.entries(query.filters ?? {})
      .filter(([, values]) => values?.length)
      .map(([dimension, values]) => `${dimension}=${values!.join('|')}`);
    const detail = query.runId
      ? [`run ${query.runId}`]
      : query.metric && query.queryType === 'timeSeries'
        ? [String(query.metric)]
        : [];
    return [query.queryType, ...detail, ...filters, ...(query.live ? ['live'] : [])].join(' · ');
  }

  /** Values of one dimension seen in a time range, narrowed by filters on the other dimensions. */
  async dimensionValues(
    dimension: Dimension,
    options: { range?: TimeRange; filters?: Filters } = {}
  ): Promise<string[]> {
    const params: Record<string, string | number | string[]> = {};
    if (options.range) {
      params.from = options.range.from.valueOf();
      params.to = options.range.to.valueOf();
    }
    for (const [other, values] of Object.entries(options.filters ?? {})) {
      if (other !== dimension && values?.length) {
        params[other] = values;
      }
    }
    const response = await this.getResource<ValuesResponse>(`values/${dimension}`, params);
    return Array.isArray(response?.values) ? response.values.map(String) : [];
  }

  /** Ad hoc filter keys: the dimensions, as the server lists them. */
  async getTagKeys(_options?: DataSourceGetTagKeysOptions<AgentQuery>): Promise<MetricFindValue[]> {
    const response = await this.getResource<ValueKeysResponse>('values');
    const keys = Array.isArray(response?.keys)
      ? response.keys
      : DIMENSIONS.map((key) => ({ key, label: DIMENSION_LABELS[key] }));
    return keys.map(({ key, label }) => ({ text: label || key, value: key }));
  }

  /** Ad hoc filter values of one dimension, in the dashboard's time range and other '=' filters. */
  async getTagValues(options: DataSourceGetTagValuesOptions<AgentQuery>): Promise<MetricFindValue[]> {
    const dimension = toDimension(options.key);
    if (!dimension) {
      return [];
    }
    const filters: Filters = {};
    for (const f of options.filters ?? []) {
      const other = toDimension(f.key);
      if (other && other !== dimension && f.operator === '=') {
        filters[other] = [...(filters[other] ?? []), f.value];
      }
    }
    const values = await this.dimensionValues(dimension, { range: options.timeRange, filters });
    return values.map((value) => ({ text: value, value }));
  }

  /**
   * A dashboard variable's values: those of one dimension in the dashboard's time range, narrowed
   * by the variable's own filters, which may use other variables ("All" drops such a filter).
   */
  async metricFindQuery(
    query: VariableQuery | string,
    options?: LegacyMetricFindQueryOptions
  ): Promise<MetricFindValue[]> {
    const { dimension, filters } = toVariableQuery(query);
    if (!dimension) {
      return [];
    }
    const filled = interpolateFilters(filters, getTemplateSrv(), options?.scopedVars);
    const values = await this.dimensionValues(dimension, { range: options?.range, filters: filled });
    return values.map((value) => ({ text: value, value }));
  }
}
