import { expect, test } from '@grafana/plugin-e2e';

import { skipWithoutGrafana } from './grafana';

skipWithoutGrafana();

test('a new panel shows the runs table at once', async ({ panelEditPage, readProvisionedDataSource }) => {
  const ds = await readProvisionedDataSource({ fileName: 'agent-insights.yml' });
  await panelEditPage.datasource.set(ds.name);
  const row = panelEditPage.getQueryEditorRow('A');
  await expect(row.getByRole('combobox', { name: 'Query type' })).toHaveValue('Runs');
  await expect(row.getByRole('textbox', { name: 'Limit' })).toHaveValue('100');
  await panelEditPage.setVisualization('Table');
  await expect(panelEditPage.refreshPanel()).toBeOK();
});

test('picking a query type shows only its options and runs the query', async ({
  panelEditPage,
  readProvisionedDataSource,
  page,
}) => {
  const ds = await readProvisionedDataSource({ fileName: 'agent-insights.yml' });
  await panelEditPage.datasource.set(ds.name);
  const row = panelEditPage.getQueryEditorRow('A');
  const queryType = row.getByRole('combobox', { name: 'Query type' });
  await queryType.click();
  await queryType.fill('Time series');
  const request = panelEditPage.waitForQueryDataRequest();
  await page
    .getByRole('option', { name: /^Time series/ })
    .first()
    .click();
  await expect(await request).toBeTruthy();
  await expect(row.getByRole('combobox', { name: 'Metric' })).toHaveValue('Runs');
  await expect(row.getByRole('textbox', { name: 'Limit' })).toHaveCount(0);
});
