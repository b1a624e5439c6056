/**
 * Tool metrics and tool errors against the hand-checked dataset (test-support/dataset.ts).
 * Tool calls in the range [anchor, now]:
 *   web_search    100, 200, 300 ms (run 4), 400 ms (run 5, running)  -> 4 calls, no error
 *   lookup_order  200 ms ok (run 1), 500 ms HTTPError (run 2)         -> 2 calls, 1 error
 *   create_ticket 300 ms ok (run 1)                                   -> 1 call
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

const range = () => ({ from: anchorMs(data.now), to: data.now });
async function frameOf(q: Record<string, unknown>) {
  const res = await query(server.url, READ_KEY, [{ refId: 'A', timeRange: range(), ...q }]);
  expect(res.results.A.status).toBe(200);
  return res.results.A.frames[0];
}

describe('toolMetrics', () => {
  it('lists tools most called first, with success and error rates, latency and the top error', async () => {
    const f = await frameOf({ queryType: 'toolMetrics' });
    const r = rows(f);
    expect(r.map((x) => x.Tool)).toEqual(['web_search', 'lookup_order', 'create_ticket']);
    // web_search 100, 200, 300, 400: p50 = 250; p95 = 300 + 0.85 x 100 = 385; p99 = 300 + 0.97 x 100 = 397.
    expect(r[0]).toMatchObject({ Calls: 4, Errors: 0, 'Success rate': 1, 'Error rate': 0, 'Avg latency': 250, P50: 250, 'Top error': null });
    expect(r[0].P95 as number).toBeCloseTo(385, 6);
    expect(r[0].P99 as number).toBeCloseTo(397, 6);
    // lookup_order 200 ok, 500 HTTPError: error rate 1/2; avg = p50 = 350; p95 = 200 + 0.95 x 300 = 485.
    expect(r[1]).toMatchObject({ Calls: 2, Errors: 1, 'Success rate': 0.5, 'Error rate': 0.5, 'Avg latency': 350, P50: 350, 'Top error': 'HTTPError' });
    expect(r[1].P95 as number).toBeCloseTo(485, 6);
    expect(r[2]).toMatchObject({ Tool: 'create_ticket', Calls: 1, Errors: 0, 'Avg latency': 300, P50: 300, P99: 300 });
    // Units for people and for Grafana.
    const unit = (name: string) => f.schema.fields.find((x: any) => x.name === name).config?.unit;
    expect([unit('Success rate'), unit('Error rate'), unit('Avg latency'), unit('P50'), unit('P95'), unit('P99')]).toEqual(['percentunit', 'percentunit', 'ms', 'ms', 'ms', 'ms']);
    expect(f.schema.meta.preferredVisualisationType).toBe('table');
  });

  it('follows filters and the range (by the call start)', async () => {
    const prodTriage = rows(await frameOf({ queryType: 'toolMetrics', filters: { agent: ['support-triage'], status: ['failed'] } }));
    expect(prodTriage).toEqual([expect.objectContaining({ Tool: 'lookup_order', Calls: 1, Errors: 1, 'Error rate': 1, 'Top error': 'HTTPError' })]);
    const oneTool = rows(await frameOf({ queryType: 'toolMetrics', filters: { tool: ['create_ticket'] } }));
    expect(oneTool.map((x) => x.Tool)).toEqual(['create_ticket']);
    // Only the running run's web_search call (now - 1 min) lies in the last 10 minutes.
    const res = await query(server.url, READ_KEY, [{ refId: 'A', queryType: 'toolMetrics', timeRange: { from: data.now - 600_000, to: data.now } }]);
    expect(rows(res.results.A.frames[0])).toEqual([expect.objectContaining({ Tool: 'web_search', Calls: 1, 'Avg latency': 400 })]);
  });
});

describe('toolErrors', () => {
  it('lists error types per tool by count, with when each was last seen', async () => {
    const f = await frameOf({ queryType: 'toolErrors' });
    const r = rows(f);
    // lookup_order's HTTPError: run 2 at A+2h, its tool span after the LLM call (start + 10 + 600 ms).
    expect(r).toEqual([{ Tool: 'lookup_order', 'Error type': 'HTTPError', Count: 1, 'Last seen': anchorMs(data.now) + 2 * 3_600_000 + 610, 'Last message': 'lookup_order failed' }]);
    expect(f.schema.fields.map((x: any) => [x.name, x.typeInfo.frame])).toEqual([
      ['Tool', 'string'],
      ['Error type', 'string'],
      ['Count', 'int64'],
      ['Last seen', 'time.Time'],
      ['Last message', 'string'],
    ]);
  });

  it('is empty where no tool failed', async () => {
    const f = await frameOf({ queryType: 'toolErrors', filters: { agent: ['research-assistant'] } });
    expect(rows(f)).toEqual([]);
  });
});
