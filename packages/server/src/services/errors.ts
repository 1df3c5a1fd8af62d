// The one error type services throw; transports turn it into the shared ack/REST error shape.
import { errorSentences, type ErrorCode } from '@carethread/shared';

export class RelayError extends Error {
  override name = 'RelayError';
  constructor(
    readonly code: ErrorCode,
    message: string = errorSentences[code],
    /** When a retry may succeed (RATE_LIMITED): HTTP answers carry it as Retry-After. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}
