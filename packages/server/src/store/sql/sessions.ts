// The SQL of the sessions part of the Store contract (sessions.ts), for both engines: revoked
// token ids, kept until their tokens would have expired.
import type { SessionStore } from '../sessions.js';
import type { SqlContext } from './shared.js';

export function createSessionStore(context: SqlContext): SessionStore {
  const { db, engine } = context;
  return {
    revokeToken(tenantId, tokenId, revokedAt, keptUntil) {
      return engine.writeTransaction(async (trx) => {
        // Insert-or-nothing first: of two nodes revoking the same token at once, one row wins.
        await trx
          .insertInto('revoked_tokens')
          .values({
            tenant_id: tenantId,
            token_id: tokenId,
            revoked_at: revokedAt,
            kept_until: keptUntil,
          })
          .onConflict((oc) => oc.columns(['tenant_id', 'token_id']).doNothing())
          .execute();
        await trx
          .updateTable('revoked_tokens')
          .set({ kept_until: keptUntil })
          .where('tenant_id', '=', tenantId)
          .where('token_id', '=', tokenId)
          .where('kept_until', '<', keptUntil)
          .execute();
        const row = await trx
          .selectFrom('revoked_tokens')
          .select(['revoked_at', 'kept_until'])
          .where('tenant_id', '=', tenantId)
          .where('token_id', '=', tokenId)
          .executeTakeFirstOrThrow();
        return { revokedAt: row.revoked_at, keptUntil: row.kept_until };
      });
    },

    async revokedTokenIds(tenantId, tokenIds, at) {
      if (tokenIds.length === 0) return [];
      const rows = await db
        .selectFrom('revoked_tokens')
        .select('token_id')
        .where('tenant_id', '=', tenantId)
        .where('token_id', 'in', [...tokenIds])
        .where('kept_until', '>', at)
        .execute();
      return rows.map((row) => row.token_id);
    },

    async expireRevokedTokens(before) {
      const result = await db
        .deleteFrom('revoked_tokens')
        .where('kept_until', '<', before)
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
