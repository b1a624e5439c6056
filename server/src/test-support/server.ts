/**
 * Test support: a real server on a free port with its own DuckDB file, keys for two tenants,
 * and small HTTP helpers. Used by the server's integration tests and by tests/ at the root.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Config, loadConfig } from '../config';
import { RunningServer, startServer } from '../server';

export const ADMIN_KEY = 'test-admin-key-0123456789abcdef';
export const INGEST_KEY = 'test-ingest-key-0123456789abcdef';
export const READ_KEY = 'test-read-key-0123456789abcdef';

export interface TestServer extends RunningServer {
  dir: string;
  config: Config;
  /** Keys of a second tenant, to prove isolation. */
  other: { ingest: string; read: string };
  cleanup(): Promise<void>;
}

export function testConfig(dir: string, env: Record<string, string> = {}): Config {
  return loadConfig({
    AGENT_INSIGHTS_HOST: '127.0.0.1',
    AGENT_INSIGHTS_PORT: '0',
    AGENT_INSIGHTS_DATA: join(dir, 'test.duckdb'),
    AGENT_INSIGHTS_TENANT: 'acme',
    AGENT_INSIGHTS_ADMIN_KEY: ADMIN_KEY,
    AGENT_INSIGHTS_INGEST_KEY: INGEST_KEY,
    AGENT_INSIGHTS_READ_KEY: READ_KEY,
    AGENT_INSIGHTS_LOG_LEVEL: 'warn',
    ...env,
  });
}

export async function startTestServer(env: Record<string, string> = {}): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'agent-insights-test-'));
  const config = testConfig(dir, env);
  const server = await startServer(config);
  const ingest = await server.keys.create('globex', 'other-ingest', ['ingest']);
  const read = await server.keys.create('globex', 'other-read', ['read']);
  return {
    ...server,
    dir,
    config,
    other: { ingest: ingest.secret, read: read.secret },
    async cleanup() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function bearer(key: string): Record<string, string> {
  return { authorization: `Bearer ${key}` };
}

/** GET a JSON API path with a key; throws with the body on a non-2xx answer. */
export async function getJson<T = unknown>(url: string, key: string): Promise<T> {
  const res = await fetch(url, { headers: bearer(key) });
  const text = await res.text();
  if (!res.ok) throw new Error(`GET ${url}: ${res.status} ${text}`);
  return JSON.parse(text) as T;
}

export async function postJson(url: string, key: string, body: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { method: 'POST', headers: { ...bearer(key), 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* not JSON: keep the text */
  }
  return { status: res.status, body: parsed };
}
