/**
 * One string per set of prices: what a stored cost was computed with (store/duckdb/
 * conversation-costs.ts), so that a query uses stored costs only while the server's price table
 * is the one they were computed with, and answers from tokens otherwise. Only the prices count
 * (not the file name or its date): the same prices in another file give the same costs.
 */
import { PriceTable } from './prices';

const memo = new WeakMap<PriceTable, string>();

export function pricesFingerprint(table: PriceTable): string {
  let f = memo.get(table);
  if (f === undefined) {
    const entries = [...table.models.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, p]) => [name, p.input, p.cachedInput, p.cacheWrite, p.output]);
    f = JSON.stringify(entries);
    memo.set(table, f);
  }
  return f;
}
