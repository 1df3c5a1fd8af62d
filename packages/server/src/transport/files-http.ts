// File uploads and downloads over HTTP (ADR 16), beside the socket: `PUT /files/{fileId}` streams
// a body in with the user's bearer token, `POST /files/{fileId}/link` hands out a signed download
// link, and `GET /files/{fileId}?…` serves it with headers that keep a browser from running it.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { ConversationId, FileId, errorBody, type ApiErrorResponse } from '@carethread/shared';
import { AuthError, type Identity, type TokenVerifier } from '../auth/tokens.js';
import { statusOfCode } from '../api/route.js';
import { RelayError } from '../services/errors.js';
import { fileHeaders, type FileService } from '../services/files.js';

/** What a shown file name may hold: printable, no path separators. */
const FILE_NAME = /^[^\p{Cc}/\\]{1,200}$/u;

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
}

function fail(reply: FastifyReply, error: unknown, logger: Logger): FastifyReply {
  const known = error instanceof RelayError || error instanceof AuthError;
  if (!known) logger.error({ err: error }, 'file request failed');
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

export function mountFileRoutes(options: FileRoutesOptions): void {
  const { http, files, verifier, logger } = options;
  void http.register((scope, _options, done) => {
    // Bodies stay streams here: nothing is parsed or buffered, whatever the declared type.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, payload, parsed) => {
      parsed(null, payload);
    });

    scope.put('/files/:fileId', async (request, reply) => {
      let identity: Identity | undefined;
      try {
        if (options.isShuttingDown())
          throw new RelayError('UNAVAILABLE', 'The relay is restarting. Retry in a moment.');
        identity = await authenticate(request, verifier);
        const fileId = fileIdOf(request);
        const query = request.query as { conversationId?: string; name?: string };
        const conversationId = ConversationId.safeParse(query.conversationId);
        if (!conversationId.success)
          throw new RelayError('VALIDATION', 'Give the conversation as ?conversationId=….');
        const name = query.name ?? 'file';
        if (!FILE_NAME.test(name))
          throw new RelayError('VALIDATION', 'A file name is 1 to 200 printable characters.');
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
        const fileId = fileIdOf(request);
        return await reply.send(
          await files.link(identity, fileId, `${request.protocol}://${request.host}`),
        );
      } catch (error) {
        return fail(reply, error, logger);
      }
    });

    scope.get('/files/:fileId', async (request, reply) => {
      try {
        const fileId = fileIdOf(request);
        const query = request.query as Partial<Record<'tenant' | 'user' | 'exp' | 'sig', string>>;
        const { tenant, user, exp, sig } = query;
        if (!tenant || !user || !exp || !sig)
          throw new RelayError('FORBIDDEN', 'This download link is not valid.');
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
}
