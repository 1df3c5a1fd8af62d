// Who may read and write in a conversation: the access check every conversation, message,
// file and consent path makes against the store (never against rooms), in the role the person
// acts in. Someone else's conversation answers exactly like a missing one.
import {
  CONVERSATION_NOT_FOUND,
  actingRole,
  type ConsentScope,
  type Entry,
  type Role,
} from '@carethread/shared';
import type { Identity } from '../auth/tokens.js';
import { RelayError } from '../core/errors.js';
import type { ParticipantRecord, Store } from '../store/types.js';

export const CARE_TEAM: readonly Role[] = ['provider', 'staff'];

export const notYoursOrNotThere = () => new RelayError('NOT_FOUND', CONVERSATION_NOT_FOUND);

export type ConversationAccess = ReturnType<typeof createConversationAccess>;

/** How a reader acting in `role` reads the log: a family member sees no consent step. */
export const logViewOf = (role: Role) => (role === 'family' ? 'family' : 'reader');

/** Whether `reader` sees the files messages carry: everyone but family whose consent keeps them. */
export const seesFiles = (reader: Member) => reader.scopes?.includes('files') ?? true;

/** A message as a reader who may not see its files reads it: without them (ADR 26). */
export function withoutFiles<E extends Entry>(entry: E): E {
  if (entry.kind !== 'message' || !entry.attachments) return entry;
  const { attachments: _files, ...rest } = entry;
  return rest as E;
}

/** A member as the access check let them in: for a family member, what their consents share. */
export type Member = ParticipantRecord & { scopes?: readonly ConsentScope[] };

/** What a family member whose consents share `scopes` may not do: every sentence names the way out. */
function scopeRefusal(scope: ConsentScope): RelayError {
  return scope === 'files'
    ? new RelayError(
        'CONSENT_REQUIRED',
        "The patient's consent shares the conversation with you, not its files. Ask the patient to include files.",
      )
    : new RelayError('CONSENT_REQUIRED');
}

export function createConversationAccess({ store, now }: { store: Store; now: () => Date }) {
  /** The host's back end reads and manages every conversation of its tenant, as the care team. */
  async function hostAsMember(
    identity: Identity,
    conversationId: string,
  ): Promise<ParticipantRecord> {
    const conversation = await store.getConversation(identity.tenantId, conversationId);
    if (!conversation) throw new RelayError('NOT_FOUND', 'This conversation does not exist.');
    return {
      tenantId: identity.tenantId,
      conversationId,
      userId: identity.userId,
      role: 'staff',
      displayName: identity.displayName,
      relationship: null,
      title: null,
      readSeq: 0,
      addedAt: conversation.createdAt,
    };
  }

  /**
   * The access check of every read and write: the caller must be an active participant, and is
   * returned in the role they act in (`actingRole`). Someone else's conversation answers exactly
   * like a missing one (NOT_FOUND, the same sentence), so no answer tells an outsider it exists.
   * A family member takes part only while a consent in effect shares the conversation with them
   * (scope `messages`) and, when `scope` names more (`files`), that too (ADR 26).
   */
  async function requireMember(
    identity: Identity,
    conversationId: string,
    scope: ConsentScope = 'messages',
  ): Promise<Member> {
    if (identity.host) return hostAsMember(identity, conversationId);
    const participant = await store.getParticipant(
      identity.tenantId,
      conversationId,
      identity.userId,
    );
    if (!participant) {
      // A provider under break-glass may read the conversation, so may know it exists: they hear
      // why a write is refused. Everyone else gets the answer a missing conversation gets.
      if (identity.breakGlass && (await store.getConversation(identity.tenantId, conversationId)))
        throw new RelayError(
          'FORBIDDEN',
          'Break-glass access lets you read this conversation, not write in it or change who is in it.',
        );
      throw notYoursOrNotThere();
    }
    const role = actingRole(identity.role, participant.role);
    if (role !== 'family') return { ...participant, role };
    const scopes = await sharedWith(identity.tenantId, conversationId, identity.userId);
    if (!scopes.includes('messages')) throw new RelayError('CONSENT_REQUIRED');
    if (!scopes.includes(scope)) throw scopeRefusal(scope);
    return { ...participant, role, scopes };
  }

  /** What the consents in effect now share with family member `userId`; none without one. */
  async function sharedWith(
    tenantId: string,
    conversationId: string,
    userId: string,
  ): Promise<readonly ConsentScope[]> {
    const grant = await store.activeGrant(tenantId, conversationId, userId, now().toISOString());
    return grant?.scopes ?? [];
  }

  /**
   * The access check of reads (open, history, catch-up): a member, or a provider under an
   * unexpired break-glass token, who reads without being one (writes still need membership).
   */
  async function requireReader(
    identity: Identity,
    conversationId: string,
  ): Promise<{ reader: Member; breakGlass: boolean }> {
    try {
      return { reader: await requireMember(identity, conversationId), breakGlass: false };
    } catch (error) {
      const emergency = identity.breakGlass;
      if (!(error instanceof RelayError && error.code === 'FORBIDDEN' && emergency)) throw error;
      if (now() >= emergency.until)
        throw new RelayError(
          'FORBIDDEN',
          'Your break-glass access has ended. Ask for a new one if you still need this conversation.',
        );
      return {
        reader: {
          tenantId: identity.tenantId,
          conversationId,
          userId: identity.userId,
          role: identity.role,
          displayName: identity.displayName,
          relationship: null,
          title: identity.title,
          readSeq: 0,
          addedAt: now().toISOString(),
        },
        breakGlass: true,
      };
    }
  }

  async function requireCareTeamMember(identity: Identity, conversationId: string): Promise<void> {
    const member = await requireMember(identity, conversationId);
    if (!CARE_TEAM.includes(member.role) || !(identity.host || CARE_TEAM.includes(identity.role))) {
      throw new RelayError('FORBIDDEN', 'Only the care team can change who is in a conversation.');
    }
  }

  return { requireMember, requireReader, requireCareTeamMember, sharedWith };
}
