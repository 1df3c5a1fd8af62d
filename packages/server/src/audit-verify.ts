// `carethread audit verify`: walks each tenant's audit trail in the store, page by page, and
// names the first entry that was altered, removed or inserted behind the relay's back.
import { verifyAuditChain, type ChainCheck, type ChainPosition } from './store/chain.js';
import type { Store } from './store/types.js';

const PAGE = 1_000;

export type TrailCheck =
  | { tenantId: string; ok: true; entries: number; lastSeq: number }
  | { tenantId: string; ok: false; entries: number; seq: number; problem: string };

export async function verifyTenantTrail(store: Store, tenantId: string): Promise<TrailCheck> {
  let position: ChainPosition | undefined;
  let entries = 0;
  for (;;) {
    const page = await store.listAuditEvents(tenantId, {}, position?.lastSeq ?? 0, PAGE);
    const check: ChainCheck = verifyAuditChain(tenantId, page, position);
    if (!check.ok) return { tenantId, entries, ...check };
    entries += check.entries;
    position = check;
    if (page.length < PAGE) return { tenantId, ok: true, entries, lastSeq: check.lastSeq };
  }
}
