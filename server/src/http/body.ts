/**
 * Request bodies: Content-Encoding (gzip or none) and the size limit, which applies after
 * decompression too so that a small gzip bomb cannot expand into memory.
 */
import { promisify } from 'node:util';
import { gunzip, inflate } from 'node:zlib';
import { HttpError } from './errors';

const gunzipAsync = promisify(gunzip);
const inflateAsync = promisify(inflate);

export async function decodedBody(raw: unknown, encoding: string | undefined, maxBytes: number): Promise<Buffer> {
  const body = Buffer.isBuffer(raw) ? raw : Buffer.alloc(0);
  const enc = (encoding ?? 'identity').trim().toLowerCase();
  if (enc === 'identity' || enc === '') return body;
  if (enc !== 'gzip' && enc !== 'deflate') {
    throw new HttpError(415, `unsupported Content-Encoding "${enc}"; use gzip or none`);
  }
  try {
    const fn = enc === 'gzip' ? gunzipAsync : inflateAsync;
    return await fn(body, { maxOutputLength: maxBytes });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) {
      throw new HttpError(413, `request body is larger than the limit of ${maxBytes} bytes after decompression`);
    }
    throw new HttpError(400, `body is not valid ${enc} data: ${err.message}`);
  }
}

export type WireFormat = 'protobuf' | 'json';

export function wireFormat(contentType: string | undefined): WireFormat | null {
  const ct = (contentType ?? '').split(';')[0].trim().toLowerCase();
  if (ct === 'application/x-protobuf' || ct === 'application/protobuf') return 'protobuf';
  if (ct === 'application/json') return 'json';
  return null;
}
