// The host API's conversation routes: starting one, its participants, posting as the organisation,
// archiving, and the record of its entries. Live sockets hear of each change from the transport.
import {
  API_PAGE_MAX,
  ApiConversation,
  ApiConversationCreate,
  ApiConversationPage,
  ApiEntryPage,
  ApiSystemMessage,
  ConversationPath,
  MessageView,
  PageQuery,
  ParticipantInput,
  ParticipantPath,
  ParticipantView,
} from '@carethread/shared';
import type { Identity } from '../auth/tokens.js';
import type { HostApiDeps } from './host-api-deps.js';
import { DEFAULT_PAGE, decodeCursor, encodeCursor, pageAfter } from './paging.js';
import { route, type RouteSpec } from './route.js';

export function conversationRoutes({
  store,
  chat,
  transport,
}: Pick<HostApiDeps, 'store' | 'chat' | 'transport'>): RouteSpec[] {
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
        const event = await chat.removeParticipant(identity, params);
        transport.announceParticipantRemoved(
          identity.tenantId,
          params.conversationId,
          params.userId,
          event,
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
      path: '/api/v1/conversations/{conversationId}/entries',
      operationId: 'listEntries',
      summary:
        'Every entry of a conversation in sequence order (messages, corrections, deletions and system entries), for archiving',
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
        const { entries, hasMore, lastSeq } = await store.logAfter(
          identity.tenantId,
          params.conversationId,
          decodeCursor(query.cursor, 0) ?? 0,
          Math.min(query.limit ?? DEFAULT_PAGE, API_PAGE_MAX),
          // The host's archive is the record: a deleted message keeps its text and files here,
          // and every system entry is in it (the organisation reads consent steps too).
          'record',
        );
        return { items: entries, next: hasMore ? encodeCursor(lastSeq) : null };
      },
    }),
  ];
}
