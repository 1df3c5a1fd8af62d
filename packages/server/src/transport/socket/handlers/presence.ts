// Typing and read receipts over the socket: what a conversation's followers are told of each
// other as they go (who is online follows opening and closing it, in ../rooms.ts).
import type { Handlers, TransportContext } from '../context.js';
import { conversationRoom, type Rooms } from '../rooms.js';

export function presenceHandlers(
  { chat }: TransportContext,
  rooms: Rooms,
): Handlers<'typing' | 'receipt.read'> {
  return {
    typing: async (socket, { conversationId, typing }) => {
      const { identity } = socket.data;
      await chat.requireMember(identity, conversationId);
      rooms.emitTo(
        conversationRoom(identity.tenantId, conversationId),
        'typing',
        { conversationId, userId: identity.userId, typing },
        [socket.id],
      );
      return {};
    },

    'receipt.read': async (socket, { conversationId, seq }) => {
      const { identity } = socket.data;
      const readSeq = await chat.markRead(identity, conversationId, seq);
      rooms.emitTo(conversationRoom(identity.tenantId, conversationId), 'receipt', {
        conversationId,
        userId: identity.userId,
        readSeq,
      });
      return { readSeq };
    },
  };
}
