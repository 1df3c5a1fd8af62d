// Rooms and fan-out: the room names, following a conversation (enter, leave), delivery on every
// node (emitTo, announce*), and what relay nodes tell each other about access and presence.
// Rooms only deliver; every read and write is authorised by the chat service against the store.
// Content (messages, edits, system entries) goes to a room per access version, so a node that
// has not heard of a revocation yet still cannot deliver what was written after it (ADR 13); a
// consent's steps only to its care room, where the patient and the care team are (never family).
import { randomUUID } from 'node:crypto';
import {
  errorBody,
  mayReadEvent,
  type ConsentRequestView,
  type ErrorBody,
  type MessageView,
  type ParticipantView,
  type ServerEventName,
  type ServerPayloadOf,
  type ServerToClientEvents,
} from '@carethread/shared';
import type { WrittenEvent } from '../../store/types.js';
import { withoutFiles } from '../../services/conversation-access.js';
import { memberOf, type PresenceChange } from '../../services/presence.js';
import type { RelaySocket, TransportContext } from './context.js';

/** How often a node sends its presence set; a node silent for three beats is forgotten. */
const PRESENCE_HEARTBEAT_MS = 5_000;

/** Everyone following a conversation: signals (typing, presence, receipts, participants). */
export const conversationRoom = (tenantId: string, conversationId: string) =>
  `t:${tenantId}:c:${conversationId}`;
/** Followers whose access was checked at `accessVersion`: the conversation's content. */
export const contentRoom = (tenantId: string, conversationId: string, accessVersion: number) =>
  `t:${tenantId}:c:${conversationId}:v:${String(accessVersion)}`;
/** The content room's patient and care team: what family members may not read (a consent's steps). */
export const careRoom = (tenantId: string, conversationId: string, accessVersion: number) =>
  `${contentRoom(tenantId, conversationId, accessVersion)}:care`;
/** The content room's family members whose consent keeps files from them (ADR 26). */
export const noFilesRoom = (tenantId: string, conversationId: string, accessVersion: number) =>
  `${contentRoom(tenantId, conversationId, accessVersion)}:no-files`;

/** What a follower was let read when their access was checked. */
export interface Reads {
  /** The patient or the care team, who read a consent's steps. */
  care: boolean;
  /** Whether they see the files messages carry. */
  files: boolean;
}
export const userRoom = (tenantId: string, userId: string) => `t:${tenantId}:u:${userId}`;
/** The sockets signed in with one token id: what a revocation ends. */
export const tokenRoom = (tenantId: string, tokenId: string) => `t:${tenantId}:j:${tokenId}`;

/** A participant as added by the chat service, and whether it changed who may read what. */
export interface ParticipantAdded {
  participant: ParticipantView;
  roleChanged: boolean;
  lostAccess: boolean;
  /** The join or role change as the log tells it; null when the log tells nothing. */
  event: WrittenEvent | null;
}

export type Rooms = ReturnType<typeof createRooms>;

export function createRooms({
  io,
  adapter,
  chat,
  presence,
  onConsentChange,
  logger,
}: TransportContext) {
  // With several nodes (an adapter), they tell each other about access and presence; alone, the
  // in-memory adapter has nobody to tell (and warns when asked).
  const clustered = adapter !== undefined;
  const nodeId = randomUUID();
  /** Every socket of this node is in this room: how a broadcast says "the other nodes only". */
  const thisNode = `node:${nodeId}`;

  /**
   * Emits to everyone in `rooms` (but `except`) on every node. This node's sockets get it at
   * once; the adapter's own broadcast would first wait for Redis to take it, so a slow or paused
   * Redis would hold up delivery on the very node that has the socket.
   */
  function emitTo<E extends ServerEventName>(
    rooms: string | string[],
    event: E,
    payload: ServerPayloadOf<E>,
    except: string[] = [],
  ): void {
    const args = [payload] as Parameters<ServerToClientEvents[E]>;
    io.local
      .to(rooms)
      .except(except)
      .emit(event, ...args);
    if (clustered)
      io.to(rooms)
        .except([...except, thisNode])
        .emit(event, ...args);
  }

  /** Tells this node's followers of a conversation that someone came or went (cluster-wide). */
  function announcePresence({ tenantId, conversationId, userId, online }: PresenceChange): void {
    io.local
      .to(conversationRoom(tenantId, conversationId))
      .emit('presence', { conversationId, userId, online });
  }

  function sharePresence(
    tenantId: string,
    conversationId: string,
    userId: string,
    online: boolean,
  ) {
    if (!clustered) return;
    io.serverSideEmit('presence.delta', {
      node: nodeId,
      member: memberOf(tenantId, conversationId, userId),
      online,
    });
  }

  io.on('presence.delta', ({ node, member, online }) => {
    for (const change of presence.applyRemote(node, member, online, Date.now()))
      announcePresence(change);
  });
  io.on('presence.state', ({ node, members }) => {
    const newNode = !presence.knowsNode(node);
    for (const change of presence.replaceRemote(node, members, Date.now()))
      announcePresence(change);
    // A node we had not heard from (just started): it learns our set now, not at our next beat.
    if (newNode) sendPresenceState();
  });
  function sendPresenceState(): void {
    if (clustered)
      io.serverSideEmit('presence.state', { node: nodeId, members: presence.localMembers() });
  }
  const presenceHeartbeat = setInterval(() => {
    sendPresenceState();
    for (const change of presence.expireRemote(Date.now() - 3 * PRESENCE_HEARTBEAT_MS))
      announcePresence(change);
  }, PRESENCE_HEARTBEAT_MS);
  presenceHeartbeat.unref();
  sendPresenceState();

  /**
   * Follows a conversation whose access was just checked at `accessVersion` (again: moves up),
   * in the rooms of what the follower may read (`reads`).
   */
  function enter(
    socket: RelaySocket,
    conversationId: string,
    accessVersion: number,
    reads: Reads,
  ): void {
    const { identity } = socket.data;
    const checkedAt = socket.data.open.get(conversationId);
    if (checkedAt === accessVersion) return;
    socket.data.open.set(conversationId, accessVersion);
    void socket.join(contentRoom(identity.tenantId, conversationId, accessVersion));
    if (reads.care) void socket.join(careRoom(identity.tenantId, conversationId, accessVersion));
    if (!reads.files)
      void socket.join(noFilesRoom(identity.tenantId, conversationId, accessVersion));
    if (checkedAt !== undefined) {
      leaveContent(socket, conversationId, checkedAt);
      return;
    }
    void socket.join(conversationRoom(identity.tenantId, conversationId));
    const { shared, change } = presence.enter(identity.tenantId, conversationId, identity.userId);
    if (shared) sharePresence(identity.tenantId, conversationId, identity.userId, true);
    if (change) announcePresence(change);
  }

  function leaveContent(socket: RelaySocket, conversationId: string, accessVersion: number): void {
    const { tenantId } = socket.data.identity;
    void socket.leave(contentRoom(tenantId, conversationId, accessVersion));
    void socket.leave(careRoom(tenantId, conversationId, accessVersion));
    void socket.leave(noFilesRoom(tenantId, conversationId, accessVersion));
  }

  function leave(socket: RelaySocket, conversationId: string): void {
    const { identity } = socket.data;
    clearTimeout(socket.data.consentTimers.get(conversationId));
    socket.data.consentTimers.delete(conversationId);
    const checkedAt = socket.data.open.get(conversationId);
    if (checkedAt === undefined) return;
    socket.data.open.delete(conversationId);
    const room = conversationRoom(identity.tenantId, conversationId);
    void socket.leave(room);
    leaveContent(socket, conversationId, checkedAt);
    const { shared, change } = presence.leave(identity.tenantId, conversationId, identity.userId);
    if (shared) sharePresence(identity.tenantId, conversationId, identity.userId, false);
    if (change) announcePresence(change);
  }

  /** This node's sockets of one person stop following a conversation (no message to them). */
  function leaveLocally(tenantId: string, userId: string, conversationId: string): void {
    for (const id of io.of('/').adapter.rooms.get(userRoom(tenantId, userId)) ?? []) {
      const socket = io.sockets.sockets.get(id);
      if (socket) leave(socket, conversationId);
    }
  }
  io.on('access.ended', ({ tenantId, userId, conversationId }) => {
    leaveLocally(tenantId, userId, conversationId);
  });

  /**
   * After a commit that narrowed who may read a conversation (it raised the access version):
   * the people who lost access stop following it on this node at once and on the others as soon
   * as they hear, and every follower is asked to open it again, which checks their access afresh
   * and puts them on the new version's content room. Nodes that have not heard yet hold their
   * sockets on the old version's room, where nothing written after the change is sent.
   */
  function accessNarrowed(
    tenantId: string,
    conversationId: string,
    losers: readonly string[],
    reason?: ErrorBody,
  ): void {
    for (const userId of losers) {
      leaveLocally(tenantId, userId, conversationId);
      if (clustered) io.serverSideEmit('access.ended', { tenantId, userId, conversationId });
      emitTo(userRoom(tenantId, userId), 'participant.removed', {
        conversationId,
        userId,
        ...(reason ? { reason } : {}),
      });
    }
    emitTo(conversationRoom(tenantId, conversationId), 'access.changed', { conversationId });
  }

  /** Tells everyone following the conversation (the care team's widgets) about a state change. */
  function announceConsent(tenantId: string, request: ConsentRequestView): void {
    // The conversation's followers; the recipients, who are not in it until consent is given; and
    // the patient and signer wherever they are signed in (their consent lists).
    emitTo(
      [
        conversationRoom(tenantId, request.conversationId),
        ...[request.patientId, request.signerId, ...request.recipients.map((r) => r.userId)].map(
          (userId) => userRoom(tenantId, userId),
        ),
      ],
      'consent.updated',
      request,
    );
    onConsentChange({ tenantId, request });
    logger.info(
      { tenantId, requestId: request.requestId, state: request.state },
      'consent request updated',
    );
    // The step as the conversation's log tells it, read back after the commit that wrote it.
    chat.consentEntry(tenantId, request).then(
      (written) => {
        if (written) announceEvent(tenantId, written);
      },
      (error: unknown) => {
        logger.warn(
          { err: error, tenantId, requestId: request.requestId },
          'a consent step was stored but not delivered live; readers see it when they catch up',
        );
      },
    );
  }

  /**
   * Delivers a system entry to the readers checked at the access version it committed at (or
   * later): a consent's steps to the care room only, where family members never are.
   */
  function announceEvent(tenantId: string, { entry, accessVersion }: WrittenEvent): void {
    const room = mayReadEvent(entry.event, 'family') ? contentRoom : careRoom;
    emitTo(room(tenantId, entry.conversationId, accessVersion), 'conversation.event', entry);
  }

  function announceMessage(tenantId: string, entry: MessageView, accessVersion: number): void {
    const room = contentRoom(tenantId, entry.conversationId, accessVersion);
    if (!entry.attachments) {
      emitTo(room, 'message', entry);
      return;
    }
    // Those whose consent keeps files from them get the message without them.
    const withheld = noFilesRoom(tenantId, entry.conversationId, accessVersion);
    emitTo(room, 'message', entry, [withheld]);
    emitTo(withheld, 'message', withoutFiles(entry));
  }

  function announceParticipantAdded(
    tenantId: string,
    conversationId: string,
    { participant, roleChanged, lostAccess, event }: ParticipantAdded,
  ): void {
    emitTo(conversationRoom(tenantId, conversationId), 'participant.added', {
      conversationId,
      participant,
    });
    if (event) announceEvent(tenantId, event);
    if (!roleChanged) return;
    if (!lostAccess) {
      accessNarrowed(tenantId, conversationId, []);
      return;
    }
    accessNarrowed(
      tenantId,
      conversationId,
      [participant.userId],
      errorBody(
        'CONSENT_REQUIRED',
        "Your role in this conversation changed. You can read it again once the patient's consent names you.",
      ),
    );
  }

  function announceParticipantRemoved(
    tenantId: string,
    conversationId: string,
    userId: string,
    event: WrittenEvent,
  ): void {
    announceEvent(tenantId, event);
    // The others see the person leave; the person's own sockets hear it through their user room.
    emitTo(
      conversationRoom(tenantId, conversationId),
      'participant.removed',
      { conversationId, userId },
      [userRoom(tenantId, userId)],
    );
    accessNarrowed(tenantId, conversationId, [userId]);
  }

  return {
    thisNode,
    emitTo,
    enter,
    leave,
    accessNarrowed,
    announceConsent,
    announceMessage,
    announceParticipantAdded,
    announceParticipantRemoved,
    /** Stops the presence heartbeat and tells the other nodes this node has nobody online. */
    close(): void {
      clearInterval(presenceHeartbeat);
      // The other nodes stop counting this node's people as online at once.
      if (clustered) io.serverSideEmit('presence.state', { node: nodeId, members: [] });
    },
  };
}
