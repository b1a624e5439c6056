/**
 * Run series asked together are computed in one query (series-batches.ts), and each answers what
 * it answers alone: on the hand-checked dataset (test-support/dataset.ts), every run metric per
 * agent and hour, and with a filter.
 */
import { METRICS, parseQuery } from '@agent-insights/model';
import { anchorMs, seedDataset } from '../../test-support/dataset';
import { rows } from '../../test-support/query';
import { recordingReads } from '../../test-support/recording-store';
import { INGEST_KEY, startTestServer, TestServer } from '../../test-support/server';
import { QueryEnv } from '../context';
import { dialectOf } from '../dialect';
import { METRIC_DEFINITIONS } from './metric-definitions';
import { timeSeries } from './timeseries';

let server: TestServer;
let A: number;
let now: number;
beforeAll(async () => {
  server = await startTestServer();
  const data = await seedDataset(server.url, INGEST_KEY);
  now = data.now;
  A = anchorMs(data.now);
});
afterAll(() => server.cleanup());

const H = 3_600_000;
const RUN_METRICS = METRICS.filter((m) => METRIC_DEFINITIONS[m].source === 'runs');

const ask = (env: QueryEnv, metric: string, extra: Record<string, unknown> = {}) =>
  timeSeries(parseQuery({ refId: 'A', queryType: 'timeSeries', metric, groupBy: 'agent', ...extra }, { range: { from: A, to: A + 26 * H }, intervalMs: H, timezone: 'UTC' }), env);

it.each([[{}], [{ filters: { status: ['completed', 'failed'] } }]])('answers every run metric as alone when asked together (%j)', async (extra) => {
  const read: string[] = [];
  const env = { store: recordingReads(server.store, read), dialect: dialectOf('duckdb'), tenant: 'acme', nowMs: now };
  expect(RUN_METRICS.length).toBeGreaterThan(8);

  const together = await Promise.all(RUN_METRICS.map((m) => ask(env, m, extra)));
  // One statement for all of them.
  expect(read.filter((sql) => sql.includes('runs_v'))).toHaveLength(1);

  read.length = 0;
  for (const [i, m] of RUN_METRICS.entries()) expect([m, await ask(env, m, extra)]).toEqual([m, together[i]]);
  // Alone: one statement each.
  expect(read.filter((sql) => sql.includes('runs_v'))).toHaveLength(RUN_METRICS.length);
  // Not vacuous: the dataset's runs are in the series.
  expect(together[RUN_METRICS.indexOf('runs')].flatMap((f) => rows(f)).reduce((n, r) => n + Number(r.Runs), 0)).toBeGreaterThan(3);
});

it('batches only what is asked within the window, and only equal queries', async () => {
  const read: string[] = [];
  const env = { store: recordingReads(server.store, read), dialect: dialectOf('duckdb'), tenant: 'acme', nowMs: now };
  // Two groupings: two statements; later asks start a batch of their own.
  await Promise.all([ask(env, 'runs'), ask(env, 'errorRate'), ask(env, 'runs', { groupBy: 'status' })]);
  expect(read.filter((sql) => sql.includes('runs_v'))).toHaveLength(2);
  await ask(env, 'timeoutRate');
  expect(read.filter((sql) => sql.includes('runs_v'))).toHaveLength(3);
});
