/**
 * The writer's replacement of derived rows: a trace's spans arriving in several batches (also
 * after its facts left the cache, and after a restart) always leave exactly one row per run, while
 * a trace new to storage skips the delete of rows it cannot have.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../config';
import { ContentPolicy } from '../content/policy';
import { normaliseSpan } from '../conventions/normalise';
import { SpanRecord } from '../domain';
import { Metrics } from '../observability/metrics';
import { DuckDBStore } from '../store/duckdb/duckdb-store';
import { CommitBatch } from '../store/store';
import { Attributes } from './otlp/types';
import { IngestWriter } from './writer';

const policy = new ContentPolicy(loadConfig({}));
const BASE = Date.UTC(2026, 10, 1, 12) * 1000;

function span(traceId: string, spanId: string, parent: string, name: string, a: Attributes, start: number): SpanRecord {
  return normaliseSpan(
    'acme',
    {
      resource: { 'service.name': 'shop' },
      scope: 'test',
      traceId,
      spanId,
      parentSpanId: parent,
      name,
      kind: 1,
      startUs: BASE + start * 1000,
      endUs: BASE + (start + 100) * 1000,
      attributes: a,
      events: [],
      statusCode: 0,
      statusMessage: '',
    },
    policy,
  );
}

const chat = (t: string, id: string, parent: string, start: number) =>
  span(t, id, parent, 'chat gpt-4o', { 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-4o', 'gen_ai.usage.input_tokens': 10, 'gen_ai.usage.output_tokens': 5 }, start);
const agent = (t: string, id: string) => span(t, id, '', 'invoke_agent shop', { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'shop' }, 0);

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'agent-insights-writer-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function open(path: string, commits: CommitBatch[]): Promise<{ store: DuckDBStore; writer: IngestWriter }> {
  const store = new DuckDBStore(path);
  await store.open();
  const commit = store.commit.bind(store);
  store.commit = (batch: CommitBatch) => {
    commits.push(batch);
    return commit(batch);
  };
  // cacheSpans 1: every trace's facts are evicted after each batch and loaded back from storage.
  const writer = new IngestWriter(store, new Metrics(), { maxQueuedSpans: 1000, maxBatchSpans: 1000, cacheSpans: 1 });
  await writer.start();
  return { store, writer };
}

it('replaces the runs of a trace whose spans arrive in several batches, across eviction and restart', async () => {
  const path = join(dir, 'w.duckdb');
  const T = 'a'.repeat(32);
  const U = 'b'.repeat(32);
  const root = '1'.repeat(16);
  const commits: CommitBatch[] = [];
  let { store, writer } = await open(path, commits);

  // The agent span comes last: first a provisional run, then the real one.
  await writer.submit([chat(T, '2'.repeat(16), root, 10), chat(U, '9'.repeat(16), '', 10)], []);
  expect(commits[0].derived.map((d) => [d.traceId, d.newTrace])).toEqual([
    [T, true],
    [U, true],
  ]);
  await writer.submit([chat(T, '3'.repeat(16), root, 20)], []);
  expect(commits[1].derived.map((d) => [d.traceId, d.newTrace])).toEqual([[T, false]]);
  let runs = await store.listRuns('acme', {}, 15);
  expect(runs.filter((r) => r.traceId === T).map((r) => [r.runId, r.llmCalls])).toEqual([[T, 2]]);

  await writer.submit([agent(T, root)], []);
  runs = await store.listRuns('acme', {}, 15);
  expect(runs.filter((r) => r.traceId === T).map((r) => [r.runId, r.llmCalls])).toEqual([[`${T}-${root}`, 2]]);

  // After a restart the writer knows the trace from storage: a late span replaces its run again.
  await writer.close();
  await store.close();
  ({ store, writer } = await open(path, commits));
  await writer.submit([chat(T, '4'.repeat(16), root, 30)], []);
  expect(commits[commits.length - 1].derived.map((d) => [d.traceId, d.newTrace])).toEqual([[T, false]]);
  runs = await store.listRuns('acme', {}, 15);
  expect(runs.filter((r) => r.traceId === T).map((r) => [r.runId, r.llmCalls])).toEqual([[`${T}-${root}`, 3]]);
  expect((await store.counts('acme')).runs).toBe(2);
  await writer.close();
  await store.close();
});
