import { expect, test } from '@grafana/plugin-e2e';
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';

import { skipWithoutGrafana } from './grafana';

skipWithoutGrafana();

/**
 * The provisioned dashboards (dashboards/*.json), opened in the Grafana of `docker compose up`
 * with the demo traffic flowing: every panel renders without an error, and clicking a run in the
 * live runs table shows its trace, steps and events.
 */
interface Panel {
  id: number;
  type: string;
  title: string;
  targets?: Array<{ runId?: string }>;
  panels?: Panel[];
}
interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
}

const dir = resolve(process.cwd(), 'dashboards');
const dashboards: Dashboard[] = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .map((f) => JSON.parse(readFileSync(resolve(dir, f), 'utf8')));

const flatten = (panels: Panel[]): Panel[] => panels.flatMap((p) => [p, ...flatten(p.panels ?? [])]);
/** Panels that query; the run-detail panels need a run first (tested below). */
const queried = (d: Dashboard) =>
  flatten(d.panels).filter((p) => (p.targets ?? []).length > 0 && !(p.targets ?? []).some((t) => t.runId === '$run'));

for (const dashboard of dashboards) {
  test(`dashboard "${dashboard.title}" shows every panel without an error`, async ({ gotoDashboardPage }) => {
    const page = await gotoDashboardPage({ uid: dashboard.uid });
    await page.waitForPanelsQueriesToComplete({ scrollAll: true });
    for (const p of queried(dashboard)) {
      const panel = page.getPanelByTitle(p.title);
      await panel.scrollIntoView();
      await expect(panel.getErrorIcon(), `panel "${p.title}" has no error`).toHaveCount(0);
    }
  });
}

test('clicking a run in the live runs table shows its trace, steps and events', async ({ gotoDashboardPage, page }) => {
  const live = dashboards.find((d) => d.uid === 'agent-insights-live-runs')!;
  const dashboardPage = await gotoDashboardPage({ uid: live.uid });
  const table = dashboardPage.getPanelByTitle('Runs (live)');
  // The first run id of the table, then its link to the run-detail view.
  await table.locator.getByRole('cell').first().click();
  await page.getByRole('link', { name: /Show this run below/ }).click();
  await expect(page).toHaveURL(/var-run=/);
  await dashboardPage.waitForPanelsQueriesToComplete({ scrollAll: true });
  for (const p of flatten(live.panels).filter((x) => (x.targets ?? []).some((t) => t.runId === '$run'))) {
    const panel = dashboardPage.getPanelByTitle(
      p.title.replace('$run', new URL(page.url()).searchParams.get('var-run') ?? '')
    );
    await panel.scrollIntoView();
    await expect(panel.getErrorIcon(), `panel "${p.title}" has no error`).toHaveCount(0);
  }
});
