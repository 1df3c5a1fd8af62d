// System entries: what the relay writes into a conversation's log when its people or its consents
// change. They carry ids and names as the relay stores them, never sentences, so each reader's
// widget words them in the reader's language; consent entries are for the patient and care team.
import { z } from 'zod/mini';
import { ConsentRecipient, ConsentRequestId } from './consent.js';
import { ConversationId, IsoTime, Label, Role, Seq, UserId } from './primitives.js';

/** Who did something, by the name the conversation stores for them. */
export const EventActor = z.object({ userId: UserId, displayName: Label });
export type EventActor = z.infer<typeof EventActor>;

/** A participant as the conversation stores them (a view of stored names: `Label`). */
export const EventParticipant = z.object({
  userId: UserId,
  role: Role,
  displayName: Label,
  relationship: z.nullable(Label),
  title: z.nullable(Label),
});
export type EventParticipant = z.infer<typeof EventParticipant>;

/** The consent steps the log reports; `viewed` is not one (it is the signer's own business). */
export const CONSENT_EVENT_TYPES = [
  'consent.requested',
  'consent.signed',
  'consent.declined',
  'consent.revoked',
  /** A signed consent reached its end date: sharing ended. */
  'consent.expired',
  /** A request nobody answered reached its end date. */
  'consent.request-expired',
  'consent.cancelled',
] as const;
export type ConsentEventType = (typeof CONSENT_EVENT_TYPES)[number];

const by = z.nullable(EventActor);

/**
 * What happened. `by` is who did it, null when the organisation (its back end) or the relay did
 * (an expiry). A consent event names the signer (the patient or their representative), the
 * recipients as the request named them, and the end date.
 */
export const ConversationEvent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('participant.added'), participant: EventParticipant, by }),
  z.object({ type: z.literal('participant.removed'), participant: EventParticipant, by }),
  z.object({
    type: z.literal('participant.role-changed'),
    participant: EventParticipant,
    previousRole: Role,
    by,
  }),
  z.object({
    type: z.enum(CONSENT_EVENT_TYPES),
    requestId: ConsentRequestId,
    by,
    signer: EventActor,
    recipients: z.array(ConsentRecipient),
    expiresAt: IsoTime,
  }),
]);
export type ConversationEvent = z.infer<typeof ConversationEvent>;

/** A system entry of a conversation's log: its own sequence number, like a message. */
export const EventView = z.object({
  kind: z.literal('event'),
  conversationId: ConversationId,
  seq: Seq,
  at: IsoTime,
  event: ConversationEvent,
});
export type EventView = z.infer<typeof EventView>;

/**
 * Whether a reader acting in `role` may see `event`. Joins, removals and role changes are for
 * every reader; a consent's steps only for the patient and the care team (never family members:
 * a consent about someone else is the patient's business).
 */
export function mayReadEvent(event: ConversationEvent, role: Role): boolean {
  return role !== 'family' || !event.type.startsWith('consent.');
}
