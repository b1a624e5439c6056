/**
 * Pricing as the query engine sees it: the price table plus the credit rate. Loaded once at
 * server start (startServer) from the configured file, so a broken price file stops the server
 * with a clear message instead of answering queries with wrong costs.
 */
import { DEFAULT_PRICES_FILE, loadPriceTable, PriceTable } from './prices';

export * from './prices';

export interface Pricing {
  table: PriceTable;
  /** Credits per US dollar (AGENT_INSIGHTS_CREDITS_PER_USD). */
  creditsPerUsd: number;
}

export const DEFAULT_CREDITS_PER_USD = 100;

export function loadPricing(opts: { pricesFile?: string; creditsPerUsd?: number } = {}): Pricing {
  return { table: loadPriceTable(opts.pricesFile || DEFAULT_PRICES_FILE), creditsPerUsd: opts.creditsPerUsd ?? DEFAULT_CREDITS_PER_USD };
}

let shipped: Pricing | undefined;

/** The shipped table with the default credit rate, for callers that were given no pricing. */
export function defaultPricing(): Pricing {
  shipped ??= loadPricing();
  return shipped;
}
