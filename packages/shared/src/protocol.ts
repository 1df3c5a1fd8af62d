// The CareThread wire protocol: one zod schema per event payload and ack, and the Socket.IO event
// maps derived from them so that relay and client cannot drift apart.
import { z } from 'zod/mini';
import { ErrorBody } from './errors.js';

import { HISTORY_PAGE_MAX, MAX_ATTACHMENTS, MAX_TEXT_LENGTH, SYNC_PAGE_MAX } from './constants.js';
import {
  ConsentDecline,
  ConsentList,
  ConsentListResult,
  ConsentPdfResult,
  ConsentRef,
  ConsentRequestCreate,
  ConsentRequestView,
  ConsentRevoke,
  ConsentSign,
  ConsentSignResult,
  ConsentView,
  ConsentViewResult,
  TemplatePublish,
  TemplatePublishResult,
  TemplateVersions,
  TemplateVersionsResult,
} from './consent.js';
import {
  ClientMessageId,
  ConversationId,
  DisplayName,
  FileId,
  IsoTime,
  Label,
  Role,
  Seq,
  Text,
  UserId,
  wellFormed,
} from './primitives.js';
import { EventView } from './system-entries.js';

export {
  ClientMessageId,
  ConversationId,
  DisplayName,
  FileId,
  Role,
  Seq,
  UserId,
  actingRole,
} from './primitives.js';

// ---------------------------------------------------------------------------------------------
// Handshake

/** Sent as Socket.IO `auth` at connect; never in the query string. */
export const HandshakeAuth = z.object({
  token: z.string().check(z.minLength(1), z.maxLength(8192)),
  protocol: z.int(),
});
export type HandshakeAuth = z.infer<typeof HandshakeAuth>;

// ---------------------------------------------------------------------------------------------
// Views the relay sends

// Views name people with `Label`, not `DisplayName`: they show what the store holds, including
// names stored before issue 15 that `DisplayName` would refuse (only white space), and a webhook
// whose payload failed its own schema would be dropped by `verifyWebhook`. New names all pass
// `DisplayName`: it guards every way a name comes in.
export const Sender = z.object({ userId: UserId, role: Role, displayName: Label });
export type Sender = z.infer<typeof Sender>;

export const ParticipantView = z.object({
  userId: UserId,
  role: Role,
  displayName: Label,
  /** For family members: how they relate to the patient ("mother", "partner"). */
  relationship: z.nullable(Label),
  /** For care-team members: their title ("Therapist", "Case manager"). */
  title: z.nullable(Label),
  online: z.boolean(),
  /** Highest sequence this participant has marked read. */
  readSeq: Seq,
});
export type ParticipantView = z.infer<typeof ParticipantView>;

/** A file a message carries, as every reader sees it (download it through a signed link). */
export const AttachmentView = z.object({
  fileId: FileId,
  name: Label,
  contentType: z.string(),
  size: z.int(),
});
export type AttachmentView = z.infer<typeof AttachmentView>;

/**
 * A message as a reader sees it: current text (empty when it only shares files), with `editedAt`
 * set once corrected. Once its sender deleted it, `deletedAt` is set, its text is empty and its
 * files are hidden (the record keeps both, ADR 16).
 */
export const MessageView = z.object({
  kind: z.literal('message'),
  conversationId: ConversationId,
  seq: Seq,
  id: ClientMessageId,
  sender: Sender,
  text: z.string().check(z.maxLength(MAX_TEXT_LENGTH), wellFormed()),
  sentAt: IsoTime,
  editedAt: z.nullable(IsoTime),
  /** Files shared with the message; absent when there are none or the message was deleted. */
  attachments: z.optional(z.array(AttachmentView)),
  /** When its sender deleted the message; absent while it stands. */
  deletedAt: z.optional(IsoTime),
});
export type MessageView = z.infer<typeof MessageView>;

/**
 * A correction of an earlier message. It takes its own sequence number so catch-up carries it.
 * A deletion is the last correction a message takes: `deleted: true` and empty text.
 */
export const EditView = z
  .object({
    kind: z.literal('edit'),
    conversationId: ConversationId,
    seq: Seq,
    id: ClientMessageId,
    targetSeq: Seq,
    sender: Sender,
    text: z.string().check(z.maxLength(MAX_TEXT_LENGTH), wellFormed()),
    editedAt: IsoTime,
    deleted: z.optional(z.literal(true)),
  })
  .check(
    z.refine((edit) => (edit.deleted ? edit.text === '' : edit.text.length > 0), {
      message: 'A correction has text; a deletion has none.',
      path: ['text'],
    }),
  );
export type EditView = z.infer<typeof EditView>;

/** One entry of a conversation's ordered log: a message, a correction, or a system entry. */
export const Entry = z.discriminatedUnion('kind', [MessageView, EditView, EventView]);
export type Entry = z.infer<typeof Entry>;

export const ConversationSnapshot = z.object({
  conversationId: ConversationId,
  title: Label,
  createdAt: IsoTime,
  participants: z.array(ParticipantView),
  /** Sequence of the newest entry; 0 for an empty conversation. */
  lastSeq: Seq,
  you: z.object({ userId: UserId, role: Role }),
});
export type ConversationSnapshot = z.infer<typeof ConversationSnapshot>;

/**
 * One of the caller's conversations. `access: 'consent-required'` is a family member's
 * conversation whose patient has not (or no longer) consented: it is listed by its id alone,
 * since its title and activity are what the consent guards.
 */
export const ConversationSummary = z.discriminatedUnion('access', [
  z.object({
    conversationId: ConversationId,
    access: z.literal('open'),
    title: Label,
    /** Sequence of the newest message or correction: what may be unread (events do not count). */
    lastSeq: Seq,
    readSeq: Seq,
  }),
  z.object({ conversationId: ConversationId, access: z.literal('consent-required') }),
]);
export type ConversationSummary = z.infer<typeof ConversationSummary>;

// ---------------------------------------------------------------------------------------------
// Client -> relay requests and their ack data

export const ParticipantInput = z.object({
  userId: UserId,
  role: Role,
  displayName: DisplayName,
  relationship: z.optional(z.nullable(Label)),
  title: z.optional(z.nullable(Label)),
});
export type ParticipantInput = z.infer<typeof ParticipantInput>;

export const ConversationCreate = z.object({
  conversationId: ConversationId,
  title: Label,
  /** Others to add; the creating care-team member is always added. */
  participants: z.array(ParticipantInput).check(z.maxLength(100)),
});
export type ConversationCreate = z.infer<typeof ConversationCreate>;

export const ParticipantAdd = z.object({
  conversationId: ConversationId,
  participant: ParticipantInput,
});
export type ParticipantAdd = z.infer<typeof ParticipantAdd>;

export const ParticipantRemove = z.object({ conversationId: ConversationId, userId: UserId });
export type ParticipantRemove = z.infer<typeof ParticipantRemove>;

export const ConversationRef = z.object({ conversationId: ConversationId });
export type ConversationRef = z.infer<typeof ConversationRef>;

export const ConversationList = z.object({});
export type ConversationList = z.infer<typeof ConversationList>;
export const ConversationListResult = z.object({ conversations: z.array(ConversationSummary) });
export type ConversationListResult = z.infer<typeof ConversationListResult>;

export const MessageSend = z
  .object({
    conversationId: ConversationId,
    id: ClientMessageId,
    /** May be empty only when the message carries files. */
    text: z.string().check(z.maxLength(MAX_TEXT_LENGTH), wellFormed()),
    /** Files uploaded to this conversation (PUT /files/{fileId}) to share with the message. */
    attachments: z.optional(z.array(FileId).check(z.maxLength(MAX_ATTACHMENTS))),
  })
  .check(
    z.refine((send) => send.text.length > 0 || (send.attachments?.length ?? 0) > 0, {
      message: 'A message needs text, files, or both.',
      path: ['text'],
    }),
  );
export type MessageSend = z.infer<typeof MessageSend>;
export const MessageSendResult = z.object({ id: ClientMessageId, seq: Seq, sentAt: IsoTime });
export type MessageSendResult = z.infer<typeof MessageSendResult>;

export const MessageEdit = z.object({
  conversationId: ConversationId,
  id: ClientMessageId,
  targetSeq: Seq,
  text: Text,
});
export type MessageEdit = z.infer<typeof MessageEdit>;
export const MessageEditResult = z.object({ id: ClientMessageId, seq: Seq, editedAt: IsoTime });
export type MessageEditResult = z.infer<typeof MessageEditResult>;

/** Deletes one's own message for everyone; the record keeps it and its files. */
export const MessageDelete = z.object({
  conversationId: ConversationId,
  id: ClientMessageId,
  targetSeq: Seq,
});
export type MessageDelete = z.infer<typeof MessageDelete>;
export const MessageDeleteResult = z.object({ id: ClientMessageId, seq: Seq, deletedAt: IsoTime });
export type MessageDeleteResult = z.infer<typeof MessageDeleteResult>;

export const HistoryPage = z.object({
  conversationId: ConversationId,
  /** Return messages older than this sequence; omit for the newest page. */
  beforeSeq: z.optional(Seq),
  limit: z.optional(z.int().check(z.minimum(1), z.maximum(HISTORY_PAGE_MAX))),
});
export type HistoryPage = z.infer<typeof HistoryPage>;
export const HistoryPageResult = z.object({
  /** Oldest first. Edits are already applied to the text. */
  messages: z.array(MessageView),
  /**
   * The system entries among them that the reader may see, oldest first; `limit` counts messages
   * and events together.
   */
  events: z.array(EventView),
  hasMore: z.boolean(),
});
export type HistoryPageResult = z.infer<typeof HistoryPageResult>;

export const Sync = z.object({
  conversationId: ConversationId,
  afterSeq: Seq,
  limit: z.optional(z.int().check(z.minimum(1), z.maximum(SYNC_PAGE_MAX))),
});
export type Sync = z.infer<typeof Sync>;
export const SyncResult = z.object({
  /**
   * Every entry after `afterSeq` that the reader may see, ascending, up to the limit. Numbers skip
   * the entries the reader may not see (a family member does not see a consent's steps).
   */
  entries: z.array(Entry),
  /** The page holds every entry the reader may see up to this sequence: catch up from here. */
  lastSeq: Seq,
  hasMore: z.boolean(),
});
export type SyncResult = z.infer<typeof SyncResult>;

export const Typing = z.object({ conversationId: ConversationId, typing: z.boolean() });
export type Typing = z.infer<typeof Typing>;

export const ReceiptRead = z.object({ conversationId: ConversationId, seq: Seq });
export type ReceiptRead = z.infer<typeof ReceiptRead>;
export const ReceiptReadResult = z.object({ readSeq: Seq });
export type ReceiptReadResult = z.infer<typeof ReceiptReadResult>;

export const AuthRefresh = z.object({ token: z.string().check(z.minLength(1), z.maxLength(8192)) });
export type AuthRefresh = z.infer<typeof AuthRefresh>;
export const AuthRefreshResult = z.object({ expiresAt: IsoTime });
export type AuthRefreshResult = z.infer<typeof AuthRefreshResult>;

const Empty = z.object({});

// ---------------------------------------------------------------------------------------------
// Relay -> client events

export const TypingEvent = z.object({
  conversationId: ConversationId,
  userId: UserId,
  typing: z.boolean(),
});
export type TypingEvent = z.infer<typeof TypingEvent>;
export const ReceiptEvent = z.object({
  conversationId: ConversationId,
  userId: UserId,
  readSeq: Seq,
});
export type ReceiptEvent = z.infer<typeof ReceiptEvent>;
export const PresenceEvent = z.object({
  conversationId: ConversationId,
  userId: UserId,
  online: z.boolean(),
});
export type PresenceEvent = z.infer<typeof PresenceEvent>;
export const ParticipantAddedEvent = z.object({
  conversationId: ConversationId,
  participant: ParticipantView,
});
export type ParticipantAddedEvent = z.infer<typeof ParticipantAddedEvent>;
export const ParticipantRemovedEvent = z.object({
  conversationId: ConversationId,
  userId: UserId,
  /** Sent to the person concerned: why their access ended (e.g. consent revoked or expired). */
  reason: z.optional(ErrorBody),
});
export type ParticipantRemovedEvent = z.infer<typeof ParticipantRemovedEvent>;
/** Sent ahead of token expiry: answer with `auth.refresh` or be disconnected at `expiresAt`. */
export const SessionExpiringEvent = z.object({ expiresAt: IsoTime });
export type SessionExpiringEvent = z.infer<typeof SessionExpiringEvent>;
/** Sent just before the relay closes a session (token expired, access withdrawn). */
export const SessionEndedEvent = ErrorBody;
export type SessionEndedEvent = z.infer<typeof SessionEndedEvent>;
/** A request that the relay could not answer through an ack (no ack callback was given). */
export const RelayErrorEvent = z.object({ event: z.string(), error: ErrorBody });
export type RelayErrorEvent = z.infer<typeof RelayErrorEvent>;

// ---------------------------------------------------------------------------------------------
// Event maps. Each entry names the payload schema and the ack data schema; the Socket.IO
// generics below are derived from these maps, and the relay validates with the same schemas.

interface RequestSpec {
  request: z.ZodMiniType;
  response: z.ZodMiniType;
}

export const clientEvents = {
  'conversation.create': { request: ConversationCreate, response: ConversationSnapshot },
  'conversation.open': { request: ConversationRef, response: ConversationSnapshot },
  'conversation.close': { request: ConversationRef, response: Empty },
  'conversation.list': { request: ConversationList, response: ConversationListResult },
  'participant.add': { request: ParticipantAdd, response: ParticipantView },
  'participant.remove': { request: ParticipantRemove, response: Empty },
  'message.send': { request: MessageSend, response: MessageSendResult },
  'message.edit': { request: MessageEdit, response: MessageEditResult },
  'message.delete': { request: MessageDelete, response: MessageDeleteResult },
  'history.page': { request: HistoryPage, response: HistoryPageResult },
  sync: { request: Sync, response: SyncResult },
  typing: { request: Typing, response: Empty },
  'receipt.read': { request: ReceiptRead, response: ReceiptReadResult },
  'auth.refresh': { request: AuthRefresh, response: AuthRefreshResult },
  'consent.template.publish': { request: TemplatePublish, response: TemplatePublishResult },
  'consent.template.versions': { request: TemplateVersions, response: TemplateVersionsResult },
  'consent.request': { request: ConsentRequestCreate, response: ConsentRequestView },
  'consent.view': { request: ConsentView, response: ConsentViewResult },
  'consent.sign': { request: ConsentSign, response: ConsentSignResult },
  'consent.decline': { request: ConsentDecline, response: ConsentRequestView },
  'consent.list': { request: ConsentList, response: ConsentListResult },
  'consent.revoke': { request: ConsentRevoke, response: ConsentRequestView },
  'consent.pdf': { request: ConsentRef, response: ConsentPdfResult },
} as const satisfies Record<string, RequestSpec>;

export const serverEvents = {
  message: MessageView,
  /** A correction or, with `deleted: true`, a deletion. */
  'message.edited': EditView,
  /** A system entry: someone joined, left or changed role, or a consent changed state. */
  'conversation.event': EventView,
  typing: TypingEvent,
  receipt: ReceiptEvent,
  presence: PresenceEvent,
  'participant.added': ParticipantAddedEvent,
  'participant.removed': ParticipantRemovedEvent,
  'session.expiring': SessionExpiringEvent,
  'session.ended': SessionEndedEvent,
  'relay.error': RelayErrorEvent,
  /** A consent request of this conversation changed state (requested, signed, declined...). */
  'consent.updated': ConsentRequestView,
  /**
   * Who may read the conversation narrowed (a consent was revoked, someone was removed). Live
   * messages from now on reach only readers whose access was checked after the change: open the
   * conversation again to go on receiving them.
   */
  'access.changed': ConversationRef,
} as const satisfies Record<string, z.ZodMiniType>;

export type ClientEventName = keyof typeof clientEvents;
export type ServerEventName = keyof typeof serverEvents;
export type RequestOf<E extends ClientEventName> = z.infer<(typeof clientEvents)[E]['request']>;
export type ResponseOf<E extends ClientEventName> = z.infer<(typeof clientEvents)[E]['response']>;
export type ServerPayloadOf<E extends ServerEventName> = z.infer<(typeof serverEvents)[E]>;

/** The one ack shape: success with data, or a stable error. */
export type Ack<T> = { ok: true; data: T } | { ok: false; error: ErrorBody };
export function ackSchema<T extends z.ZodMiniType>(data: T) {
  return z.union([
    z.object({ ok: z.literal(true), data }),
    z.object({ ok: z.literal(false), error: ErrorBody }),
  ]);
}

export type ClientToServerEvents = {
  [E in ClientEventName]: (
    payload: RequestOf<E>,
    ack: (response: Ack<ResponseOf<E>>) => void,
  ) => void;
};
export type ServerToClientEvents = {
  [E in ServerEventName]: (payload: ServerPayloadOf<E>) => void;
};

export function isClientEventName(name: unknown): name is ClientEventName {
  return typeof name === 'string' && Object.hasOwn(clientEvents, name);
}

// ---------------------------------------------------------------------------------------------
// REST bodies

/**
 * `GET /healthz` (process up) and `GET /readyz` (store reachable and able to write, not shutting
 * down; `store-full` while the disk under the store is full).
 */
export const HealthResponse = z.object({
  status: z.enum(['ok', 'ready', 'shutting-down', 'store-unavailable', 'store-full']),
});
export type HealthResponse = z.infer<typeof HealthResponse>;
