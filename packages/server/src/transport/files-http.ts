// File uploads and downloads over HTTP (ADR 16), beside the socket: `PUT /files/{fileId}` streams
// a body in with the user's bearer token, `POST /files/{fileId}/link` hands out a signed download
// link, and `GET /files/{fileId}?…` serves it with headers that keep a browser from running it.
// The widget calls these from the portal's page, so they answer CORS for the tenants' origins.
import type { Socket } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import {
  ConversationId,
  FileId,
  errorBody,
  hasVisibleText,
  isWellFormedText,
  type ApiErrorResponse,
} from '@carethread/shared';
import { originAllowed } from '../auth/origins.js';
import { AuthError, type Identity, type TokenVerifier } from '../auth/tokens.js';
import { statusOfCode } from '../api/route.js';
import { RelayError } from '../core/errors.js';
import { fileHeaders, type FileService } from '../services/files.js';

/** What a shown file name may hold: printable, no path separators. */
/**
 * A file name as people see it: no controls or path separators, and no text-direction controls,
 * which can make "\u202Efdp.exe" show as "exe.pdf".
 */
const FILE_NAME = /^[^\p{Cc}\p{Bidi_Control}/\\]{1,200}$/u;

/** A media type's `type/subtype`, as RFC 9110 spells its tokens. */
const MEDIA_TYPE = /^[a-z0-9!#$%&'*+.^_`|~-]{1,64}\/[a-z0-9!#$%&'*+.^_`|~-]{1,64}$/;

/**
 * The type a client declared, without its parameters (a `name=` could carry a name): only for
 * the audit of a refusal, since the type is decided from the content.
 */
function declaredType(header: string | undefined): string | undefined {
  const type = header?.split(';', 1)[0]?.trim().toLowerCase();
  return type && MEDIA_TYPE.test(type) ? type : undefined;
}

export interface FileRoutesOptions {
  http: FastifyInstance;
  files: FileService;
  verifier: Pick<TokenVerifier, 'verify'>;
  logger: Logger;
  isShuttingDown: () => boolean;
  /** The tenants, for the browser origins each allows (as for the socket). */
  tenants: readonly { id: string; allowedOrigins: readonly string[] }[];
}

/** How long a browser may reuse a preflight answer. */
const PREFLIGHT_MAX_AGE_SECONDS = 600;

function fail(reply: FastifyReply, error: unknown, logger: Logger): FastifyReply {
  const known = error instanceof RelayError || error instanceof AuthError;
  if (!known) logger.error({ err: error }, 'file request failed');
  else if (error instanceof RelayError && error.cause !== undefined)
    logger.warn({ err: error.cause, code: error.code }, 'file request failed underneath');
  const code = known ? error.code : 'INTERNAL';
  const body: ApiErrorResponse = {
    error: errorBody(code, known ? error.message : undefined),
  };
  if (code === 'UNAUTHENTICATED') void reply.header('www-authenticate', 'Bearer');
  if (error instanceof RelayError && error.retryAfterSeconds !== undefined)
    void reply.header('retry-after', String(error.retryAfterSeconds));
  // A refused upload may still be arriving: close instead of reading the rest of it.
  return reply.code(statusOfCode[code]).header('connection', 'close').send(body);
}

function fileIdOf(request: FastifyRequest): string {
  const fileId = FileId.safeParse((request.params as { fileId: unknown }).fileId);
  if (!fileId.success)
    throw new RelayError('VALIDATION', 'A file id is 8 to 64 letters, digits, "_" or "-".');
  return fileId.data;
}

async function authenticate(
  request: FastifyRequest,
  verifier: FileRoutesOptions['verifier'],
): Promise<Identity> {
  const header = request.headers.authorization;
  const token = header?.startsWith('Bearer ') ? header.slice(7) : undefined;
  if (!token)
    throw new AuthError('UNAUTHENTICATED', 'Send your chat token as "Authorization: Bearer …".');
  return (await verifier.verify(token)).identity;
}

/**
 * A request from a browser page must come from one of its tenant's origins, as a socket must; the
 * preflight only knew that some tenant allows it. Requests without `Origin` (servers, bots) pass.
 */
function requireTenantOrigin(
  request: FastifyRequest,
  tenantId: string,
  tenants: FileRoutesOptions['tenants'],
): void {
  const origin = request.headers.origin;
  const allowed = tenants.find((tenant) => tenant.id === tenantId)?.allowedOrigins ?? [];
  if (origin !== undefined && !originAllowed(allowed, origin))
    throw new RelayError('FORBIDDEN_ORIGIN', errorBody('FORBIDDEN_ORIGIN').message);
}

export interface FileRoutes {
  /**
   * Cuts the uploads and downloads under way, for a shutdown that must not wait on a slow link
   * for minutes. Nothing is lost: an upload is only kept once complete, and the client sends it
   * again under the same id; a download starts again from a new link.
   */
  abortTransfers(): void;
}

export function mountFileRoutes(options: FileRoutesOptions): FileRoutes {
  const { http, files, verifier, logger, tenants } = options;
  const anyTenantOrigins = tenants.flatMap((tenant) => tenant.allowedOrigins);
  const transfers = new Set<Socket>();
  const track = (request: FastifyRequest, reply: FastifyReply) => {
    const { socket } = request.raw;
    transfers.add(socket);
    reply.raw.once('close', () => transfers.delete(socket));
  };
  void http.register((scope, _options, done) => {
    // Bodies stay streams here: nothing is parsed or buffered, whatever the declared type.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, payload, parsed) => {
      parsed(null, payload);
    });

    // CORS: an origin some tenant allows is told so, on preflights and answers alike (errors
    // included, so the widget can read their code); which tenant's origin it must be is checked
    // once the token or link names the tenant. Credentials are never asked for: the token travels
    // in a header.
    scope.addHook('onRequest', async (request, reply) => {
      const origin = request.headers.origin;
      if (origin === undefined || !originAllowed(anyTenantOrigins, origin)) return;
      void reply
        .header('access-control-allow-origin', origin)
        .header('vary', 'Origin')
        .header('access-control-expose-headers', 'retry-after');
    });
    const preflight = async (request: FastifyRequest, reply: FastifyReply) => {
      const origin = request.headers.origin;
      if (origin === undefined || !originAllowed(anyTenantOrigins, origin))
        return fail(
          reply,
          new RelayError('FORBIDDEN_ORIGIN', errorBody('FORBIDDEN_ORIGIN').message),
          logger,
        );
      return reply
        .code(204)
        .header('access-control-allow-methods', 'GET, POST, PUT')
        .header('access-control-allow-headers', 'authorization, content-type')
        .header('access-control-max-age', String(PREFLIGHT_MAX_AGE_SECONDS))
        .send();
    };
    scope.options('/files/:fileId', preflight);
    scope.options('/files/:fileId/link', preflight);

    scope.put('/files/:fileId', async (request, reply) => {
      track(request, reply);
      let identity: Identity | undefined;
      try {
        if (options.isShuttingDown())
          throw new RelayError('UNAVAILABLE', 'The relay is restarting. Retry in a moment.');
        identity = await authenticate(request, verifier);
        requireTenantOrigin(request, identity.tenantId, tenants);
        const fileId = fileIdOf(request);
        const query = request.query as { conversationId?: string; name?: string };
        const conversationId = ConversationId.safeParse(query.conversationId);
        if (!conversationId.success)
          throw new RelayError('VALIDATION', 'Give the conversation as ?conversationId=….');
        const name = query.name ?? 'file';
        if (!FILE_NAME.test(name) || !isWellFormedText(name) || !hasVisibleText(name))
          throw new RelayError(
            'VALIDATION',
            'A file name is 1 to 200 visible characters, without slashes or text-direction controls. Rename the file and try again.',
          );
        const length = request.headers['content-length'];
        const { file, created } = await files.upload(identity, {
          fileId,
          conversationId: conversationId.data,
          name,
          declaredBytes: length === undefined ? undefined : Number(length),
          declaredType: declaredType(request.headers['content-type']),
          body: request.raw,
        });
        return await reply.code(created ? 201 : 200).send({ file });
      } catch (error) {
        // Refusals after authentication are in the tenant's audit trail (file.refused); before
        // it there is no verified tenant to write to, so they are only logged.
        if (!identity && (error instanceof RelayError || error instanceof AuthError))
          logger.info({ code: error.code, address: request.ip }, 'file upload refused');
        return fail(reply, error, logger);
      }
    });

    scope.post('/files/:fileId/link', async (request, reply) => {
      try {
        const identity = await authenticate(request, verifier);
        requireTenantOrigin(request, identity.tenantId, tenants);
        const fileId = fileIdOf(request);
        return await reply.send(
          await files.link(identity, fileId, `${request.protocol}://${request.host}`),
        );
      } catch (error) {
        return fail(reply, error, logger);
      }
    });

    scope.get('/files/:fileId', async (request, reply) => {
      track(request, reply);
      try {
        const fileId = fileIdOf(request);
        const query = request.query as Partial<Record<'tenant' | 'user' | 'exp' | 'sig', string>>;
        const { tenant, user, exp, sig } = query;
        if (!tenant || !user || !exp || !sig)
          throw new RelayError('FORBIDDEN', 'This download link is not valid.');
        // Only a page's fetch sends Origin on a GET; following the link itself does not.
        requireTenantOrigin(request, tenant, tenants);
        const { file, body } = await files.download(fileId, { tenant, user, exp, sig });
        return await reply
          .headers(fileHeaders(file))
          .header('content-type', file.contentType)
          .send(body);
      } catch (error) {
        return fail(reply, error, logger);
      }
    });
    done();
  });
  return {
    abortTransfers() {
      for (const socket of transfers) socket.destroy();
      transfers.clear();
    },
  };
}
