// The Socket.IO transport: the handshake checks (./socket/handshake.ts), one packet dispatcher
// that validates every event against the shared schemas, and delivery to rooms (./socket/rooms.ts).
import { Server } from 'socket.io';
import {
  clientEvents,
  describeIssues,
  errorBody,
  isClientEventName,
  isOnlyTooBig,
  type Ack,
  type ClientEventName,
  type ConsentRequestView,
  type ErrorCode,
  type MessageView,
} from '@carethread/shared';
import { AuthError, type Identity } from '../auth/tokens.js';
import type { Admission } from '../services/chat.js';
import { RelayError } from '../core/errors.js';
import { KeyedRateLimiter } from '../services/rate-limit.js';
import { coalesceFlushedFrames } from './coalesce-writes.js';
import { boundOutboundQueues } from './outbound-bound.js';
import type {
  Handler,
  RelayServer,
  RelaySocket,
  SocketTransportDeps,
  TransportContext,
} from './socket/context.js';
import { clientAddress, createHandshake } from './socket/handshake.js';
import { createLifecycle } from './socket/lifecycle.js';
import {
  contentRoom,
  conversationRoom,
  createRooms,
  tokenRoom,
  userRoom,
  type ParticipantAdded,
} from './socket/rooms.js';

export type { ConsentChange, SocketData, SocketTransportDeps } from './socket/context.js';
export { conversationRoom, type ParticipantAdded } from './socket/rooms.js';

/**
 * A socket over its packet rate hears about refused packets that want no ack at most this often:
 * answering each one of a flood would cost the relay more than reading it.
 */
const LIMIT_NOTICE_MS = 1000;
/**
 * A socket that has packets refused at this many times its rate within one second is not a busy
 * client but a flood: it is disconnected, and its reconnections meet the connection limits.
 */
const FLOOD_FACTOR = 10;
/**
 * Requests the client makes by itself, which do not keep an unattended session alive: a token
 * refresh, catching up after a gap, and the read receipt the widget sends whenever a message
 * arrives on a visible page (counting it would let the others' messages keep the session open).
 */
const PASSIVE_EVENTS: ReadonlySet<ClientEventName> = new Set([
  'auth.refresh',
  'sync',
  'receipt.read',
]);

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
  /** Tells the followers that someone left, and stops delivering to that person's sockets. */
  announceParticipantRemoved(tenantId: string, conversationId: string, userId: string): void;
  /** Disconnects every socket and stops the limiters' timers. */
  close(): Promise<void>;
}

export function attachSocketTransport(deps: SocketTransportDeps): SocketTransport {
  const { config, tenants, verifier, chat, templates, consents, presence, logger, metrics } = deps;
  const { accessLog } = deps;
  const handshake = createHandshake(deps);
  /** A consent step, recorded before its answer leaves. */
  const auditConsent = (
    socket: RelaySocket,
    action: 'consent.viewed' | 'consent.signed' | 'consent.revoked',
    request: ConsentRequestView,
  ) =>
    accessLog.record(socket.data.identity.tenantId, {
      actorId: socket.data.identity.userId,
      action,
      conversationId: request.conversationId,
      subjectId: request.patientId,
      detail: { requestId: request.requestId },
    });
  const sendLimiters = new Map(
    tenants.map((t) => [t.id, new KeyedRateLimiter(t.limits.sendPerSecond, t.limits.sendBurst)]),
  );

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

  /**
   * Takes one of the sender's send tokens. Over the rate, the write is still answered if it is a
   * resend of what is stored (its first ack), and refused as RATE_LIMITED otherwise.
   */
  function sendAdmission(socket: RelaySocket): Admission {
    const { identity } = socket.data;
    if (sendLimiters.get(identity.tenantId)?.take(identity.userId)) return {};
    return {
      overRate: new RelayError(
        'RATE_LIMITED',
        'You are sending messages too quickly. Wait a moment; unsent messages are retried.',
      ),
    };
  }

  const handlers: { [E in ClientEventName]: Handler<E> } = {
    'consent.request': async (socket, payload) => {
      const request = await consents.request(socket.data.identity, payload);
      rooms.announceConsent(socket.data.identity.tenantId, request);
      return request;
    },

    'consent.view': async (socket, { requestId }) => {
      const { view, viewedNow } = await consents.view(socket.data.identity, requestId);
      await auditConsent(socket, 'consent.viewed', view.request);
      if (viewedNow) rooms.announceConsent(socket.data.identity.tenantId, view.request);
      return view;
    },

    'consent.sign': async (socket, payload) => {
      const { request, result } = await consents.sign(socket.data.identity, payload, {
        // The signer's address as the relay can know it: the forwarded one behind a trusted proxy.
        ip: clientAddress(socket.request, config.trustProxy),
        userAgent: socket.handshake.headers['user-agent'] ?? '',
      });
      await auditConsent(socket, 'consent.signed', request);
      rooms.announceConsent(socket.data.identity.tenantId, request);
      return result;
    },

    'consent.decline': async (socket, { requestId, reason }) => {
      const request = await consents.decline(socket.data.identity, requestId, reason);
      rooms.announceConsent(socket.data.identity.tenantId, request);
      return request;
    },

    'consent.revoke': async (socket, { requestId, signature }) => {
      const { tenantId } = socket.data.identity;
      const request = await consents.revoke(socket.data.identity, requestId, signature.name);
      const reason = errorBody(
        'CONSENT_REQUIRED',
        'The patient withdrew their consent to share this conversation with you.',
      );
      rooms.accessNarrowed(
        tenantId,
        request.conversationId,
        request.recipients.map((r) => r.userId),
        reason,
      );
      await auditConsent(socket, 'consent.revoked', request);
      rooms.announceConsent(tenantId, request);
      return request;
    },

    'consent.pdf': async (socket, { requestId }) => {
      const pdf = await consents.pdf(socket.data.identity, requestId);
      await accessLog.record(socket.data.identity.tenantId, {
        actorId: socket.data.identity.userId,
        action: 'consent.viewed',
        detail: { requestId, via: 'pdf' },
      });
      return pdf;
    },

    'consent.list': async (socket, { conversationId }) => ({
      requests: await consents.list(socket.data.identity, conversationId),
    }),

    'consent.template.publish': (socket, payload) =>
      templates.publish(socket.data.identity, payload),

    'consent.template.versions': async (socket, { templateId }) => ({
      versions: await templates.versions(socket.data.identity, templateId),
    }),

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
      const { snapshot, accessVersion, until } = opened;
      rooms.enter(socket, conversationId, accessVersion);
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
      await chat.removeParticipant(socket.data.identity, { conversationId, userId });
      rooms.announceParticipantRemoved(socket.data.identity.tenantId, conversationId, userId);
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
      const { entry, duplicate, accessVersion } = await chat.edit(
        socket.data.identity,
        payload,
        sendAdmission(socket),
      );
      if (!duplicate) {
        metrics.messages.inc({ kind: 'edit' });
        rooms.emitTo(
          contentRoom(socket.data.identity.tenantId, entry.conversationId, accessVersion),
          'message.edited',
          entry,
        );
      }
      return { id: entry.id, seq: entry.seq, editedAt: entry.editedAt };
    },

    'message.delete': async (socket, payload) => {
      const { entry, duplicate, accessVersion } = await chat.delete(
        socket.data.identity,
        payload,
        sendAdmission(socket),
      );
      if (!duplicate) {
        metrics.messages.inc({ kind: 'delete' });
        rooms.emitTo(
          contentRoom(socket.data.identity.tenantId, entry.conversationId, accessVersion),
          'message.edited',
          entry,
        );
      }
      return { id: entry.id, seq: entry.seq, deletedAt: entry.editedAt };
    },

    'history.page': (socket, payload) => chat.history(socket.data.identity, payload),

    sync: (socket, payload) => chat.sync(socket.data.identity, payload),

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

    'auth.refresh': async (socket, { token }) => {
      let next: Identity;
      try {
        ({ identity: next } = await verifier.verify(token));
      } catch (error) {
        if (error instanceof AuthError) throw new RelayError(error.code, error.message);
        throw error;
      }
      const current = socket.data.identity;
      if (
        next.tenantId !== current.tenantId ||
        next.userId !== current.userId ||
        next.role !== current.role
      ) {
        throw new RelayError(
          'FORBIDDEN',
          'A refreshed token must be for the same person and role. Reconnect to switch users.',
        );
      }
      socket.data.identity = next;
      if (next.tokenId !== null) lifecycle.rememberTokenId(socket, next.tokenId);
      lifecycle.armExpiry(socket);
      return { expiresAt: next.expiresAt.toISOString() };
    },
  };

  async function dispatch(socket: RelaySocket, event: unknown, args: unknown[]): Promise<void> {
    const ack =
      typeof args.at(-1) === 'function'
        ? (args.pop() as (response: Ack<unknown>) => void)
        : undefined;
    const reply = (response: Ack<unknown>) => {
      if (ack) ack(response);
      else if (!response.ok)
        socket.emit('relay.error', { event: String(event).slice(0, 100), error: response.error });
    };
    const fail = (code: ErrorCode, message?: string) => {
      metrics.errors.inc({ code, surface: 'socket' });
      reply({ ok: false, error: errorBody(code, message) });
    };

    if (!socket.data.packets.take()) {
      // A request with an ack is always answered (its caller waits); the rest of a flood is only
      // counted, with one notice a second, and a socket far over its rate is cut off.
      const now = Date.now();
      const { refused } = socket.data;
      if (now - refused.since >= 1000) {
        refused.count = 0;
        refused.since = now;
      }
      if (++refused.count > FLOOD_FACTOR * config.limits.packetsPerSecond) {
        metrics.errors.inc({ code: 'RATE_LIMITED', surface: 'socket' });
        if (socket.connected) {
          logger.warn(
            { tenant: socket.data.identity.tenantId, user: socket.data.identity.userId },
            'disconnected a socket flooding far over its packet rate',
          );
          socket.emit(
            'session.ended',
            errorBody(
              'RATE_LIMITED',
              'This connection sent far more than it may and was closed. Reload the page to reconnect.',
            ),
          );
          socket.disconnect(true);
        }
        return;
      }
      if (ack || now - socket.data.limitNoticeAt >= LIMIT_NOTICE_MS) {
        if (!ack) socket.data.limitNoticeAt = now;
        fail('RATE_LIMITED');
      } else metrics.errors.inc({ code: 'RATE_LIMITED', surface: 'socket' });
      return;
    }
    if (!isClientEventName(event)) {
      fail('UNKNOWN_EVENT', 'The relay does not know this event. Update the chat client.');
      return;
    }
    if (deps.isShuttingDown()) {
      fail('UNAVAILABLE', 'The relay is restarting. Your request will be retried.');
      return;
    }
    const parsed = clientEvents[event].request.safeParse(args[0]);
    if (!parsed.success) {
      const tooBig = isOnlyTooBig(parsed.error.issues);
      fail(
        tooBig ? 'TOO_LARGE' : 'VALIDATION',
        `${tooBig ? 'Too large' : 'Invalid request'}: ${describeIssues(parsed.error.issues)}.`,
      );
      return;
    }
    if (!PASSIVE_EVENTS.has(event)) socket.data.lastActive = Date.now();
    const timer = metrics.requests.startTimer({ event });
    try {
      const handler = handlers[event] as Handler<ClientEventName>;
      const data = await handler(socket, parsed.data);
      reply({ ok: true, data });
      timer();
    } catch (error) {
      if (error instanceof RelayError) {
        fail(error.code, error.message);
        return;
      }
      logger.error(
        { err: error, event, tenant: socket.data.identity.tenantId },
        'event handler failed',
      );
      fail('INTERNAL');
    }
  }

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
      void dispatch(socket, event, args);
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
      for (const limiter of sendLimiters.values()) limiter.close();
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
