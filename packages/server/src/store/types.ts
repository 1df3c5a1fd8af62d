// The store contract: everything the relay persists goes through this interface, so an engine
// (SQLite now, PostgreSQL next) is one implementation of it and one run of the contract tests.
import type {
  AttachmentView,
  AuditAction,
  ConsentRequestView,
  ConsentState,
  ConsentTemplateContent,
  EditView,
  ErrorCode,
  MessageView,
  Role,
  Sender,
  TemplateVersionView,
  WebhookEventType,
} from '@carethread/shared';
import type { DataKeyInfo } from './keyring.js';

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

export type StoredEntry = MessageView | EditView;

/** Who an entry is read for: a participant, or the record the host keeps (ADR 16). */
export type EntryView = 'reader' | 'record';

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

/** A template version to publish: content, its hash, and who publishes it when. */
export interface NewTemplateVersion {
  tenantId: string;
  content: ConsentTemplateContent;
  hash: string;
  publishedAt: string;
  publishedBy: string;
}

/** One audit event of a consent request; the store chains it to the one before. */
export interface ConsentEventInput {
  type: ConsentState;
  at: string;
  actorId: string;
  /** Ids, codes and hashes only. */
  detail: Record<string, string | number | boolean | null>;
}

export interface ConsentEventRecord extends ConsentEventInput {
  seq: number;
  prevHash: string;
  hash: string;
}

/** The signed record as the receipt covers it. */
export interface SignedConsentRecord {
  canonical: string;
  recordHash: string;
  receipt: string;
  signatureImage: string | null;
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

/** What claiming an idempotency key found. */
export type IdempotencyClaim =
  | { state: 'claimed' }
  | { state: 'running'; fingerprint: string }
  | { state: 'done'; fingerprint: string; status: number; body: string };

/** A committed webhook event, in its tenant's order. */
export interface OutboxEvent {
  seq: number;
  id: string;
  tenantId: string;
  type: WebhookEventType;
  time: string;
  /** The full payload (with message text); endpoints on notification-only payloads get less. */
  data: Record<string, unknown>;
}

export interface WebhookCursor {
  lastSeq: number;
  attempts: number;
  nextAttemptAt: string | null;
  firstFailedAt: string | null;
}

export interface DeadLetter {
  endpointId: string;
  event: OutboxEvent;
  attempts: number;
  lastError: string;
  deadAt: string;
  redeliveredAt: string | null;
}

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
export type { DataKeyInfo } from './keyring.js';

/** A file shared in a conversation (ADR 16): its metadata; the bytes are in FileStorage. */
export interface FileRecord {
  tenantId: string;
  fileId: string;
  conversationId: string;
  uploaderId: string;
  /** The name the uploader gave; shown, never used to decide anything. */
  name: string;
  /** 'uploading' until every byte is stored; only 'complete' files are attached or served. */
  state: 'uploading' | 'complete';
  /** The upload attempt whose bytes are (or are being) stored: names the stored object. */
  attempt: string;
  /** The file's own key (base64), opened from its seal under the tenant's data key. */
  key: string;
  /** Decided from the content; null while uploading. */
  contentType: string | null;
  /** Bytes as stored and served (after metadata removal). */
  size: number | null;
  /** SHA-256 (hex) of the bytes as served... */
  sha256: string | null;
  /** ...and of the bytes as uploaded: a retry with the same content matches it. */
  uploadSha256: string | null;
  createdAt: string;
  completedAt: string | null;
}

/** The outcome of starting an upload under a file id. */
export type FileClaim =
  | { state: 'claimed'; file: FileRecord }
  | { state: 'complete'; file: FileRecord }
  /** The id is taken by another person's upload or another conversation. */
  | { state: 'taken' };

export interface Store {
  /** Brings the schema up to date by running every numbered migration not yet applied. */
  migrate(): Promise<void>;
  /** Cheap round trip used by /readyz. */
  ping(): Promise<void>;
  close(): Promise<void>;

  /** Creates a conversation with its first participants; false when the id is taken. */
  createConversation(
    conversation: Omit<ConversationRecord, 'lastSeq' | 'archivedAt' | 'accessVersion'>,
    participants: NewParticipant[],
  ): Promise<boolean>;
  getConversation(
    tenantId: string,
    conversationId: string,
  ): Promise<ConversationRecord | undefined>;
  /** Conversations the user currently belongs to, newest activity first. */
  /** The conversations a person takes part in, with their read mark and the role they have there. */
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
   * the same transaction); `replacedRole` is the role they had then, null otherwise.
   */
  addParticipant(
    tenantId: string,
    conversationId: string,
    participant: NewParticipant,
    at: string,
    actorId: string,
  ): Promise<{ participant: ParticipantRecord; replacedRole: Role | null }>;
  /** Marks a participant removed (the row stays for the record); false when not an active member. */
  removeParticipant(
    tenantId: string,
    conversationId: string,
    userId: string,
    at: string,
    actorId: string,
  ): Promise<boolean>;
  /** Raises the participant's read mark (never lowers it) and returns the resulting mark. */
  markRead(tenantId: string, conversationId: string, userId: string, seq: number): Promise<number>;

  /**
   * Appends a batch in one transaction. Each request is checked against membership at write
   * time, deduplicated by (conversation, sender, clientId), and given the next sequence number of
   * its conversation. Results come back in request order, only after the commit.
   */
  appendEntries(requests: readonly AppendRequest[]): Promise<AppendResult[]>;
  /** Messages (edits applied) older than `beforeSeq`, newest page first, returned oldest first. */
  history(
    tenantId: string,
    conversationId: string,
    beforeSeq: number | undefined,
    limit: number,
  ): Promise<{ messages: MessageView[]; hasMore: boolean }>;
  /**
   * Publishes the next version of a template, or returns the newest version unchanged (and
   * `created: false`) when its hash equals the new content's. Versions are never changed.
   */
  publishTemplateVersion(
    version: NewTemplateVersion,
  ): Promise<{ template: TemplateVersionView; created: boolean }>;
  /** Every published version of a template, oldest first. */
  listTemplateVersions(tenantId: string, templateId: string): Promise<TemplateVersionView[]>;

  /** A published template version, the newest when `version` is omitted. */
  getTemplateVersion(
    tenantId: string,
    templateId: string,
    version?: number,
  ): Promise<TemplateVersionView | undefined>;

  /** Creates a request with its first event; an existing id returns the stored one unchanged. */
  createConsentRequest(
    tenantId: string,
    request: ConsentRequestView,
    event: ConsentEventInput,
  ): Promise<{ request: ConsentRequestView; created: boolean }>;
  getConsentRequest(tenantId: string, requestId: string): Promise<ConsentRequestView | undefined>;
  /** Requests of a conversation, or where `userId` is the patient or the signer; oldest first. */
  listConsentRequests(
    tenantId: string,
    filter: { conversationId?: string; userId?: string },
  ): Promise<ConsentRequestView[]>;
  /**
   * Moves a request from one of `from` to `to` and appends `event`, in one transaction.
   * Undefined (and nothing written) when the request is in another state.
   */
  transitionConsentRequest(
    tenantId: string,
    requestId: string,
    from: readonly ConsentState[],
    to: ConsentState,
    event: ConsentEventInput,
  ): Promise<ConsentRequestView | undefined>;
  /** Like a transition to `signed` that also stores the record: all of it or none of it. */
  signConsentRequest(
    tenantId: string,
    requestId: string,
    from: readonly ConsentState[],
    record: SignedConsentRecord,
    event: ConsentEventInput,
  ): Promise<ConsentRequestView | undefined>;
  getConsentRecord(tenantId: string, requestId: string): Promise<SignedConsentRecord | undefined>;
  /** The record's sealed PDF (base64), if made yet. */
  getConsentPdf(tenantId: string, requestId: string): Promise<string | undefined>;
  /** Keeps the first PDF made for a record and returns the one kept (write once). */
  saveConsentPdf(tenantId: string, requestId: string, pdf: string): Promise<string>;
  /**
   * Revokes a signed consent: the request becomes `revoked`, its grants end at `event.at`, and
   * the event is appended, in one transaction. Undefined when it was not signed.
   */
  revokeConsent(
    tenantId: string,
    requestId: string,
    event: ConsentEventInput,
  ): Promise<ConsentRequestView | undefined>;
  /**
   * Marks every request past its expiry at `at` as `expired` (from requested, viewed or signed),
   * each with its audit event; the changed requests with their tenant.
   */
  expireDueConsents(at: string): Promise<{ tenantId: string; request: ConsentRequestView }[]>;
  /** The grant letting `userId` into the conversation at time `at`, if one is in effect. */
  activeGrant(
    tenantId: string,
    conversationId: string,
    userId: string,
    at: string,
  ): Promise<{ requestId: string; expiresAt: string } | undefined>;
  /** The audit trail of a request, oldest first. */
  listConsentEvents(tenantId: string, requestId: string): Promise<ConsentEventRecord[]>;

  /** Archives a conversation (once; later calls keep the first time); undefined when unknown. */
  archiveConversation(
    tenantId: string,
    conversationId: string,
    at: string,
    actorId: string,
  ): Promise<ConversationRecord | undefined>;
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
  /** The tenant's conversations ordered by id, after `afterId`; one more than `limit` says more follow. */
  listConversations(
    tenantId: string,
    afterId: string | undefined,
    limit: number,
  ): Promise<ConversationRecord[]>;

  /**
   * Claims a host-API idempotency key for a request with `fingerprint`, or says what an earlier
   * request with the key left: still running, or its answer.
   */
  claimIdempotencyKey(
    tenantId: string,
    key: string,
    fingerprint: string,
    at: string,
  ): Promise<IdempotencyClaim>;
  /** Stores the answer of a claimed key, to be replayed to retries. */
  completeIdempotencyKey(
    tenantId: string,
    key: string,
    status: number,
    body: string,
  ): Promise<void>;
  /** Gives a claimed key up (the request failed in a way a retry may fix). */
  releaseIdempotencyKey(tenantId: string, key: string): Promise<void>;
  /** Forgets keys created before `before`; returns how many. */
  expireIdempotencyKeys(before: string): Promise<number>;

  /** How many of a tenant's webhook events come after `afterSeq` (an endpoint's backlog). */
  countOutboxEventsAfter(tenantId: string, afterSeq: number): Promise<number>;
  /** A tenant's webhook events after `afterSeq`, in commit order. */
  outboxEventsAfter(tenantId: string, afterSeq: number, limit: number): Promise<OutboxEvent[]>;
  /**
   * An endpoint's place in its tenant's events. A new endpoint starts after the newest event, so
   * adding one does not replay history.
   */
  webhookCursor(tenantId: string, endpointId: string): Promise<WebhookCursor>;
  /**
   * Takes or renews the lease on delivering an endpoint's events for `holder` (a relay node),
   * until `until`; true when `holder` has it, false while another node's lease runs. The
   * endpoint's cursor must exist (`webhookCursor` creates it).
   */
  leaseWebhookEndpoint(
    tenantId: string,
    endpointId: string,
    holder: string,
    now: string,
    until: string,
  ): Promise<boolean>;
  /** Gives the lease up (at shutdown), so another node takes over at once. */
  releaseWebhookLease(tenantId: string, endpointId: string, holder: string): Promise<void>;
  /** Moves an endpoint past `seq` (delivered or not subscribed) and clears its retry state. */
  advanceWebhookCursor(tenantId: string, endpointId: string, seq: number): Promise<void>;
  /** Records a failed attempt at the endpoint's next event. */
  recordWebhookFailure(
    tenantId: string,
    endpointId: string,
    failure: { attempts: number; nextAttemptAt: string; firstFailedAt: string; error: string },
  ): Promise<void>;
  /** Gives up on `event` for the endpoint: a dead letter, and the cursor moves past it, at once. */
  deadLetterWebhook(
    tenantId: string,
    endpointId: string,
    event: OutboxEvent,
    attempts: number,
    error: string,
    at: string,
  ): Promise<void>;
  /** A tenant's dead letters, oldest first, after the given (endpoint, seq) position. */
  listDeadLetters(
    tenantId: string,
    after: { endpointId: string; seq: number } | undefined,
    limit: number,
  ): Promise<DeadLetter[]>;
  getDeadLetter(
    tenantId: string,
    endpointId: string,
    eventId: string,
  ): Promise<DeadLetter | undefined>;
  markDeadLetterRedelivered(
    tenantId: string,
    endpointId: string,
    eventSeq: number,
    at: string,
  ): Promise<void>;

  /** Which master key wraps each tenant's data keys (ADR 14): what `carethread keys status` shows. */
  dataKeys(): Promise<DataKeyInfo[]>;
  /**
   * Re-wraps every data key under the current master key, online (the data keys themselves do
   * not change); how many it re-wrapped.
   */
  rewrapDataKeys(): Promise<number>;
  /**
   * Revokes a token id of the tenant until `keptUntil`. Revoking it again keeps the first
   * `revokedAt` and the later of the two `keptUntil`s; returns what is stored.
   */
  revokeToken(
    tenantId: string,
    tokenId: string,
    revokedAt: string,
    keptUntil: string,
  ): Promise<{ revokedAt: string; keptUntil: string }>;
  /** Which of `tokenIds` are revoked at time `at` (kept until after it). */
  revokedTokenIds(tenantId: string, tokenIds: readonly string[], at: string): Promise<string[]>;
  /** Forgets revocations kept until before `before`; returns how many. */
  expireRevokedTokens(before: string): Promise<number>;

  /**
   * Starts (or takes over) an upload under `file.fileId` with a fresh attempt and file key: a new
   * id, or one whose earlier upload by the same person to the same conversation never finished.
   * A complete file is returned as it is; an id used by someone else or elsewhere is 'taken'.
   */
  claimFileUpload(file: {
    tenantId: string;
    fileId: string;
    conversationId: string;
    uploaderId: string;
    name: string;
    attempt: string;
    at: string;
  }): Promise<FileClaim>;
  /**
   * Marks the attempt's upload complete, with what the content turned out to be. False when
   * another attempt took the id over meanwhile (or completed it).
   */
  completeFileUpload(
    tenantId: string,
    fileId: string,
    attempt: string,
    facts: { contentType: string; size: number; sha256: string; uploadSha256: string; at: string },
  ): Promise<boolean>;
  /** Forgets an unfinished attempt (a refused upload keeps nothing). */
  abandonFileUpload(tenantId: string, fileId: string, attempt: string): Promise<void>;
  getFile(tenantId: string, fileId: string): Promise<FileRecord | undefined>;
  /**
   * Whether every message that shared the file was deleted by its sender (false when none shared
   * it): readers no longer get links to it, while the host API still serves it (ADR 16).
   */
  fileHiddenByDeletion(tenantId: string, conversationId: string, fileId: string): Promise<boolean>;
  /**
   * The attempt whose bytes each complete file of `fileIds` is (files not complete, or unknown,
   * are left out): what the orphan sweep keeps. Nothing is decrypted.
   */
  completedFileAttempts(
    tenantId: string,
    fileIds: readonly string[],
  ): Promise<{ fileId: string; attempt: string }[]>;

  /**
   * The entry `request` repeats: stored earlier under its (conversation, sender, id) with the
   * same content, as its first answer gave it. Undefined for anything else. Writes nothing and
   * checks no access: the caller has.
   */
  storedRepeat(request: AppendRequest): Promise<StoredEntry | undefined>;

  /**
   * Every entry after `afterSeq`, ascending. As readers see them, deleted messages are empty and
   * without files; as the record (host export, FHIR), they keep both and carry `deletedAt`.
   */
  entriesAfter(
    tenantId: string,
    conversationId: string,
    afterSeq: number,
    limit: number,
    /** 'reader' when omitted. */
    view?: EntryView,
  ): Promise<{ entries: StoredEntry[]; hasMore: boolean }>;
}
