// Stable error codes of the CareThread protocol as zod schemas; the plain values live in codes.ts.
import { z } from 'zod/mini';
import { ERROR_CODES } from './codes.js';

/** Every error the relay or the client reports carries one of these codes. Codes never change meaning. */
export const ErrorCode = z.enum(ERROR_CODES);
export type ErrorCode = z.infer<typeof ErrorCode>;

/** The error half of every ack and REST error body. */
export const ErrorBody = z.object({
  code: ErrorCode,
  message: z.string(),
});
export type ErrorBody = z.infer<typeof ErrorBody>;
