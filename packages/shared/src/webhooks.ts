// Webhook events: what the relay tells the host's back end after each committed change. Every
// event has an id (receivers deduplicate by it: delivery is at least once), a type, a time and a
// versioned payload. A tenant may ask for notification-only payloads: ids and no message text.
import { z } from 'zod/mini';
import { ConsentRequestId, ConsentRequestView, ConsentState } from './consent.js';
import { ClientMessageId, ConversationId, IsoTime, Seq, UserId, wellFormed } from './primitives.js';
import { ParticipantView, Sender } from './protocol.js';

const MESSAGE_EVENT_TYPES = ['message.created', 'message.edited', 'message.deleted'] as const;
const PARTICIPANT_EVENT_TYPES = ['participant.added', 'participant.removed'] as const;
const CONSENT_EVENT_TYPES = [
  'consent.requested',
  'consent.viewed',
  'consent.signed',
  'consent.declined',
  'consent.revoked',
  'consent.expired',
  'consent.cancelled',
] as const;
const BREAK_GLASS_EVENT_TYPES = ['breakglass.opened'] as const;
export const WEBHOOK_EVENT_TYPES = [
  ...MESSAGE_EVENT_TYPES,
  ...PARTICIPANT_EVENT_TYPES,
  ...CONSENT_EVENT_TYPES,
  ...BREAK_GLASS_EVENT_TYPES,
] as const;
export const WebhookEventType = z.enum(WEBHOOK_EVENT_TYPES);
export type WebhookEventType = z.infer<typeof WebhookEventType>;

/** The header carrying `t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`. */
export const WEBHOOK_SIGNATURE_HEADER = 'carethread-signature';

export const WebhookMessageData = z.object({
  conversationId: ConversationId,
  seq: Seq,
  messageId: ClientMessageId,
  sender: Sender,
  /**
   * Absent in notification-only payloads (read it with the host API instead) and for a deletion.
   */
  text: z.optional(z.string().check(wellFormed())),
  /** For an edit or a deletion: the sequence of the message it corrects or deletes. */
  targetSeq: z.optional(Seq),
  at: IsoTime,
});
export type WebhookMessageData = z.infer<typeof WebhookMessageData>;

export const WebhookParticipantData = z.object({
  conversationId: ConversationId,
  userId: UserId,
  /** For `participant.added`; absent in notification-only payloads. */
  participant: z.optional(z.omit(ParticipantView, { online: true })),
});
export type WebhookParticipantData = z.infer<typeof WebhookParticipantData>;

export const WebhookConsentData = z.object({
  requestId: ConsentRequestId,
  conversationId: ConversationId,
  patientId: UserId,
  state: ConsentState,
  /** Absent in notification-only payloads. */
  request: z.optional(ConsentRequestView),
});
export type WebhookConsentData = z.infer<typeof WebhookConsentData>;

/** A provider opened a conversation they are not a member of, under a break-glass token. */
export const WebhookBreakGlassData = z.object({
  conversationId: ConversationId,
  userId: UserId,
  /** The reason the host put in the token; absent in notification-only payloads. */
  reason: z.optional(z.string().check(wellFormed())),
  /** When the break-glass access ends. */
  until: IsoTime,
});
export type WebhookBreakGlassData = z.infer<typeof WebhookBreakGlassData>;

const envelope = {
  /** Unique per event: deliveries of the same event carry the same id. */
  id: z.string(),
  tenantId: z.string(),
  /** When the change was committed. */
  time: IsoTime,
  /** Version of the payload schema of this type. */
  version: z.literal(1),
};

export const WebhookEvent = z.discriminatedUnion('type', [
  z.object({ ...envelope, type: z.enum(MESSAGE_EVENT_TYPES), data: WebhookMessageData }),
  z.object({ ...envelope, type: z.enum(PARTICIPANT_EVENT_TYPES), data: WebhookParticipantData }),
  z.object({ ...envelope, type: z.enum(CONSENT_EVENT_TYPES), data: WebhookConsentData }),
  z.object({ ...envelope, type: z.enum(BREAK_GLASS_EVENT_TYPES), data: WebhookBreakGlassData }),
]);
export type WebhookEvent = z.infer<typeof WebhookEvent>;
