// The host API's audit routes: a conversation's trail and the tenant's, one person's accesses
// among them (HIPAA accounting of disclosures).
import { ApiAuditEventPage, ApiAuditQuery, ConversationPath, PageQuery } from '@carethread/shared';
import type { Store } from '../store/types.js';
import type { HostApiDeps } from './host-api-deps.js';
import { DEFAULT_PAGE, decodeCursor, pageAfter } from './paging.js';
import { route, type RouteSpec } from './route.js';

export function auditRoutes({ store, chat }: Pick<HostApiDeps, 'store' | 'chat'>): RouteSpec[] {
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

  return [
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
  ];
}
