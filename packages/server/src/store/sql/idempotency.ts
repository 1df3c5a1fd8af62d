// The SQL of the idempotency part of the Store contract (idempotency.ts), for both engines: the
// host API's idempotency keys and their sealed answers.
import type { IdempotencyClaim, IdempotencyStore } from '../idempotency.js';
import { rowAad } from '../keyring.js';
import type { SqlContext } from './shared.js';

export function createIdempotencyStore(context: SqlContext): IdempotencyStore {
  const { db, engine, keyring, keysOf } = context;
  const idempotencyAad = (tenantId: string, key: string) =>
    rowAad('api_idempotency.body', tenantId, key);

  return {
    async claimIdempotencyKey(tenantId, key, fingerprint, at) {
      await keysOf(tenantId);
      return engine.writeTransaction(async (trx): Promise<IdempotencyClaim> => {
        // Insert-or-nothing first: of two nodes claiming the same key at once, one wins.
        const inserted = await trx
          .insertInto('api_idempotency')
          .values({
            tenant_id: tenantId,
            key,
            fingerprint,
            status: null,
            body: null,
            created_at: at,
          })
          .onConflict((oc) => oc.columns(['tenant_id', 'key']).doNothing())
          .executeTakeFirst();
        if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) > 0) return { state: 'claimed' };
        const row = await trx
          .selectFrom('api_idempotency')
          .select(['fingerprint', 'status', 'body'])
          .where('tenant_id', '=', tenantId)
          .where('key', '=', key)
          .executeTakeFirst();
        if (!row) throw new Error('An idempotency key vanished while it was claimed.');
        return row.status === null || row.body === null
          ? { state: 'running', fingerprint: row.fingerprint }
          : {
              state: 'done',
              fingerprint: row.fingerprint,
              status: row.status,
              body: keyring.open(tenantId, idempotencyAad(tenantId, key), row.body),
            };
      });
    },

    async completeIdempotencyKey(tenantId, key, status, body) {
      await keysOf(tenantId);
      await db
        .updateTable('api_idempotency')
        .set({ status, body: keyring.seal(tenantId, idempotencyAad(tenantId, key), body) })
        .where('tenant_id', '=', tenantId)
        .where('key', '=', key)
        .execute();
    },

    async releaseIdempotencyKey(tenantId, key) {
      await db
        .deleteFrom('api_idempotency')
        .where('tenant_id', '=', tenantId)
        .where('key', '=', key)
        .execute();
    },

    async expireIdempotencyKeys(before) {
      const result = await db
        .deleteFrom('api_idempotency')
        .where('created_at', '<', before)
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
