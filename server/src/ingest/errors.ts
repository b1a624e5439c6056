/**
 * Typed ingest failures. The HTTP layer turns each into its status in one place
 * (http/errors.ts); clients retry only 429 and 503, so those are the ones that must lose nothing.
 */
export class OverloadedError extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super(`the server is writing as fast as it can and its queue is full; retry after ${retryAfterSeconds} s`);
  }
}

export class StorageError extends Error {
  constructor(cause: Error) {
    super(`storage failed, nothing of this request was stored: ${cause.message}`);
  }
}

export class ShuttingDownError extends Error {
  constructor() {
    super('the server is shutting down; retry against another instance or after it restarts');
  }
}
