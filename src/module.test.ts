import { CustomVariableSupport, DataSourceInstanceSettings } from '@grafana/data';

import { ConfigEditor } from './components/ConfigEditor';
import { QueryEditor } from './components/QueryEditor';
import { VariableQueryEditor } from './components/VariableQueryEditor';
import { DataSource } from './datasource';
import { plugin } from './module';
import { AgentInsightsOptions } from './types';

describe('plugin', () => {
  it('wires the data source with its editors and its own variable support', () => {
    expect(plugin.DataSourceClass).toBe(DataSource);
    expect(plugin.components.QueryEditor).toBe(QueryEditor);
    expect(plugin.components.ConfigEditor).toBe(ConfigEditor);

    const ds = new DataSource({
      uid: 'u',
      name: 'n',
      jsonData: {},
      meta: {},
    } as unknown as DataSourceInstanceSettings<AgentInsightsOptions>);
    expect(ds.variables).toBeInstanceOf(CustomVariableSupport);
    expect((ds.variables as CustomVariableSupport<DataSource>).editor).toBe(VariableQueryEditor);
  });
});
