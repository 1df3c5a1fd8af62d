// The rules of an append, separate from how an engine looks up the facts they need: the portable
// Kysely write path (batched lookups, for PostgreSQL) and the SQLite fast path (prepared
// statements per row) both decide with `decideAppend`, so they cannot drift apart.
import {
  CONVERSATION_NOT_FOUND,
  shownName,
  type AttachmentView,
  type EditView,
  type MessageView,
  type Role,
} from '@carethread/shared';
import type { Selectable } from 'kysely';
import type { EntriesTable } from './schema.js';
import {
  entryFromRequest,
  type AppendRequest,
  type AppendResult,
  type AuditEventRecord,
  type EntryView,
  type StoredEntry,
} from './types.js';

export type EntryRow = Selectable<EntriesTable> & {
  edited_text?: string | null;
  edited_at?: string | null;
  /** The sequence of the latest correction, which its sealed text is bound to. */
  edited_seq?: number | null;
  /** When the sender deleted the message. */
  deleted_at?: string | null;
};

/** A stored row as its view; a deleted message read by a reader is empty and without files. */
export function toEntry(row: EntryRow, view: EntryView = 'reader'): StoredEntry {
  const sender = {
    userId: row.sender_id,
    role: row.sender_role as Role,
    displayName: shownName(row.sender_name, row.sender_id),
  };
  if (row.kind !== 'message') {
    const edit: EditView = {
      kind: 'edit',
      conversationId: row.conversation_id,
      seq: row.seq,
      id: row.client_id,
      targetSeq: Number(row.target_seq),
      sender,
      text: row.text,
      editedAt: row.created_at,
      ...(row.kind === 'delete' ? { deleted: true } : {}),
    };
    return edit;
  }
  // A deleted message reads as empty and without its files; its own row keeps both (ADR 16).
  const deletedAt = row.deleted_at ?? null;
  const hidden = deletedAt !== null && view === 'reader';
  const message: MessageView = {
    kind: 'message',
    conversationId: row.conversation_id,
    seq: row.seq,
    id: row.client_id,
    sender,
    text: hidden ? '' : (row.edited_text ?? row.text),
    sentAt: row.created_at,
    editedAt: row.edited_at ?? null,
    ...(row.attachments && !hidden
      ? { attachments: JSON.parse(row.attachments) as AttachmentView[] }
      : {}),
    ...(deletedAt ? { deletedAt } : {}),
  };
  return message;
}

const AUDIT_ACTION = {
  message: 'message.sent',
  edit: 'message.edited',
  delete: 'message.deleted',
} as const;

/** The audit entry of a stored message or correction: ids and numbers, never its text. */
export function entryAudit(
  row: EntryRow & { kind: keyof typeof AUDIT_ACTION },
): Omit<AuditEventRecord, 'seq' | 'prevHash' | 'hash'> {
  return {
    at: row.created_at,
    actorId: row.sender_id,
    action: AUDIT_ACTION[row.kind],
    conversationId: row.conversation_id,
    subjectId: null,
    detail: {
      seq: row.seq,
      id: row.client_id,
      ...(row.kind === 'message' ? {} : { targetSeq: Number(row.target_seq) }),
    },
  };
}

/** What the store knows about a request's conversation, sender and id at write time. */
export interface AppendFacts {
  /** The conversation's newest sequence (within this batch), or undefined when it does not exist. */
  lastSeq: number | undefined;
  /** The conversation was archived: it takes no new entries. */
  archived: boolean;
  /** The conversation's access version, read under the append's lock. */
  accessVersion: number;
  /** The sender is an active participant and, for family, under a consent in effect. */
  isMember: boolean;
  /** The sender is a family participant without a consent in effect. */
  needsConsent: boolean;
  /** The entry stored earlier under the same (conversation, sender, client id). */
  previous: EntryRow | undefined;
  /** For an edit or a deletion: the entry at `targetSeq`, and whether it was deleted. */
  target: TargetFacts | undefined;
}

export type TargetFacts = Pick<EntryRow, 'kind' | 'sender_id'> & { deleted: boolean };

/** A row an append inserts: a message or a correction, never a system entry. */
export type AppendedRow = EntryRow & { kind: AppendRequest['kind'] };

/** Either the final answer (refusal or duplicate) or the row to insert and what it returns. */
export type AppendDecision =
  | { insert: false; result: AppendResult }
  | { insert: true; row: AppendedRow; result: AppendResult };

function refuse(
  code: 'NOT_FOUND' | 'FORBIDDEN' | 'CONFLICT' | 'CONSENT_REQUIRED' | 'ARCHIVED',
  message: string,
): AppendDecision {
  return { insert: false, result: { ok: false, code, message } };
}

/** The attachments column of the row `request` would store. */
const attachmentsOf = (request: AppendRequest): string | null =>
  request.kind === 'message' && request.attachments?.length
    ? JSON.stringify(request.attachments)
    : null;

/** Whether `request` is a resend of `previous`, the entry stored under its id: the same content. */
export function repeats(previous: EntryRow, request: AppendRequest): boolean {
  return (
    previous.kind === request.kind &&
    previous.text === request.text &&
    previous.attachments === attachmentsOf(request) &&
    (request.kind === 'message' || Number(previous.target_seq) === request.targetSeq)
  );
}

export function decideAppend(request: AppendRequest, facts: AppendFacts): AppendDecision {
  const { lastSeq, previous } = facts;
  // Someone else's conversation answers like a missing one: the answer is no existence oracle.
  if (lastSeq === undefined || (!request.byHost && !facts.isMember && !facts.needsConsent))
    return refuse('NOT_FOUND', CONVERSATION_NOT_FOUND);
  if (facts.archived)
    return refuse(
      'ARCHIVED',
      'This conversation has been closed by the care team. You can still read it, but new messages cannot be sent.',
    );
  // The host's back end posts for the tenant (system messages); everyone else must be a member.
  if (!request.byHost) {
    if (facts.needsConsent) {
      return refuse(
        'CONSENT_REQUIRED',
        "The patient's consent to share this conversation with you is not in effect.",
      );
    }
  }
  const attachments = attachmentsOf(request);
  if (previous) {
    return repeats(previous, request)
      ? {
          insert: false,
          result: {
            ok: true,
            entry: toEntry(previous),
            duplicate: true,
            accessVersion: facts.accessVersion,
          },
        }
      : refuse(
          'CONFLICT',
          'This message id was already used for a different message. Send it with a new id.',
        );
  }
  let targetSeq: number | null = null;
  if (request.kind !== 'message') {
    const { target } = facts;
    const deleting = request.kind === 'delete';
    if (target?.kind !== 'message') {
      return refuse(
        'NOT_FOUND',
        deleting
          ? 'The message to delete does not exist.'
          : 'The message to correct does not exist.',
      );
    }
    if (target.sender_id !== request.sender.userId) {
      return refuse(
        'FORBIDDEN',
        deleting
          ? 'Only the sender of a message can delete it.'
          : 'Only the sender of a message can correct it.',
      );
    }
    if (target.deleted) return refuse('CONFLICT', 'This message was deleted.');
    targetSeq = request.targetSeq;
  }
  const seq = lastSeq + 1;
  return {
    insert: true,
    row: {
      tenant_id: request.tenantId,
      conversation_id: request.conversationId,
      seq,
      kind: request.kind,
      client_id: request.clientId,
      sender_id: request.sender.userId,
      sender_role: request.sender.role,
      sender_name: request.sender.displayName,
      text: request.text,
      target_seq: targetSeq,
      created_at: request.at,
      attachments,
      audience: null,
    },
    result: {
      ok: true,
      entry: entryFromRequest(request, seq),
      duplicate: false,
      accessVersion: facts.accessVersion,
    },
  };
}
