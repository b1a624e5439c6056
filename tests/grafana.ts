import { test } from '@grafana/plugin-e2e';

/** Set by the global setup, with the reason, when no Grafana answers. */
export const GRAFANA_UNREACHABLE = 'AGENT_INSIGHTS_E2E_GRAFANA_UNREACHABLE';

/** Skips every test of the calling spec file, saying why, when no Grafana is running. */
export function skipWithoutGrafana() {
  const reason = process.env[GRAFANA_UNREACHABLE];
  test.skip(Boolean(reason), reason ?? '');
}
