/**
 * API keys against a real server: missing, wrong, revoked, wrong-scope and other-tenant keys,
 * and key management through the admin API.
 */
import { ADMIN_KEY, getJson, INGEST_KEY, postJson, READ_KEY, startTestServer, TestServer } from '../test-support/server';
import { postOtlp, spanId, traceId, tracesJson } from '../test-support/otlp';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.cleanup());

const run = (tid: string, agent: string) =>
  JSON.stringify(
    tracesJson([{ traceId: tid, spanId: spanId(), name: `invoke_agent ${agent}`, start: Date.now() - 1000, end: Date.now(), attributes: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': agent } }]),
  );

async function status(path: string, headers: Record<string, string>, method = 'GET', body?: string): Promise<{ status: number; message: string }> {
  const res = await fetch(`${server.url}${path}`, { method, headers: { 'content-type': 'application/json', ...headers }, body });
  const text = await res.text();
  const parsed = JSON.parse(text);
  return { status: res.status, message: parsed.error ?? parsed.message };
}

describe('ingest and read keys', () => {
  it('missing key: 401 saying how to send one', async () => {
    const r = await status('/v1/traces', {}, 'POST', run(traceId(), 'x'));
    expect(r).toEqual({ status: 401, message: expect.stringMatching(/missing Authorization header.*Bearer/) });
    expect((await status('/api/v1/runs', {})).status).toBe(401);
  });

  it('wrong key: 401', async () => {
    const r = await status('/v1/traces', { authorization: 'Bearer not-a-key-at-all' }, 'POST', run(traceId(), 'x'));
    expect(r).toEqual({ status: 401, message: 'unknown API key' });
    expect((await status('/v1/traces', { authorization: 'Basic abc' }, 'POST', run(traceId(), 'x'))).message).toMatch(/must be "Bearer <API key>"/);
  });

  it('wrong scope: 403 naming the missing scope', async () => {
    expect(await status('/v1/traces', { authorization: `Bearer ${READ_KEY}` }, 'POST', run(traceId(), 'x'))).toEqual({
      status: 403,
      message: 'this API key lacks the "ingest" scope (it has: read)',
    });
    expect((await status('/api/v1/runs', { authorization: `Bearer ${INGEST_KEY}` })).status).toBe(403);
    expect((await status('/api/v1/admin/keys', { authorization: `Bearer ${READ_KEY}` })).status).toBe(403);
  });

  it('one tenant never sees another tenant\'s runs', async () => {
    const mine = traceId();
    const theirs = traceId();
    expect((await postOtlp(`${server.url}/v1/traces`, INGEST_KEY, run(mine, 'acme-agent'))).status).toBe(200);
    expect((await postOtlp(`${server.url}/v1/traces`, server.other.ingest, run(theirs, 'globex-agent'))).status).toBe(200);
    const acme = (await getJson<{ runs: any[] }>(`${server.url}/api/v1/runs`, READ_KEY)).runs.map((r) => r.agent);
    const globex = (await getJson<{ runs: any[] }>(`${server.url}/api/v1/runs`, server.other.read)).runs.map((r) => r.agent);
    expect(acme).toContain('acme-agent');
    expect(acme).not.toContain('globex-agent');
    expect(globex).toEqual(['globex-agent']);
    // Not even by asking for the run by id.
    const res = await fetch(`${server.url}/api/v1/runs/${theirs}-x`, { headers: { authorization: `Bearer ${READ_KEY}` } });
    expect(res.status).toBe(404);
  });
});

describe('key management', () => {
  const admin = { authorization: `Bearer ${ADMIN_KEY}` };

  it('creates, lists, rotates and revokes keys; revoked and rotated-away keys stop working at once', async () => {
    const created = await postJson(`${server.url}/api/v1/admin/keys`, ADMIN_KEY, { name: 'ci-ingest', scopes: ['ingest'] });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ tenant: 'acme', name: 'ci-ingest', scopes: ['ingest'], secret: expect.stringMatching(/^aik_/) });
    const key = created.body.secret as string;
    expect((await postOtlp(`${server.url}/v1/traces`, key, run(traceId(), 'new-key'))).status).toBe(200);

    const listed = await getJson<{ keys: any[] }>(`${server.url}/api/v1/admin/keys?tenant=acme`, ADMIN_KEY);
    const entry = listed.keys.find((k) => k.id === created.body.id);
    expect(entry).toMatchObject({ name: 'ci-ingest', revokedAt: null, prefix: key.slice(0, 10) });
    expect(JSON.stringify(listed)).not.toContain(key); // never the secret, never the hash

    const rotated = await postJson(`${server.url}/api/v1/admin/keys/${created.body.id}/rotate`, ADMIN_KEY, {});
    expect(rotated.status).toBe(201);
    const key2 = rotated.body.secret as string;
    expect(key2).not.toBe(key);
    expect((await postOtlp(`${server.url}/v1/traces`, key, run(traceId(), 'x'))).status).toBe(401);
    expect((await postOtlp(`${server.url}/v1/traces`, key2, run(traceId(), 'x'))).status).toBe(200);

    const revoked = await fetch(`${server.url}/api/v1/admin/keys/${rotated.body.id}`, { method: 'DELETE', headers: admin });
    expect(revoked.status).toBe(200);
    const after = await postOtlp(`${server.url}/v1/traces`, key2, run(traceId(), 'x'));
    expect(after.status).toBe(401);
    expect(JSON.parse(after.body.toString()).message).toBe('this API key has been revoked');
  });

  it('rejects unknown scopes with the allowed ones', async () => {
    const res = await postJson(`${server.url}/api/v1/admin/keys`, ADMIN_KEY, { name: 'x', scopes: ['write'] });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('scopes: unknown scope(s) write; allowed: ingest, read, admin');
  });

  it('health tells the key\'s tenant and scopes and the storage', async () => {
    const h = await getJson<any>(`${server.url}/api/v1/health`, READ_KEY);
    expect(h).toMatchObject({ status: 'ok', tenant: 'acme', scopes: ['read'], storage: { engine: 'duckdb', status: 'ok' }, devMode: false });
    expect(h.version).toMatch(/^\d+\.\d+\.\d+/);
  });
});
