// Conversations and messages over the socket: creating, opening (which follows it) and closing a
// conversation, its participants, and sending, editing and deleting messages, history and sync.
import type { ClientEventName, EditView } from '@carethread/shared';
import type { Admission, Appended } from '../../../services/chat.js';
import type { Handlers, RelaySocket, TransportContext } from '../context.js';
import type { Lifecycle } from '../lifecycle.js';
import { contentRoom, type Rooms } from '../rooms.js';

type ConversationEvent = Extract<
  ClientEventName,
  `${'conversation' | 'participant' | 'message' | 'history'}.${string}` | 'sync'
>;

export function conversationHandlers(
  { chat, presence, metrics }: TransportContext,
  rooms: Rooms,
  lifecycle: Lifecycle,
  sendAdmission: (socket: RelaySocket) => Admission,
): Handlers<ConversationEvent> {
  /**
   * An edit or a deletion, under the sender's send rate: unless it is a resend, it is counted and
   * goes to the content room of the access version it committed at, as `message.edited`.
   */
  async function correct(
    socket: RelaySocket,
    kind: 'edit' | 'delete',
    commit: (admission: Admission) => Promise<Appended<EditView>>,
  ): Promise<EditView> {
    const { entry, duplicate, accessVersion } = await commit(sendAdmission(socket));
    if (!duplicate) {
      metrics.messages.inc({ kind });
      rooms.emitTo(
        contentRoom(socket.data.identity.tenantId, entry.conversationId, accessVersion),
        'message.edited',
        entry,
      );
    }
    return entry;
  }

  return {
    'conversation.create': (socket, payload) =>
      chat.createConversation(socket.data.identity, payload),

    'conversation.open': async (socket, { conversationId }) => {
      let opened;
      try {
        opened = await chat.open(socket.data.identity, conversationId);
      } catch (error) {
        // Opening again after access narrowed: refused now, so stop following it here too.
        rooms.leave(socket, conversationId);
        throw error;
      }
      const { snapshot, accessVersion, until, files } = opened;
      rooms.enter(socket, conversationId, accessVersion, {
        care: snapshot.you.role !== 'family',
        files,
      });
      if (until) lifecycle.endAccessAt(socket, conversationId, until);
      // Who is online, read again now that this socket is in the room: a change after this point
      // reaches it as an event, one before it (while the snapshot was being read) is counted here.
      const { tenantId } = socket.data.identity;
      for (const participant of snapshot.participants)
        participant.online = presence.isOnline(tenantId, conversationId, participant.userId);
      return snapshot;
    },

    'conversation.close': (socket, { conversationId }) => {
      rooms.leave(socket, conversationId);
      return Promise.resolve({});
    },

    'conversation.list': async (socket) => ({
      conversations: await chat.list(socket.data.identity),
    }),

    'participant.add': async (socket, payload) => {
      const added = await chat.addParticipant(socket.data.identity, payload);
      rooms.announceParticipantAdded(socket.data.identity.tenantId, payload.conversationId, added);
      return added.participant;
    },

    'participant.remove': async (socket, { conversationId, userId }) => {
      const event = await chat.removeParticipant(socket.data.identity, { conversationId, userId });
      rooms.announceParticipantRemoved(
        socket.data.identity.tenantId,
        conversationId,
        userId,
        event,
      );
      return {};
    },

    'message.send': async (socket, payload) => {
      const { entry, duplicate, accessVersion } = await chat.send(
        socket.data.identity,
        payload,
        sendAdmission(socket),
      );
      if (!duplicate) {
        metrics.messages.inc({ kind: 'message' });
        rooms.announceMessage(socket.data.identity.tenantId, entry, accessVersion);
      }
      return { id: entry.id, seq: entry.seq, sentAt: entry.sentAt };
    },

    'message.edit': async (socket, payload) => {
      const entry = await correct(socket, 'edit', (admission) =>
        chat.edit(socket.data.identity, payload, admission),
      );
      return { id: entry.id, seq: entry.seq, editedAt: entry.editedAt };
    },

    'message.delete': async (socket, payload) => {
      const entry = await correct(socket, 'delete', (admission) =>
        chat.delete(socket.data.identity, payload, admission),
      );
      return { id: entry.id, seq: entry.seq, deletedAt: entry.editedAt };
    },

    'history.page': (socket, payload) => chat.history(socket.data.identity, payload),

    sync: (socket, payload) => chat.sync(socket.data.identity, payload),
  };
}
