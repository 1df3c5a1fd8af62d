// The conversations part of the Store contract, with its records: conversations, participants,
// read marks, archiving, and the entries appended to them. Its SQL: sql/conversations.ts.
import type {
  AttachmentView,
  EditView,
  Entry,
  ErrorCode,
  EventView,
  MessageView,
  Role,
  Sender,
} from '@carethread/shared';

export interface ConversationRecord {
  tenantId: string;
  conversationId: string;
  title: string;
  createdBy: string;
  createdAt: string;
  lastSeq: number;
  /** When the host archived it; null while open. */
  archivedAt: string | null;
  /** Raised by each change that narrows who may read it (revocation, removal): ADR 13. */
  accessVersion: number;
}

export interface ParticipantRecord {
  tenantId: string;
  conversationId: string;
  userId: string;
  role: Role;
  displayName: string;
  relationship: string | null;
  title: string | null;
  readSeq: number;
  addedAt: string;
}

export interface NewParticipant {
  userId: string;
  role: Role;
  displayName: string;
  relationship: string | null;
  title: string | null;
}

/** One message or correction to append; the store assigns the sequence number. */
export type AppendRequest = {
  tenantId: string;
  conversationId: string;
  clientId: string;
  sender: Sender;
  text: string;
  /** Server time (UTC ISO) taken when the request was accepted. */
  at: string;
  /** Posted by the host's back end (a system message): no participant membership is needed. */
  byHost?: boolean;
} & (
  | {
      kind: 'message';
      /** Checked by the chat service: complete files of this conversation. */ attachments?: AttachmentView[];
    }
  | { kind: 'edit'; targetSeq: number }
  /** Hides the message at `targetSeq` from readers; its row and files stay in the record. */
  | { kind: 'delete'; targetSeq: number; text: '' }
);

/** What an append stores: a message or a correction of one. */
export type StoredEntry = MessageView | EditView;

/** Who an entry is read for: a participant, or the record the host keeps (ADR 16). */
export type EntryView = 'reader' | 'record';

/**
 * Who a conversation's log, system entries included, is read for. `family`: a family member, who
 * sees no system entry about a consent; `reader`: the patient or the care team, who see every
 * entry; in both, a deleted message is empty and without files. `record`: the record the host
 * keeps (ADR 16): every entry, deleted messages whole.
 */
export type LogView = 'family' | EntryView;

/**
 * A system entry as its transaction wrote it, with the conversation's access version after that
 * transaction: the content room it is delivered to (ADR 13).
 */
export interface WrittenEvent {
  entry: EventView;
  accessVersion: number;
}

/** The view of a request once stored under `seq`: what a fresh append returns. */
export function entryFromRequest(request: AppendRequest, seq: number): StoredEntry {
  const { conversationId, clientId: id, sender, text, at } = request;
  return request.kind !== 'message'
    ? {
        kind: 'edit',
        conversationId,
        seq,
        id,
        targetSeq: request.targetSeq,
        sender,
        text,
        editedAt: at,
        ...(request.kind === 'delete' ? { deleted: true } : {}),
      }
    : {
        kind: 'message',
        conversationId,
        seq,
        id,
        sender,
        text,
        sentAt: at,
        editedAt: null,
        ...(request.attachments?.length ? { attachments: request.attachments } : {}),
      };
}

export type AppendResult =
  | {
      ok: true;
      entry: StoredEntry;
      duplicate: boolean;
      /** The conversation's access version the append saw under its lock (ADR 13). */
      accessVersion: number;
    }
  | { ok: false; code: ErrorCode; message: string };

export interface ConversationStore {
  /** Creates a conversation with its first participants; false when the id is taken. */
  createConversation(
    conversation: Omit<ConversationRecord, 'lastSeq' | 'archivedAt' | 'accessVersion'>,
    participants: NewParticipant[],
  ): Promise<boolean>;
  getConversation(
    tenantId: string,
    conversationId: string,
  ): Promise<ConversationRecord | undefined>;
  /**
   * The conversations a person takes part in, with their read mark and the role they have there:
   * the 500 started most recently, newest first. `lastSeq` is that of the newest message or
   * correction, what may be unread: system entries do not count.
   */
  listConversationsOf(
    tenantId: string,
    userId: string,
  ): Promise<(ConversationRecord & { readSeq: number; role: Role })[]>;

  /** The active (not removed) participant, or undefined: the access check of every read and write. */
  getParticipant(
    tenantId: string,
    conversationId: string,
    userId: string,
  ): Promise<ParticipantRecord | undefined>;
  listParticipants(tenantId: string, conversationId: string): Promise<ParticipantRecord[]>;
  /**
   * Adds a participant, or brings back one that was removed, with the details given. Giving an
   * active participant another role narrows access like a removal (the access version rises, in
   * the same transaction); `replacedRole` is the role they had then, null otherwise. A join or a
   * role change is written into the log in the same transaction (`event`); new details of an
   * active participant in the same role are not (null).
   */
  addParticipant(
    tenantId: string,
    conversationId: string,
    participant: NewParticipant,
    at: string,
    actorId: string,
  ): Promise<{
    participant: ParticipantRecord;
    replacedRole: Role | null;
    event: WrittenEvent | null;
  }>;
  /**
   * Marks a participant removed (the row stays for the record) and writes the removal into the
   * log, in one transaction; undefined (and nothing written) when not an active member.
   */
  removeParticipant(
    tenantId: string,
    conversationId: string,
    userId: string,
    at: string,
    actorId: string,
  ): Promise<WrittenEvent | undefined>;
  /** Raises the participant's read mark (never lowers it) and returns the resulting mark. */
  markRead(tenantId: string, conversationId: string, userId: string, seq: number): Promise<number>;

  /**
   * Appends a batch in one transaction. Each request is checked against membership at write
   * time, deduplicated by (conversation, sender, clientId), and given the next sequence number of
   * its conversation. Results come back in request order, only after the commit.
   */
  appendEntries(requests: readonly AppendRequest[]): Promise<AppendResult[]>;
  /**
   * Messages (edits applied) and the system entries `view` may see, older than `beforeSeq`: the
   * newest `limit` of them together, each list oldest first. `view` is 'family' when omitted.
   */
  history(
    tenantId: string,
    conversationId: string,
    beforeSeq: number | undefined,
    limit: number,
    view?: 'family' | 'reader',
  ): Promise<{ messages: MessageView[]; events: EventView[]; hasMore: boolean }>;
  /** Archives a conversation (once; later calls keep the first time); undefined when unknown. */
  archiveConversation(
    tenantId: string,
    conversationId: string,
    at: string,
    actorId: string,
  ): Promise<ConversationRecord | undefined>;
  /** The tenant's conversations ordered by id, after `afterId`; one more than `limit` says more follow. */
  listConversations(
    tenantId: string,
    afterId: string | undefined,
    limit: number,
  ): Promise<ConversationRecord[]>;

  /**
   * The entry `request` repeats: stored earlier under its (conversation, sender, id) with the
   * same content, as its first answer gave it. Undefined for anything else. Writes nothing and
   * checks no access: the caller has.
   */
  storedRepeat(request: AppendRequest): Promise<StoredEntry | undefined>;

  /**
   * Every message and correction after `afterSeq`, ascending (the log without its system
   * entries: what FHIR Communications are made of). As readers see them, deleted messages are
   * empty and without files; as the record (host export, FHIR), they keep both and carry
   * `deletedAt`.
   */
  entriesAfter(
    tenantId: string,
    conversationId: string,
    afterSeq: number,
    limit: number,
    /** 'reader' when omitted. */
    view?: EntryView,
  ): Promise<{ entries: StoredEntry[]; hasMore: boolean }>;
  /** How many messages and corrections follow `afterSeq`: a FHIR search's total. */
  countEntriesAfter(tenantId: string, conversationId: string, afterSeq: number): Promise<number>;
  /**
   * The log after `afterSeq` as `view` may see it, system entries included, ascending: those of
   * the next `limit` entries `view` may see. `lastSeq` is the newest of the `limit` (the page holds
   * all `view` may see up to it), or `afterSeq` when there are none: catch up from there.
   */
  logAfter(
    tenantId: string,
    conversationId: string,
    afterSeq: number,
    limit: number,
    view: LogView,
  ): Promise<{ entries: Entry[]; hasMore: boolean; lastSeq: number }>;
}
