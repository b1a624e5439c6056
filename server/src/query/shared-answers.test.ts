/**
 * Identical queries answered once, and never an answer older than the data: joined while in
 * flight, reused after that only until the store writes, and only for a short while.
 */
import { DuckDBStore } from '../store/duckdb/duckdb-store';
import { Store } from '../store/store';
import { runQueries } from './engine';
import { field, frame, FrameJson } from './frame';
import { SharedAnswers } from './shared-answers';

let store: DuckDBStore;
beforeAll(async () => {
  store = new DuckDBStore(':memory:', 15, 1, () => undefined);
  await store.open();
});
afterAll(() => store.close());

const NOW = Date.UTC(2026, 10, 28, 12);

/** A run() that counts its calls and answers one frame holding the call number. */
function counter() {
  let calls = 0;
  const run = async (): Promise<FrameJson[]> => {
    calls++;
    const n = calls;
    await new Promise((r) => setTimeout(r, 20));
    return [frame('answer', [field('Call', 'int', [n])])];
  };
  return { run, calls: () => calls };
}

const value = (frames: FrameJson[]) => frames[0].data.values[0][0];

describe('SharedAnswers', () => {
  it('joins an identical query in flight and gives each caller its own copy', async () => {
    const shared = new SharedAnswers();
    const c = counter();
    const [a, b] = await Promise.all([shared.answer(store, 'k', NOW, c.run), shared.answer(store, 'k', NOW, c.run)]);
    expect(c.calls()).toBe(1);
    expect(value(a)).toBe(1);
    expect(value(b)).toBe(1);
    a[0].schema.refId = 'A';
    expect(b[0].schema.refId).toBeUndefined();
  });

  it('reuses a finished answer while nothing was written, and runs again after a write', async () => {
    const shared = new SharedAnswers();
    const c = counter();
    expect(value(await shared.answer(store, 'k', NOW, c.run))).toBe(1);
    expect(value(await shared.answer(store, 'k', NOW + 500, c.run))).toBe(1);
    await store.commit({ spans: [], events: [], derived: [] });
    expect(value(await shared.answer(store, 'k', NOW + 600, c.run))).toBe(2);
    expect(c.calls()).toBe(2);
  });

  it('does not reuse an answer for a "now" more than the maximum age away, nor across keys', async () => {
    const shared = new SharedAnswers(2000);
    const c = counter();
    await shared.answer(store, 'k', NOW, c.run);
    expect(value(await shared.answer(store, 'k', NOW + 2001, c.run))).toBe(2);
    expect(value(await shared.answer(store, 'other', NOW + 2001, c.run))).toBe(3);
  });

  it('does not keep a failure', async () => {
    const shared = new SharedAnswers();
    await expect(shared.answer(store, 'k', NOW, async () => Promise.reject(new Error('storage down')))).rejects.toThrow('storage down');
    const c = counter();
    expect(value(await shared.answer(store, 'k', NOW, c.run))).toBe(1);
  });

  it('with a store that cannot tell its writes (another replica may write), shares only in flight', async () => {
    const shared = new SharedAnswers();
    const blind = { engine: 'clickhouse' } as unknown as Store;
    const c = counter();
    await Promise.all([shared.answer(blind, 'k', NOW, c.run), shared.answer(blind, 'k', NOW, c.run)]);
    expect(c.calls()).toBe(1);
    await shared.answer(blind, 'k', NOW, c.run);
    expect(c.calls()).toBe(2);
  });
});

describe('runQueries', () => {
  it('answers two panels asking the same query with one set of storage reads, each under its own refId', async () => {
    let reads = 0;
    const counting = new Proxy(store, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver);
        if (prop === 'read') return (...args: Parameters<Store['read']>) => (reads++, target.read(...args));
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    const range = { from: NOW - 86_400_000, to: NOW };
    const one = await runQueries(counting, 'acme', [{ refId: 'A', queryType: 'runStats', timeRange: range }], NOW);
    const readsOfOne = reads;
    expect(readsOfOne).toBeGreaterThan(0);
    await store.commit({ spans: [], events: [], derived: [] }); // so the first answer is not reused
    reads = 0;
    const two = await runQueries(
      counting,
      'acme',
      [
        { refId: 'A', queryType: 'runStats', timeRange: range },
        { refId: 'B', queryType: 'runStats', timeRange: range },
      ],
      NOW,
    );
    expect(reads).toBe(readsOfOne);
    expect(two.results.A.frames?.[0].schema.refId).toBe('A');
    expect(two.results.B.frames?.[0].schema.refId).toBe('B');
    expect(two.results.B.frames?.[0].data).toEqual(one.results.A.frames?.[0].data);
    // Another tenant never shares.
    reads = 0;
    await runQueries(counting, 'globex', [{ refId: 'A', queryType: 'runStats', timeRange: range }], NOW);
    expect(reads).toBe(readsOfOne);
  });
});
