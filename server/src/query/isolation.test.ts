/**
 * Tenant isolation on every capability: every golden sample query (all query types), asked by
 * another tenant, sees none of the dataset: no row names a run, agent, tool or model of it, and
 * every figure is zero or empty. A run of another tenant is not found at all.
 */
import { runQueries } from './engine';
import { FIXED_NOW, GOLDEN_QUERIES } from './golden-queries';
import { seedDataset } from '../test-support/dataset';
import { INGEST_KEY, startTestServer, TestServer } from '../test-support/server';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ AGENT_INSIGHTS_RETENTION_DAYS: '0' });
  await seedDataset(server.url, INGEST_KEY, FIXED_NOW);
});
afterAll(() => server.cleanup());

/** Names that only the dataset's tenant may see. */
const PRIVATE = ['support-triage', 'research-assistant', 'billing-bot', 'receptionist', 'tutor', 'lookup_order', 'create_ticket', 'web_search', 'gpt-4o', 'gpt-4o-mini', 'claude-sonnet-4', 'c1', 'u1', 'TimeoutError', 'HTTPError'];

describe.each(GOLDEN_QUERIES.map((g) => [g.name, g] as const))('%s asked by another tenant', (_name, g) => {
  it('shows nothing of the first tenant', async () => {
    // The dataset's tenant sees its data: the query is not empty by construction.
    const own = await runQueries(server.store, server.config.tenant, [{ ...g.query, refId: 'A' }], FIXED_NOW);
    expect(own.results.A.status).toBe(200);

    const other = await runQueries(server.store, 'globex', [{ ...g.query, refId: 'A' }], FIXED_NOW);
    const r = other.results.A;
    if (['runTrace', 'runSteps', 'runEvents'].includes(g.queryType)) {
      // Another tenant's run does not exist for this tenant.
      expect(r).toMatchObject({ status: 400, errorSource: 'plugin' });
      return;
    }
    expect(r.status).toBe(200);
    for (const f of r.frames ?? []) {
      f.schema.fields.forEach((field, i) => {
        for (const v of f.data.values[i]) {
          if (typeof v === 'string') expect(PRIVATE).not.toContain(v);
          // The budget is the query's own option, not data.
          if (typeof v === 'number' && field.type === 'number' && field.name !== 'Budget') expect({ field: field.name, v }).toEqual({ field: field.name, v: 0 });
        }
        for (const label of Object.values(field.labels ?? {})) expect(PRIVATE).not.toContain(label);
      });
    }
  });
});
