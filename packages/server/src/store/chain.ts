// Checks the hash chains the store writes, from their entries alone: a tenant's audit trail and a
// consent request's events. After a restore from backup (or any time) a whole chain that verifies
// shows nothing was altered, removed or reordered; the first entry that does not says where.
import { canonicalHash } from '../core/canonical.js';
import type { AuditEventRecord, ConsentEventRecord } from './types.js';

/** The hash before the first entry of every chain. */
export const GENESIS_HASH = `sha256:${'0'.repeat(64)}`;

export type ChainCheck =
  | { ok: true; entries: number; lastHash: string; lastSeq: number }
  | { ok: false; seq: number; problem: string };

/** Where a check of a long chain, page by page, goes on from: the end of the page before. */
export interface ChainPosition {
  lastHash: string;
  lastSeq: number;
}
const START: ChainPosition = { lastHash: GENESIS_HASH, lastSeq: 0 };

function walk<E extends { seq: number; prevHash: string; hash: string }>(
  entries: readonly E[],
  hashOf: (entry: E) => string,
  consecutive: boolean,
  from: ChainPosition = START,
): ChainCheck {
  let prevHash = from.lastHash;
  let prevSeq = from.lastSeq;
  for (const entry of entries) {
    if (consecutive ? entry.seq !== prevSeq + 1 : entry.seq <= prevSeq)
      return { ok: false, seq: entry.seq, problem: `follows entry ${String(prevSeq)}` };
    if (entry.prevHash !== prevHash)
      return { ok: false, seq: entry.seq, problem: 'does not chain to the entry before it' };
    if (hashOf(entry) !== entry.hash)
      return { ok: false, seq: entry.seq, problem: 'its content does not match its hash' };
    prevHash = entry.hash;
    prevSeq = entry.seq;
  }
  return { ok: true, entries: entries.length, lastHash: prevHash, lastSeq: prevSeq };
}

/** The hash of one audit entry, chained to the one before it: what the store writes and checks. */
export function auditHash(
  tenantId: string,
  entry: Omit<AuditEventRecord, 'seq' | 'prevHash' | 'hash'>,
  prevHash: string,
): string {
  const { at, actorId, action, conversationId, subjectId, detail } = entry;
  return canonicalHash({
    tenantId,
    at,
    actorId,
    action,
    conversationId,
    subjectId,
    detail,
    prevHash,
  });
}

/** An audit entry as a row of `audit_events`, chained to `prevHash`. */
export function auditRow(
  tenantId: string,
  entry: Omit<AuditEventRecord, 'seq' | 'prevHash' | 'hash'>,
  prevHash: string,
) {
  return {
    tenant_id: tenantId,
    at: entry.at,
    actor_id: entry.actorId,
    action: entry.action,
    conversation_id: entry.conversationId,
    subject_id: entry.subjectId,
    detail: JSON.stringify(entry.detail),
    prev_hash: prevHash,
    hash: auditHash(tenantId, entry, prevHash),
  };
}

/**
 * Verifies a tenant's whole audit trail, oldest first (every conversation's entries merged by
 * seq; row numbers may skip, the hashes may not). A long trail is checked page by page, each
 * page going on `from` the result of the one before.
 * @example verifyAuditChain('st-marys', entries).ok
 */
export function verifyAuditChain(
  tenantId: string,
  entries: readonly AuditEventRecord[],
  from?: ChainPosition,
): ChainCheck {
  return walk(entries, (entry) => auditHash(tenantId, entry, entry.prevHash), false, from);
}

/**
 * Verifies every event of one consent request, oldest first (seq 1, 2, 3 ...).
 * @example verifyConsentEventChain('st-marys', 'req-1', await store.listConsentEvents('st-marys', 'req-1')).ok
 */
export function verifyConsentEventChain(
  tenantId: string,
  requestId: string,
  events: readonly ConsentEventRecord[],
): ChainCheck {
  return walk(
    events,
    ({ seq, type, at, actorId, detail, prevHash }) =>
      canonicalHash({ tenantId, requestId, seq, type, at, actorId, detail, prevHash }),
    true,
  );
}
