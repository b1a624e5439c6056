/**
 * The price table: the shipped file loads and prices every model the demo uses; lookup falls back
 * from dated snapshots to base models and never guesses; the cost formula in TypeScript and in SQL
 * agree.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MODELS } from '../demo/catalog';
import { duckdb } from '../query/dialect';
import { DuckDBStore } from '../store/duckdb/duckdb-store';
import { baseModel, costUsd, DEFAULT_PRICES_FILE, loadPriceTable, lookupPrice, parsePriceTable, PriceTableError } from './prices';
import { loadPricing } from '.';
import { callCostSql, modelPricesSql } from './sql';

const table = loadPriceTable();

describe('the shipped price table', () => {
  it('is server/pricing/prices.json, dated, with a source and a warning to check it', () => {
    expect(DEFAULT_PRICES_FILE).toMatch(/server[\\/]pricing[\\/]prices\.json$/);
    expect(table.takenOn).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(table.source).toMatch(/openai/i);
    expect(table.note).toMatch(/MUST be checked/);
  });

  it('prices every model the demo sends, by requested and by response (snapshot) model', () => {
    for (const m of Object.values(MODELS)) {
      expect(lookupPrice(table, m.id)).not.toBeNull();
      expect(lookupPrice(table, m.responseModel)?.model).toBe(m.id);
    }
  });

  it('holds the well-known list prices of the dataset models (USD per million tokens)', () => {
    expect(lookupPrice(table, 'gpt-4o')).toMatchObject({ input: 2.5, cachedInput: 1.25, output: 10 });
    expect(lookupPrice(table, 'gpt-4o-mini')).toMatchObject({ input: 0.15, cachedInput: 0.075, output: 0.6 });
    expect(lookupPrice(table, 'claude-sonnet-4')).toMatchObject({ input: 3, cachedInput: 0.3, cacheWrite: 3.75, output: 15 });
    expect(lookupPrice(table, 'gemini-2.5-pro')).toMatchObject({ input: 1.25, output: 10 });
  });
});

describe('lookup', () => {
  it('falls back from a dated snapshot to its base model', () => {
    expect(baseModel('gpt-4o-2024-08-06')).toBe('gpt-4o');
    expect(baseModel('claude-sonnet-4-20250514')).toBe('claude-sonnet-4');
    expect(baseModel('claude-sonnet-4@20250514')).toBe('claude-sonnet-4');
    expect(baseModel('openai/GPT-4o-mini-2024-07-18')).toBe('gpt-4o-mini');
    expect(baseModel('claude-sonnet-4-5')).toBe('claude-sonnet-4-5'); // a version, not a snapshot
    expect(lookupPrice(table, 'gpt-4o-2024-08-06')?.model).toBe('gpt-4o');
    expect(lookupPrice(table, 'claude-sonnet-4-20250514')?.model).toBe('claude-sonnet-4');
    expect(lookupPrice(table, 'claude-sonnet-4-5-20250929')?.model).toBe('claude-sonnet-4-5');
  });

  it('prefers an exact entry (a snapshot with its own price, or the model that answered)', () => {
    expect(lookupPrice(table, 'gpt-4o-2024-05-13')).toMatchObject({ input: 5, output: 15 });
    expect(lookupPrice(table, 'gpt-4o', 'gpt-4o-2024-05-13')).toMatchObject({ input: 5 });
    // An Azure deployment name is unknown; the response model says what ran.
    expect(lookupPrice(table, 'my-deployment', 'gpt-4o-2024-08-06')?.model).toBe('gpt-4o');
  });

  it('gives null for an unknown model, never a near match', () => {
    expect(lookupPrice(table, 'gpt-4o-super')).toBeNull();
    expect(lookupPrice(table, 'claude-sonnet')).toBeNull();
    expect(lookupPrice(table, '')).toBeNull();
  });
});

describe('cost of a call', () => {
  const gpt4o = lookupPrice(table, 'gpt-4o')!;

  it('is uncached input x input + cached x cached + output x output (reasoning is inside output)', () => {
    // 100 input of which 50 cached, 20 output: 50 x 2.5 + 50 x 1.25 + 20 x 10 = 387.5 per million.
    expect(costUsd(gpt4o, { inputTokens: 100, outputTokens: 20, cachedTokens: 50 })).toBeCloseTo(387.5e-6, 12);
    expect(costUsd(gpt4o, { inputTokens: 1_000_000, outputTokens: 0, cachedTokens: null })).toBeCloseTo(2.5, 12);
    // Cache writes at the cache-write price (Anthropic): 1000 input = 200 written + 300 read + 500 plain.
    const sonnet = lookupPrice(table, 'claude-sonnet-4')!;
    expect(costUsd(sonnet, { inputTokens: 1000, outputTokens: 100, cachedTokens: 300, cacheWriteTokens: 200 })).toBeCloseTo((500 * 3 + 300 * 0.3 + 200 * 3.75 + 100 * 15) / 1e6, 12);
  });

  it('counts all input as uncached when a convention reports input without its cached part', () => {
    // 40 input, 100 cached: input cannot include the cache, so 40 uncached + 100 cached.
    expect(costUsd(gpt4o, { inputTokens: 40, outputTokens: 0, cachedTokens: 100 })).toBeCloseTo((40 * 2.5 + 100 * 1.25) / 1e6, 12);
  });

  it('has no cost for a bare total (no input/output split)', () => {
    expect(costUsd(gpt4o, { inputTokens: null, outputTokens: null, cachedTokens: null })).toBeNull();
  });

  it('is the same in SQL', async () => {
    const store = new DuckDBStore(':memory:');
    await store.open();
    try {
      const sonnet = lookupPrice(table, 'claude-sonnet-4')!;
      const cases = [
        { price: gpt4o, u: { inputTokens: 100, outputTokens: 20, cachedTokens: 50, cacheWriteTokens: null } },
        { price: gpt4o, u: { inputTokens: 40, outputTokens: 7, cachedTokens: 100, cacheWriteTokens: null } },
        { price: sonnet, u: { inputTokens: 1000, outputTokens: 100, cachedTokens: 300, cacheWriteTokens: 200 } },
        { price: sonnet, u: { inputTokens: null, outputTokens: 9, cachedTokens: null, cacheWriteTokens: null } },
        { price: gpt4o, u: { inputTokens: null, outputTokens: null, cachedTokens: null, cacheWriteTokens: null } },
      ];
      for (const c of cases) {
        const v = (x: number | null) => (x === null ? 'CAST(NULL AS BIGINT)' : `CAST(${x} AS BIGINT)`);
        const rows = await store.read(
          `WITH mp AS (${modelPricesSql([{ model: 'm', responseModel: '', price: c.price }], duckdb)}),
           u AS (SELECT ${v(c.u.inputTokens)} AS input_tokens, ${v(c.u.outputTokens)} AS output_tokens, ${v(c.u.cachedTokens)} AS cached_tokens,
             ${v(c.u.cacheWriteTokens)} AS cache_write_tokens, CAST(NULL AS DOUBLE) AS reported_cost)
           SELECT ${callCostSql('u', 'mp')} AS cost FROM u, mp`,
        );
        const expected = costUsd(c.price, c.u);
        if (expected === null) expect(rows[0].cost).toBeNull();
        else expect(rows[0].cost as number).toBeCloseTo(expected, 12);
      }
      // A reported cost wins; no price row means no cost.
      const reported = await store.read(
        `WITH mp AS (${modelPricesSql([], duckdb)}) SELECT ${callCostSql('u', 'mp')} AS cost
         FROM (SELECT 5 AS input_tokens, 5 AS output_tokens, 0 AS cached_tokens, 0 AS cache_write_tokens, CAST(0.02 AS DOUBLE) AS reported_cost) u
         LEFT JOIN mp ON true`,
      );
      expect(reported[0].cost).toBe(0.02);
      const unpriced = await store.read(
        `WITH mp AS (${modelPricesSql([], duckdb)}) SELECT ${callCostSql('u', 'mp')} AS cost
         FROM (SELECT 5 AS input_tokens, 5 AS output_tokens, 0 AS cached_tokens, 0 AS cache_write_tokens, CAST(NULL AS DOUBLE) AS reported_cost) u
         LEFT JOIN mp ON true`,
      );
      expect(unpriced[0].cost).toBeNull();
    } finally {
      await store.close();
    }
  });
});

describe('a price file of ones own', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'prices-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('loads with the configured credit rate', () => {
    const file = join(dir, 'ok.json');
    writeFileSync(file, JSON.stringify({ takenOn: '2026-01-02', source: 'contract', models: { 'Our-Model': { input: 1, cachedInput: 0.5, output: 2 } } }));
    const pricing = loadPricing({ pricesFile: file, creditsPerUsd: 40 });
    expect(pricing.creditsPerUsd).toBe(40);
    expect(pricing.table.file).toBe(file);
    // Names compare without case; cacheWrite defaults to the input price.
    expect(lookupPrice(pricing.table, 'our-model')).toMatchObject({ input: 1, cachedInput: 0.5, output: 2, cacheWrite: 1 });
  });

  it('is refused with the file, model and field named', () => {
    const bad = (json: unknown) => () => parsePriceTable(json, 'p.json');
    expect(bad({ source: 's', models: {} })).toThrow('p.json: "takenOn" must be the date the prices were taken, as YYYY-MM-DD, got undefined');
    expect(bad({ takenOn: '2026-01-02', models: {} })).toThrow('p.json: "source" must say where the prices come from');
    expect(bad({ takenOn: '2026-01-02', source: 's', models: { x: { input: 1, output: 2 } } })).toThrow(
      'p.json: models["x"].cachedInput must be a number >= 0 (USD per million tokens), got undefined',
    );
    expect(bad({ takenOn: '2026-01-02', source: 's', models: { x: { input: -1, cachedInput: 0, output: 2 } } })).toThrow('models["x"].input must be a number >= 0');
    expect(bad({ takenOn: '2026-01-02', source: 's', models: { X: { input: 1, cachedInput: 0, output: 2 }, x: { input: 1, cachedInput: 0, output: 2 } } })).toThrow('listed twice');
    writeFileSync(join(dir, 'broken.json'), '{ nope');
    expect(() => loadPriceTable(join(dir, 'broken.json'))).toThrow(PriceTableError);
    expect(() => loadPriceTable(join(dir, 'missing.json'))).toThrow(/cannot read the price table .*missing\.json/);
  });
});
