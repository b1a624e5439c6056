/**
 * API keys: random secrets shown once, stored as SHA-256 hashes (a fast hash is right for
 * 256-bit random secrets; slow password hashes exist for guessable passwords), each with a
 * tenant and scopes. The admin API and the CLI manage them; pre-shared keys from the environment
 * are registered at start.
 */
import { createHash, randomBytes } from 'node:crypto';
import { PresharedKey, Scope, SCOPES } from '../config';
import { ApiKeyRow, Store } from '../store/store';

export interface Principal {
  tenant: string;
  scopes: Scope[];
  keyId: string;
}

export class AuthError extends Error {
  constructor(
    readonly status: 401 | 403,
    message: string,
  ) {
    super(message);
  }
}

export function hashKey(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export function newSecret(): string {
  return `aik_${randomBytes(32).toString('base64url')}`;
}

/** What may be shown of a key after creation: never the secret or its hash. */
export interface KeyInfo {
  id: string;
  tenant: string;
  name: string;
  scopes: Scope[];
  prefix: string;
  createdAt: string;
  revokedAt: string | null;
}

export function keyInfo(k: ApiKeyRow): KeyInfo {
  return {
    id: k.id,
    tenant: k.tenant,
    name: k.name,
    scopes: k.scopes,
    prefix: k.prefix,
    createdAt: new Date(k.createdUs / 1000).toISOString(),
    revokedAt: k.revokedUs === null ? null : new Date(k.revokedUs / 1000).toISOString(),
  };
}

export function parseScopes(value: unknown): Scope[] {
  const list = Array.isArray(value) ? value : typeof value === 'string' ? value.split(',') : null;
  if (!list || list.length === 0) throw new Error(`scopes must be a non-empty list of ${SCOPES.join(', ')}`);
  const scopes = list.map((s) => String(s).trim());
  const bad = scopes.filter((s) => !SCOPES.includes(s as Scope));
  if (bad.length) throw new Error(`unknown scope(s) ${bad.join(', ')}; allowed: ${SCOPES.join(', ')}`);
  return [...new Set(scopes)] as Scope[];
}

export class KeyService {
  /** Hash to key row, so that each request does not query storage; dropped on revoke. */
  private readonly cache = new Map<string, ApiKeyRow | null>();

  constructor(private readonly store: Store) {}

  async create(tenant: string, name: string, scopes: Scope[], secret = newSecret()): Promise<{ key: KeyInfo; secret: string }> {
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(tenant)) throw new Error('tenant must be 1-64 characters of letters, digits, "_", "." or "-"');
    const row: ApiKeyRow = {
      id: randomBytes(8).toString('hex'),
      tenant,
      name: name || 'unnamed',
      scopes,
      hash: hashKey(secret),
      prefix: secret.slice(0, 10),
      createdUs: Date.now() * 1000,
      revokedUs: null,
    };
    await this.store.insertKey(row);
    this.cache.delete(row.hash);
    return { key: keyInfo(row), secret };
  }

  async list(tenant?: string): Promise<KeyInfo[]> {
    return (await this.store.listKeys(tenant)).map(keyInfo);
  }

  async revoke(id: string): Promise<boolean> {
    const ok = await this.store.revokeKey(id, Date.now() * 1000);
    this.cache.clear();
    return ok;
  }

  /** A new secret with the same tenant, name and scopes; the old key stops working at once. */
  async rotate(id: string): Promise<{ key: KeyInfo; secret: string } | null> {
    const old = (await this.store.listKeys()).find((k) => k.id === id && k.revokedUs === null);
    if (!old) return null;
    const created = await this.create(old.tenant, old.name, old.scopes);
    await this.revoke(id);
    return created;
  }

  /** Registers pre-shared keys from the environment; a key already registered is left alone. */
  async registerPreshared(keys: PresharedKey[]): Promise<number> {
    let added = 0;
    for (const k of keys) {
      const existing = await this.store.findKeyByHash(hashKey(k.secret));
      if (existing) continue;
      await this.create(k.tenant, `preshared-${k.scopes.join('-')}`, k.scopes, k.secret);
      added++;
    }
    return added;
  }

  async authenticate(header: string | undefined, needed: Scope): Promise<Principal> {
    if (!header) throw new AuthError(401, 'missing Authorization header; send "Authorization: Bearer <API key>"');
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!m) throw new AuthError(401, 'Authorization header must be "Bearer <API key>"');
    const hash = hashKey(m[1]);
    let row = this.cache.get(hash);
    if (row === undefined) {
      row = await this.store.findKeyByHash(hash);
      this.cache.set(hash, row);
    }
    if (!row) throw new AuthError(401, 'unknown API key');
    if (row.revokedUs !== null) throw new AuthError(401, 'this API key has been revoked');
    if (!row.scopes.includes(needed)) {
      throw new AuthError(403, `this API key lacks the "${needed}" scope (it has: ${row.scopes.join(', ')})`);
    }
    return { tenant: row.tenant, scopes: row.scopes, keyId: row.id };
  }
}
