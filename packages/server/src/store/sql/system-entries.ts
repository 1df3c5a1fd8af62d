// System entries (issue 17) in SQL, for both engines: written into a conversation's log inside the
// transaction of the change they report (participants in sql/conversations.ts, consent steps in
// sql/consent.ts), and read back as each view may see them.
import {
  mayReadEvent,
  shownName,
  type ConsentEventType,
  type ConsentRequestView,
  type ConsentState,
  type ConversationEvent,
  type Entry,
  type EventActor,
  type EventView,
} from '@carethread/shared';
import type { ExpressionBuilder, Kysely } from 'kysely';
import { toEntry, type EntryRow } from '../append-rules.js';
import type { LogView, WrittenEvent } from '../conversations.js';
import type { Database, EntriesTable } from '../schema.js';
import { lastSeqOf, openEntryRow, sealEntryRow, type SqlContext } from './shared.js';

/** A system entry has no sender: an empty id, which no person has (a user id has a character). */
const SYSTEM_SENDER = '';
/** The audience of entries family members do not read: a consent's steps. */
const PATIENT_AND_CARE_TEAM = 'patient-and-care-team';

/**
 * The client id of the entry that reports request `requestId` reaching `state`: a step happens
 * once, so the id is unique, and the transport finds the entry by it. People's client ids cannot
 * hold a colon, nor an empty sender id, so no message can take it.
 */
const consentEntryId = (requestId: string, state: ConsentState) => `consent:${requestId}:${state}`;

/** The consent steps the log reports, by the state a request reaches. */
function consentEventType(
  request: ConsentRequestView,
  from: ConsentState,
): ConsentEventType | null {
  switch (request.state) {
    case 'requested':
    case 'signed':
    case 'declined':
    case 'revoked':
    case 'cancelled':
      return `consent.${request.state}`;
    case 'expired':
      return from === 'signed' ? 'consent.expired' : 'consent.request-expired';
    case 'viewed':
      return null;
  }
}

/**
 * Someone of the conversation by the name it stores for them (removed or not): who did a change.
 * Null for anyone else (the host's back end).
 */
export async function actorOf(
  trx: Kysely<Database>,
  tenantId: string,
  conversationId: string,
  userId: string,
): Promise<EventActor | null> {
  const row = await trx
    .selectFrom('participants')
    .select('display_name')
    .where('tenant_id', '=', tenantId)
    .where('conversation_id', '=', conversationId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return row ? { userId, displayName: shownName(row.display_name, userId) } : null;
}

/**
 * Appends `event` to the conversation's log inside `trx`, under the next sequence number. Takes
 * the conversation's lock (PostgreSQL; SQLite's write transaction already holds its only one)
 * before any tenant-wide lock of the transaction, as appends do, so the two never deadlock.
 */
export async function appendSystemEntry(
  { engine, keyring }: SqlContext,
  trx: Kysely<Database>,
  tenantId: string,
  conversationId: string,
  at: string,
  event: ConversationEvent,
  clientId?: string,
): Promise<WrittenEvent> {
  await engine.lockConversations?.(trx, tenantId, [conversationId]);
  const conversation = await trx
    .selectFrom('conversations as c')
    .select(['c.access_version', (eb) => lastSeqOf(eb).as('last_seq')])
    .where('c.tenant_id', '=', tenantId)
    .where('c.id', '=', conversationId)
    .executeTakeFirstOrThrow();
  const seq = (conversation.last_seq ?? 0) + 1;
  const row: EntryRow = {
    tenant_id: tenantId,
    conversation_id: conversationId,
    seq,
    kind: 'event',
    client_id: clientId ?? `event:${String(seq)}`,
    sender_id: SYSTEM_SENDER,
    sender_role: '',
    sender_name: '',
    // Names, like a message's text, are sealed at rest (ADR 14).
    text: JSON.stringify(event),
    target_seq: null,
    created_at: at,
    attachments: null,
    audience: mayReadEvent(event, 'family') ? null : PATIENT_AND_CARE_TEAM,
  };
  await trx.insertInto('entries').values(sealEntryRow(keyring, row)).execute();
  return {
    entry: { kind: 'event', conversationId, seq, at, event },
    accessVersion: conversation.access_version,
  };
}

/**
 * Writes the step `request` just took (from state `from`) into its conversation's log, inside the
 * transaction that took it; nothing for a step the log does not report (`viewed`).
 */
export async function appendConsentEntry(
  context: SqlContext,
  trx: Kysely<Database>,
  tenantId: string,
  request: ConsentRequestView,
  from: ConsentState,
  step: { at: string; actorId: string },
): Promise<void> {
  const type = consentEventType(request, from);
  if (!type) return;
  const { conversationId } = request;
  const person = (userId: string) => actorOf(trx, tenantId, conversationId, userId);
  const signer = (await person(request.signerId)) ?? {
    userId: request.signerId,
    displayName: request.signerId,
  };
  // Asked by the care-team member the request names (the host may ask on their behalf).
  const actorId =
    type === 'consent.requested'
      ? request.requestedBy
      : type.endsWith('expired')
        ? null
        : step.actorId;
  await appendSystemEntry(
    context,
    trx,
    tenantId,
    conversationId,
    step.at,
    {
      type,
      requestId: request.requestId,
      by: actorId === null ? null : await person(actorId),
      signer,
      recipients: request.recipients,
      expiresAt: request.expiresAt,
    },
    consentEntryId(request.requestId, request.state),
  );
}

/** The entry reporting that a request reached `state`, with the conversation's access version. */
export async function findConsentEntry(
  { db, keyring }: SqlContext,
  tenantId: string,
  requestId: string,
  state: ConsentState,
): Promise<WrittenEvent | undefined> {
  const row = await db
    .selectFrom('consent_requests as r')
    .innerJoin('entries as e', (join) =>
      join
        .onRef('e.tenant_id', '=', 'r.tenant_id')
        .onRef('e.conversation_id', '=', 'r.conversation_id'),
    )
    .innerJoin('conversations as c', (join) =>
      join.onRef('c.tenant_id', '=', 'r.tenant_id').onRef('c.id', '=', 'r.conversation_id'),
    )
    .selectAll('e')
    .select('c.access_version')
    .where('r.tenant_id', '=', tenantId)
    .where('r.request_id', '=', requestId)
    .where('e.sender_id', '=', SYSTEM_SENDER)
    .where('e.client_id', '=', consentEntryId(requestId, state))
    .executeTakeFirst();
  if (!row) return undefined;
  const { access_version: accessVersion, ...entry } = row;
  return { entry: eventOf(openEntryRow(keyring, entry)), accessVersion };
}

/** An opened event row as its view. */
function eventOf(row: EntryRow): EventView {
  return {
    kind: 'event',
    conversationId: row.conversation_id,
    seq: row.seq,
    at: row.created_at,
    event: JSON.parse(row.text) as ConversationEvent,
  };
}

/** An opened entry row as `view` reads it. */
export function readEntry(row: EntryRow, view: LogView): Entry {
  if (row.kind === 'event') return eventOf(row);
  return toEntry(row, view === 'family' ? 'reader' : view);
}

/** Whether `view` reads the entry of `row` (its kind and audience are enough to tell). */
export function readsRow(view: LogView, row: Pick<EntryRow, 'kind' | 'audience'>): boolean {
  return view !== 'family' || row.kind !== 'event' || row.audience === null;
}

/** A filter on entry rows `e`: those a family member reads, in SQL (for history pages). */
export function familyReads(eb: ExpressionBuilder<Database & { e: EntriesTable }, 'e'>) {
  return eb.or([eb('e.kind', '!=', 'event'), eb('e.audience', 'is', null)]);
}
