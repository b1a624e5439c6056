import { DataSourcePlugin } from '@grafana/data';

import { ConfigEditor } from './components/ConfigEditor';
import { QueryEditor } from './components/QueryEditor';
import { DataSource } from './datasource';
import { AgentInsightsOptions, AgentInsightsSecureOptions, AgentQuery } from './types';

export const plugin = new DataSourcePlugin<DataSource, AgentQuery, AgentInsightsOptions, AgentInsightsSecureOptions>(
  DataSource
)
  .setConfigEditor(ConfigEditor)
  .setQueryEditor(QueryEditor);
