// Error bodies the client makes itself. Each names its sentence here instead of taking the shared
// sentence table, so the browser bundle does not carry the relay's whole table (~0.6 KB gzip).
import type { ErrorBody, ErrorCode } from '@carethread/shared';

export function fail(code: ErrorCode, message: string): ErrorBody {
  return { code, message };
}
