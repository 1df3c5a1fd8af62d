// The SQL of the audit part of the Store contract (audit.ts), for both engines: access entries
// appended to each tenant's hash chain (by appendAudit in shared.ts), and the trail read back.
import type { AuditAction } from '@carethread/shared';
import type { AuditEventRecord, AuditStore } from '../audit.js';
import { breakGlassEvent } from '../outbox.js';
import type { SqlContext } from './shared.js';

export function createAuditStore(context: SqlContext): AuditStore {
  const { db, engine, appendAudit, recordEvents } = context;
  return {
    appendAuditEvents(events) {
      if (events.length === 0) return Promise.resolve();
      const byTenant = new Map<string, Omit<AuditEventRecord, 'seq' | 'prevHash' | 'hash'>[]>();
      for (const { tenantId, ...entry } of events)
        byTenant.set(tenantId, [...(byTenant.get(tenantId) ?? []), entry]);
      return engine.writeTransaction(async (trx) => {
        // Tenants in sorted order, so two nodes never wait on each other's tenant locks in a cycle.
        for (const tenantId of [...byTenant.keys()].sort()) {
          const entries = byTenant.get(tenantId) ?? [];
          await appendAudit(trx, tenantId, ...entries);
          await recordEvents(
            trx,
            entries.flatMap((entry) => breakGlassEvent(tenantId, entry) ?? []),
          );
        }
      });
    },

    async listAuditEvents(tenantId, { conversationId, userId }, afterSeq, limit) {
      let query = db
        .selectFrom('audit_events')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('seq', '>', afterSeq);
      if (conversationId !== undefined) query = query.where('conversation_id', '=', conversationId);
      if (userId !== undefined)
        query = query.where((eb) =>
          eb.or([eb('actor_id', '=', userId), eb('subject_id', '=', userId)]),
        );
      const rows = await query.orderBy('seq').limit(limit).execute();
      return rows.map((row) => ({
        seq: row.seq,
        at: row.at,
        actorId: row.actor_id,
        action: row.action as AuditAction,
        conversationId: row.conversation_id,
        subjectId: row.subject_id,
        detail: JSON.parse(row.detail) as AuditEventRecord['detail'],
        prevHash: row.prev_hash,
        hash: row.hash,
      }));
    },
  };
}
