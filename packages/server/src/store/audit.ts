// The audit part of the Store contract, with its records: each tenant's hash-chained audit trail
// of access and changes. Its SQL: sql/audit.ts.
import type { AuditAction } from '@carethread/shared';

/** One entry of a tenant's hash-chained audit trail. */
export interface AuditEventRecord {
  seq: number;
  at: string;
  actorId: string;
  action: AuditAction;
  conversationId: string | null;
  subjectId: string | null;
  detail: Record<string, string | number | boolean | null>;
  prevHash: string;
  hash: string;
}

/** An audit entry to append; the store numbers and chains it. */
export type NewAuditEvent = Omit<AuditEventRecord, 'seq' | 'prevHash' | 'hash'> & {
  tenantId: string;
};

export interface AuditStore {
  /** Appends access entries to their tenants' chains, in order, in one transaction. */
  appendAuditEvents(events: readonly NewAuditEvent[]): Promise<void>;
  /**
   * A tenant's audit entries after `afterSeq`, oldest first: all of them (to verify the chain),
   * one conversation's, or one person's (as actor or subject: HIPAA's accounting of disclosures).
   */
  listAuditEvents(
    tenantId: string,
    filter: { conversationId?: string; userId?: string },
    afterSeq: number,
    limit: number,
  ): Promise<AuditEventRecord[]>;
}
