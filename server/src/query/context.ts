/** What every capability gets: the validated query, its tenant, storage and the SQL dialect. */
import { ResolvedQuery } from '@agent-insights/model';
import { Pricing } from '../pricing';
import { Store } from '../store/store';
import { Dialect } from './dialect';
import { FrameJson } from './frame';

export interface QueryEnv {
  store: Store;
  dialect: Dialect;
  tenant: string;
  /** Epoch ms "now", fixed per request so that every query of it agrees. */
  nowMs: number;
  /** The model price table and credit rate (the shipped table when not given: llm-usage.ts pricingOf). */
  pricing?: Pricing;
  /** Tool-latency percentiles are exact up to this many calls in scope (tool-calls.ts; tests lower it). */
  exactPercentileCalls?: number;
}

export type Capability = (q: ResolvedQuery, env: QueryEnv) => Promise<FrameJson[]>;

/** A fault of the query itself (the user's), answered as that query's 400 error. */
export class QueryError extends Error {}
