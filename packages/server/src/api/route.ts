// What a host API route is: method, path, the shared zod schemas of its parts, the errors it may
// answer, and its handler. The same table registers the routes and writes the OpenAPI document.
import type { Readable } from 'node:stream';
import type { z } from 'zod/mini';
import type { ErrorCode } from '@carethread/shared';
import type { Identity } from '../auth/tokens.js';

/** A body that is not JSON: the PDF of a record, the compact JWS of a receipt, a file (streamed). */
export interface RawBody {
  raw: string | Buffer | Readable;
  contentType: string;
  /** Further response headers (a file's disposition and sandbox). */
  headers?: Record<string, string>;
}

export interface RouteContext<Params, Query, Body> {
  /** The host's identity for its tenant (see `hostIdentity`). */
  identity: Identity;
  /** Where the relay is reached, as the caller addressed it (for absolute URLs in answers). */
  baseUrl: string;
  params: Params;
  query: Query;
  body: Body;
}

type Infer<S> = S extends z.ZodMiniType ? z.infer<S> : undefined;

export interface RouteSpec<
  P extends z.ZodMiniType | undefined = z.ZodMiniType | undefined,
  Q extends z.ZodMiniType | undefined = z.ZodMiniType | undefined,
  B extends z.ZodMiniType | undefined = z.ZodMiniType | undefined,
  R extends z.ZodMiniType | undefined = z.ZodMiniType | undefined,
> {
  method: 'GET' | 'POST' | 'DELETE';
  /** OpenAPI style: `/api/v1/conversations/{conversationId}`. */
  path: string;
  operationId: string;
  summary: string;
  tag: string;
  params?: P;
  query?: Q;
  body?: B;
  /** The success status and its body: a schema for JSON, a content type for a raw body, or none. */
  success: { status: number; description: string; schema?: R; contentType?: string };
  /** The codes this route may answer besides UNAUTHENTICATED, VALIDATION and INTERNAL. */
  errors: readonly ErrorCode[];
  handler: (
    context: RouteContext<Infer<P>, Infer<Q>, Infer<B>>,
  ) => Promise<(R extends z.ZodMiniType ? z.infer<R> : undefined) | RawBody>;
}

/** Keeps each route's types checked against its own schemas while the table holds them all. */
export function route<
  P extends z.ZodMiniType | undefined,
  Q extends z.ZodMiniType | undefined,
  B extends z.ZodMiniType | undefined,
  R extends z.ZodMiniType | undefined,
>(spec: RouteSpec<P, Q, B, R>): RouteSpec {
  return spec;
}

/** The HTTP status of each stable error code. */
export const statusOfCode: Record<ErrorCode, number> = {
  UNAUTHENTICATED: 401,
  TOKEN_EXPIRED: 401,
  SESSION_IDLE: 401,
  MFA_REQUIRED: 403,
  UNSUPPORTED_VERSION: 400,
  FORBIDDEN: 403,
  FORBIDDEN_ORIGIN: 403,
  CONSENT_REQUIRED: 403,
  NOT_FOUND: 404,
  VALIDATION: 400,
  UNKNOWN_EVENT: 404,
  RATE_LIMITED: 429,
  TOO_LARGE: 413,
  UNSUPPORTED_FILE_TYPE: 415,
  SIGNER_NAME_MISMATCH: 422,
  CONFLICT: 409,
  ARCHIVED: 409,
  UNAVAILABLE: 503,
  INTERNAL: 500,
};
