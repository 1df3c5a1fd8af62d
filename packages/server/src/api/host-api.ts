// Mounts the host API on the relay's Fastify server: API-key authentication, validation of path,
// query and body against the shared schemas, the one error shape, and Idempotency-Key replay for
// every write. Serves the OpenAPI document generated from the same route table.
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import {
  IDEMPOTENCY_HEADER,
  IdempotencyKey,
  describeIssues,
  errorBody,
  isOnlyTooBig,
  isRetryable,
  type ApiErrorResponse,
  type ErrorCode,
} from '@carethread/shared';
import type { z } from 'zod/mini';
import { hostIdentity } from '../auth/tokens.js';
import { canonicalJson } from '../core/canonical.js';
import { RelayError } from '../core/errors.js';
import type { RelayMetrics } from '../transport/metrics.js';
import type { AccessLog } from '../services/audit.js';
import type { Store } from '../store/types.js';
import type { ApiPrincipal } from './keys.js';
import { openApiDocument } from './openapi.js';
import { statusOfCode, type RawBody, type RouteSpec } from './route.js';

export interface HostApiOptions {
  http: FastifyInstance;
  routes: readonly RouteSpec[];
  store: Store;
  authenticate: (authorization: string | undefined) => ApiPrincipal | undefined;
  logger: Logger;
  metrics: RelayMetrics;
  isShuttingDown: () => boolean;
  /** Every call is recorded here before its answer leaves. */
  accessLog: AccessLog;
  now?: () => Date;
}

/** An answer ready to send, and to replay for a retried Idempotency-Key. */
interface Answer {
  status: number;
  body: unknown;
}

function failure(code: ErrorCode, message?: string): Answer {
  return {
    status: statusOfCode[code],
    body: { error: errorBody(code, message) } satisfies ApiErrorResponse,
  };
}

function parsePart(schema: z.ZodMiniType | undefined, value: unknown, part: string): unknown {
  if (!schema) return undefined;
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const tooBig = isOnlyTooBig(result.error.issues);
  throw new RelayError(
    tooBig ? 'TOO_LARGE' : 'VALIDATION',
    `${tooBig ? 'Too large' : 'Invalid request'} (${part}): ${describeIssues(result.error.issues)}.`,
  );
}

const isRaw = (value: unknown): value is RawBody =>
  typeof value === 'object' && value !== null && 'raw' in value && 'contentType' in value;

export function mountHostApi(options: HostApiOptions): void {
  const { http, routes, store, authenticate, logger, metrics } = options;
  const now = options.now ?? (() => new Date());
  const document = openApiDocument(routes);

  http.get('/openapi.json', () => document);

  // Fastify's own refusals (malformed JSON, wrong content type, body over the limit) in our shape.
  http.setErrorHandler(
    (error: { statusCode?: number; code?: string; message: string }, _request, reply) => {
      const status = error.statusCode ?? 500;
      const answer =
        status === 413
          ? failure('TOO_LARGE', 'The request body is too large.')
          : status >= 400 && status < 500
            ? failure('VALIDATION', `The request was not understood: ${error.message}`)
            : failure('INTERNAL');
      if (answer.status === 500) logger.error({ err: error }, 'host API request failed');
      send(reply, answer);
    },
  );
  http.setNotFoundHandler((request, reply) => {
    const answer = failure(
      'NOT_FOUND',
      `There is no ${request.method} ${request.url.split('?')[0] ?? ''} in this API. See /openapi.json.`,
    );
    send(reply, answer);
  });

  for (const spec of routes) {
    http.route({
      method: spec.method,
      url: spec.path.replaceAll(/\{(\w+)\}/g, ':$1'),
      handler: (request, reply) => handle(spec, request, reply),
    });
  }

  async function run(
    spec: RouteSpec,
    request: FastifyRequest,
    principal: ApiPrincipal,
  ): Promise<Answer> {
    const identity = hostIdentity(principal.tenantId, principal.keyId);
    let answer: Answer;
    try {
      const result = await spec.handler({
        identity,
        baseUrl: `${request.protocol}://${request.host}`,
        params: parsePart(spec.params, request.params, 'path'),
        query: parsePart(spec.query, request.query, 'query'),
        body: parsePart(spec.body, request.body ?? {}, 'body'),
      });
      answer = { status: spec.success.status, body: result };
    } catch (error) {
      if (error instanceof RelayError) {
        if (error.cause !== undefined)
          logger.warn(
            { err: error.cause, operation: spec.operationId, tenant: principal.tenantId },
            'host API call failed underneath',
          );
        answer = failure(error.code, error.message);
      } else {
        logger.error(
          { err: error, operation: spec.operationId, tenant: principal.tenantId },
          'host API handler failed',
        );
        answer = failure('INTERNAL');
      }
    }
    const { conversationId } = (request.params ?? {}) as { conversationId?: unknown };
    try {
      await options.accessLog.record(principal.tenantId, {
        actorId: identity.userId,
        action: 'api.call',
        conversationId: typeof conversationId === 'string' ? conversationId : null,
        detail: { operation: spec.operationId, status: answer.status },
      });
    } catch (error) {
      if (error instanceof RelayError) return failure(error.code, error.message);
      throw error;
    }
    return answer;
  }

  function send(reply: FastifyReply, answer: Answer): FastifyReply {
    const code = (answer.body as Partial<ApiErrorResponse> | undefined)?.error?.code;
    if (code !== undefined) metrics.errors.inc({ code, surface: 'api' });
    void reply.code(answer.status);
    if (answer.status === 204) return reply.send();
    if (isRaw(answer.body))
      return reply
        .headers(answer.body.headers ?? {})
        .type(answer.body.contentType)
        .send(answer.body.raw);
    return reply.send(answer.body);
  }

  async function handle(
    spec: RouteSpec,
    request: FastifyRequest,
    reply: FastifyReply,
  ): Promise<FastifyReply> {
    if (options.isShuttingDown())
      return send(reply, failure('UNAVAILABLE', 'The relay is restarting. Retry in a moment.'));
    const principal = authenticate(request.headers.authorization);
    if (!principal) {
      void reply.header('www-authenticate', 'Bearer');
      return send(
        reply,
        failure(
          'UNAUTHENTICATED',
          'Send a valid API key of this tenant as "Authorization: Bearer ctk_...".',
        ),
      );
    }
    const rawKey = request.headers[IDEMPOTENCY_HEADER];
    if (spec.method === 'GET' || rawKey === undefined)
      return send(reply, await run(spec, request, principal));

    const key = IdempotencyKey.safeParse(rawKey);
    if (!key.success)
      return send(
        reply,
        failure('VALIDATION', 'Idempotency-Key must be 1 to 255 visible ASCII characters.'),
      );
    // The same key may only ever stand for the same operation on the same body.
    const fingerprint = createHash('sha256')
      .update(`${spec.method} ${request.url}\n${canonicalJson(request.body ?? null)}`)
      .digest('hex');
    const claim = await store.claimIdempotencyKey(
      principal.tenantId,
      key.data,
      fingerprint,
      now().toISOString(),
    );
    if (claim.state !== 'claimed') {
      if (claim.fingerprint !== fingerprint)
        return send(
          reply,
          failure(
            'CONFLICT',
            'This Idempotency-Key was used for a different request. Use a new key for a new request.',
          ),
        );
      if (claim.state === 'running') {
        // The one CONFLICT a plain retry fixes: Retry-After tells clients without reading the text.
        void reply.header('retry-after', '1');
        return send(
          reply,
          failure(
            'CONFLICT',
            'A request with this Idempotency-Key is still running. Retry in a moment.',
          ),
        );
      }
      void reply.header('idempotent-replayed', 'true');
      return send(reply, { status: claim.status, body: JSON.parse(claim.body) as unknown });
    }
    const answer = await run(spec, request, principal);
    const code = (answer.body as Partial<ApiErrorResponse>).error?.code;
    // A failure a retry may fix gives the key back; any other answer is kept for replay.
    if (code !== undefined && isRetryable(code))
      await store.releaseIdempotencyKey(principal.tenantId, key.data);
    else
      await store.completeIdempotencyKey(
        principal.tenantId,
        key.data,
        answer.status,
        JSON.stringify(isRaw(answer.body) ? null : (answer.body ?? null)),
      );
    return send(reply, answer);
  }
}
