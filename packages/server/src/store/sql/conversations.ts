// The SQL of the conversations part of the Store contract (conversations.ts), for both engines:
// conversations, participants, read marks, archiving, and appending and reading entries.
import { shownName, type EventView, type MessageView, type Role } from '@carethread/shared';
import { sql, type Kysely, type Selectable } from 'kysely';
import { repeats, toEntry } from '../append-rules.js';
import type {
  AppendRequest,
  AppendResult,
  ConversationRecord,
  ConversationStore,
  NewParticipant,
  ParticipantRecord,
} from '../conversations.js';
import { participantAddedEvent, participantRemovedEvent } from '../outbox.js';
import type { ConversationsTable, Database, ParticipantsTable } from '../schema.js';
import { appendForTenant } from './append.js';
import { lastSeqOf, narrowAccess, openEntryRow, type SqlContext } from './shared.js';
import { actorOf, appendSystemEntry, familyReads, readEntry, readsRow } from './system-entries.js';

function toConversation(
  row: Selectable<ConversationsTable> & { last_seq: number | null },
): ConversationRecord {
  return {
    tenantId: row.tenant_id,
    conversationId: row.id,
    title: row.title,
    createdBy: row.created_by,
    createdAt: row.created_at,
    lastSeq: row.last_seq ?? 0,
    archivedAt: row.archived_at,
    accessVersion: row.access_version,
  };
}

function toParticipant(row: Selectable<ParticipantsTable>): ParticipantRecord {
  return {
    tenantId: row.tenant_id,
    conversationId: row.conversation_id,
    userId: row.user_id,
    role: row.role as Role,
    displayName: shownName(row.display_name, row.user_id),
    relationship: row.relationship,
    title: row.title,
    readSeq: row.read_seq,
    addedAt: row.added_at,
  };
}

/** Selects entry rows with the latest correction and the deletion of each message joined in. */
function entriesWithEdits(db: Kysely<Database>) {
  return db
    .selectFrom('entries as e')
    .selectAll('e')
    .select((eb) => {
      const correctionsOfE = (kind: 'edit' | 'delete') =>
        eb
          .selectFrom('entries as x')
          .whereRef('x.tenant_id', '=', 'e.tenant_id')
          .whereRef('x.conversation_id', '=', 'e.conversation_id')
          .whereRef('x.target_seq', '=', 'e.seq')
          .where('x.kind', '=', kind);
      /** One column of the newest correction of `e`. */
      const latestEdit = <C extends 'x.text' | 'x.created_at' | 'x.seq'>(column: C) =>
        correctionsOfE('edit').select(column).orderBy('x.seq', 'desc').limit(1);
      return [
        latestEdit('x.text').as('edited_text'),
        latestEdit('x.created_at').as('edited_at'),
        // The correction's own row key, which its sealed text is bound to.
        latestEdit('x.seq').as('edited_seq'),
        // A message is deleted at most once, and takes no correction after.
        correctionsOfE('delete').select('x.created_at').limit(1).as('deleted_at'),
      ];
    });
}

/** A conversation with its newest sequence number, read through `db` or inside a transaction. */
async function selectConversation(
  db: Kysely<Database>,
  tenantId: string,
  conversationId: string,
): Promise<ConversationRecord | undefined> {
  const row = await db
    .selectFrom('conversations as c')
    .selectAll('c')
    .select((eb) => lastSeqOf(eb).as('last_seq'))
    .where('c.tenant_id', '=', tenantId)
    .where('c.id', '=', conversationId)
    .executeTakeFirst();
  return row && toConversation(row);
}

export function createConversationStore(context: SqlContext): ConversationStore {
  const { db, engine, keyring, keysOf, appendAudit, recordEvents } = context;
  return {
    createConversation(conversation, participants) {
      return engine.writeTransaction(async (trx) => {
        // Insert-or-nothing, so two nodes creating the same id at once cannot both succeed.
        const inserted = await trx
          .insertInto('conversations')
          .values({
            tenant_id: conversation.tenantId,
            id: conversation.conversationId,
            title: conversation.title,
            created_by: conversation.createdBy,
            created_at: conversation.createdAt,
            archived_at: null,
          })
          .onConflict((oc) => oc.columns(['tenant_id', 'id']).doNothing())
          .executeTakeFirst();
        if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) === 0) return false;
        if (participants.length > 0) {
          await trx
            .insertInto('participants')
            .values(
              participants.map((p) => ({
                tenant_id: conversation.tenantId,
                conversation_id: conversation.conversationId,
                user_id: p.userId,
                role: p.role,
                display_name: p.displayName,
                relationship: p.relationship,
                title: p.title,
                added_at: conversation.createdAt,
                removed_at: null,
              })),
            )
            .execute();
        }
        await appendAudit(trx, conversation.tenantId, {
          at: conversation.createdAt,
          actorId: conversation.createdBy,
          action: 'conversation.created',
          conversationId: conversation.conversationId,
          subjectId: null,
          detail: { participants: participants.map((p) => p.userId).join(',') },
        });
        return true;
      });
    },

    getConversation: (tenantId, conversationId) => selectConversation(db, tenantId, conversationId),

    async listConversationsOf(tenantId, userId) {
      const rows = await db
        .selectFrom('participants as p')
        .innerJoin('conversations as c', (join) =>
          join.onRef('c.tenant_id', '=', 'p.tenant_id').onRef('c.id', '=', 'p.conversation_id'),
        )
        .selectAll('c')
        // What may be unread: the newest message or correction; system entries do not count.
        .select((eb) => [
          'p.read_seq',
          'p.role',
          lastSeqOf(eb).where('e.kind', '!=', 'event').as('last_seq'),
        ])
        .where('p.tenant_id', '=', tenantId)
        .where('p.user_id', '=', userId)
        .where('p.removed_at', 'is', null)
        .orderBy('c.created_at', 'desc')
        .limit(500)
        .execute();
      return rows.map((row) => ({
        ...toConversation(row),
        readSeq: row.read_seq,
        role: row.role as Role,
      }));
    },

    async getParticipant(tenantId, conversationId, userId) {
      const row = await db
        .selectFrom('participants')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('conversation_id', '=', conversationId)
        .where('user_id', '=', userId)
        .where('removed_at', 'is', null)
        .executeTakeFirst();
      return row && toParticipant(row);
    },

    async listParticipants(tenantId, conversationId) {
      const rows = await db
        .selectFrom('participants')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('conversation_id', '=', conversationId)
        .where('removed_at', 'is', null)
        .orderBy('added_at')
        .orderBy('user_id')
        .execute();
      return rows.map(toParticipant);
    },

    async addParticipant(tenantId, conversationId, participant: NewParticipant, at, actorId) {
      await keysOf(tenantId);
      return engine.writeTransaction(async (trx) => {
        // The conversation's row lock first (PostgreSQL), as every append takes it: a role change
        // and the appends around it are ordered by it, like a removal (ADR 13).
        await engine.lockConversations?.(trx, tenantId, [conversationId]);
        const active = await trx
          .selectFrom('participants')
          .select('role')
          .where('tenant_id', '=', tenantId)
          .where('conversation_id', '=', conversationId)
          .where('user_id', '=', participant.userId)
          .where('removed_at', 'is', null)
          .executeTakeFirst();
        const replacedRole =
          active && active.role !== participant.role ? (active.role as Role) : null;
        const row = await trx
          .insertInto('participants')
          .values({
            tenant_id: tenantId,
            conversation_id: conversationId,
            user_id: participant.userId,
            role: participant.role,
            display_name: participant.displayName,
            relationship: participant.relationship,
            title: participant.title,
            added_at: at,
            removed_at: null,
          })
          .onConflict((oc) =>
            oc.columns(['tenant_id', 'conversation_id', 'user_id']).doUpdateSet({
              role: participant.role,
              display_name: participant.displayName,
              relationship: participant.relationship,
              title: participant.title,
              added_at: at,
              removed_at: null,
            }),
          )
          .returningAll()
          .executeTakeFirstOrThrow();
        const added = toParticipant(row);
        // A new role is a narrowing for whoever read under the old one: sockets re-check.
        if (replacedRole) await narrowAccess(trx, tenantId, conversationId);
        // Told in the log: a join, or a role change; new details in the same role are not news.
        const { userId, role, displayName, relationship, title } = added;
        const participantView = { userId, role, displayName, relationship, title };
        const by = await actorOf(trx, tenantId, conversationId, actorId);
        const event =
          active && !replacedRole
            ? null
            : await appendSystemEntry(
                context,
                trx,
                tenantId,
                conversationId,
                at,
                replacedRole
                  ? {
                      type: 'participant.role-changed',
                      participant: participantView,
                      previousRole: replacedRole,
                      by,
                    }
                  : { type: 'participant.added', participant: participantView, by },
              );
        await recordEvents(trx, [participantAddedEvent(added, at)]);
        await appendAudit(trx, tenantId, {
          at,
          actorId,
          action: 'participant.added',
          conversationId,
          subjectId: added.userId,
          detail: { role: added.role, ...(replacedRole ? { previousRole: replacedRole } : {}) },
        });
        return { participant: added, replacedRole, event };
      });
    },

    async removeParticipant(tenantId, conversationId, userId, at, actorId) {
      await keysOf(tenantId);
      return engine.writeTransaction(async (trx) => {
        // The conversation's lock first, as appends and the entry below take it (ADR 13).
        await engine.lockConversations?.(trx, tenantId, [conversationId]);
        const row = await trx
          .updateTable('participants')
          .set({ removed_at: at })
          .where('tenant_id', '=', tenantId)
          .where('conversation_id', '=', conversationId)
          .where('user_id', '=', userId)
          .where('removed_at', 'is', null)
          .returningAll()
          .executeTakeFirst();
        if (!row) return undefined;
        await narrowAccess(trx, tenantId, conversationId);
        const { role, displayName, relationship, title } = toParticipant(row);
        const event = await appendSystemEntry(context, trx, tenantId, conversationId, at, {
          type: 'participant.removed',
          participant: { userId, role, displayName, relationship, title },
          by: await actorOf(trx, tenantId, conversationId, actorId),
        });
        await recordEvents(trx, [participantRemovedEvent(tenantId, conversationId, userId, at)]);
        await appendAudit(trx, tenantId, {
          at,
          actorId,
          action: 'participant.removed',
          conversationId,
          subjectId: userId,
          detail: {},
        });
        return event;
      });
    },

    markRead(tenantId, conversationId, userId, seq) {
      return engine.writeTransaction(async (trx) => {
        await trx
          .updateTable('participants')
          .set({ read_seq: seq })
          .where('tenant_id', '=', tenantId)
          .where('conversation_id', '=', conversationId)
          .where('user_id', '=', userId)
          .where('read_seq', '<', seq)
          .execute();
        const row = await trx
          .selectFrom('participants')
          .select('read_seq')
          .where('tenant_id', '=', tenantId)
          .where('conversation_id', '=', conversationId)
          .where('user_id', '=', userId)
          .executeTakeFirst();
        return row?.read_seq ?? 0;
      });
    },

    async appendEntries(requests) {
      if (requests.length === 0) return [];
      await keyring.ready(requests.map((r) => r.tenantId));
      if (engine.appendEntries) return engine.appendEntries(requests);
      return engine.writeTransaction(async (trx) => {
        const results: AppendResult[] = new Array<AppendResult>(requests.length);
        const byTenant = new Map<string, { index: number; request: AppendRequest }[]>();
        requests.forEach((request, index) => {
          const list = byTenant.get(request.tenantId) ?? [];
          list.push({ index, request });
          byTenant.set(request.tenantId, list);
        });
        for (const [tenantId, list] of byTenant)
          await appendForTenant(context, trx, tenantId, list, results);
        return results;
      });
    },

    async history(tenantId, conversationId, beforeSeq, limit, view = 'family') {
      await keysOf(tenantId);
      let query = entriesWithEdits(db)
        .where('e.tenant_id', '=', tenantId)
        .where('e.conversation_id', '=', conversationId)
        .where('e.kind', 'in', ['message', 'event'])
        .$if(view === 'family', (qb) => qb.where(familyReads));
      if (beforeSeq !== undefined) query = query.where('e.seq', '<', beforeSeq);
      const rows = await query
        .orderBy('e.seq', 'desc')
        .limit(limit + 1)
        .execute();
      const hasMore = rows.length > limit;
      const page = rows
        .slice(0, limit)
        .reverse()
        .map((row) => readEntry(openEntryRow(keyring, row), view));
      return {
        messages: page.filter((entry): entry is MessageView => entry.kind === 'message'),
        events: page.filter((entry): entry is EventView => entry.kind === 'event'),
        hasMore,
      };
    },

    archiveConversation(tenantId, conversationId, at, actorId) {
      return engine.writeTransaction(async (trx) => {
        const result = await trx
          .updateTable('conversations')
          .set({ archived_at: at })
          .where('tenant_id', '=', tenantId)
          .where('id', '=', conversationId)
          .where('archived_at', 'is', null)
          .executeTakeFirst();
        if (Number(result.numUpdatedRows) > 0)
          await appendAudit(trx, tenantId, {
            at,
            actorId,
            action: 'conversation.archived',
            conversationId,
            subjectId: null,
            detail: {},
          });
        return selectConversation(trx, tenantId, conversationId);
      });
    },

    async listConversations(tenantId, afterId, limit) {
      let query = db
        .selectFrom('conversations as c')
        .selectAll('c')
        .select((eb) => lastSeqOf(eb).as('last_seq'))
        .where('c.tenant_id', '=', tenantId);
      if (afterId !== undefined) query = query.where('c.id', '>', afterId);
      const rows = await query.orderBy('c.id').limit(limit).execute();
      return rows.map(toConversation);
    },

    async storedRepeat(request) {
      await keysOf(request.tenantId);
      const row = await db
        .selectFrom('entries')
        .selectAll()
        .where('tenant_id', '=', request.tenantId)
        .where('conversation_id', '=', request.conversationId)
        .where('sender_id', '=', request.sender.userId)
        .where('client_id', '=', request.clientId)
        .executeTakeFirst();
      if (!row) return undefined;
      const previous = openEntryRow(keyring, row);
      return repeats(previous, request) ? toEntry(previous) : undefined;
    },

    async entriesAfter(tenantId, conversationId, afterSeq, limit, view) {
      await keysOf(tenantId);
      const rows = await entriesWithEdits(db)
        .where('e.tenant_id', '=', tenantId)
        .where('e.conversation_id', '=', conversationId)
        .where('e.seq', '>', afterSeq)
        .where('e.kind', '!=', 'event')
        .orderBy('e.seq', 'asc')
        .limit(limit + 1)
        .execute();
      return {
        entries: rows.slice(0, limit).map((row) => toEntry(openEntryRow(keyring, row), view)),
        hasMore: rows.length > limit,
      };
    },

    async countEntriesAfter(tenantId, conversationId, afterSeq) {
      const row = await db
        .selectFrom('entries')
        // PostgreSQL counts in bigint, which its driver reads as a string.
        .select(sql<string | number>`count(*)`.as('count'))
        .where('tenant_id', '=', tenantId)
        .where('conversation_id', '=', conversationId)
        .where('seq', '>', afterSeq)
        .where('kind', '!=', 'event')
        .executeTakeFirstOrThrow();
      return Number(row.count);
    },

    async logAfter(tenantId, conversationId, afterSeq, limit, view) {
      await keysOf(tenantId);
      // The next `limit` entries of the log, then those `view` may see: the page says how far it
      // reached even when it had to leave out every one of them.
      const rows = await entriesWithEdits(db)
        .where('e.tenant_id', '=', tenantId)
        .where('e.conversation_id', '=', conversationId)
        .where('e.seq', '>', afterSeq)
        .orderBy('e.seq', 'asc')
        .limit(limit + 1)
        .execute();
      const page = rows.slice(0, limit);
      return {
        entries: page
          .filter((row) => readsRow(view, row))
          .map((row) => readEntry(openEntryRow(keyring, row), view)),
        hasMore: rows.length > limit,
        lastSeq: page.at(-1)?.seq ?? afterSeq,
      };
    },
  };
}
