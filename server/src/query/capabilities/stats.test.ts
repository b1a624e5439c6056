/**
 * Run statistics against a real server with the hand-checked dataset (test-support/dataset.ts).
 * Expected figures are worked out from the dataset's table in the comments.
 */
import { anchorMs, seedDataset, SeededDataset } from '../../test-support/dataset';
import { query, rows } from '../../test-support/query';
import { INGEST_KEY, READ_KEY, startTestServer, TestServer } from '../../test-support/server';

let server: TestServer;
let data: SeededDataset;
beforeAll(async () => {
  server = await startTestServer();
  data = await seedDataset(server.url, INGEST_KEY);
});
afterAll(() => server.cleanup());

const H = 3_600_000;
async function stats(extra: Record<string, unknown> = {}, range = { from: anchorMs(data.now), to: data.now }) {
  const res = await query(server.url, READ_KEY, [{ refId: 'A', queryType: 'runStats', timeRange: range, ...extra }]);
  expect(res.results.A.status).toBe(200);
  const f = res.results.A.frames[0];
  const r = rows(f);
  expect(r).toHaveLength(1);
  return { frame: f, row: r[0] };
}

describe('run statistics', () => {
  it('all agents over [anchor, now]: counts, rates over finished runs, durations, per-run averages', async () => {
    const { frame, row } = await stats();
    // Runs 1-6: run 5 is running; finished = 1, 2, 3, 4, 6 (3 completed, 1 failed, 1 timed out).
    expect(row).toMatchObject({ 'Total runs': 6, Running: 1, Completed: 3, Failed: 1, 'Timed out': 1 });
    // Rates over the 5 finished runs: 3/5, 1/5, 1/5, adding up to 1.
    expect(row['Completion rate']).toBeCloseTo(0.6, 10);
    expect(row['Error rate']).toBeCloseTo(0.2, 10);
    expect(row['Timeout rate']).toBeCloseTo(0.2, 10);
    // Finished durations 10, 4, 300, 20, 2 s: avg 336/5 = 67.2 s; sorted 2, 4, 10, 20, 300: median 10 s;
    // p95 at rank 0.95 * 4 = 3.8: 20 + 0.8 * (300 - 20) = 244 s.
    expect(row['Avg duration']).toBeCloseTo(67_200, 6);
    expect(row['Median duration']).toBeCloseTo(10_000, 6);
    expect(row['P95 duration']).toBeCloseTo(244_000, 6);
    // Tool calls 2 + 1 + 0 + 3 + 0 = 6 over 5 finished runs (run 5's call does not count): 1.2.
    expect(row['Avg tool calls per run']).toBeCloseTo(1.2, 10);
    // Tokens (input + output) 360 + 160 + 55 + 1500 + 330 = 2405 over 5: 481.
    expect(row['Avg tokens per run']).toBeCloseTo(481, 10);
    const fields = Object.fromEntries(frame.schema.fields.map((f: any) => [f.name, f]));
    expect(frame.schema.fields.map((f: any) => f.name)).toEqual(['Total runs', 'Running', 'Completed', 'Failed', 'Timed out', 'Completion rate', 'Error rate', 'Timeout rate', 'Avg duration', 'Median duration', 'P95 duration', 'Avg tool calls per run', 'Avg tokens per run']);
    expect(fields['Total runs'].typeInfo).toEqual({ frame: 'int64' });
    expect(fields['Error rate'].config.unit).toBe('percentunit');
    expect(fields['P95 duration'].config.unit).toBe('ms');
    expect(frame.schema.meta.preferredVisualisationType).toBe('table');
  });

  it('with filters: support-triage only, a tool, an environment', async () => {
    // Runs 1 (completed, 10 s), 2 (failed, 4 s), 3 (timed out, 300 s): 1/3 each; avg 314/3 s;
    // median 10 s; p95 at rank 0.95 * 2 = 1.9: 10 + 0.9 * 290 = 271 s; tool calls 3/3; tokens 575/3.
    const { row } = await stats({ filters: { agent: ['support-triage'] } });
    expect(row).toMatchObject({ 'Total runs': 3, Running: 0, Completed: 1, Failed: 1, 'Timed out': 1 });
    expect(row['Completion rate']).toBeCloseTo(1 / 3, 10);
    expect(row['Timeout rate']).toBeCloseTo(1 / 3, 10);
    expect(row['Avg duration']).toBeCloseTo(314_000 / 3, 6);
    expect(row['Median duration']).toBeCloseTo(10_000, 6);
    expect(row['P95 duration']).toBeCloseTo(271_000, 6);
    expect(row['Avg tool calls per run']).toBeCloseTo(1, 10);
    expect(row['Avg tokens per run']).toBeCloseTo(575 / 3, 6);

    // Runs that called web_search: 4 (completed, 20 s) and 5 (running).
    const web = (await stats({ filters: { tool: ['web_search'] } })).row;
    expect(web).toMatchObject({ 'Total runs': 2, Running: 1, Completed: 1, 'Completion rate': 1, 'Error rate': 0, 'Avg duration': 20_000, 'Avg tool calls per run': 3 });

    // Staging holds run 3 only: all of its finished runs timed out.
    const staging = (await stats({ filters: { environment: ['staging'] } })).row;
    expect(staging).toMatchObject({ 'Total runs': 1, 'Timed out': 1, 'Timeout rate': 1, 'Completion rate': 0, 'P95 duration': 300_000 });
  });

  it('a range holding only a running run has counts but no rates or durations', async () => {
    // Only run 5 (started a minute ago) lies in the last five minutes.
    const { row } = await stats({}, { from: data.now - 5 * 60_000, to: data.now });
    expect(row).toMatchObject({ 'Total runs': 1, Running: 1, Completed: 0, 'Completion rate': null, 'Error rate': null, 'Timeout rate': null, 'Avg duration': null, 'P95 duration': null, 'Avg tokens per run': null });
    // And a range with no run at all: zeros, no rates.
    const empty = (await stats({}, { from: anchorMs(data.now) - 10 * H, to: anchorMs(data.now) - 9 * H })).row;
    expect(empty).toMatchObject({ 'Total runs': 0, Running: 0, Failed: 0, 'Error rate': null, 'Median duration': null });
  });
});
