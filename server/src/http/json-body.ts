/** JSON request bodies for the API: content type, encoding, size and syntax checked with clear messages. */
import { FastifyRequest } from 'fastify';
import { decodedBody, wireFormat } from './body';
import { HttpError } from './errors';

export async function jsonBody(req: FastifyRequest, maxBytes: number): Promise<unknown> {
  if (wireFormat(req.headers['content-type']) !== 'json') {
    throw new HttpError(415, `Content-Type must be application/json, got "${req.headers['content-type'] ?? ''}"`);
  }
  const body = await decodedBody(req.body, req.headers['content-encoding'] as string | undefined, maxBytes);
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (e) {
    throw new HttpError(400, `body is not valid JSON: ${(e as Error).message}`);
  }
}
