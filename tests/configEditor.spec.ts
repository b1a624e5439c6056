import { expect, test } from '@grafana/plugin-e2e';

import { AgentInsightsOptions, AgentInsightsSecureOptions } from '../src/types';
import { skipWithoutGrafana } from './grafana';

skipWithoutGrafana();

const DEFAULT_URL = 'http://localhost:4318';

test('the config editor asks for the server URL and an API key', async ({
  createDataSourceConfigPage,
  readProvisionedDataSource,
  page,
}) => {
  const ds = await readProvisionedDataSource({ fileName: 'agent-insights.yml' });
  await createDataSourceConfigPage({ type: ds.type });
  await expect(page.getByRole('textbox', { name: /Server URL/ })).toHaveValue(DEFAULT_URL);
  await expect(page.getByPlaceholder(/API key/)).toBeVisible();
});

test('"Save & test" succeeds with the server and a read key', async ({
  createDataSourceConfigPage,
  readProvisionedDataSource,
  page,
}) => {
  const ds = await readProvisionedDataSource<AgentInsightsOptions, AgentInsightsSecureOptions>({
    fileName: 'agent-insights.yml',
  });
  const configPage = await createDataSourceConfigPage({ type: ds.type });
  await page.getByRole('textbox', { name: /Server URL/ }).fill(ds.jsonData.url ?? DEFAULT_URL);
  await page.getByPlaceholder(/API key/).fill(ds.secureJsonData?.apiKey ?? '');
  await expect(configPage.saveAndTest()).toBeOK();
  await expect(configPage).toHaveAlert('success');
});

test('"Save & test" reports a key the server refuses', async ({
  createDataSourceConfigPage,
  readProvisionedDataSource,
  page,
}) => {
  const ds = await readProvisionedDataSource<AgentInsightsOptions, AgentInsightsSecureOptions>({
    fileName: 'agent-insights.yml',
  });
  const configPage = await createDataSourceConfigPage({ type: ds.type });
  await page.getByRole('textbox', { name: /Server URL/ }).fill(ds.jsonData.url ?? DEFAULT_URL);
  await page.getByPlaceholder(/API key/).fill('not-a-valid-key');
  await expect(configPage.saveAndTest()).not.toBeOK();
  await expect(configPage).toHaveAlert('error');
});
