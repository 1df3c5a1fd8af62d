// The one error type services throw; transports turn it into the shared ack/REST error shape.
import { errorSentences, type ErrorCode } from '@carethread/shared';

export class RelayError extends Error {
  override name = 'RelayError';
  constructor(
    readonly code: ErrorCode,
    message: string = errorSentences[code],
    /**
     * `cause`: what went wrong underneath, for the log only (a storage outage); never sent.
     * `retryAfterSeconds`: when a retry may succeed (RATE_LIMITED); HTTP answers carry it as
     * Retry-After.
     */
    options?: { cause?: unknown; retryAfterSeconds?: number },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.retryAfterSeconds = options?.retryAfterSeconds;
  }

  readonly retryAfterSeconds: number | undefined;
}
