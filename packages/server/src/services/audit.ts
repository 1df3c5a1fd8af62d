// The access log: every read of protected data, every connection and refusal, every consent step
// and host API call becomes an entry of the tenant's hash-chained audit trail (messages are
// audited by the store in their own transaction). Reads wait for their entry to commit before
// they answer, so nothing is shown that was not recorded; entries share commits in batches.
import type { AuditAction } from '@carethread/shared';
import type { NewAuditEvent, Store } from '../store/types.js';
import { createBatcher } from './batcher.js';
import { RelayError } from '../core/errors.js';

export interface AccessEntry {
  actorId: string;
  action: AuditAction;
  conversationId?: string | null;
  subjectId?: string | null;
  /** Ids, codes and numbers only: never text, names or tokens. */
  detail?: Record<string, string | number | boolean | null>;
}

export interface AccessLog {
  /** Records an access; resolves once it is committed. */
  record(tenantId: string, entry: AccessEntry): Promise<void>;
  /** Records without waiting (connections, refusals): a failure is logged by `onError`. */
  note(tenantId: string, entry: AccessEntry): void;
  drain(): Promise<void>;
}

export function createAccessLog(deps: {
  store: Store;
  batch: { lingerMs: number; maxSize: number };
  onError: (error: unknown) => void;
  now?: () => Date;
}): AccessLog {
  const now = deps.now ?? (() => new Date());
  const batcher = createBatcher<NewAuditEvent, null>(
    async (events) => {
      await deps.store.appendAuditEvents(events);
      return events.map(() => null);
    },
    { maxBatch: deps.batch.maxSize, lingerMs: deps.batch.lingerMs },
  );
  const submit = (tenantId: string, entry: AccessEntry) =>
    batcher.submit({
      tenantId,
      at: now().toISOString(),
      actorId: entry.actorId,
      action: entry.action,
      conversationId: entry.conversationId ?? null,
      subjectId: entry.subjectId ?? null,
      detail: entry.detail ?? {},
    });
  return {
    async record(tenantId, entry) {
      try {
        await submit(tenantId, entry);
      } catch (error) {
        if (error instanceof RelayError) throw error;
        // Unrecorded access is refused access: the reader retries like any store outage.
        throw new RelayError(
          'UNAVAILABLE',
          'This could not be recorded in the audit trail right now, so it was not shown. Try again in a moment.',
        );
      }
    },
    note(tenantId, entry) {
      submit(tenantId, entry).catch(deps.onError);
    },
    drain: () => batcher.drain(),
  };
}
