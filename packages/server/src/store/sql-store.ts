// The Store contract written once in Kysely. Engines differ in how they open a write
// transaction (SQLite takes the write lock up front; PostgreSQL will lock conversation rows) and
// may bring a faster write path for appends, which must follow the same `decideAppend` rules.
import { actingRole, shownName, type MessageView, type Role } from '@carethread/shared';
import { sql, type ExpressionBuilder, type Kysely, type Selectable } from 'kysely';
import {
  decideAppend,
  entryAudit,
  repeats,
  toEntry,
  type EntryRow,
  type TargetFacts,
} from './append-rules.js';
import type {
  AppendRequest,
  AppendResult,
  ConversationRecord,
  NewParticipant,
  ParticipantRecord,
} from './conversations.js';
import {
  messageEvent,
  participantAddedEvent,
  participantRemovedEvent,
  type OutboxRow,
} from './outbox.js';
import type { ConversationsTable, Database, ParticipantsTable } from './schema.js';
import { createAuditStore } from './sql/audit.js';
import { createConsentStore } from './sql/consent.js';
import { createFileStore } from './sql/files.js';
import { createIdempotencyStore } from './sql/idempotency.js';
import { createLifecycleStore } from './sql/lifecycle.js';
import { createSessionStore } from './sql/sessions.js';
import {
  createSqlContext,
  isDeleted,
  narrowAccess,
  openEntryRow,
  sealEntryRow,
  type SqlEngine,
  type SqlStoreOptions,
} from './sql/shared.js';
import { createWebhookStore } from './sql/webhooks.js';
import type { Store } from './types.js';

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

/** Correlated subquery: the newest sequence of conversation `c`, 0 when it has no entries. */
function lastSeqOf(eb: ExpressionBuilder<Database & { c: ConversationsTable }, 'c'>) {
  return eb
    .selectFrom('entries as e')
    .select((eb) => eb.fn.coalesce(eb.fn.max('e.seq'), sql<number>`0`).as('last'))
    .whereRef('e.tenant_id', '=', 'c.tenant_id')
    .whereRef('e.conversation_id', '=', 'c.id');
}

const key = (...parts: (string | number)[]) => parts.join('\u0000');

function uniqueTuples(tuples: (string | number)[][]): (string | number)[][] {
  return [...new Map(tuples.map((t) => [key(...t), t])).values()];
}

/** `values (?, ?), (?, ?)`: a row-value list both SQLite and PostgreSQL accept after `in`. */
function valuesList(tuples: (string | number)[][]) {
  // PostgreSQL types a bare parameter in VALUES as text; numbers are cast so they compare as such.
  const value = (v: string | number) =>
    typeof v === 'number' ? sql`cast(${v} as integer)` : sql`${v}`;
  return sql`values ${sql.join(tuples.map((t) => sql`(${sql.join(t.map(value))})`))}`;
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

export function createSqlStore(engine: SqlEngine, options: SqlStoreOptions): Store {
  const context = createSqlContext(engine, options);
  const { db, keyring, outboxTenants, keysOf, appendAudit, recordEvents } = context;
  async function appendForTenant(
    trx: Kysely<Database>,
    tenantId: string,
    requests: readonly { index: number; request: AppendRequest }[],
    results: AppendResult[],
  ): Promise<void> {
    const conversationIds = [
      ...new Set(requests.map(({ request }) => request.conversationId)),
    ].sort();
    // Sorted, so two writers locking overlapping sets take the locks in the same order.
    await engine.lockConversations?.(trx, tenantId, conversationIds);

    const conversations = await trx
      .selectFrom('conversations as c')
      .select(['c.id', 'c.archived_at', 'c.access_version', (eb) => lastSeqOf(eb).as('last_seq')])
      .where('c.tenant_id', '=', tenantId)
      .where('c.id', 'in', conversationIds)
      .execute();
    const nextSeq = new Map(conversations.map((c) => [c.id, c.last_seq ?? 0]));
    const archived = new Set(conversations.filter((c) => c.archived_at !== null).map((c) => c.id));
    const accessVersions = new Map(conversations.map((c) => [c.id, c.access_version]));

    // Row-value lookups hit the primary keys once per pair; separate IN lists would probe the
    // cross product of conversations x senders x ids (quadratic in the batch size).
    const memberPairs = uniqueTuples(
      requests.map(({ request }) => [request.conversationId, request.sender.userId]),
    );
    const members = await trx
      .selectFrom('participants')
      .select(['conversation_id', 'user_id', 'role'])
      .where('tenant_id', '=', tenantId)
      .where(sql<boolean>`(conversation_id, user_id) in (${valuesList(memberPairs)})`)
      .where('removed_at', 'is', null)
      .execute();
    // Family members write only under a consent in effect when the message was accepted; a
    // family token is held to that whatever role the store gives the person (`actingRole`).
    const storedRoles = new Map(
      members.map((m) => [key(m.conversation_id, m.user_id), m.role as Role]),
    );
    const actsAsFamily = ({ conversationId, sender }: AppendRequest) => {
      const stored = storedRoles.get(key(conversationId, sender.userId));
      return stored !== undefined && actingRole(sender.role, stored) === 'family';
    };
    const familyPairs = uniqueTuples(
      requests
        .filter(({ request }) => actsAsFamily(request))
        .map(({ request }) => [request.conversationId, request.sender.userId]),
    );
    const granted = new Set<string>();
    if (familyPairs.length > 0) {
      const at = requests.reduce((min, { request }) => (request.at < min ? request.at : min), '~');
      const grants = await trx
        .selectFrom('consent_grants')
        .select(['conversation_id', 'recipient_id'])
        .where('tenant_id', '=', tenantId)
        .where(sql<boolean>`(conversation_id, recipient_id) in (${valuesList(familyPairs)})`)
        .where('revoked_at', 'is', null)
        .where('expires_at', '>', at)
        .execute();
      for (const g of grants) granted.add(key(g.conversation_id, g.recipient_id));
    }
    /** Whether the sender of `request` may write, must first be named by a consent, or neither. */
    const membership = (request: AppendRequest) => {
      const pair = key(request.conversationId, request.sender.userId);
      if (!storedRoles.has(pair)) return { isMember: false, needsConsent: false };
      const admitted = !actsAsFamily(request) || granted.has(pair);
      return { isMember: admitted, needsConsent: !admitted };
    };

    const idTriples = uniqueTuples(
      requests.map(({ request }) => [
        request.conversationId,
        request.sender.userId,
        request.clientId,
      ]),
    );
    const existingRows = await trx
      .selectFrom('entries')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where(sql<boolean>`(conversation_id, sender_id, client_id) in (${valuesList(idTriples)})`)
      .execute();
    const existing = new Map<string, EntryRow>(
      existingRows.map((row) => [
        key(row.conversation_id, row.sender_id, row.client_id),
        openEntryRow(keyring, row),
      ]),
    );

    const targetPairs = uniqueTuples(
      requests.flatMap(({ request }) =>
        request.kind === 'message' ? [] : [[request.conversationId, request.targetSeq]],
      ),
    );
    const targets = new Map<string, TargetFacts>();
    if (targetPairs.length > 0) {
      const rows = await trx
        .selectFrom('entries as e')
        .select(['e.conversation_id', 'e.seq', 'e.kind', 'e.sender_id'])
        .select((eb) => isDeleted(eb).as('deleted'))
        .where('e.tenant_id', '=', tenantId)
        .where(sql<boolean>`(e.conversation_id, e.seq) in (${valuesList(targetPairs)})`)
        .execute();
      for (const { deleted, ...row } of rows)
        targets.set(key(row.conversation_id, row.seq), { ...row, deleted: Boolean(deleted) });
    }

    const inserts: EntryRow[] = [];
    const events: OutboxRow[] = [];
    for (const { index, request } of requests) {
      const { conversationId, sender, clientId } = request;
      const idKey = key(conversationId, sender.userId, clientId);
      const decision = decideAppend(request, {
        lastSeq: nextSeq.get(conversationId),
        archived: archived.has(conversationId),
        accessVersion: accessVersions.get(conversationId) ?? 0,
        ...membership(request),
        previous: existing.get(idKey),
        target:
          request.kind === 'message'
            ? undefined
            : targets.get(key(conversationId, request.targetSeq)),
      });
      results[index] = decision.result;
      if (!decision.insert) continue;
      // A message deleted earlier in this batch takes no further correction.
      if (request.kind === 'delete') {
        const target = targets.get(key(conversationId, request.targetSeq));
        if (target) target.deleted = true;
      }
      nextSeq.set(conversationId, decision.row.seq);
      inserts.push(decision.row);
      existing.set(idKey, decision.row);
      if (outboxTenants.has(tenantId)) events.push(messageEvent(request, decision.row.seq));
    }

    // SQLite allows 32766 bound parameters per statement; 11 columns x 1000 rows stays well under.
    for (let start = 0; start < inserts.length; start += 1000) {
      await trx
        .insertInto('entries')
        .values(inserts.slice(start, start + 1000).map((row) => sealEntryRow(keyring, row)))
        .execute();
    }
    // 5 columns x 1000 rows, also under the bound-parameter limit.
    for (let start = 0; start < events.length; start += 1000)
      await recordEvents(trx, events.slice(start, start + 1000));
    // Every stored message is an audited access, committed with it (9 columns x 1000 rows).
    for (let start = 0; start < inserts.length; start += 1000)
      await appendAudit(trx, tenantId, ...inserts.slice(start, start + 1000).map(entryAudit));
  }

  return {
    ...createLifecycleStore(context),
    ...createConsentStore(context),
    ...createFileStore(context),
    ...createWebhookStore(context),
    ...createIdempotencyStore(context),
    ...createAuditStore(context),
    ...createSessionStore(context),
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
        .select((eb) => ['p.read_seq', 'p.role', lastSeqOf(eb).as('last_seq')])
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
        await recordEvents(trx, [participantAddedEvent(added, at)]);
        await appendAudit(trx, tenantId, {
          at,
          actorId,
          action: 'participant.added',
          conversationId,
          subjectId: added.userId,
          detail: { role: added.role, ...(replacedRole ? { previousRole: replacedRole } : {}) },
        });
        return { participant: added, replacedRole };
      });
    },

    async removeParticipant(tenantId, conversationId, userId, at, actorId) {
      await keysOf(tenantId);
      return engine.writeTransaction(async (trx) => {
        const result = await trx
          .updateTable('participants')
          .set({ removed_at: at })
          .where('tenant_id', '=', tenantId)
          .where('conversation_id', '=', conversationId)
          .where('user_id', '=', userId)
          .where('removed_at', 'is', null)
          .executeTakeFirst();
        const removed = Number(result.numUpdatedRows) > 0;
        if (removed) {
          await narrowAccess(trx, tenantId, conversationId);
          await recordEvents(trx, [participantRemovedEvent(tenantId, conversationId, userId, at)]);
          await appendAudit(trx, tenantId, {
            at,
            actorId,
            action: 'participant.removed',
            conversationId,
            subjectId: userId,
            detail: {},
          });
        }
        return removed;
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
          await appendForTenant(trx, tenantId, list, results);
        return results;
      });
    },

    async history(tenantId, conversationId, beforeSeq, limit) {
      await keysOf(tenantId);
      let query = entriesWithEdits(db)
        .where('e.tenant_id', '=', tenantId)
        .where('e.conversation_id', '=', conversationId)
        .where('e.kind', '=', 'message');
      if (beforeSeq !== undefined) query = query.where('e.seq', '<', beforeSeq);
      const rows = await query
        .orderBy('e.seq', 'desc')
        .limit(limit + 1)
        .execute();
      const hasMore = rows.length > limit;
      const messages = rows
        .slice(0, limit)
        .reverse()
        .map((row) => toEntry(openEntryRow(keyring, row), 'reader')) as MessageView[];
      return { messages, hasMore };
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
        .orderBy('e.seq', 'asc')
        .limit(limit + 1)
        .execute();
      return {
        entries: rows.slice(0, limit).map((row) => toEntry(openEntryRow(keyring, row), view)),
        hasMore: rows.length > limit,
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
  };
}
