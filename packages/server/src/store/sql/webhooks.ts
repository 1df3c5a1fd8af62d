// The SQL of the webhooks part of the Store contract (webhooks.ts), for both engines: the outbox
// read in commit order, each endpoint's cursor, lease and failures, and dead letters.
import type { WebhookEventType } from '@carethread/shared';
import type { Kysely, Selectable } from 'kysely';
import { rowAad, type Keyring } from '../keyring.js';
import type { Database, OutboxEventsTable, WebhookDeadLettersTable } from '../schema.js';
import type { DeadLetter, OutboxEvent, WebhookCursor, WebhookStore } from '../webhooks.js';
import type { SqlContext } from './shared.js';

function toOutboxEvent(keyring: Keyring, row: Selectable<OutboxEventsTable>): OutboxEvent {
  const data = keyring.open(
    row.tenant_id,
    rowAad('outbox_events.data', row.tenant_id, row.event_id),
    row.data,
  );
  return {
    seq: row.seq,
    id: row.event_id,
    tenantId: row.tenant_id,
    type: row.type as WebhookEventType,
    time: row.occurred_at,
    data: JSON.parse(data) as Record<string, unknown>,
  };
}

/** Dead letters with the event each one holds. */
function deadLetters(db: Kysely<Database>) {
  return db
    .selectFrom('webhook_dead_letters as d')
    .innerJoin('outbox_events as o', 'o.seq', 'd.event_seq')
    .selectAll('o')
    .select(['d.endpoint_id', 'd.attempts', 'd.last_error', 'd.dead_at', 'd.redelivered_at']);
}

function toDeadLetter(
  keyring: Keyring,
  row: Selectable<OutboxEventsTable> &
    Pick<
      Selectable<WebhookDeadLettersTable>,
      'endpoint_id' | 'attempts' | 'last_error' | 'dead_at' | 'redelivered_at'
    >,
): DeadLetter {
  return {
    endpointId: row.endpoint_id,
    event: toOutboxEvent(keyring, row),
    attempts: row.attempts,
    lastError: row.last_error,
    deadAt: row.dead_at,
    redeliveredAt: row.redelivered_at,
  };
}

async function readCursor(
  db: Kysely<Database>,
  tenantId: string,
  endpointId: string,
): Promise<WebhookCursor | undefined> {
  const row = await db
    .selectFrom('webhook_cursors')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('endpoint_id', '=', endpointId)
    .executeTakeFirst();
  return (
    row && {
      lastSeq: row.last_seq,
      attempts: row.attempts,
      nextAttemptAt: row.next_attempt_at,
      firstFailedAt: row.first_failed_at,
    }
  );
}

function advanceCursor(db: Kysely<Database>, tenantId: string, endpointId: string, seq: number) {
  return db
    .updateTable('webhook_cursors')
    .set({
      last_seq: seq,
      attempts: 0,
      next_attempt_at: null,
      first_failed_at: null,
      last_error: null,
    })
    .where('tenant_id', '=', tenantId)
    .where('endpoint_id', '=', endpointId)
    .where('last_seq', '<', seq)
    .execute();
}

export function createWebhookStore(context: SqlContext): WebhookStore {
  const { db, engine, keyring, keysOf } = context;
  return {
    async countOutboxEventsAfter(tenantId, afterSeq) {
      const row = await db
        .selectFrom('outbox_events')
        // PostgreSQL answers a count as a bigint string, SQLite as a number.
        .select((eb) => eb.fn.countAll<number | string>().as('count'))
        .where('tenant_id', '=', tenantId)
        .where('seq', '>', afterSeq)
        .executeTakeFirst();
      return Number(row?.count ?? 0);
    },

    async outboxEventsAfter(tenantId, afterSeq, limit) {
      await keysOf(tenantId);
      const rows = await db
        .selectFrom('outbox_events')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('seq', '>', afterSeq)
        .orderBy('seq')
        .limit(limit)
        .execute();
      return rows.map((row) => toOutboxEvent(keyring, row));
    },

    async webhookCursor(tenantId, endpointId) {
      // Read without a write transaction: endpoints poll this every second.
      const existing = await readCursor(db, tenantId, endpointId);
      if (existing) return existing;
      return engine.writeTransaction(async (trx): Promise<WebhookCursor> => {
        const newest = await trx
          .selectFrom('outbox_events')
          .select((eb) => eb.fn.max('seq').as('seq'))
          .where('tenant_id', '=', tenantId)
          .executeTakeFirst();
        await trx
          .insertInto('webhook_cursors')
          .values({ tenant_id: tenantId, endpoint_id: endpointId, last_seq: newest?.seq ?? 0 })
          .onConflict((oc) => oc.columns(['tenant_id', 'endpoint_id']).doNothing())
          .execute();
        // Another node may have created it first: its cursor is the one.
        const created = await readCursor(trx, tenantId, endpointId);
        if (!created) throw new Error('A webhook cursor vanished while it was created.');
        return created;
      });
    },

    async leaseWebhookEndpoint(tenantId, endpointId, holder, now, until) {
      const result = await db
        .updateTable('webhook_cursors')
        .set({ lease_holder: holder, lease_until: until })
        .where('tenant_id', '=', tenantId)
        .where('endpoint_id', '=', endpointId)
        .where((eb) =>
          eb.or([
            eb('lease_holder', 'is', null),
            eb('lease_holder', '=', holder),
            eb('lease_until', '<=', now),
          ]),
        )
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    async releaseWebhookLease(tenantId, endpointId, holder) {
      await db
        .updateTable('webhook_cursors')
        .set({ lease_holder: null, lease_until: null })
        .where('tenant_id', '=', tenantId)
        .where('endpoint_id', '=', endpointId)
        .where('lease_holder', '=', holder)
        .execute();
    },

    async advanceWebhookCursor(tenantId, endpointId, seq) {
      await advanceCursor(db, tenantId, endpointId, seq);
    },

    async recordWebhookFailure(tenantId, endpointId, failure) {
      await db
        .updateTable('webhook_cursors')
        .set({
          attempts: failure.attempts,
          next_attempt_at: failure.nextAttemptAt,
          first_failed_at: failure.firstFailedAt,
          last_error: failure.error,
        })
        .where('tenant_id', '=', tenantId)
        .where('endpoint_id', '=', endpointId)
        .execute();
    },

    deadLetterWebhook(tenantId, endpointId, event, attempts, error, at) {
      return engine.writeTransaction(async (trx) => {
        await trx
          .insertInto('webhook_dead_letters')
          .values({
            tenant_id: tenantId,
            endpoint_id: endpointId,
            event_seq: event.seq,
            event_id: event.id,
            attempts,
            last_error: error,
            dead_at: at,
            redelivered_at: null,
          })
          .onConflict((oc) => oc.doNothing())
          .execute();
        await advanceCursor(trx, tenantId, endpointId, event.seq);
      });
    },

    async listDeadLetters(tenantId, after, limit) {
      await keysOf(tenantId);
      let query = deadLetters(db).where('d.tenant_id', '=', tenantId);
      if (after)
        query = query.where((eb) =>
          eb.or([
            eb('d.endpoint_id', '>', after.endpointId),
            eb.and([eb('d.endpoint_id', '=', after.endpointId), eb('d.event_seq', '>', after.seq)]),
          ]),
        );
      const rows = await query
        .orderBy('d.endpoint_id')
        .orderBy('d.event_seq')
        .limit(limit)
        .execute();
      return rows.map((row) => toDeadLetter(keyring, row));
    },

    async getDeadLetter(tenantId, endpointId, eventId) {
      await keysOf(tenantId);
      const row = await deadLetters(db)
        .where('d.tenant_id', '=', tenantId)
        .where('d.endpoint_id', '=', endpointId)
        .where('d.event_id', '=', eventId)
        .executeTakeFirst();
      return row && toDeadLetter(keyring, row);
    },

    async markDeadLetterRedelivered(tenantId, endpointId, eventSeq, at) {
      await db
        .updateTable('webhook_dead_letters')
        .set({ redelivered_at: at })
        .where('tenant_id', '=', tenantId)
        .where('endpoint_id', '=', endpointId)
        .where('event_seq', '=', eventSeq)
        .execute();
    },
  };
}
