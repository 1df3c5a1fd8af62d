// The portable append path of the conversations part (sql/conversations.ts), for both engines:
// each batch's facts read with one row-value lookup per kind, then decided by `decideAppend`.
import { actingRole, type Role } from '@carethread/shared';
import { sql, type Kysely } from 'kysely';
import {
  decideAppend,
  entryAudit,
  type AppendedRow,
  type EntryRow,
  type TargetFacts,
} from '../append-rules.js';
import type { AppendRequest, AppendResult } from '../conversations.js';
import { messageEvent, type OutboxRow } from '../outbox.js';
import type { Database } from '../schema.js';
import {
  SHARES_MESSAGES,
  isDeleted,
  lastSeqOf,
  openEntryRow,
  sealEntryRow,
  type SqlContext,
} from './shared.js';

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

/** Appends one tenant's requests of a batch inside `trx`, each result at its request's index. */
export async function appendForTenant(
  context: SqlContext,
  trx: Kysely<Database>,
  tenantId: string,
  requests: readonly { index: number; request: AppendRequest }[],
  results: AppendResult[],
): Promise<void> {
  const { engine, keyring, outboxTenants, appendAudit, recordEvents } = context;
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
      // Writing is taking part in the conversation: a consent must share it (ADR 26).
      .where('scopes', 'like', SHARES_MESSAGES)
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

  const inserts: AppendedRow[] = [];
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
