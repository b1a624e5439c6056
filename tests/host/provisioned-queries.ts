/**
 * For the plugin host test (provisioned_test.go): prints, as one JSON line, every panel query of
 * every provisioned dashboard with its variables filled as the plugin fills them when the
 * dashboard opens (agent, tool, model, environment on "All", which drops those filters; the run
 * box holding the given run id; every other variable at its saved value), and every query of every
 * provisioned alert rule (none yet is fine).
 *
 *   cd server && node --import tsx ../tests/host/provisioned-queries.ts <run id>
 */
import {
  alertQueries,
  DASHBOARDS_DIR,
  EXPRESSION_UID,
  loadDashboards,
  panelQueries,
} from '../provisioning/provisioning';

function main(): void {
  const [runId] = process.argv.slice(2);
  if (!runId) {
    throw new Error('usage: provisioned-queries.ts <run id>');
  }
  const dashboards = loadDashboards();
  if (dashboards.length === 0) {
    throw new Error(`no dashboards in ${DASHBOARDS_DIR}`);
  }
  const panels = dashboards.flatMap((d) =>
    panelQueries(d, { run: runId }).map((q) => ({ name: q.name, panelType: q.panelType, query: q.query }))
  );
  const alerts = alertQueries()
    .filter((q) => q.datasourceUid !== EXPRESSION_UID)
    .map((q) => ({
      name: q.name,
      datasourceUid: q.datasourceUid,
      relativeTimeRange: q.relativeTimeRange ?? null,
      query: q.model,
    }));
  process.stdout.write(`${JSON.stringify({ panels, alerts })}\n`);
}

main();
