/**
 * The end-to-end specs need a running Grafana with this plugin (`docker compose up`, then
 * `npm run e2e`). Where there is none, as on the machines without Docker this project is built on,
 * every spec is skipped with the reason, instead of failing on a refused connection or passing
 * silently. The reason reaches the workers through the environment (Playwright passes the global
 * setup's process.env on to them).
 */
import type { FullConfig } from '@playwright/test';

import { GRAFANA_UNREACHABLE } from './grafana';

export default async function globalSetup(config: FullConfig) {
  const baseURL =
    (config.projects[0]?.use?.baseURL as string | undefined) ?? process.env.GRAFANA_URL ?? 'http://localhost:3000';
  const health = new URL('/api/health', baseURL).toString();
  let problem: string | undefined;
  try {
    const response = await fetch(health, { signal: AbortSignal.timeout(5000) });
    if (!response.ok) {
      problem = `${health} answered ${response.status}`;
    }
  } catch (e) {
    problem = `${health} did not answer (${(e as Error).cause ?? (e as Error).message})`;
  }
  if (problem) {
    const reason = `Grafana is not reachable: ${problem}. Start it with \`docker compose up\` (or point GRAFANA_URL at one) to run the end-to-end specs; skipping them.`;
    process.env[GRAFANA_UNREACHABLE] = reason;
    console.warn(`\n${reason}\n`);
  } else {
    delete process.env[GRAFANA_UNREACHABLE];
  }
}
