// The host API: request and response bodies of the HTTP API that the host EHR's back end calls
// (never a browser). The relay validates with these schemas and generates its OpenAPI document
// from them, so the document cannot drift from what the relay accepts.
import { z } from 'zod/mini';
import {
  ConsentRecordView,
  ConsentRequestCreate,
  ConsentRequestId,
  ConsentRequestView,
  ConsentRevocationView,
  ConsentState,
  ReaderLanguage,
  TemplateId,
  TemplateVersionView,
} from './consent.js';
import { ErrorBody } from './errors.js';
import {
  ClientMessageId,
  ConversationId,
  DisplayName,
  FileId,
  IsoTime,
  Label,
  Seq,
  Text,
  UserId,
  wellFormed,
} from './primitives.js';
import { Entry, ParticipantInput, ParticipantView } from './protocol.js';
import { WebhookEvent } from './webhooks.js';

/** Every error of the host API: an HTTP status and this body with a stable code. */
export const ApiErrorResponse = z.object({ error: ErrorBody });
export type ApiErrorResponse = z.infer<typeof ApiErrorResponse>;

/** The header that makes a write safe to retry: the same key and body return the first answer. */
export const IDEMPOTENCY_HEADER = 'idempotency-key';
export const IdempotencyKey = z
  .string()
  .check(z.minLength(1), z.maxLength(255), z.regex(/^[\x21-\x7e]+$/));

export const API_PAGE_MAX = 200;

/** Query of every list: an opaque cursor from the previous page's `next`, and a page size. */
export const PageQuery = z.object({
  cursor: z.optional(z.string().check(z.minLength(1), z.maxLength(512))),
  limit: z.optional(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(API_PAGE_MAX))),
});
export type PageQuery = z.infer<typeof PageQuery>;

/** A page of a list; pass `next` as `cursor` for the following page, null on the last one. */
export function pageOf<T extends z.ZodMiniType>(item: T) {
  return z.object({ items: z.array(item), next: z.nullable(z.string()) });
}

// ---------------------------------------------------------------------------------------------
// Conversations and participants

export const ApiConversationCreate = z.object({
  conversationId: ConversationId,
  title: Label,
  /** Everyone who takes part; family members are let in only by a signed consent. */
  participants: z.array(ParticipantInput).check(z.minLength(1), z.maxLength(100)),
});
export type ApiConversationCreate = z.infer<typeof ApiConversationCreate>;

export const ApiConversation = z.object({
  conversationId: ConversationId,
  title: Label,
  createdAt: IsoTime,
  /** Sequence of the newest entry; 0 for an empty conversation. */
  lastSeq: Seq,
  /** When the host archived it: still readable, no new messages. Null while open. */
  archivedAt: z.nullable(IsoTime),
  participants: z.array(ParticipantView),
});
export type ApiConversation = z.infer<typeof ApiConversation>;

export const ApiConversationSummary = z.object({
  conversationId: ConversationId,
  title: Label,
  createdAt: IsoTime,
  lastSeq: Seq,
});
export type ApiConversationSummary = z.infer<typeof ApiConversationSummary>;
export const ApiConversationPage = pageOf(ApiConversationSummary);
export type ApiConversationPage = z.infer<typeof ApiConversationPage>;

export const ConversationPath = z.object({ conversationId: ConversationId });
export const ParticipantPath = z.object({ conversationId: ConversationId, userId: UserId });
export const FilePath = z.object({ fileId: FileId });

/** One entry of a conversation's audit trail: who changed what, and when. */
/** What an audit entry records: changes to a conversation, and every access to protected data. */
export const AUDIT_ACTIONS = [
  'conversation.created',
  'participant.added',
  'participant.removed',
  'conversation.archived',
  /** A socket was let in (detail: role). */
  'session.connected',
  /** A connection attempt was refused (detail: code). */
  'session.refused',
  /** Opened, a history page or a catch-up (detail: via, fromSeq, toSeq, count; breakGlass). */
  'conversation.read',
  'message.sent',
  'message.edited',
  /** Its sender deleted a message (detail: seq, id, targetSeq); the record keeps it. */
  'message.deleted',
  'consent.viewed',
  'consent.signed',
  'consent.revoked',
  /** A host API call (detail: operation, status). */
  'api.call',
  /** A provider opened a conversation they are not a member of (detail: reason hash, until). */
  'breakglass.opened',
  /** A file was stored in a conversation (detail: type, size, sha256). */
  'file.uploaded',
  /** A file left the relay through a signed link (detail: type, size). */
  'file.downloaded',
  /**
   * An upload refused after its token was verified (detail: code, the recognised type, the
   * declared type and length, the bytes read); never the file's name or content.
   */
  'file.refused',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export const ApiAuditEvent = z.object({
  seq: z.int(),
  at: IsoTime,
  actorId: z.string(),
  action: z.enum(AUDIT_ACTIONS),
  conversationId: z.nullable(ConversationId),
  /** Whom the action was about (a participant's user id); null for the conversation itself. */
  subjectId: z.nullable(z.string()),
  /** Ids and codes only. */
  detail: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])),
  prevHash: z.string(),
  /** sha256 over the entry and `prevHash`, chained through the tenant's whole trail. */
  hash: z.string(),
});
export type ApiAuditEvent = z.infer<typeof ApiAuditEvent>;
export const ApiAuditEventPage = pageOf(ApiAuditEvent);
/** Whose accesses: one person's (as actor or subject), one conversation's, or both. */
export const ApiAuditQuery = z.extend(PageQuery, {
  userId: z.optional(UserId),
  conversationId: z.optional(ConversationId),
});

/** A message the host's back end posts into a conversation (a reminder, a notice). */
export const ApiSystemMessage = z.object({
  /** The idempotency key of the message, like a client's message id. */
  id: ClientMessageId,
  text: Text,
  /** Who it shows as from, e.g. "Riverside Clinic"; "Care team" when omitted. */
  senderName: z.optional(DisplayName),
});
export type ApiSystemMessage = z.infer<typeof ApiSystemMessage>;

/** Every entry of the conversation in sequence order (messages and corrections), for archiving. */
export const ApiEntryPage = pageOf(Entry);
export type ApiEntryPage = z.infer<typeof ApiEntryPage>;

// ---------------------------------------------------------------------------------------------
// Consent

export const TemplatePath = z.object({ templateId: TemplateId });
export const ApiTemplatePublishResult = z.object({
  template: TemplateVersionView,
  /** False when the content equals the newest version: that version is returned, none is made. */
  created: z.boolean(),
});
export const ApiTemplateVersionPage = pageOf(TemplateVersionView);

export const ConsentRequestPath = z.object({ requestId: ConsentRequestId });
/** A request made by the host, as from the widget's form. */
export const ApiConsentRequestCreate = z.extend(ConsentRequestCreate, {
  /**
   * The care-team member of the conversation the host asks for (the clinician who wants the
   * consent); recorded as `requestedBy`. The host itself is recorded when omitted.
   */
  onBehalfOf: z.optional(UserId),
});
export const ApiConsentRequestQuery = z.extend(PageQuery, {
  conversationId: z.optional(ConversationId),
  patientId: z.optional(UserId),
  state: z.optional(ConsentState),
});
export const ApiConsentRequestPage = pageOf(ConsentRequestView);

export const ApiConsentCancel = z.object({
  /** Why, for the audit trail (ids and plain words; no clinical detail). */
  reason: z.optional(z.string().check(z.maxLength(500), wellFormed())),
});
export type ApiConsentCancel = z.infer<typeof ApiConsentCancel>;

/** The reader's language for a request's form: the closest one the template has is returned. */
export const ApiConsentFormQuery = z.object({ language: z.optional(ReaderLanguage) });
export type ApiConsentFormQuery = z.infer<typeof ApiConsentFormQuery>;

export const ApiConsentRecord = z.object({
  record: ConsentRecordView,
  /** sha256 of the canonical record (RFC 8785). */
  recordHash: z.string(),
  /** Compact JWS (ES256) whose payload is the canonical record; verify with the relay's JWKS. */
  receipt: z.string(),
  /** Once revoked: the revocation, with the typed name; its hash is in the `revoked` event. */
  revocation: z.optional(ConsentRevocationView),
});
export type ApiConsentRecord = z.infer<typeof ApiConsentRecord>;

export const ApiConsentEvent = z.object({
  seq: z.int(),
  type: ConsentState,
  at: IsoTime,
  actorId: z.string(),
  /** Ids, codes and hashes only; never form answers or message text. */
  detail: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])),
  /** Hash of the event before (a fixed genesis value for the first). */
  prevHash: z.string(),
  /** sha256 over this event and `prevHash`: altering any event breaks every hash after it. */
  hash: z.string(),
});
export type ApiConsentEvent = z.infer<typeof ApiConsentEvent>;
export const ApiConsentEventPage = pageOf(ApiConsentEvent);

// ---------------------------------------------------------------------------------------------
// Webhooks

/** An event an endpoint did not take within the retry window. */
export const ApiDeadLetter = z.object({
  endpointId: z.string(),
  /** The event as the endpoint would receive it (its payload mode applied). */
  event: WebhookEvent,
  attempts: z.int(),
  lastError: z.string(),
  deadAt: IsoTime,
  /** When a redelivery through this API succeeded; null until then. */
  redeliveredAt: z.nullable(IsoTime),
});
export type ApiDeadLetter = z.infer<typeof ApiDeadLetter>;
export const ApiDeadLetterPage = pageOf(ApiDeadLetter);
export const DeadLetterPath = z.object({
  endpointId: z.string().check(z.regex(/^[a-z0-9][a-z0-9-]{0,62}$/)),
  eventId: z.string().check(z.minLength(1), z.maxLength(64)),
});
export const ApiRedeliverResult = z.object({
  /** The HTTP status the endpoint answered with (2xx). */
  status: z.int(),
  redeliveredAt: IsoTime,
});

// ---------------------------------------------------------------------------------------------
// Sessions

/**
 * What a token id (`jti`) may be: 1 to 255 printable ASCII characters without spaces. The relay
 * refuses a token whose id the host API could not name to revoke it.
 */
export const TOKEN_ID_PATTERN = /^[\x21-\x7e]{1,255}$/;

/** A token id (`jti`) as the host minted it. */
export const TokenId = z.string().check(z.regex(TOKEN_ID_PATTERN));

/** Signs a token out: the relay refuses it from now on and ends the sessions that carry it. */
export const ApiTokenRevoke = z.object({
  jti: TokenId,
  /**
   * The token's own expiry (its `exp`): the relay forgets the revocation then. When omitted, it is
   * kept for as long as any token of the tenant could still be accepted (`maxTokenAgeSeconds`).
   */
  expiresAt: z.optional(IsoTime),
});
export type ApiTokenRevoke = z.infer<typeof ApiTokenRevoke>;
export const ApiTokenRevocation = z.object({
  jti: TokenId,
  /** When it was first revoked (a repeated call keeps the first time). */
  revokedAt: IsoTime,
  /** Until when the relay refuses it; past that the token would be refused as expired anyway. */
  keptUntil: IsoTime,
  /**
   * Sessions carrying the token that the node answering this call ended at once; the other nodes
   * end theirs within `revocationCheckMs`.
   */
  sessionsEnded: z.int(),
});
export type ApiTokenRevocation = z.infer<typeof ApiTokenRevocation>;
