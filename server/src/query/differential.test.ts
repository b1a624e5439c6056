/**
 * The differential test of issue 6: the hand-checked dataset (test-support/dataset.ts) ingested
 * through the real server into each engine, DuckDB (embedded) and ClickHouse (the chdb harness,
 * tests/clickhouse/chdb_http.py), and every golden sample query (golden-queries.ts) answered by
 * both with the same SQL text (one per capability, engine differences in dialect.ts).
 *
 * Equal answers are required: the same frames, names, fields, types, labels, meta and values.
 * Numbers compare within 1e-9 relative, which for the counts and integer sums here (all far below
 * 1e9) means exactly; floats (averages, rates, percentiles, costs) may differ only in their last
 * digits, where the engines add up in another order. No capability uses a sketch (every
 * percentile is exact, quantile_cont = quantileExactInclusive), so the 2% allowance of issue 6 for
 * sketches is never needed.
 */
import { DIMENSIONS } from '@agent-insights/model';
import { runsSnapshot } from '../live/runs-snapshot';
import { Pricing } from '../pricing';
import { runQueries, QueryResponseJson } from './engine';
import { dialectOf } from './dialect';
import { FIXED_NOW, GOLDEN_QUERIES } from './golden-queries';
import { CAPABILITIES } from './capabilities';
import { ClickHouseStore } from '../store/clickhouse/clickhouse-store';
import { DuckDBStore } from '../store/duckdb/duckdb-store';
import { startClickHouse, TestClickHouse } from '../test-support/clickhouse';
import { anchorMs, DAY_MS, runIdOf, seedDataset } from '../test-support/dataset';
import { differences } from '../test-support/differences';
import { query } from '../test-support/query';
import { getJson, INGEST_KEY, READ_KEY, startTestServer, TestServer } from '../test-support/server';

let ch: TestClickHouse;
let duck: TestServer;
let click: TestServer;

beforeAll(async () => {
  ch = await startClickHouse();
  duck = await startTestServer({ AGENT_INSIGHTS_RETENTION_DAYS: '0' });
  click = await startTestServer({ AGENT_INSIGHTS_RETENTION_DAYS: '0', AGENT_INSIGHTS_STORAGE: 'clickhouse', AGENT_INSIGHTS_CLICKHOUSE_URL: ch.url, AGENT_INSIGHTS_CLICKHOUSE_DATABASE: 'differential' });
  await seedDataset(duck.url, INGEST_KEY, FIXED_NOW);
  await seedDataset(click.url, INGEST_KEY, FIXED_NOW);
}, 180_000);
afterAll(async () => {
  await duck?.cleanup();
  await click?.cleanup();
  await ch?.stop();
});

const answer = async (server: TestServer, query: Record<string, unknown>, pricing?: Pricing): Promise<QueryResponseJson> =>
  JSON.parse(JSON.stringify(await runQueries(server.store, server.config.tenant, [{ ...query, refId: 'A' }], FIXED_NOW, pricing)));

async function expectAlike(name: string, query: Record<string, unknown>, pricing?: Pricing): Promise<QueryResponseJson> {
  const a = await answer(duck, query, pricing);
  const b = await answer(click, query, pricing);
  if (a.results.A.status !== 200) throw new Error(`${name}: DuckDB: ${a.results.A.status} ${a.results.A.error}`);
  if (b.results.A.status !== 200) throw new Error(`${name}: ClickHouse: ${b.results.A.status} ${b.results.A.error}`);
  const diff = differences(a, b);
  if (diff.length) throw new Error(`${name}: the engines differ:\n  ${diff.join('\n  ')}`);
  return a;
}

const ANCHOR = anchorMs(FIXED_NOW);
const ALL = { from: ANCHOR, to: FIXED_NOW };
const MONTH = { from: Date.UTC(2026, 0, 1), to: FIXED_NOW };
const H = 3_600_000;

/**
 * Filters on every dimension, through every way the SQL applies them: run columns, "has a step
 * with it" (EXISTS on spans), usage rows and their traces, tool steps, sessions and their spans.
 */
const FILTERED: [string, Record<string, unknown>][] = [
  ['runs by tool', { queryType: 'runs', filters: { tool: ['lookup_order'] } }],
  ['runs by model and provider', { queryType: 'runs', filters: { model: ['gpt-4o'], provider: ['openai'] } }],
  ['runs by user, conversation, channel and service', { queryType: 'runs', filters: { user: ['u1'], conversation: ['c1', 'c4'], channel: ['text'], service: ['support-triage-svc', 'billing-bot-svc'] } }],
  ['run stats by model', { queryType: 'runStats', filters: { model: ['claude-sonnet-4'] } }],
  ['run stats by status', { queryType: 'runStats', filters: { status: ['completed', 'failed'] } }],
  ['p99 duration per hour by environment', { queryType: 'timeSeries', metric: 'durationP99', groupBy: 'environment', intervalMs: H }],
  ['completion rate per day by tool', { queryType: 'timeSeries', metric: 'completionRate', groupBy: 'tool', intervalMs: DAY_MS }],
  ['tool latency p95 by tool, runs of gpt-4o', { queryType: 'timeSeries', metric: 'toolLatencyP95', groupBy: 'tool', intervalMs: H, filters: { model: ['gpt-4o'] } }],
  ['credits per 5 minutes of runs that called web_search', { queryType: 'timeSeries', metric: 'credits', intervalMs: 300_000, filters: { tool: ['web_search'] } }],
  ['cached and reasoning tokens per week by agent, Sunday weeks in Sydney', { queryType: 'timeSeries', metric: 'tokensCached', groupBy: 'agent', intervalMs: 7 * DAY_MS, weekStart: 'sunday', timezone: 'Australia/Sydney', timeRange: MONTH }],
  ['session minutes per day in Kolkata', { queryType: 'timeSeries', metric: 'sessionMinutes', intervalMs: DAY_MS, timezone: 'Asia/Kolkata' }],
  ['tool metrics of production runs of gpt-4o', { queryType: 'toolMetrics', filters: { environment: ['production'], model: ['gpt-4o'] } }],
  ['tool errors by agent', { queryType: 'toolErrors', filters: { agent: ['support-triage'] } }],
  ['tokens per day of openai calls of support-triage', { queryType: 'llmTokens', period: 'day', filters: { agent: ['support-triage'], provider: ['openai'] } }],
  ['tokens per week, Sunday weeks in Los Angeles', { queryType: 'llmTokens', period: 'week', weekStart: 'sunday', timezone: 'America/Los_Angeles', timeRange: MONTH }],
  ['model share of production', { queryType: 'modelShare', filters: { environment: ['production'] } }],
  ['cost per conversation of user u1', { queryType: 'costPerConversation', filters: { user: ['u1'] } }],
  ['credit forecast per day', { queryType: 'creditForecast', period: 'day', budget: 1 }],
  ['day-of-week heatmap of credits in Tokyo', { queryType: 'heatmap', heatmap: 'dayOfWeek', heatmapMetric: 'credits', timezone: 'Asia/Tokyo' }],
  ['session stats of voice and video (session columns)', { queryType: 'sessionStats', filters: { channel: ['voice', 'video'] } }],
  ['session stats by tool (span filter)', { queryType: 'sessionStats', filters: { tool: ['web_search'] } }],
  // No run of the dataset has an agent version: empty answers, but the SQL runs on both engines.
  ['run stats by agent version', { queryType: 'runStats', filters: { agentVersion: ['1.0'] } }],
  ['session stats by agent version (span filter)', { queryType: 'sessionStats', filters: { agentVersion: ['1.0'] } }],
  ['a run found by its trace id', { queryType: 'runTrace', runId: runIdOf(4).split('-')[0] }],
];

describe('DuckDB and ClickHouse answer every golden sample query alike', () => {
  it('run on the engines they say', () => {
    expect(duck.store).toBeInstanceOf(DuckDBStore);
    expect(click.store).toBeInstanceOf(ClickHouseStore);
  });

  for (const g of GOLDEN_QUERIES.filter((x) => CAPABILITIES[x.queryType])) {
    it(`${g.name} (${g.queryType})`, async () => {
      const a = await answer(duck, g.query);
      const b = await answer(click, g.query);
      expect(a.results.A.status).toBe(200);
      if (b.results.A.status !== 200) throw new Error(`ClickHouse: ${b.results.A.status} ${b.results.A.error}`);
      const diff = differences(a, b);
      if (diff.length) throw new Error(`${g.name}: the engines differ:\n  ${diff.join('\n  ')}`);
    });
  }
});

describe('DuckDB and ClickHouse answer filtered queries alike, on every dimension', () => {
  for (const [name, query] of FILTERED) {
    it(name, async () => {
      const a = await expectAlike(name, { timeRange: ALL, timezone: 'UTC', ...query });
      expect(a.results.A.frames?.length).toBeGreaterThan(0);
    });
  }

  it('without a price table: costs only where the telemetry reports them (the empty price relation)', async () => {
    const none: Pricing = { table: { file: 'none', takenOn: '', source: '', note: '', models: new Map() }, creditsPerUsd: 100 };
    for (const query of [
      { queryType: 'timeSeries', metric: 'cost', groupBy: 'model', intervalMs: DAY_MS },
      { queryType: 'costPerConversation' },
      { queryType: 'runs' },
    ]) {
      const a = await expectAlike(`no prices: ${query.queryType}`, { timeRange: ALL, timezone: 'UTC', ...query }, none);
      expect(a.results.A.status).toBe(200);
    }
  });
});

describe('values and the live runs snapshot on both engines', () => {
  it('list the same values of every dimension, whole range, narrowed by time and by other filters', async () => {
    const values = async (server: TestServer, path: string) => (await getJson<{ values: string[] }>(`${server.url}/api/v1/values/${path}`, READ_KEY)).values;
    const day = `from=${ANCHOR}&to=${ANCHOR + DAY_MS}`;
    for (const dim of DIMENSIONS) {
      for (const q of ['', `?${day}`, `?agent=support-triage`, `?model=claude-sonnet-4`, `?tool=web_search&${day}`]) {
        const a = await values(duck, `${dim}${q}`);
        expect({ dim, q, values: await values(click, `${dim}${q}`) }).toEqual({ dim, q, values: a });
      }
    }
    // A figure from the dataset's table, so the comparison is not between two empty lists.
    expect(await values(click, 'agent')).toEqual(['billing-bot', 'receptionist', 'research-assistant', 'support-triage', 'tutor']);
    expect(await values(click, 'tool?agent=support-triage')).toEqual(['create_ticket', 'lookup_order']);
  });

  it('give the live stream the same snapshot (the runs table of the last hours)', async () => {
    const params = { filters: {}, limit: 100, rangeMs: 2 * DAY_MS + 12 * H };
    const a = await runsSnapshot(duck.store, dialectOf(duck.store.engine))('acme', params, FIXED_NOW);
    const b = await runsSnapshot(click.store, dialectOf(click.store.engine))('acme', params, FIXED_NOW);
    expect(differences(JSON.parse(a.json), JSON.parse(b.json))).toEqual([]);
    expect(b.running).toBe(a.running);
    // Runs 1-6 of the dataset are all in the last 60 hours.
    expect(JSON.parse(b.json).data.values[0]).toHaveLength(6);
  });

  it('send the same first live-stream event over HTTP (GET /api/v1/stream/runs), and answer POST /api/v1/query alike', async () => {
    const firstEvent = async (server: TestServer): Promise<unknown> => {
      const abort = new AbortController();
      const res = await fetch(`${server.url}/api/v1/stream/runs?agent=support-triage&limit=10`, { headers: { authorization: `Bearer ${READ_KEY}` }, signal: abort.signal });
      expect(res.status).toBe(200);
      const reader = res.body!.getReader();
      let text = '';
      while (!/\ndata: .*\n\n/.test(`\n${text}`)) text += new TextDecoder().decode((await reader.read()).value);
      abort.abort();
      return JSON.parse(/(?:^|\n)data: (.*)\n/.exec(text)![1]);
    };
    // The stream's range ends at the wall clock, long after the dataset: both tables are empty, with the same frame.
    const a = await firstEvent(duck);
    expect(differences(a, await firstEvent(click))).toEqual([]);
    for (const g of GOLDEN_QUERIES.filter((x) => ['tool-metrics', 'llm-tokens-day', 'session-stats'].includes(x.name))) {
      const http = async (server: TestServer) => (await query(server.url, READ_KEY, [{ ...g.query, refId: 'A' }])).results;
      const d = await http(duck);
      expect(d.A.status).toBe(200);
      expect({ name: g.name, diff: differences(d, await http(click)) }).toEqual({ name: g.name, diff: [] });
    }
  });
});
