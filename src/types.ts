/**
 * The plugin's types. The query itself is the one query model of the `@agent-insights/model`
 * workspace (model/src/query.ts); this file only adds what Grafana puts around it.
 */
import type { DataSourceJsonData } from '@grafana/data';
import type { DataQuery, DataSourceRef } from '@grafana/schema';
import type { AgentQuery as ModelQuery, Dimension, Filters } from '@agent-insights/model';

export type { Dimension, Filters, QueryType } from '@agent-insights/model';

/** A template variable as typed into an editor field: `$name`, `${name}`, `${name:format}`, `[[name]]`. */
export type VariableRef = `$${string}` | `[[${string}]]`;

/** Options whose editor field accepts a template variable in place of a value of the model. */
type TemplatableOption = 'limit' | 'budget' | 'metric' | 'groupBy' | 'period' | 'heatmap' | 'heatmapMetric';

/**
 * A query as a panel stores it: the model's AgentQuery, where an option may still hold a template
 * variable (filled by DataSource.applyTemplateVariables before the query leaves the browser), plus
 * Grafana's own envelope fields and the dashboard time zone the data source adds to each request.
 */
export type AgentQuery = Omit<ModelQuery, TemplatableOption> & {
  [K in TemplatableOption]?: ModelQuery[K] | VariableRef;
} & {
  /** IANA time zone for days, weeks, months and heatmaps; set by DataSource.query from the dashboard. */
  timezone?: string;
  key?: string;
  datasource?: DataSourceRef | null;
};

/** A dashboard variable's query: the values of one dimension, optionally narrowed by filters. */
export interface VariableQuery extends DataQuery {
  dimension?: Dimension;
  filters?: Filters;
}

/** Plain settings of a data source instance (jsonData). */
export interface AgentInsightsOptions extends DataSourceJsonData {
  /** The Agent Insights server, e.g. http://localhost:4318. */
  url?: string;
}

/** Secret settings (secureJsonData): written by the config editor, readable only by the backend. */
export interface AgentInsightsSecureOptions {
  /** An API key with the read scope. */
  apiKey?: string;
}

export const DEFAULT_SERVER_URL = 'http://localhost:4318';

/** Answer of the `values` resource: the dimensions ad hoc filters can use. */
export interface ValueKeysResponse {
  keys: Array<{ key: string; label: string }>;
}

/** Answer of the `values/<dimension>` resource. */
export interface ValuesResponse {
  values: string[];
}
