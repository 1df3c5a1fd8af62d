// The conversation rules: who may create, read and write what. Every transport path goes
// through here, and every read and write checks membership against the store, not against rooms.
import {
  HISTORY_PAGE_MAX,
  actingRole,
  type ConsentRequestView,
  hasVisibleText,
  type AttachmentView,
  SYNC_PAGE_MAX,
  type ConversationCreate,
  type ConversationSnapshot,
  type ConversationSummary,
  type EditView,
  type HistoryPage,
  type HistoryPageResult,
  type MessageDelete,
  type MessageEdit,
  type MessageSend,
  type MessageView,
  type ParticipantAdd,
  type ParticipantInput,
  type ParticipantRemove,
  type ParticipantView,
  type Sync,
  type SyncResult,
} from '@carethread/shared';
import type { Identity } from '../auth/tokens.js';
import type { TenantLimits } from '../core/settings.js';
import type {
  AppendRequest,
  AppendResult,
  NewParticipant,
  ParticipantRecord,
  Store,
  StoredEntry,
  WrittenEvent,
} from '../store/types.js';
import type { AccessLog } from './audit.js';
import { createBatcher } from './batcher.js';
import {
  CARE_TEAM,
  createConversationAccess,
  logViewOf,
  notYoursOrNotThere,
  seesFiles,
  withoutFiles,
} from './conversation-access.js';
import { RelayError } from '../core/errors.js';
import type { PresenceTracker } from './presence.js';

/** When a reader's access ends by itself, and why. */
export interface AccessEnd {
  until: string;
  reason: 'consent' | 'breakglass';
}

export interface ChatServiceDeps {
  store: Store;
  /** Every read is recorded here before it answers. */
  accessLog: AccessLog;
  presence: PresenceTracker;
  limitsOf: (tenantId: string) => TenantLimits;
  writeBatch: { lingerMs: number; maxSize: number };
  now?: () => Date;
}

/**
 * How a write is let in. A sender over their send rate is still answered for a resend of what is
 * stored (its first ack: a client resends after a lost ack), and refused with `overRate` for
 * anything else, before any write.
 */
export interface Admission {
  overRate?: RelayError;
}

export interface Appended<Entry extends StoredEntry = StoredEntry> {
  entry: Entry;
  /** True when this id was stored before: the original is returned and nothing is broadcast. */
  duplicate: boolean;
  /** The conversation's access version when the entry committed: who may be told of it (ADR 13). */
  accessVersion: number;
}

function toNewParticipant(input: ParticipantInput): NewParticipant {
  return {
    userId: input.userId,
    role: input.role,
    displayName: input.displayName,
    relationship: input.relationship ?? null,
    title: input.title ?? null,
  };
}

export function createChatService({
  store,
  accessLog,
  presence,
  limitsOf,
  writeBatch,
  now = () => new Date(),
}: ChatServiceDeps) {
  const appendBatcher = createBatcher<AppendRequest, AppendResult>(
    (requests) => store.appendEntries(requests),
    {
      maxBatch: writeBatch.maxSize,
      lingerMs: writeBatch.lingerMs,
    },
  );

  const { requireMember, requireReader, requireCareTeamMember, sharedWith } =
    createConversationAccess({
      store,
      now,
    });

  function view(record: ParticipantRecord): ParticipantView {
    return {
      userId: record.userId,
      role: record.role,
      displayName: record.displayName,
      relationship: record.relationship,
      title: record.title,
      readSeq: record.readSeq,
      online: presence.isOnline(record.tenantId, record.conversationId, record.userId),
    };
  }

  /**
   * The conversation as a reader opening it sees it, with the access version its access was
   * checked at. The version is read before the check, so a narrowing change committed in
   * between either fails the check or leaves the reader on the older version (ADR 13).
   */
  async function open(
    identity: Identity,
    conversationId: string,
  ): Promise<{
    snapshot: ConversationSnapshot;
    accessVersion: number;
    until: AccessEnd | null;
    /** Whether the reader sees the files messages carry (ADR 26). */
    files: boolean;
  }> {
    const conversation = await store.getConversation(identity.tenantId, conversationId);
    if (!conversation) throw notYoursOrNotThere();
    const { reader: member, breakGlass } = await requireReader(identity, conversationId);
    // Access that runs out by itself: break-glass at its token's end, family at its consent's.
    let until: AccessEnd | null = null;
    if (breakGlass && identity.breakGlass)
      until = { until: identity.breakGlass.until.toISOString(), reason: 'breakglass' };
    else if (member.role === 'family') {
      const grant = await store.activeGrant(
        identity.tenantId,
        conversationId,
        identity.userId,
        now().toISOString(),
      );
      if (grant) until = { until: grant.expiresAt, reason: 'consent' };
    }
    const participants = await store.listParticipants(identity.tenantId, conversationId);
    if (breakGlass && identity.breakGlass)
      // Recorded with the host told (webhook), before anything of the conversation is shown.
      await accessLog.record(identity.tenantId, {
        actorId: identity.userId,
        action: 'breakglass.opened',
        conversationId,
        detail: {
          reason: identity.breakGlass.reason,
          until: identity.breakGlass.until.toISOString(),
        },
      });
    await accessLog.record(identity.tenantId, {
      actorId: identity.userId,
      action: 'conversation.read',
      conversationId,
      detail: { via: 'open', lastSeq: conversation.lastSeq, ...(breakGlass ? { breakGlass } : {}) },
    });
    return {
      snapshot: {
        conversationId,
        title: conversation.title,
        createdAt: conversation.createdAt,
        participants: participants.map(view),
        lastSeq: conversation.lastSeq,
        you: { userId: member.userId, role: member.role },
      },
      accessVersion: conversation.accessVersion,
      until,
      files: seesFiles(member),
    };
  }

  async function snapshot(
    identity: Identity,
    conversationId: string,
  ): Promise<ConversationSnapshot> {
    return (await open(identity, conversationId)).snapshot;
  }

  /**
   * Appends a correction of a message: an edit, or a deletion (no text). The store only returns a
   * duplicate of the same kind, so the kind check narrows; callers check which of the two it is.
   */
  async function correct(
    identity: Identity,
    input: { conversationId: string; id: string },
    change:
      | { kind: 'edit'; targetSeq: number; text: string }
      | { kind: 'delete'; targetSeq: number; text: '' },
    admission: Admission,
  ): Promise<Appended<EditView>> {
    // The store answers a non-member like a missing conversation; break-glass hears why.
    if (identity.breakGlass) await requireMember(identity, input.conversationId);
    const { entry, duplicate, accessVersion } = await append(
      identity,
      {
        tenantId: identity.tenantId,
        conversationId: input.conversationId,
        clientId: input.id,
        sender: senderOf(identity),
        at: now().toISOString(),
        ...change,
      },
      admission,
    );
    if (entry.kind !== 'edit') throw new RelayError('CONFLICT');
    return { entry, duplicate, accessVersion };
  }

  async function append(
    identity: Identity,
    request: AppendRequest,
    admission: Admission = {},
  ): Promise<Appended> {
    const limit = limitsOf(request.tenantId).maxMessageLength;
    if (request.text.length > limit) {
      throw new RelayError(
        'TOO_LARGE',
        `That message is too long: at most ${limit} characters are allowed.`,
      );
    }
    const carriesFiles = request.kind === 'message' && (request.attachments?.length ?? 0) > 0;
    // A deletion is the one entry without text.
    if (!hasVisibleText(request.text) && !carriesFiles && request.kind !== 'delete') {
      throw new RelayError(
        'VALIDATION',
        request.kind === 'message'
          ? 'A message needs text, files, or both.'
          : 'A correction cannot be empty.',
      );
    }
    if (admission.overRate) {
      // The store checks access before it gives a duplicate's answer; so does this path.
      await requireMember(identity, request.conversationId);
      const entry = await store.storedRepeat(request);
      if (!entry) throw admission.overRate;
      return { entry, duplicate: true, accessVersion: 0 };
    }
    let result: AppendResult;
    try {
      result = await appendBatcher.submit(request);
    } catch (error) {
      // The store's own answer (e.g. a COMMIT whose outcome is unknown) says more than ours.
      if (error instanceof RelayError) throw error;
      throw new RelayError(
        'UNAVAILABLE',
        'The message could not be stored right now. It will be retried.',
      );
    }
    if (!result.ok) throw new RelayError(result.code, result.message);
    return {
      entry: result.entry,
      duplicate: result.duplicate,
      accessVersion: result.accessVersion,
    };
  }

  /** A page read: which sequence numbers left the store (nothing of what they say). */
  function recordRead(
    identity: Identity,
    conversationId: string,
    via: 'history' | 'sync',
    entries: readonly { seq: number }[],
    breakGlass: boolean,
  ): Promise<void> {
    return accessLog.record(identity.tenantId, {
      actorId: identity.userId,
      action: 'conversation.read',
      conversationId,
      detail: {
        via,
        count: entries.length,
        fromSeq: entries[0]?.seq ?? null,
        toSeq: entries.at(-1)?.seq ?? null,
        ...(breakGlass ? { breakGlass } : {}),
      },
    });
  }

  /**
   * The views of files a message may carry: complete uploads of its conversation. A complete file
   * never changes or goes away, so checking outside the append transaction is enough; the
   * append itself checks membership again.
   */
  async function attachable(
    identity: Identity,
    conversationId: string,
    fileIds: readonly string[],
  ): Promise<AttachmentView[]> {
    // Members who see files only, before any lookup: whether a file id exists is not for
    // outsiders to learn, nor for family members whose consent keeps files from them.
    await requireMember(identity, conversationId, 'files');
    if (new Set(fileIds).size !== fileIds.length)
      throw new RelayError('VALIDATION', 'A file is attached twice.');
    return Promise.all(
      fileIds.map(async (fileId) => {
        const file = await store.getFile(identity.tenantId, fileId);
        if (file?.state !== 'complete' || file.conversationId !== conversationId)
          throw new RelayError(
            'NOT_FOUND',
            `There is no uploaded file ${fileId} in this conversation. Upload it first.`,
          );
        return {
          fileId,
          name: file.name,
          contentType: file.contentType ?? 'application/octet-stream',
          size: file.size ?? 0,
        };
      }),
    );
  }

  function senderOf(identity: Identity) {
    return { userId: identity.userId, role: identity.role, displayName: identity.displayName };
  }

  return {
    requireMember,
    view,
    open,

    async createConversation(
      identity: Identity,
      input: ConversationCreate,
    ): Promise<ConversationSnapshot> {
      if (!CARE_TEAM.includes(identity.role)) {
        throw new RelayError('FORBIDDEN', 'Only the care team can start a conversation.');
      }
      const creator: NewParticipant = {
        userId: identity.userId,
        role: identity.role,
        displayName: identity.displayName,
        relationship: null,
        title: identity.title,
      };
      const others = input.participants
        .filter((p) => p.userId !== identity.userId)
        .map(toNewParticipant);
      const ids = new Set(others.map((p) => p.userId));
      if (ids.size !== others.length)
        throw new RelayError('VALIDATION', 'A participant is listed twice.');
      const created = await store.createConversation(
        {
          tenantId: identity.tenantId,
          conversationId: input.conversationId,
          title: input.title,
          createdBy: identity.userId,
          createdAt: now().toISOString(),
        },
        // The host's back end names everyone; a care-team member who starts one takes part.
        identity.host ? others : [creator, ...others],
      );
      if (!created) throw new RelayError('CONFLICT', 'A conversation with this id already exists.');
      return snapshot(identity, input.conversationId);
    },

    snapshot,

    /**
     * The caller's conversations. One they may not read yet (family without a consent in effect)
     * is listed by its id and that fact alone: its title and activity are what consent guards.
     */
    async list(identity: Identity): Promise<ConversationSummary[]> {
      const rows = await store.listConversationsOf(identity.tenantId, identity.userId);
      return Promise.all(
        rows.map(async (row): Promise<ConversationSummary> => {
          const readable =
            actingRole(identity.role, row.role) !== 'family' ||
            (await sharedWith(identity.tenantId, row.conversationId, identity.userId)).includes(
              'messages',
            );
          return readable
            ? {
                conversationId: row.conversationId,
                access: 'open',
                title: row.title,
                lastSeq: row.lastSeq,
                readSeq: row.readSeq,
              }
            : { conversationId: row.conversationId, access: 'consent-required' };
        }),
      );
    },

    /**
     * Adds a participant, or changes an active one's role. A role change narrows access like a
     * removal (the store raises the access version): `roleChanged` tells the transport to make
     * every follower check again, and `lostAccess` that the person may no longer read at all
     * (now family, with no consent naming them). `event` is the join or role change as the log
     * tells it (null for new details in the same role).
     */
    async addParticipant(
      identity: Identity,
      input: ParticipantAdd,
    ): Promise<{
      participant: ParticipantView;
      roleChanged: boolean;
      lostAccess: boolean;
      event: WrittenEvent | null;
    }> {
      await requireCareTeamMember(identity, input.conversationId);
      const { participant, replacedRole, event } = await store.addParticipant(
        identity.tenantId,
        input.conversationId,
        toNewParticipant(input.participant),
        now().toISOString(),
        identity.userId,
      );
      const lostAccess =
        replacedRole !== null &&
        participant.role === 'family' &&
        !(await sharedWith(identity.tenantId, input.conversationId, participant.userId)).includes(
          'messages',
        );
      return {
        participant: view(participant),
        roleChanged: replacedRole !== null,
        lostAccess,
        event,
      };
    },

    /** Removes a participant; the removal as the log tells it. */
    async removeParticipant(identity: Identity, input: ParticipantRemove): Promise<WrittenEvent> {
      await requireCareTeamMember(identity, input.conversationId);
      const removed = await store.removeParticipant(
        identity.tenantId,
        input.conversationId,
        input.userId,
        now().toISOString(),
        identity.userId,
      );
      if (!removed)
        throw new RelayError('NOT_FOUND', 'That person is not a participant of this conversation.');
      return removed;
    },

    /**
     * The system entry of the step a consent request just took, for the transport to deliver
     * after the commit; undefined for a step the log does not tell (`viewed`).
     */
    consentEntry: (tenantId: string, request: ConsentRequestView) =>
      store.consentEntry(tenantId, request.requestId, request.state),

    async send(
      identity: Identity,
      input: MessageSend,
      admission: Admission = {},
    ): Promise<Appended<MessageView>> {
      if (identity.breakGlass) await requireMember(identity, input.conversationId);
      const attachments = input.attachments?.length
        ? await attachable(identity, input.conversationId, input.attachments)
        : undefined;
      const { entry, duplicate, accessVersion } = await append(
        identity,
        {
          kind: 'message',
          tenantId: identity.tenantId,
          conversationId: input.conversationId,
          clientId: input.id,
          sender: senderOf(identity),
          text: input.text,
          at: now().toISOString(),
          ...(attachments ? { attachments } : {}),
        },
        admission,
      );
      // The store only returns a duplicate of the same kind, so this holds; the check narrows.
      if (entry.kind !== 'message') throw new RelayError('CONFLICT');
      return { entry, duplicate, accessVersion };
    },

    edit(
      identity: Identity,
      input: MessageEdit,
      admission: Admission = {},
    ): Promise<Appended<EditView>> {
      return correct(
        identity,
        input,
        { kind: 'edit', targetSeq: input.targetSeq, text: input.text },
        admission,
      );
    },

    /** Deletes the sender's own message for every reader; the record keeps it and its files. */
    async delete(
      identity: Identity,
      input: MessageDelete,
      admission: Admission = {},
    ): Promise<Appended<EditView>> {
      const appended = await correct(
        identity,
        input,
        { kind: 'delete', targetSeq: input.targetSeq, text: '' },
        admission,
      );
      if (!appended.entry.deleted) throw new RelayError('CONFLICT');
      return appended;
    },

    async history(identity: Identity, input: HistoryPage): Promise<HistoryPageResult> {
      const { reader, breakGlass } = await requireReader(identity, input.conversationId);
      const limit = Math.min(input.limit ?? 50, HISTORY_PAGE_MAX);
      const page = await store.history(
        identity.tenantId,
        input.conversationId,
        input.beforeSeq,
        limit,
        logViewOf(reader.role),
      );
      const read = [...page.messages, ...page.events].sort((a, b) => a.seq - b.seq);
      await recordRead(identity, input.conversationId, 'history', read, breakGlass);
      return seesFiles(reader) ? page : { ...page, messages: page.messages.map(withoutFiles) };
    },

    async sync(identity: Identity, input: Sync): Promise<SyncResult> {
      const { reader, breakGlass } = await requireReader(identity, input.conversationId);
      const limit = Math.min(input.limit ?? SYNC_PAGE_MAX, SYNC_PAGE_MAX);
      const page = await store.logAfter(
        identity.tenantId,
        input.conversationId,
        input.afterSeq,
        limit,
        logViewOf(reader.role),
      );
      await recordRead(identity, input.conversationId, 'sync', page.entries, breakGlass);
      return seesFiles(reader) ? page : { ...page, entries: page.entries.map(withoutFiles) };
    },

    async markRead(identity: Identity, conversationId: string, seq: number): Promise<number> {
      await requireMember(identity, conversationId);
      const conversation = await store.getConversation(identity.tenantId, conversationId);
      // A read mark past the newest entry would tell others something was read that does not exist.
      const upTo = Math.min(seq, conversation?.lastSeq ?? 0);
      return store.markRead(identity.tenantId, conversationId, identity.userId, upTo);
    },

    /** The host's back end posts a message as the tenant (no participant is needed). */
    async postAsHost(
      identity: Identity,
      input: { conversationId: string; id: string; text: string; senderName?: string | undefined },
    ): Promise<Appended<MessageView>> {
      if (!identity.host) throw new RelayError('FORBIDDEN', 'Only the host can post as itself.');
      const { entry, duplicate, accessVersion } = await append(identity, {
        kind: 'message',
        tenantId: identity.tenantId,
        conversationId: input.conversationId,
        clientId: input.id,
        sender: {
          userId: identity.userId,
          role: 'staff',
          displayName: input.senderName ?? 'Care team',
        },
        text: input.text,
        at: now().toISOString(),
        byHost: true,
      });
      if (entry.kind !== 'message') throw new RelayError('CONFLICT');
      return { entry, duplicate, accessVersion };
    },

    /** Archives a conversation for the host: readable for ever, no new entries. */
    async archive(identity: Identity, conversationId: string) {
      if (!identity.host) throw new RelayError('FORBIDDEN', 'Only the host can archive.');
      const archived = await store.archiveConversation(
        identity.tenantId,
        conversationId,
        now().toISOString(),
        identity.userId,
      );
      if (!archived) throw new RelayError('NOT_FOUND', 'This conversation does not exist.');
      return archived;
    },

    /** Waits for every accepted write to commit; used by graceful shutdown. */
    drain: () => appendBatcher.drain(),
  };
}

export type ChatService = ReturnType<typeof createChatService>;
