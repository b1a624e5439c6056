/** The key CLI against a running server, as an operator would use it. */
import { run } from './cli';
import { ADMIN_KEY, startTestServer, TestServer } from './test-support/server';
import { postOtlp, spanId, traceId, tracesJson } from './test-support/otlp';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.cleanup());

async function cli(...args: string[]): Promise<string> {
  const lines: string[] = [];
  await run([...args, '--url', server.url], { AGENT_INSIGHTS_ADMIN_KEY: ADMIN_KEY }, (s) => lines.push(s));
  return lines.join('\n');
}

const oneRun = () => JSON.stringify(tracesJson([{ traceId: traceId(), spanId: spanId(), name: 'invoke_agent x', start: Date.now() - 10, end: Date.now(), attributes: { 'gen_ai.operation.name': 'invoke_agent' } }]));

it('creates, lists, rotates and revokes keys', async () => {
  const created = JSON.parse(await cli('keys', 'create', '--scopes', 'ingest', '--name', 'edge-agents', '--tenant', 'acme', '--json'));
  expect(created).toMatchObject({ tenant: 'acme', name: 'edge-agents', scopes: ['ingest'] });
  expect((await postOtlp(`${server.url}/v1/traces`, created.secret, oneRun())).status).toBe(200);

  const listed = await cli('keys', 'list', '--tenant', 'acme');
  expect(listed).toMatch(new RegExp(`${created.id}  tenant=acme  name=edge-agents  scopes=ingest`));

  const rotated = await cli('keys', 'rotate', created.id);
  expect(rotated).toMatch(new RegExp(`replaces ${created.id}, which no longer works`));
  const secret = /secret \(shown once, store it now\): (\S+)/.exec(rotated)![1];
  expect((await postOtlp(`${server.url}/v1/traces`, created.secret, oneRun())).status).toBe(401);
  expect((await postOtlp(`${server.url}/v1/traces`, secret, oneRun())).status).toBe(200);

  const newId = rotated.split('  ')[0];
  expect(await cli('keys', 'revoke', newId)).toBe(`revoked ${newId}`);
  expect((await postOtlp(`${server.url}/v1/traces`, secret, oneRun())).status).toBe(401);
  expect(await cli('keys', 'list')).toMatch(new RegExp(`${newId} .* REVOKED`));
});

it('explains what is wrong', async () => {
  await expect(cli('keys', 'create')).rejects.toThrow('keys create needs --scopes');
  await expect(cli('keys', 'create', '--scopes', 'everything')).rejects.toThrow('server answered 400: scopes: unknown scope(s) everything; allowed: ingest, read, admin');
  await expect(run(['keys', 'list', '--url', server.url], {}, () => undefined)).rejects.toThrow('an admin key is needed');
  await expect(run(['keys', 'list', '--url', 'http://127.0.0.1:9'], { AGENT_INSIGHTS_ADMIN_KEY: ADMIN_KEY }, () => undefined)).rejects.toThrow(/cannot reach the server/);
  await expect(cli('keys', 'revoke', 'nope')).rejects.toThrow('server answered 404: no active key with id "nope"');
});

it('generates fresh secrets for .env files', async () => {
  const a = await cli('keys', 'generate');
  const b = await cli('keys', 'generate');
  expect(a).toMatch(/^aik_[A-Za-z0-9_-]{43}$/);
  expect(a).not.toBe(b);
});
