// The Socket.IO transport, composed from ./socket/: the handshake, rooms and fan-out, the session
// lifecycle, and one packet dispatcher that routes each event to its domain's handlers.
import { Server } from 'socket.io';
import { errorBody, type ConsentRequestView, type MessageView } from '@carethread/shared';
import type { WrittenEvent } from '../store/types.js';
import { coalesceFlushedFrames } from './coalesce-writes.js';
import { boundOutboundQueues } from './outbound-bound.js';
import type { RelayServer, SocketTransportDeps, TransportContext } from './socket/context.js';
import { createDispatcher } from './socket/dispatch.js';
import { clientAddress, createHandshake } from './socket/handshake.js';
import { createLifecycle } from './socket/lifecycle.js';
import { createRooms, tokenRoom, userRoom, type ParticipantAdded } from './socket/rooms.js';

export type { ConsentChange, SocketData, SocketTransportDeps } from './socket/context.js';
export { conversationRoom, type ParticipantAdded } from './socket/rooms.js';

export interface SocketTransport {
  io: RelayServer;
  /** Tells the conversation's followers and the host that a consent request changed state. */
  announceConsent(tenantId: string, request: ConsentRequestView): void;
  /** Delivers a committed message to the sockets allowed to read it at its access version. */
  announceMessage(tenantId: string, entry: MessageView, accessVersion: number): void;
  /**
   * Tells the conversation's followers that someone joined or changed role (after the commit). A
   * role change narrowed access: every follower checks again, and one who lost access leaves.
   */
  announceParticipantAdded(tenantId: string, conversationId: string, added: ParticipantAdded): void;
  /**
   * Ends this node's sessions signed in with a revoked token id, at once (`session.ended` with
   * UNAUTHENTICATED); returns how many. Other nodes find theirs at their next revocation check.
   */
  endSessions(tenantId: string, tokenId: string): number;
  /**
   * Tells the followers that someone left (and the log's entry of it), and stops delivering to
   * that person's sockets.
   */
  announceParticipantRemoved(
    tenantId: string,
    conversationId: string,
    userId: string,
    event: WrittenEvent,
  ): void;
  /** Disconnects every socket and stops the limiters' timers. */
  close(): Promise<void>;
}

export function attachSocketTransport(deps: SocketTransportDeps): SocketTransport {
  const { config, accessLog, logger, metrics } = deps;
  const handshake = createHandshake(deps);

  const io: RelayServer = new Server(deps.httpServer, {
    ...(deps.adapter ? { adapter: deps.adapter } : {}),
    serveClient: false,
    maxHttpBufferSize: config.limits.maxPacketBytes,
    // Connection state recovery would replay packets before authorisation runs; catch-up goes
    // through `sync` instead (see ../shared/SECURITY.md), so it stays off.
    ...handshake.options,
  });
  handshake.guard(io);
  const ctx: TransportContext = { ...deps, io };

  coalesceFlushedFrames(io);
  boundOutboundQueues(io, config.limits.maxQueuedBytesPerSocket, { logger, metrics });
  const rooms = createRooms(ctx);
  const lifecycle = createLifecycle(ctx, rooms);
  const dispatcher = createDispatcher(ctx, rooms, lifecycle);

  io.on('connection', (socket) => {
    const { identity } = socket.data;
    metrics.connections.inc();
    accessLog.note(identity.tenantId, {
      actorId: identity.userId,
      action: 'session.connected',
      detail: { role: identity.role, address: clientAddress(socket.request, config.trustProxy) },
    });
    void socket.join([
      userRoom(identity.tenantId, identity.userId),
      rooms.thisNode,
      ...[...socket.data.tokenIds].map((id) => tokenRoom(identity.tenantId, id)),
    ]);
    lifecycle.armExpiry(socket);
    lifecycle.armIdle(socket);
    logger.debug({ tenant: identity.tenantId, user: identity.userId, sid: socket.id }, 'connected');

    // One dispatcher for every packet: the event name and payload are validated before any
    // handler runs, and nothing reaches socket.on listeners (there are none).
    socket.use(([event, ...args]) => {
      void dispatcher.dispatch(socket, event, args);
    });

    socket.on('disconnect', (reason) => {
      metrics.connections.dec();
      lifecycle.disarm(socket);
      for (const conversationId of [...socket.data.open.keys()])
        rooms.leave(socket, conversationId);
      logger.debug(
        { tenant: identity.tenantId, user: identity.userId, sid: socket.id, reason },
        'disconnected',
      );
    });
  });

  return {
    io,
    announceConsent: rooms.announceConsent,
    announceMessage: rooms.announceMessage,
    announceParticipantAdded: rooms.announceParticipantAdded,
    announceParticipantRemoved: rooms.announceParticipantRemoved,
    endSessions: lifecycle.endSessions,
    async close() {
      rooms.close();
      lifecycle.close();
      handshake.close();
      dispatcher.close();
      for (const socket of io.sockets.sockets.values()) {
        socket.emit(
          'session.ended',
          errorBody('UNAVAILABLE', 'The relay is restarting. The chat reconnects by itself.'),
        );
      }
      await io.close();
    },
  };
}
