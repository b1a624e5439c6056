/**
 * The server's configuration: read from the environment and validated in this one module.
 * The README's configuration table documents every entry of CONFIG_VARS.
 */

export interface PresharedKey {
  tenant: string;
  scopes: Scope[];
  secret: string;
}

export type Scope = 'ingest' | 'read' | 'admin';
export const SCOPES: readonly Scope[] = ['ingest', 'read', 'admin'];

export type ContentMode = 'full' | 'none';

export interface Config {
  host: string;
  port: number;
  dataPath: string;
  storage: 'duckdb' | 'clickhouse';
  /** Used when storage is clickhouse (docs/clickhouse.md). */
  clickhouse: { url: string; username: string; password: string; database: string; cluster: string };
  devMode: boolean;
  tenant: string;
  presharedKeys: PresharedKey[];
  maxBodyBytes: number;
  content: ContentMode;
  contentMaxBytes: number;
  attributeMaxBytes: number;
  redactPatterns: RegExp[];
  redactDefaults: boolean;
  runTimeoutMinutes: number;
  retentionDays: number;
  maxQueuedSpans: number;
  maxBatchSpans: number;
  logLevel: string;
  /** Model price table (JSON); '' is the shipped server/pricing/prices.json. */
  pricesFile: string;
  creditsPerUsd: number;
}

interface VarSpec {
  name: string;
  default: string;
  meaning: string;
}

/** Every environment variable the server reads, with its default and meaning (the README table). */
export const CONFIG_VARS: VarSpec[] = [
  { name: 'AGENT_INSIGHTS_HOST', default: '0.0.0.0', meaning: 'address to listen on' },
  { name: 'AGENT_INSIGHTS_PORT', default: '4318', meaning: 'port of the one HTTP listener (OTLP/HTTP and the API)' },
  { name: 'AGENT_INSIGHTS_DATA', default: './data/agent-insights.duckdb', meaning: 'DuckDB database file' },
  { name: 'AGENT_INSIGHTS_STORAGE', default: 'duckdb', meaning: 'duckdb (embedded, one file) or clickhouse (a ClickHouse server or cluster shared by several server replicas, docs/clickhouse.md)' },
  { name: 'AGENT_INSIGHTS_CLICKHOUSE_URL', default: 'http://localhost:8123', meaning: "ClickHouse's HTTP interface (storage clickhouse)" },
  { name: 'AGENT_INSIGHTS_CLICKHOUSE_USER', default: 'default', meaning: 'ClickHouse user' },
  { name: 'AGENT_INSIGHTS_CLICKHOUSE_PASSWORD', default: '', meaning: 'ClickHouse password' },
  { name: 'AGENT_INSIGHTS_CLICKHOUSE_DATABASE', default: 'agent_insights', meaning: 'ClickHouse database, created with its tables at start if missing' },
  { name: 'AGENT_INSIGHTS_CLICKHOUSE_CLUSTER', default: '', meaning: 'ClickHouse cluster name: tables are created ON CLUSTER as replicated tables behind distributed ones; empty for one server' },
  { name: 'AGENT_INSIGHTS_DEV_MODE', default: 'false', meaning: 'true accepts requests without keys (tenant AGENT_INSIGHTS_TENANT); logged loudly, never for production' },
  { name: 'AGENT_INSIGHTS_TENANT', default: 'default', meaning: 'tenant of the pre-shared keys and of dev mode' },
  { name: 'AGENT_INSIGHTS_INGEST_KEY', default: '', meaning: 'pre-shared key with scope ingest, registered (hashed) at start' },
  { name: 'AGENT_INSIGHTS_READ_KEY', default: '', meaning: 'pre-shared key with scope read, registered (hashed) at start' },
  { name: 'AGENT_INSIGHTS_ADMIN_KEY', default: '', meaning: 'pre-shared key with scopes admin, read and ingest, registered (hashed) at start' },
  { name: 'AGENT_INSIGHTS_MAX_BODY_BYTES', default: String(20 * 1024 * 1024), meaning: 'largest request body after decompression; larger answers 413' },
  { name: 'AGENT_INSIGHTS_CONTENT', default: 'full', meaning: 'full keeps prompts, tool inputs and outputs (truncated, redacted); none stores no content at all' },
  { name: 'AGENT_INSIGHTS_CONTENT_MAX_BYTES', default: '16384', meaning: 'content kept per field; longer content is cut and marked' },
  { name: 'AGENT_INSIGHTS_ATTRIBUTE_MAX_BYTES', default: '4096', meaning: 'longest non-content attribute value kept' },
  { name: 'AGENT_INSIGHTS_REDACT_DEFAULTS', default: 'true', meaning: 'apply the built-in secret patterns (API keys, tokens, private keys, passwords in URLs)' },
  { name: 'AGENT_INSIGHTS_REDACT_PATTERNS', default: '', meaning: 'extra regular expressions to redact, separated by newlines or ;;' },
  { name: 'AGENT_INSIGHTS_RUN_TIMEOUT_MINUTES', default: '15', meaning: 'a run still running after this long counts as timed out' },
  { name: 'AGENT_INSIGHTS_RETENTION_DAYS', default: '30', meaning: 'spans, runs and sessions older than this are deleted (0 keeps everything)' },
  { name: 'AGENT_INSIGHTS_MAX_QUEUED_SPANS', default: '200000', meaning: 'spans waiting to be written before ingest answers 429' },
  { name: 'AGENT_INSIGHTS_MAX_BATCH_SPANS', default: '20000', meaning: 'most spans written in one transaction' },
  { name: 'AGENT_INSIGHTS_LOG_LEVEL', default: 'info', meaning: 'fatal, error, warn, info, debug' },
  { name: 'AGENT_INSIGHTS_PRICES_FILE', default: '', meaning: 'model price table (JSON, USD per million tokens); empty uses the shipped server/pricing/prices.json, whose list prices must be checked' },
  { name: 'AGENT_INSIGHTS_CREDITS_PER_USD', default: '100', meaning: 'credits per US dollar of LLM cost (credit figures and forecasts)' },
];

export class ConfigError extends Error {}

type Env = Record<string, string | undefined>;

function get(env: Env, name: string): string {
  const spec = CONFIG_VARS.find((v) => v.name === name);
  if (!spec) throw new Error(`unknown configuration variable ${name}`);
  const value = env[name];
  return value === undefined || value === '' ? spec.default : value;
}

function int(env: Env, name: string, min: number): number {
  const raw = get(env, name);
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) {
    throw new ConfigError(`${name} must be an integer >= ${min}, got "${raw}"`);
  }
  return n;
}

function positive(env: Env, name: string): number {
  const raw = get(env, name);
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new ConfigError(`${name} must be a number > 0, got "${raw}"`);
  return n;
}

function bool(env: Env, name: string): boolean {
  const raw = get(env, name).toLowerCase();
  if (['true', '1', 'yes'].includes(raw)) return true;
  if (['false', '0', 'no'].includes(raw)) return false;
  throw new ConfigError(`${name} must be true or false, got "${raw}"`);
}

function patterns(env: Env): RegExp[] {
  const raw = get(env, 'AGENT_INSIGHTS_REDACT_PATTERNS');
  return raw
    .split(/\n|;;/)
    .map((p) => p.trim())
    .filter(Boolean)
    .map((p) => {
      try {
        return new RegExp(p, 'g');
      } catch (e) {
        throw new ConfigError(`AGENT_INSIGHTS_REDACT_PATTERNS: "${p}" is not a valid regular expression: ${(e as Error).message}`);
      }
    });
}

export function loadConfig(env: Env = process.env): Config {
  const tenant = get(env, 'AGENT_INSIGHTS_TENANT');
  const presharedKeys: PresharedKey[] = [];
  const addKey = (name: string, scopes: Scope[]): void => {
    const secret = get(env, name);
    if (!secret) return;
    if (secret.length < 16) throw new ConfigError(`${name} must be at least 16 characters long`);
    presharedKeys.push({ tenant, scopes, secret });
  };
  addKey('AGENT_INSIGHTS_INGEST_KEY', ['ingest']);
  addKey('AGENT_INSIGHTS_READ_KEY', ['read']);
  addKey('AGENT_INSIGHTS_ADMIN_KEY', ['admin', 'read', 'ingest']);

  const storage = get(env, 'AGENT_INSIGHTS_STORAGE');
  if (storage !== 'duckdb' && storage !== 'clickhouse') throw new ConfigError(`AGENT_INSIGHTS_STORAGE must be duckdb or clickhouse, got "${storage}"`);
  const clickhouseUrl = get(env, 'AGENT_INSIGHTS_CLICKHOUSE_URL');
  if (!/^https?:\/\/[^/]/.test(clickhouseUrl)) throw new ConfigError(`AGENT_INSIGHTS_CLICKHOUSE_URL must be an http:// or https:// URL, got "${clickhouseUrl}"`);
  for (const name of ['AGENT_INSIGHTS_CLICKHOUSE_DATABASE', 'AGENT_INSIGHTS_CLICKHOUSE_CLUSTER']) {
    const value = get(env, name);
    if (value && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(value)) throw new ConfigError(`${name} must be a plain identifier (letters, digits, _), got "${value}"`);
  }

  const content = get(env, 'AGENT_INSIGHTS_CONTENT');
  if (content !== 'full' && content !== 'none') {
    throw new ConfigError(`AGENT_INSIGHTS_CONTENT must be full or none, got "${content}"`);
  }
  return {
    host: get(env, 'AGENT_INSIGHTS_HOST'),
    port: int(env, 'AGENT_INSIGHTS_PORT', 0),
    dataPath: get(env, 'AGENT_INSIGHTS_DATA'),
    storage,
    clickhouse: {
      url: clickhouseUrl,
      username: get(env, 'AGENT_INSIGHTS_CLICKHOUSE_USER'),
      password: get(env, 'AGENT_INSIGHTS_CLICKHOUSE_PASSWORD'),
      database: get(env, 'AGENT_INSIGHTS_CLICKHOUSE_DATABASE'),
      cluster: get(env, 'AGENT_INSIGHTS_CLICKHOUSE_CLUSTER'),
    },
    devMode: bool(env, 'AGENT_INSIGHTS_DEV_MODE'),
    tenant,
    presharedKeys,
    maxBodyBytes: int(env, 'AGENT_INSIGHTS_MAX_BODY_BYTES', 1024),
    content,
    contentMaxBytes: int(env, 'AGENT_INSIGHTS_CONTENT_MAX_BYTES', 0),
    attributeMaxBytes: int(env, 'AGENT_INSIGHTS_ATTRIBUTE_MAX_BYTES', 64),
    redactDefaults: bool(env, 'AGENT_INSIGHTS_REDACT_DEFAULTS'),
    redactPatterns: patterns(env),
    runTimeoutMinutes: int(env, 'AGENT_INSIGHTS_RUN_TIMEOUT_MINUTES', 1),
    retentionDays: int(env, 'AGENT_INSIGHTS_RETENTION_DAYS', 0),
    maxQueuedSpans: int(env, 'AGENT_INSIGHTS_MAX_QUEUED_SPANS', 100),
    maxBatchSpans: int(env, 'AGENT_INSIGHTS_MAX_BATCH_SPANS', 1),
    logLevel: get(env, 'AGENT_INSIGHTS_LOG_LEVEL'),
    pricesFile: get(env, 'AGENT_INSIGHTS_PRICES_FILE'),
    creditsPerUsd: positive(env, 'AGENT_INSIGHTS_CREDITS_PER_USD'),
  };
}
