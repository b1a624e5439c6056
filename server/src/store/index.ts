/** The store the configuration asks for: embedded DuckDB, or ClickHouse for several replicas. */
import { Config } from '../config';
import { ClickHouseStore } from './clickhouse/clickhouse-store';
import { DuckDBStore } from './duckdb/duckdb-store';
import { Store } from './store';
import { Pricing } from '../pricing';

/** pricing: the server's prices, with which the DuckDB store keeps conversation costs (conversation-costs.ts). */
export function createStore(config: Config, pricing?: Pricing): Store {
  if (config.storage === 'clickhouse') {
    return new ClickHouseStore({ ...config.clickhouse, runTimeoutMinutes: config.runTimeoutMinutes, retentionDays: config.retentionDays });
  }
  return new DuckDBStore(config.dataPath, config.runTimeoutMinutes, undefined, undefined, pricing);
}

/** Where the data lives, for the start-up log line (never the password). */
export function describeStorage(config: Config): string {
  return config.storage === 'clickhouse' ? `ClickHouse ${config.clickhouse.url} database ${config.clickhouse.database}${config.clickhouse.cluster ? ` cluster ${config.clickhouse.cluster}` : ''}` : `DuckDB ${config.dataPath}`;
}
