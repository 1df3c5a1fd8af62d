// The packet dispatcher: every client packet is admitted at the socket's packet rate (a flood is
// cut off), validated against the shared schemas and routed to its domain's handler.
import {
  clientEvents,
  describeIssues,
  errorBody,
  isClientEventName,
  isOnlyTooBig,
  type Ack,
  type ClientEventName,
  type ErrorCode,
} from '@carethread/shared';
import { RelayError } from '../../core/errors.js';
import type { Admission } from '../../services/chat.js';
import { KeyedRateLimiter } from '../../services/rate-limit.js';
import type { Handler, Handlers, RelaySocket, TransportContext } from './context.js';
import { consentHandlers } from './handlers/consent.js';
import { conversationHandlers } from './handlers/conversations.js';
import { presenceHandlers } from './handlers/presence.js';
import { sessionHandlers } from './handlers/session.js';
import type { Lifecycle } from './lifecycle.js';
import type { Rooms } from './rooms.js';

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

export interface Dispatcher {
  /** Answers one packet of `socket`: `args` ends with the ack when the client wants one. */
  dispatch(socket: RelaySocket, event: unknown, args: unknown[]): Promise<void>;
  /** Stops the send limiters' timers. */
  close(): void;
}

export function createDispatcher(
  ctx: TransportContext,
  rooms: Rooms,
  lifecycle: Lifecycle,
): Dispatcher {
  const { config, tenants, logger, metrics } = ctx;
  const sendLimiters = new Map(
    tenants.map((t) => [t.id, new KeyedRateLimiter(t.limits.sendPerSecond, t.limits.sendBurst)]),
  );

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

  const handlers: Handlers = {
    ...conversationHandlers(ctx, rooms, lifecycle, sendAdmission),
    ...consentHandlers(ctx, rooms),
    ...presenceHandlers(ctx, rooms),
    ...sessionHandlers(ctx, lifecycle),
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
    if (ctx.isShuttingDown()) {
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

  return {
    dispatch,
    close() {
      for (const limiter of sendLimiters.values()) limiter.close();
    },
  };
}
