#!/usr/bin/env node
/**
 * agent-insights: manage API keys and delete data through a running server's admin API.
 * DuckDB lets one process own the database file, so the CLI never opens it: it talks HTTP. The
 * one exception is migrate-to-clickhouse, which runs while the server is stopped and opens the
 * DuckDB file itself (store/migrate.ts).
 */
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { newSecret } from './auth/keys';

const USAGE = `usage: agent-insights <command> [options]

commands:
  keys create --scopes ingest,read [--name NAME] [--tenant TENANT]   create a key; prints its secret once
  keys list [--tenant TENANT]                                         list keys (never their secrets)
  keys rotate ID                                                      new secret, same tenant and scopes; the old one stops working
  keys revoke ID                                                      revoke a key
  keys generate                                                       print a fresh random secret (for .env pre-shared keys)
  delete --conversation ID | --user ID                                delete everything of one conversation or user
  migrate-to-clickhouse [--from FILE]                                 copy a DuckDB store (default AGENT_INSIGHTS_DATA) into the
                                                                      ClickHouse of AGENT_INSIGHTS_CLICKHOUSE_* (stop the server
                                                                      first; running it again is harmless: it resumes)

options:
  --url URL          server address (env AGENT_INSIGHTS_URL, default http://localhost:4318)
  --admin-key KEY    a key with the admin scope (env AGENT_INSIGHTS_ADMIN_KEY)
  --json             print JSON instead of text`;

class CliError extends Error {}

async function call(url: string, key: string, method: string, path: string, body?: unknown): Promise<any> {
  let res: Response;
  try {
    res = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new CliError(`cannot reach the server at ${url}: ${(e as Error).cause ?? (e as Error).message}`);
  }
  const text = await res.text();
  let parsed: any = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* keep text */
  }
  if (!res.ok) throw new CliError(`server answered ${res.status}: ${parsed?.error ?? text}`);
  return parsed;
}

function printKey(k: any): string {
  return `${k.id}  tenant=${k.tenant}  name=${k.name}  scopes=${k.scopes.join(',')}  prefix=${k.prefix}  created=${k.createdAt}${k.revokedAt ? `  REVOKED ${k.revokedAt}` : ''}`;
}

export async function run(argv: string[], env: NodeJS.ProcessEnv, out: (s: string) => void): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      url: { type: 'string' },
      'admin-key': { type: 'string' },
      tenant: { type: 'string' },
      name: { type: 'string' },
      scopes: { type: 'string' },
      conversation: { type: 'string' },
      user: { type: 'string' },
      json: { type: 'boolean', default: false },
      from: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [command, sub, arg] = positionals;
  if (values.help || !command) {
    out(USAGE);
    return;
  }
  if (command === 'keys' && sub === 'generate') {
    out(newSecret());
    return;
  }
  if (command === 'migrate-to-clickhouse') return migrateToClickHouse(values.from, env, out);
  const url = (values.url ?? env.AGENT_INSIGHTS_URL ?? 'http://localhost:4318').replace(/\/$/, '');
  const key = values['admin-key'] ?? env.AGENT_INSIGHTS_ADMIN_KEY;
  if (!key) throw new CliError('an admin key is needed: pass --admin-key or set AGENT_INSIGHTS_ADMIN_KEY');
  const show = (data: unknown, text: string) => out(values.json ? JSON.stringify(data, null, 2) : text);

  if (command === 'keys') {
    switch (sub) {
      case 'create': {
        if (!values.scopes) throw new CliError('keys create needs --scopes, e.g. --scopes ingest or --scopes read,ingest');
        const k = await call(url, key, 'POST', '/api/v1/admin/keys', { tenant: values.tenant, name: values.name ?? '', scopes: values.scopes.split(',') });
        return show(k, `${printKey(k)}\nsecret (shown once, store it now): ${k.secret}`);
      }
      case 'list': {
        const r = await call(url, key, 'GET', `/api/v1/admin/keys${values.tenant ? `?tenant=${encodeURIComponent(values.tenant)}` : ''}`);
        return show(r.keys, r.keys.length ? r.keys.map(printKey).join('\n') : 'no keys');
      }
      case 'rotate': {
        if (!arg) throw new CliError('keys rotate needs the key id (see keys list)');
        const k = await call(url, key, 'POST', `/api/v1/admin/keys/${encodeURIComponent(arg)}/rotate`, {});
        return show(k, `${printKey(k)}\nreplaces ${k.replaces}, which no longer works\nsecret (shown once, store it now): ${k.secret}`);
      }
      case 'revoke': {
        if (!arg) throw new CliError('keys revoke needs the key id (see keys list)');
        const r = await call(url, key, 'DELETE', `/api/v1/admin/keys/${encodeURIComponent(arg)}`);
        return show(r, `revoked ${r.id}`);
      }
      default:
        throw new CliError(`unknown keys command "${sub ?? ''}"\n\n${USAGE}`);
    }
  }
  if (command === 'delete') {
    if (!values.conversation === !values.user) throw new CliError('delete needs exactly one of --conversation ID or --user ID');
    const r = await call(url, key, 'POST', '/api/v1/admin/delete', values.conversation ? { conversationId: values.conversation } : { userId: values.user });
    return show(r, `deleted ${r.spansDeleted} spans in ${r.tracesDeleted} traces of ${values.conversation ? `conversation ${values.conversation}` : `user ${values.user}`} (tenant ${r.tenant})`);
  }
  throw new CliError(`unknown command "${command}"\n\n${USAGE}`);
}

/**
 * Copies the DuckDB file into ClickHouse (configured as for the server). Opening the file applies
 * its pending schema migrations, as a server start would; the server must not be running.
 */
async function migrateToClickHouse(from: string | undefined, env: NodeJS.ProcessEnv, out: (s: string) => void): Promise<void> {
  const { loadConfig, ConfigError } = await import('./config');
  const { DuckDBStore } = await import('./store/duckdb/duckdb-store');
  const { ClickHouseStore } = await import('./store/clickhouse/clickhouse-store');
  const { copyStore } = await import('./store/migrate');
  let config;
  try {
    config = loadConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) throw new CliError(e.message);
    throw e;
  }
  const file = from ?? config.dataPath;
  if (file !== ':memory:' && !existsSync(file)) throw new CliError(`no DuckDB store at ${file} (pass --from FILE or set AGENT_INSIGHTS_DATA)`);
  const source = new DuckDBStore(file, config.runTimeoutMinutes, 1, out);
  try {
    await source.open();
  } catch (e) {
    throw new CliError(`cannot open ${file} (is the server still running? stop it first): ${(e as Error).message}`);
  }
  const target = new ClickHouseStore({ ...config.clickhouse, runTimeoutMinutes: config.runTimeoutMinutes, retentionDays: config.retentionDays });
  try {
    try {
      await target.open();
    } catch (e) {
      throw new CliError(`cannot use ClickHouse at ${config.clickhouse.url} database ${config.clickhouse.database}: ${(e as Error).message}`);
    }
    const started = Date.now();
    const done = await copyStore(source, target, {
      onProgress: (p) => out(`part ${p.part} of ${p.parts}: ${p.traces} traces, ${p.spans} spans, ${p.events} events (${((Date.now() - started) / 1000).toFixed(1)} s)`),
    });
    out(`copied ${done.spans} spans, ${done.events} events and ${done.traces} traces (runs, sessions, steps and usage derived again) and ${done.keys} API keys from ${file} to ClickHouse ${config.clickhouse.url} database ${config.clickhouse.database}`);
  } finally {
    await target.close().catch(() => undefined);
    await source.close();
  }
}

if (require.main === module) {
  run(process.argv.slice(2), process.env, (s) => console.log(s)).catch((e) => {
    console.error(e instanceof CliError ? `error: ${e.message}` : e);
    process.exit(e instanceof CliError ? 2 : 1);
  });
}
