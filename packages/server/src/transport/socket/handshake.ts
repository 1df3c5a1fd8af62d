// The socket handshake: connection and attempt limits per address (and the flood cut-off on
// accept), the browser origin, the token and the protocol version, and each socket's own state.
import type { IncomingMessage } from 'node:http';
import type { Socket as NetSocket } from 'node:net';
import { decodeJwt } from 'jose';
import type { ServerOptions } from 'socket.io';
import {
  HandshakeAuth,
  SUPPORTED_PROTOCOL_VERSIONS,
  errorBody,
  type ErrorBody,
  type ErrorCode,
} from '@carethread/shared';
import { AuthError } from '../../auth/tokens.js';
import { originAllowed } from '../../auth/origins.js';
import { KeyedRateLimiter, TokenBucket } from '../../services/rate-limit.js';
import type { RelayServer, SocketTransportDeps } from './context.js';

/** How long an address refused as a flood has its new connections closed on accept. */
const FLOOD_COOL_OFF_MS = 1_000;

class HandshakeError extends Error {
  readonly data: ErrorBody;
  constructor(code: ErrorCode, message?: string) {
    const body = errorBody(code, message);
    super(body.message);
    this.data = body;
  }
}

export function clientAddress(req: IncomingMessage, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = req.headers['x-forwarded-for'];
    const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim();
    if (first) return first;
  }
  return req.socket.remoteAddress ?? 'unknown';
}

export interface Handshake {
  /** The Socket.IO server's options for browser origins (CORS, and every new engine.io session). */
  options: Pick<ServerOptions, 'cors' | 'allowRequest'>;
  /** Checks every request and connection to `io` before a socket is handed to the handlers. */
  guard(io: RelayServer): void;
  /** Stops the limiters' timers. */
  close(): void;
}

export function createHandshake(deps: SocketTransportDeps): Handshake {
  const { config, tenants, verifier, accessLog, logger } = deps;
  const tenantByIssuer = new Map(tenants.map((t) => [t.issuer, t.id]));

  /** A refused connection, in the audit trail of the tenant its token names (if any). */
  function auditRefusal(token: unknown, code: ErrorCode, address: string): void {
    if (typeof token !== 'string') return;
    let issuer: unknown;
    try {
      issuer = decodeJwt(token).iss;
    } catch {
      return; // not a JWT: no tenant to tell
    }
    const tenantId = typeof issuer === 'string' ? tenantByIssuer.get(issuer) : undefined;
    // The token did not verify, so its subject is not trusted as the actor.
    if (tenantId)
      accessLog.note(tenantId, {
        actorId: 'unverified',
        action: 'session.refused',
        detail: { code, address },
      });
  }

  const anyTenantOrigins = tenants.flatMap((t) => t.allowedOrigins);
  const connectionLimiter = new KeyedRateLimiter(
    config.limits.connectionsPerMinutePerAddress / 60,
    config.limits.connectionsPerMinutePerAddress,
  );
  /**
   * Attempts to open a session, counted before any WebSocket handshake. The limiter above answers
   * with RATE_LIMITED, but only after the upgrade and Socket.IO's connect; an address going on at
   * twice its allowance is a flood, refused here with a bare HTTP 400 for a fraction of the cost.
   */
  const attemptLimiter = new KeyedRateLimiter(
    (2 * config.limits.connectionsPerMinutePerAddress) / 60,
    2 * config.limits.connectionsPerMinutePerAddress,
  );
  /**
   * Addresses refused as a flood, until when. Their new TCP connections are closed on accept,
   * before any HTTP is read: the cheapest refusal there is. Behind a proxy every connection comes
   * from the proxy, so this only applies when the relay sees clients' own addresses.
   */
  const floodingUntil = new Map<string, number>();
  if (!config.trustProxy)
    deps.httpServer.on('connection', (tcp: NetSocket) => {
      const address = tcp.remoteAddress ?? 'unknown';
      const until = floodingUntil.get(address);
      if (until === undefined) return;
      if (until > Date.now()) tcp.destroy();
      else floodingUntil.delete(address);
    });

  const options: Handshake['options'] = {
    cors: {
      origin: (origin, callback) => {
        callback(null, origin === undefined || originAllowed(anyTenantOrigins, origin));
      },
    },
    // Runs on every new engine.io session, polling and WebSocket alike (cors does not cover WebSocket).
    allowRequest: (req, callback) => {
      const origin = req.headers.origin;
      if (origin !== undefined && !originAllowed(anyTenantOrigins, origin)) {
        logger.warn({ origin }, 'refused connection from an origin no tenant allows');
        callback(errorBody('FORBIDDEN_ORIGIN').message, false);
        return;
      }
      callback(null, true);
    },
  };

  function guard(io: RelayServer): void {
    // Runs before engine.io looks at a request. A new session counts against the address's attempts
    // (the origin check follows in allowRequest). allowRequest runs only when a session opens, so a
    // session's later requests (polls, the upgrade to a WebSocket) are held to the origin rule here,
    // or a session opened from an allowed origin could be upgraded from another one.
    io.engine.use((req: IncomingMessage, _res: unknown, next: (error?: Error) => void) => {
      const origin = req.headers.origin;
      const ofSession = /[?&]sid=/.test(req.url ?? '');
      if (!ofSession) {
        const address = clientAddress(req, config.trustProxy);
        if (attemptLimiter.take(address)) next();
        else {
          const now = Date.now();
          if (floodingUntil.size > 10_000)
            for (const [known, until] of floodingUntil)
              if (until <= now) floodingUntil.delete(known);
          floodingUntil.set(address, now + FLOOD_COOL_OFF_MS);
          next(new Error(errorBody('RATE_LIMITED').message));
        }
        return;
      }
      if (origin !== undefined && !originAllowed(anyTenantOrigins, origin)) {
        logger.warn({ origin }, 'refused a request of a session from an origin no tenant allows');
        next(new Error(errorBody('FORBIDDEN_ORIGIN').message));
        return;
      }
      next();
    });

    io.use((socket, next) => {
      void (async () => {
        const req = socket.request;
        const address = clientAddress(req, config.trustProxy);
        if (!connectionLimiter.take(address))
          throw new HandshakeError(
            'RATE_LIMITED',
            'Too many connections from your network. Wait a minute and try again.',
          );
        if (deps.isShuttingDown())
          throw new HandshakeError(
            'UNAVAILABLE',
            'The relay is restarting. Your connection will be retried.',
          );
        if ('token' in socket.handshake.query || 'access_token' in socket.handshake.query) {
          throw new HandshakeError(
            'UNAUTHENTICATED',
            'Send the token in the Socket.IO auth payload, never in the URL.',
          );
        }
        const auth = HandshakeAuth.safeParse(socket.handshake.auth);
        if (!auth.success) {
          const raw = socket.handshake.auth as Record<string, unknown>;
          if (typeof raw.token !== 'string' || raw.token.length === 0)
            throw new HandshakeError(
              'UNAUTHENTICATED',
              'No sign-in token was sent. Provide one in the auth payload.',
            );
          if (Number.isInteger(raw.protocol))
            throw new HandshakeError(
              'UNAUTHENTICATED',
              'The sign-in token was refused: it is longer than a token can be.',
            );
          throw new HandshakeError(
            'UNSUPPORTED_VERSION',
            `The client did not say which protocol version it speaks. This relay supports version ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')}.`,
          );
        }
        if (!SUPPORTED_PROTOCOL_VERSIONS.includes(auth.data.protocol)) {
          throw new HandshakeError(
            'UNSUPPORTED_VERSION',
            `Protocol version ${auth.data.protocol} is not supported; this relay speaks version ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')}. Update the chat client.`,
          );
        }
        const { identity, tenant } = await verifier.verify(auth.data.token);
        const origin = req.headers.origin;
        if (origin !== undefined && !originAllowed(tenant.allowedOrigins, origin)) {
          throw new HandshakeError('FORBIDDEN_ORIGIN');
        }
        socket.data = {
          identity,
          open: new Map(),
          timers: [],
          consentTimers: new Map(),
          packets: new TokenBucket(
            config.limits.packetsPerSecond,
            config.limits.packetsPerSecond * 4,
          ),
          lastActive: Date.now(),
          idleTimer: undefined,
          tokenIds: new Set(identity.tokenId === null ? [] : [identity.tokenId]),
          limitNoticeAt: 0,
          refused: { count: 0, since: 0 },
        };
      })().then(
        () => {
          next();
        },
        (error: unknown) => {
          const { token } = socket.handshake.auth as { token?: unknown };
          const address = clientAddress(socket.request, config.trustProxy);
          if (error instanceof HandshakeError) {
            auditRefusal(token, error.data.code, address);
            next(error);
            return;
          }
          if (error instanceof AuthError) {
            auditRefusal(token, error.code, address);
            next(new HandshakeError(error.code, error.message));
            return;
          }
          logger.error({ err: error }, 'handshake failed');
          next(new HandshakeError('INTERNAL'));
        },
      );
    });

    io.engine.on(
      'connection_error',
      (error: { code: number; message: string; req: IncomingMessage }) => {
        logger.debug(
          { code: error.code, reason: error.message, origin: error.req.headers.origin },
          'engine refused a connection',
        );
      },
    );
  }

  return {
    options,
    guard,
    close() {
      connectionLimiter.close();
      attemptLimiter.close();
    },
  };
}
