// The error every failed request rejects with. It sits below the client, its conversations and
// its file calls, which all throw it, so none of them has to import another to get it.
import type { ErrorCode } from '@carethread/shared';

/** Thrown (as a rejection) by every request that fails; `code` is the stable protocol code. */
export class CareThreadError extends Error {
  override name = 'CareThreadError';
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}
