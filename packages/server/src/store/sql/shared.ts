// What every domain's SQL (store/sql/<domain>.ts) is built on: the engine, the context, and what
// several domains share (audit and outbox writes, narrowAccess, entry subqueries, row sealing).
import { sql, type ExpressionBuilder, type Kysely } from 'kysely';
import type { EntryRow } from '../append-rules.js';
import type { AuditEventRecord } from '../audit.js';
import { auditRow, GENESIS_HASH } from '../chain.js';
import type { ConversationStore } from '../conversations.js';
import { rowAad, type Keyring } from '../keyring.js';
import type { SqlDialectName } from '../migrations.js';
import type { OutboxRow } from '../outbox.js';
import type { ConversationsTable, Database, EntriesTable } from '../schema.js';

/**
 * What an engine brings. Engines differ in how they open a write transaction (SQLite takes the
 * write lock up front; PostgreSQL locks conversation rows) and may bring a faster write path
 * for appends, which must follow the same `decideAppend` rules.
 */
export interface SqlEngine {
  db: Kysely<Database>;
  dialect: SqlDialectName;
  /** The schema the tables live in, when not the default (PostgreSQL). */
  schema?: string;
  /** Runs `work` in a transaction that holds the write lock for the conversations it touches. */
  writeTransaction<T>(work: (trx: Kysely<Database>) => Promise<T>): Promise<T>;
  /**
   * Where several writers share the database (PostgreSQL, several relay nodes): locks these
   * conversations' rows until the transaction ends, so their sequence numbers stay gap-free.
   * SQLite needs none: BEGIN IMMEDIATE already makes every write transaction the only one.
   */
  lockConversations?(
    trx: Kysely<Database>,
    tenantId: string,
    conversationIds: string[],
  ): Promise<void>;
  /**
   * Serialises a tenant's hash-chained audit entries and outbox events until the transaction ends,
   * so the chain never forks and events commit in the order of their numbers.
   */
  lockTenant?(trx: Kysely<Database>, tenantId: string): Promise<void>;
  /**
   * An engine's own append path; without it, the portable path (batched lookups in Kysely) is
   * used. The store has made the tenants' data keys ready before it is called.
   */
  appendEntries?: ConversationStore['appendEntries'];
  close(): Promise<void>;
}

export interface SqlStoreOptions {
  /** Tenants with webhook endpoints: their changes are recorded in the outbox. */
  outboxTenants?: readonly string[];
  /** Seals and opens message text, consent records and webhook payloads (ADR 14). */
  keyring: Keyring;
}

/** What every domain's factory is given: one per store, shared by all its domains. */
export interface SqlContext {
  engine: SqlEngine;
  db: Kysely<Database>;
  keyring: Keyring;
  /** Tenants with webhook endpoints: their changes are recorded in the outbox. */
  outboxTenants: ReadonlySet<string>;
  /** Data keys are loaded (or made) outside transactions: sealing inside them is synchronous. */
  keysOf: (...tenantIds: string[]) => Promise<void>;
  /** Appends to the tenant's hash-chained audit trail inside `trx`, in the order given. */
  appendAudit: (
    trx: Kysely<Database>,
    tenantId: string,
    ...entries: Omit<AuditEventRecord, 'seq' | 'prevHash' | 'hash'>[]
  ) => Promise<void>;
  /** Writes webhook events inside `trx`, for tenants that have endpoints. */
  recordEvents: (trx: Kysely<Database>, rows: readonly OutboxRow[]) => Promise<void>;
}

export function createSqlContext(engine: SqlEngine, options: SqlStoreOptions): SqlContext {
  const outboxTenants = new Set(options.outboxTenants ?? []);
  const { keyring } = options;

  async function appendAudit(
    trx: Kysely<Database>,
    tenantId: string,
    ...entries: Omit<AuditEventRecord, 'seq' | 'prevHash' | 'hash'>[]
  ): Promise<void> {
    if (entries.length === 0) return;
    await engine.lockTenant?.(trx, tenantId);
    const last = await trx
      .selectFrom('audit_events')
      .select('hash')
      .where('tenant_id', '=', tenantId)
      .orderBy('seq', 'desc')
      .limit(1)
      .executeTakeFirst();
    let prevHash = last?.hash ?? GENESIS_HASH;
    const rows = entries.map((entry) => {
      const row = auditRow(tenantId, entry, prevHash);
      prevHash = row.hash;
      return row;
    });
    await trx.insertInto('audit_events').values(rows).execute();
  }

  async function recordEvents(trx: Kysely<Database>, rows: readonly OutboxRow[]): Promise<void> {
    const recorded = rows.filter((row) => outboxTenants.has(row.tenant_id));
    for (const tenantId of new Set(recorded.map((row) => row.tenant_id)))
      await engine.lockTenant?.(trx, tenantId);
    if (recorded.length > 0)
      await trx
        .insertInto('outbox_events')
        .values(recorded.map((row) => sealOutboxRow(keyring, row)))
        .execute();
  }

  return {
    engine,
    db: engine.db,
    keyring,
    outboxTenants,
    keysOf: (...tenantIds) => keyring.ready(tenantIds),
    appendAudit,
    recordEvents,
  };
}

/**
 * Raises a conversation's access version inside a transaction that narrows who may read it. The
 * update takes the conversation's row lock, which every append takes too, so an append committed
 * after this transaction sees the new version and one committed before it the old (ADR 13).
 */
export async function narrowAccess(
  trx: Kysely<Database>,
  tenantId: string,
  conversationId: string,
): Promise<void> {
  await trx
    .updateTable('conversations')
    .set((eb) => ({ access_version: eb('access_version', '+', 1) }))
    .where('tenant_id', '=', tenantId)
    .where('id', '=', conversationId)
    .execute();
}

/** Correlated subquery: whether entry `e` (a message) was deleted by its sender. */
export function isDeleted(eb: ExpressionBuilder<Database & { e: EntriesTable }, 'e'>) {
  return eb.exists(
    eb
      .selectFrom('entries as d')
      .select('d.seq')
      .whereRef('d.tenant_id', '=', 'e.tenant_id')
      .whereRef('d.conversation_id', '=', 'e.conversation_id')
      .whereRef('d.target_seq', '=', 'e.seq')
      .where('d.kind', '=', 'delete'),
  );
}

/** Correlated subquery: the newest sequence of conversation `c`, 0 when it has no entries. */
export function lastSeqOf(eb: ExpressionBuilder<Database & { c: ConversationsTable }, 'c'>) {
  return eb
    .selectFrom('entries as e')
    .select((eb) => eb.fn.coalesce(eb.fn.max('e.seq'), sql<number>`0`).as('last'))
    .whereRef('e.tenant_id', '=', 'c.tenant_id')
    .whereRef('e.conversation_id', '=', 'c.id');
}

/** An entry row with its text (and its latest correction's) and its attachments opened. */
export function openEntryRow(keyring: Keyring, row: EntryRow): EntryRow {
  const aad = (seq: number) => rowAad('entries.text', row.tenant_id, row.conversation_id, seq);
  const attachmentsAad = rowAad('entries.attachments', row.tenant_id, row.conversation_id, row.seq);
  return {
    ...row,
    text: keyring.open(row.tenant_id, aad(row.seq), row.text),
    attachments:
      row.attachments == null ? null : keyring.open(row.tenant_id, attachmentsAad, row.attachments),
    ...(row.edited_text != null && row.edited_seq != null
      ? { edited_text: keyring.open(row.tenant_id, aad(row.edited_seq), row.edited_text) }
      : {}),
  };
}

/** An entry row as stored: its text and attachments sealed to their place. */
export function sealEntryRow(keyring: Keyring, row: EntryRow): EntryRow {
  const aad = rowAad('entries.text', row.tenant_id, row.conversation_id, row.seq);
  const attachmentsAad = rowAad('entries.attachments', row.tenant_id, row.conversation_id, row.seq);
  return {
    ...row,
    text: keyring.seal(row.tenant_id, aad, row.text),
    attachments:
      row.attachments === null
        ? null
        : keyring.seal(row.tenant_id, attachmentsAad, row.attachments),
  };
}

/** An outbox row as stored: its payload sealed to its event id. */
export function sealOutboxRow(keyring: Keyring, row: OutboxRow): OutboxRow {
  const aad = rowAad('outbox_events.data', row.tenant_id, row.event_id);
  return { ...row, data: keyring.seal(row.tenant_id, aad, row.data) };
}

/**
 * A `like` pattern matching the JSON scopes of a grant that shares the conversation (ADR 26):
 * scopes are a JSON array of fixed words, so the quoted word appears exactly when it is named.
 */
export const SHARES_MESSAGES = '%"messages"%';
