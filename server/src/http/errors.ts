/**
 * Turning typed failures into HTTP answers, in one place. OTLP routes answer with a
 * google.rpc.Status in the request's content type; the API answers {"error": message}.
 */
import { AuthError } from '../auth/keys';
import { DecodeError } from '../ingest/otlp/types';
import { OverloadedError, ShuttingDownError, StorageError } from '../ingest/errors';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

/** gRPC codes for google.rpc.Status bodies, by HTTP status. */
const GRPC_CODE: Record<number, number> = { 400: 3, 401: 16, 403: 7, 404: 5, 413: 3, 415: 3, 429: 8, 503: 14 };
export const grpcCode = (status: number): number => GRPC_CODE[status] ?? 13;

interface FastifyLikeError {
  code?: string;
  statusCode?: number;
  message: string;
}

export function toHttpError(err: unknown, maxBodyBytes: number): HttpError {
  if (err instanceof HttpError) return err;
  if (err instanceof AuthError) return new HttpError(err.status, err.message);
  if (err instanceof DecodeError) return new HttpError(400, err.message);
  if (err instanceof OverloadedError) return new HttpError(429, err.message, err.retryAfterSeconds);
  if (err instanceof ShuttingDownError) return new HttpError(503, err.message, 5);
  if (err instanceof StorageError) return new HttpError(503, err.message, 5);
  const fe = err as FastifyLikeError;
  if (fe?.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new HttpError(413, `request body is larger than the limit of ${maxBodyBytes} bytes`);
  if (fe?.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return new HttpError(415, 'unsupported Content-Type');
  if (typeof fe?.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) return new HttpError(fe.statusCode, fe.message);
  return new HttpError(500, `internal error: ${(err as Error)?.message ?? String(err)}`);
}
