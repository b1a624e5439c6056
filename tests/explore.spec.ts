import { expect, test } from '@grafana/plugin-e2e';

import { skipWithoutGrafana } from './grafana';

skipWithoutGrafana();

test('Explore shows the runs table of the data source', async ({ explorePage, readProvisionedDataSource }) => {
  const ds = await readProvisionedDataSource({ fileName: 'agent-insights.yml' });
  await explorePage.datasource.set(ds.name);
  await expect(explorePage.getQueryEditorRow('A').getByRole('combobox', { name: 'Query type' })).toHaveValue('Runs');
  await expect(explorePage.runQuery()).toBeOK();
});

test('Explore asks a run trace for its run id', async ({ explorePage, readProvisionedDataSource, page }) => {
  const ds = await readProvisionedDataSource({ fileName: 'agent-insights.yml' });
  await explorePage.datasource.set(ds.name);
  const row = explorePage.getQueryEditorRow('A');
  const queryType = row.getByRole('combobox', { name: 'Query type' });
  await queryType.click();
  await queryType.fill('Run trace');
  await page
    .getByRole('option', { name: /^Run trace/ })
    .first()
    .click();
  await expect(row.getByRole('textbox', { name: 'Run ID' })).toBeVisible();
});
