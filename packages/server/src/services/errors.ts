// The one error type services throw; transports turn it into the shared ack/REST error shape.
import { errorSentences, type ErrorCode } from '@carethread/shared';

export class RelayError extends Error {
  override name = 'RelayError';
  constructor(
    readonly code: ErrorCode,
    message: string = errorSentences[code],
    /** What went wrong underneath, for the log only (a storage outage); never sent. */
    options?: { cause: unknown },
  ) {
    super(message, options);
  }
}
