/**
 * Admin API (admin scope): API keys (create, list, rotate, revoke), and deleting everything of
 * one conversation or one user. Key management spans tenants (an operator provisions them);
 * data deletion is limited to the key's own tenant.
 */
import { FastifyInstance } from 'fastify';
import { parseScopes } from '../auth/keys';
import { AppDeps, Authorize } from './app';
import { HttpError } from './errors';
import { jsonBody } from './json-body';

export function registerAdminRoutes(app: FastifyInstance, deps: AppDeps, authorize: Authorize): void {
  const { config, keys, store, writer } = deps;

  app.post('/api/v1/admin/keys', async (req, reply) => {
    const principal = await authorize(req, 'admin');
    const body = (await jsonBody(req, config.maxBodyBytes)) as Record<string, unknown>;
    if (typeof body !== 'object' || body === null) throw new HttpError(400, 'body must be a JSON object {tenant?, name, scopes}');
    let scopes;
    try {
      scopes = parseScopes(body.scopes);
    } catch (e) {
      throw new HttpError(400, `scopes: ${(e as Error).message}`);
    }
    const tenant = body.tenant === undefined ? principal.tenant : String(body.tenant);
    try {
      const created = await keys.create(tenant, typeof body.name === 'string' ? body.name : '', scopes);
      return reply.code(201).send({ ...created.key, secret: created.secret });
    } catch (e) {
      throw new HttpError(400, (e as Error).message);
    }
  });

  app.get('/api/v1/admin/keys', async (req) => {
    await authorize(req, 'admin');
    const tenant = (req.query as { tenant?: string }).tenant;
    return { keys: await keys.list(tenant || undefined) };
  });

  app.post('/api/v1/admin/keys/:id/rotate', async (req, reply) => {
    await authorize(req, 'admin');
    const id = (req.params as { id: string }).id;
    const rotated = await keys.rotate(id);
    if (!rotated) throw new HttpError(404, `no active key with id "${id}"`);
    return reply.code(201).send({ ...rotated.key, secret: rotated.secret, replaces: id });
  });

  app.delete('/api/v1/admin/keys/:id', async (req) => {
    await authorize(req, 'admin');
    const id = (req.params as { id: string }).id;
    if (!(await keys.revoke(id))) throw new HttpError(404, `no active key with id "${id}"`);
    return { id, revoked: true };
  });

  app.post('/api/v1/admin/delete', async (req) => {
    const principal = await authorize(req, 'admin');
    const body = (await jsonBody(req, config.maxBodyBytes)) as Record<string, unknown>;
    const conversation = typeof body?.conversationId === 'string' ? body.conversationId : '';
    const user = typeof body?.userId === 'string' ? body.userId : '';
    if ((conversation === '') === (user === '')) throw new HttpError(400, 'give exactly one of conversationId or userId (a non-empty string)');
    const result = await writer.exclusive(() =>
      conversation ? store.deleteBy(principal.tenant, 'conversation', conversation) : store.deleteBy(principal.tenant, 'user', user),
    );
    return { tenant: principal.tenant, conversationId: conversation || undefined, userId: user || undefined, tracesDeleted: result.traces.length, spansDeleted: result.spans };
  });
}
