// The host API's routes: conversations, participants, the record of a conversation, consent
// templates, requests and signed records. Handlers are thin: the chat and consent services hold
// the rules, and live sockets hear of every change through the transport's announcements.
import {
  ApiAuditEventPage,
  ApiAuditQuery,
  ApiConsentCancel,
  ApiConsentEventPage,
  ApiConsentRecord,
  ApiConsentRequestCreate,
  ApiConsentRequestPage,
  ApiConsentRequestQuery,
  ApiConversation,
  ApiConversationCreate,
  ApiConversationPage,
  ApiDeadLetterPage,
  ApiRedeliverResult,
  ApiSystemMessage,
  ApiTokenRevocation,
  ApiTokenRevoke,
  MessageView,
  DeadLetterPath,
  FilePath,
  type ApiDeadLetter,
  ApiEntryPage,
  ApiTemplatePublishResult,
  ApiTemplateVersionPage,
  API_PAGE_MAX,
  ConsentRequestPath,
  ConsentRequestView,
  ConversationPath,
  PageQuery,
  ParticipantInput,
  ParticipantPath,
  ParticipantView,
  TemplatePath,
  TemplatePublish,
  type ConsentRecordView,
} from '@carethread/shared';
import type { Identity } from '../auth/tokens.js';
import type { ConsentService } from '../consent/requests.js';
import type { TemplateService } from '../consent/templates.js';
import type { ChatService } from '../services/chat.js';
import { fileHeaders, type FileService } from '../services/files.js';
import type { RevocationService } from '../services/revocations.js';
import { RelayError } from '../core/errors.js';
import type { TenantConfig } from '../core/settings.js';
import type { DeadLetter, Store } from '../store/types.js';
import { webhookBody, type WebhookDispatcher } from '../webhooks/dispatcher.js';
import type { SocketTransport } from '../transport/socket.js';
import { route, type RouteSpec } from './route.js';

export interface HostApiDeps {
  store: Store;
  tenants: readonly TenantConfig[];
  webhooks: Pick<WebhookDispatcher, 'deliverNow'>;
  chat: ChatService;
  files: Pick<FileService, 'openForHost'>;
  consents: ConsentService;
  templates: TemplateService;
  revocations: Pick<RevocationService, 'revoke'>;
  transport: Pick<
    SocketTransport,
    | 'endSessions'
    | 'announceConsent'
    | 'announceMessage'
    | 'announceParticipantAdded'
    | 'announceParticipantRemoved'
  >;
}

const DEFAULT_PAGE = 50;

/** Cursors are opaque to callers: base64url of the position the next page starts after. */
function encodeCursor(position: string | number): string {
  return Buffer.from(JSON.stringify(position), 'utf8').toString('base64url');
}
function decodeCursor<T extends string | number>(
  cursor: string | undefined,
  kind: T,
): T | undefined {
  if (cursor === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (typeof value === typeof kind) return value as T;
  } catch {
    // fall through to the refusal
  }
  throw new RelayError(
    'VALIDATION',
    'The cursor is not one this API gave out. Start from the first page.',
  );
}

/**
 * A page from a store read that was asked for `limit + 1` rows: the extra row only says that more
 * follow, and the cursor is the key of the page's last row.
 */
function pageAfter<T>(rows: readonly T[], limit: number, keyOf: (row: T) => string | number) {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items, next: rows.length > limit && last ? encodeCursor(keyOf(last)) : null };
}

/** Pages a list the store returns whole (bounded lists: versions, events, a tenant's requests). */
function pageInMemory<T>(items: readonly T[], query: PageQuery) {
  const offset = decodeCursor(query.cursor, 0) ?? 0;
  const limit = query.limit ?? DEFAULT_PAGE;
  const page = items.slice(offset, offset + limit);
  return { items: page, next: offset + limit < items.length ? encodeCursor(offset + limit) : null };
}

export function hostApiRoutes({
  store,
  tenants,
  webhooks,
  chat,
  files,
  consents,
  templates,
  revocations,
  transport,
}: HostApiDeps): RouteSpec[] {
  /** A page of the tenant's audit trail, filtered, after the query's cursor. */
  async function auditPage(
    tenantId: string,
    filter: Parameters<Store['listAuditEvents']>[1],
    query: PageQuery,
  ) {
    const limit = query.limit ?? DEFAULT_PAGE;
    const rows = await store.listAuditEvents(
      tenantId,
      filter,
      decodeCursor(query.cursor, 0) ?? 0,
      limit + 1,
    );
    return pageAfter(rows, limit, (row) => row.seq);
  }

  /** A dead letter as the API shows it: the event in the form its endpoint receives. */
  function deadLetterView(tenantId: string, letter: DeadLetter): ApiDeadLetter {
    const endpoint = tenants
      .find((t) => t.id === tenantId)
      ?.webhooks.find((e) => e.id === letter.endpointId);
    return {
      endpointId: letter.endpointId,
      event: webhookBody(letter.event, endpoint?.payload ?? 'ids'),
      attempts: letter.attempts,
      lastError: letter.lastError,
      deadAt: letter.deadAt,
      redeliveredAt: letter.redeliveredAt,
    };
  }

  async function conversationView(
    identity: Identity,
    conversationId: string,
  ): Promise<ApiConversation> {
    const snapshot = await chat.snapshot(identity, conversationId);
    const record = await store.getConversation(identity.tenantId, conversationId);
    return {
      conversationId: snapshot.conversationId,
      title: snapshot.title,
      createdAt: snapshot.createdAt,
      lastSeq: snapshot.lastSeq,
      archivedAt: record?.archivedAt ?? null,
      participants: snapshot.participants,
    };
  }

  async function requestOf(identity: Identity, requestId: string): Promise<ConsentRequestView> {
    const request = await store.getConsentRequest(identity.tenantId, requestId);
    if (!request) throw new RelayError('NOT_FOUND', 'This consent request does not exist.');
    return request;
  }

  return [
    route({
      method: 'POST',
      path: '/api/v1/conversations',
      operationId: 'createConversation',
      summary: 'Start a conversation with its participants',
      tag: 'Conversations',
      body: ApiConversationCreate,
      success: {
        status: 201,
        description: 'The conversation as created.',
        schema: ApiConversation,
      },
      errors: ['CONFLICT'],
      handler: async ({ identity, body }) => {
        await chat.createConversation(identity, body);
        return conversationView(identity, body.conversationId);
      },
    }),
    route({
      method: 'GET',
      path: '/api/v1/conversations',
      operationId: 'listConversations',
      summary: "List the tenant's conversations, by id",
      tag: 'Conversations',
      query: PageQuery,
      success: {
        status: 200,
        description: 'A page of conversations.',
        schema: ApiConversationPage,
      },
      errors: [],
      handler: async ({ identity, query }) => {
        const limit = query.limit ?? DEFAULT_PAGE;
        const rows = await store.listConversations(
          identity.tenantId,
          decodeCursor(query.cursor, ''),
          limit + 1,
        );
        const { items, next } = pageAfter(rows, limit, (row) => row.conversationId);
        return {
          items: items.map((row) => ({
            conversationId: row.conversationId,
            title: row.title,
            createdAt: row.createdAt,
            lastSeq: row.lastSeq,
          })),
          next,
        };
      },
    }),
    route({
      method: 'GET',
      path: '/api/v1/conversations/{conversationId}',
      operationId: 'getConversation',
      summary: 'A conversation with its current participants',
      tag: 'Conversations',
      params: ConversationPath,
      success: { status: 200, description: 'The conversation.', schema: ApiConversation },
      errors: ['NOT_FOUND'],
      handler: ({ identity, params }) => conversationView(identity, params.conversationId),
    }),
    route({
      method: 'POST',
      path: '/api/v1/conversations/{conversationId}/participants',
      operationId: 'addParticipant',
      summary:
        "Add a participant, bring back one who was removed, or change one's role (a role change narrows access like a removal: live sessions check again)",
      tag: 'Conversations',
      params: ConversationPath,
      body: ParticipantInput,
      success: { status: 201, description: 'The participant as added.', schema: ParticipantView },
      errors: ['NOT_FOUND'],
      handler: async ({ identity, params, body }) => {
        const added = await chat.addParticipant(identity, {
          conversationId: params.conversationId,
          participant: body,
        });
        transport.announceParticipantAdded(identity.tenantId, params.conversationId, added);
        return added.participant;
      },
    }),
    route({
      method: 'DELETE',
      path: '/api/v1/conversations/{conversationId}/participants/{userId}',
      operationId: 'removeParticipant',
      summary: 'Remove a participant; their live sessions stop receiving the conversation at once',
      tag: 'Conversations',
      params: ParticipantPath,
      success: { status: 204, description: 'Removed. The record keeps who had access when.' },
      errors: ['NOT_FOUND'],
      handler: async ({ identity, params }) => {
        await chat.removeParticipant(identity, params);
        transport.announceParticipantRemoved(
          identity.tenantId,
          params.conversationId,
          params.userId,
        );
        return undefined;
      },
    }),
    route({
      method: 'POST',
      path: '/api/v1/conversations/{conversationId}/messages',
      operationId: 'postSystemMessage',
      summary: 'Post a message as the organisation (a reminder, a notice); delivered live',
      tag: 'Conversations',
      params: ConversationPath,
      body: ApiSystemMessage,
      success: {
        status: 201,
        description: 'The message as stored (or as first stored, for a repeated id).',
        schema: MessageView,
      },
      errors: ['NOT_FOUND', 'ARCHIVED', 'TOO_LARGE'],
      handler: async ({ identity, params, body }) => {
        const { entry, duplicate, accessVersion } = await chat.postAsHost(identity, {
          conversationId: params.conversationId,
          ...body,
        });
        if (!duplicate) transport.announceMessage(identity.tenantId, entry, accessVersion);
        return entry;
      },
    }),
    route({
      method: 'POST',
      path: '/api/v1/conversations/{conversationId}/archive',
      operationId: 'archiveConversation',
      summary: 'Archive a conversation: it stays readable for the record and takes no new messages',
      tag: 'Conversations',
      params: ConversationPath,
      success: { status: 200, description: 'The archived conversation.', schema: ApiConversation },
      errors: ['NOT_FOUND'],
      handler: async ({ identity, params }) => {
        await chat.archive(identity, params.conversationId);
        return conversationView(identity, params.conversationId);
      },
    }),
    route({
      method: 'GET',
      path: '/api/v1/files/{fileId}',
      operationId: 'downloadFile',
      summary:
        'Download a file shared in a conversation (for the record; the FHIR export links it)',
      tag: 'Files',
      params: FilePath,
      success: {
        status: 200,
        description: 'The file as stored (image metadata removed), with its sniffed type.',
        contentType: 'application/octet-stream',
      },
      errors: ['NOT_FOUND', 'UNAVAILABLE'],
      handler: async ({ identity, params }) => {
        const { file, body } = await files.openForHost(identity, params.fileId);
        return { raw: body, contentType: file.contentType, headers: fileHeaders(file) };
      },
    }),
    route({
      method: 'GET',
      path: '/api/v1/conversations/{conversationId}/audit',
      operationId: 'listConversationAudit',
      summary:
        "The conversation's audit trail: its changes and every access to it (consents: see their events)",
      tag: 'Conversations',
      params: ConversationPath,
      query: PageQuery,
      success: {
        status: 200,
        description: 'A page of audit entries, oldest first.',
        schema: ApiAuditEventPage,
      },
      errors: ['NOT_FOUND'],
      handler: async ({ identity, params, query }) => {
        await chat.requireMember(identity, params.conversationId);
        return auditPage(identity.tenantId, { conversationId: params.conversationId }, query);
      },
    }),
    route({
      method: 'GET',
      path: '/api/v1/audit',
      operationId: 'listAuditEvents',
      summary:
        "The tenant's audit trail: every access and change, for one person (HIPAA accounting), one conversation, or all",
      tag: 'Audit',
      query: ApiAuditQuery,
      success: {
        status: 200,
        description: 'A page of audit entries, oldest first, hash-chained through the tenant.',
        schema: ApiAuditEventPage,
      },
      errors: [],
      handler: ({ identity, query }) =>
        auditPage(
          identity.tenantId,
          {
            ...(query.userId === undefined ? {} : { userId: query.userId }),
            ...(query.conversationId === undefined ? {} : { conversationId: query.conversationId }),
          },
          query,
        ),
    }),
    route({
      method: 'GET',
      path: '/api/v1/conversations/{conversationId}/entries',
      operationId: 'listEntries',
      summary:
        'Every entry of a conversation in sequence order (messages, corrections and deletions), for archiving',
      tag: 'Conversations',
      params: ConversationPath,
      query: PageQuery,
      success: {
        status: 200,
        description: 'A page of entries, oldest first.',
        schema: ApiEntryPage,
      },
      errors: ['NOT_FOUND'],
      handler: async ({ identity, params, query }) => {
        await chat.requireMember(identity, params.conversationId);
        const { entries, hasMore } = await store.entriesAfter(
          identity.tenantId,
          params.conversationId,
          decodeCursor(query.cursor, 0) ?? 0,
          Math.min(query.limit ?? DEFAULT_PAGE, API_PAGE_MAX),
          // The host's archive is the record: a deleted message keeps its text and files here.
          'record',
        );
        const last = entries.at(-1);
        return { items: entries, next: hasMore && last ? encodeCursor(last.seq) : null };
      },
    }),

    route({
      method: 'POST',
      path: '/api/v1/consent-templates',
      operationId: 'publishConsentTemplate',
      summary: 'Publish a consent template version (the same content again returns that version)',
      tag: 'Consent',
      body: TemplatePublish,
      success: {
        status: 200,
        description: 'The version published, or the newest one when the content is unchanged.',
        schema: ApiTemplatePublishResult,
      },
      errors: [],
      handler: ({ identity, body }) => templates.publish(identity, body),
    }),
    route({
      method: 'GET',
      path: '/api/v1/consent-templates/{templateId}/versions',
      operationId: 'listConsentTemplateVersions',
      summary: 'Every published version of a template, oldest first',
      tag: 'Consent',
      params: TemplatePath,
      query: PageQuery,
      success: { status: 200, description: 'A page of versions.', schema: ApiTemplateVersionPage },
      errors: ['NOT_FOUND'],
      handler: async ({ identity, params, query }) =>
        pageInMemory(await templates.versions(identity, params.templateId), query),
    }),
    route({
      method: 'POST',
      path: '/api/v1/consent-requests',
      operationId: 'createConsentRequest',
      summary: 'Ask a patient (or their representative) to sign a consent',
      tag: 'Consent',
      body: ApiConsentRequestCreate,
      success: {
        status: 201,
        description: 'The request, or the existing one with this id.',
        schema: ConsentRequestView,
      },
      errors: ['NOT_FOUND'],
      handler: async ({ identity, body }) => {
        const { onBehalfOf, ...create } = body;
        const request = await consents.request(identity, create, onBehalfOf);
        transport.announceConsent(identity.tenantId, request);
        return request;
      },
    }),
    route({
      method: 'GET',
      path: '/api/v1/consent-requests',
      operationId: 'listConsentRequests',
      summary:
        "The tenant's consent requests, oldest first; filtered by conversation, patient or state",
      tag: 'Consent',
      query: ApiConsentRequestQuery,
      success: { status: 200, description: 'A page of requests.', schema: ApiConsentRequestPage },
      errors: [],
      handler: async ({ identity, query }) =>
        pageInMemory(
          (
            await store.listConsentRequests(identity.tenantId, {
              ...(query.conversationId === undefined
                ? {}
                : { conversationId: query.conversationId }),
              ...(query.patientId === undefined ? {} : { userId: query.patientId }),
            })
          ).filter(
            (r) =>
              (query.patientId === undefined || r.patientId === query.patientId) &&
              (query.state === undefined || r.state === query.state),
          ),
          query,
        ),
    }),
    route({
      method: 'GET',
      path: '/api/v1/consent-requests/{requestId}',
      operationId: 'getConsentRequest',
      summary: 'A consent request and its state',
      tag: 'Consent',
      params: ConsentRequestPath,
      success: { status: 200, description: 'The request.', schema: ConsentRequestView },
      errors: ['NOT_FOUND'],
      handler: ({ identity, params }) => requestOf(identity, params.requestId),
    }),
    route({
      method: 'POST',
      path: '/api/v1/consent-requests/{requestId}/cancel',
      operationId: 'cancelConsentRequest',
      summary:
        'Withdraw a request nobody has answered yet (a signed consent is revoked by its signer)',
      tag: 'Consent',
      params: ConsentRequestPath,
      body: ApiConsentCancel,
      success: { status: 200, description: 'The cancelled request.', schema: ConsentRequestView },
      errors: ['NOT_FOUND', 'CONFLICT'],
      handler: async ({ identity, params, body }) => {
        const request = await consents.cancel(identity, params.requestId, body.reason);
        transport.announceConsent(identity.tenantId, request);
        return request;
      },
    }),
    route({
      method: 'GET',
      path: '/api/v1/consent-requests/{requestId}/record',
      operationId: 'getConsentRecord',
      summary: 'The signed record, its hash and its receipt',
      tag: 'Consent',
      params: ConsentRequestPath,
      success: { status: 200, description: 'The signed record.', schema: ApiConsentRecord },
      errors: ['NOT_FOUND'],
      handler: async ({ identity, params }) => {
        await requestOf(identity, params.requestId);
        const stored = await store.getConsentRecord(identity.tenantId, params.requestId);
        if (!stored) throw new RelayError('NOT_FOUND', 'This consent has not been signed.');
        return {
          record: JSON.parse(stored.canonical) as ConsentRecordView,
          recordHash: stored.recordHash,
          receipt: stored.receipt,
        };
      },
    }),
    route({
      method: 'GET',
      path: '/api/v1/consent-requests/{requestId}/record.pdf',
      operationId: 'getConsentPdf',
      summary: 'The sealed PDF of the signed record (the same bytes every time)',
      tag: 'Consent',
      params: ConsentRequestPath,
      success: { status: 200, description: 'The sealed PDF.', contentType: 'application/pdf' },
      errors: ['NOT_FOUND'],
      handler: async ({ identity, params }) => {
        const { pdf } = await consents.pdf(identity, params.requestId);
        return { raw: Buffer.from(pdf, 'base64'), contentType: 'application/pdf' };
      },
    }),
    route({
      method: 'GET',
      path: '/api/v1/consent-requests/{requestId}/receipt',
      operationId: 'getConsentReceipt',
      summary:
        "The receipt: a compact JWS over the canonical record, verifiable with the relay's JWKS",
      tag: 'Consent',
      params: ConsentRequestPath,
      success: { status: 200, description: 'The compact JWS.', contentType: 'application/jose' },
      errors: ['NOT_FOUND'],
      handler: async ({ identity, params }) => {
        await requestOf(identity, params.requestId);
        const stored = await store.getConsentRecord(identity.tenantId, params.requestId);
        if (!stored) throw new RelayError('NOT_FOUND', 'This consent has not been signed.');
        return { raw: stored.receipt, contentType: 'application/jose' };
      },
    }),
    route({
      method: 'GET',
      path: '/api/v1/consent-requests/{requestId}/events',
      operationId: 'listConsentEvents',
      summary: 'The audit trail of a consent request: hash-chained events, oldest first',
      tag: 'Consent',
      params: ConsentRequestPath,
      query: PageQuery,
      success: { status: 200, description: 'A page of events.', schema: ApiConsentEventPage },
      errors: ['NOT_FOUND'],
      handler: async ({ identity, params, query }) => {
        await requestOf(identity, params.requestId);
        return pageInMemory(
          await store.listConsentEvents(identity.tenantId, params.requestId),
          query,
        );
      },
    }),

    route({
      method: 'POST',
      path: '/api/v1/sessions/revoke',
      operationId: 'revokeToken',
      summary:
        'Sign a session out: its token id (jti) is refused from now on and live sessions carrying it end',
      tag: 'Sessions',
      body: ApiTokenRevoke,
      success: {
        status: 200,
        description: 'Revoked (again, for a token id already revoked).',
        schema: ApiTokenRevocation,
      },
      errors: [],
      handler: async ({ identity, body }) => {
        const stored = await revocations.revoke(identity.tenantId, body.jti, body.expiresAt);
        return {
          jti: body.jti,
          ...stored,
          sessionsEnded: transport.endSessions(identity.tenantId, body.jti),
        };
      },
    }),

    route({
      method: 'GET',
      path: '/api/v1/webhooks/dead-letters',
      operationId: 'listWebhookDeadLetters',
      summary: 'Events an endpoint did not take within the retry window, by endpoint and order',
      tag: 'Webhooks',
      query: PageQuery,
      success: { status: 200, description: 'A page of dead letters.', schema: ApiDeadLetterPage },
      errors: [],
      handler: async ({ identity, query }) => {
        const limit = query.limit ?? DEFAULT_PAGE;
        const after = decodeCursor(query.cursor, '');
        const [endpointId, seq] = after === undefined ? [] : after.split(' ');
        const letters = await store.listDeadLetters(
          identity.tenantId,
          endpointId === undefined ? undefined : { endpointId, seq: Number(seq) },
          limit + 1,
        );
        const { items, next } = pageAfter(
          letters,
          limit,
          (letter) => `${letter.endpointId} ${String(letter.event.seq)}`,
        );
        return { items: items.map((letter) => deadLetterView(identity.tenantId, letter)), next };
      },
    }),
    route({
      method: 'POST',
      path: '/api/v1/webhooks/dead-letters/{endpointId}/{eventId}/redeliver',
      operationId: 'redeliverWebhookDeadLetter',
      summary: 'Deliver a dead-lettered event to its endpoint again, now',
      tag: 'Webhooks',
      params: DeadLetterPath,
      success: {
        status: 200,
        description: 'The endpoint took the event.',
        schema: ApiRedeliverResult,
      },
      errors: ['NOT_FOUND'],
      handler: async ({ identity, params }) => {
        const letter = await store.getDeadLetter(
          identity.tenantId,
          params.endpointId,
          params.eventId,
        );
        if (!letter)
          throw new RelayError('NOT_FOUND', 'No dead letter has this endpoint and event id.');
        const result = await webhooks.deliverNow(
          identity.tenantId,
          params.endpointId,
          letter.event,
        );
        if (!result.ok)
          throw new RelayError(
            'UNAVAILABLE',
            `The endpoint did not take the event (${result.error}). Fix the receiver and try again.`,
          );
        const redeliveredAt = new Date().toISOString();
        await store.markDeadLetterRedelivered(
          identity.tenantId,
          params.endpointId,
          letter.event.seq,
          redeliveredAt,
        );
        return { status: result.status, redeliveredAt };
      },
    }),
  ];
}
