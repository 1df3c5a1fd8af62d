// Session lifecycle: token expiry and its warning, the idle timeout, the revocation check and
// ending revoked sessions, and the end of the consent or break-glass access a socket reads under.
import { errorBody } from '@carethread/shared';
import type { RelaySocket, TransportContext } from './context.js';
import { tokenRoom, type Rooms } from './rooms.js';

/** How long before token expiry the client is asked for a fresh token. */
const EXPIRY_WARNING_MS = 60_000;
/** setTimeout cannot wait longer than this. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** A socket remembers this many of its token ids (one per refresh); older ones are forgotten. */
const MAX_TOKEN_IDS = 16;
/** Token ids asked about in one store query by the revocation check. */
const REVOCATION_CHECK_BATCH = 500;

export type Lifecycle = ReturnType<typeof createLifecycle>;

export function createLifecycle(ctx: TransportContext, rooms: Rooms) {
  const { io, tenants, config, revocations, logger } = ctx;
  const idleTimeoutsMs = new Map(tenants.map((t) => [t.id, t.idleTimeoutSeconds * 1000]));

  function armExpiry(socket: RelaySocket): void {
    for (const timer of socket.data.timers) clearTimeout(timer);
    const remaining = socket.data.identity.expiresAt.getTime() - Date.now();
    const warnIn = Math.max(0, remaining - Math.min(EXPIRY_WARNING_MS, remaining / 2));
    socket.data.timers = [
      setTimeout(
        () => {
          socket.emit('session.expiring', {
            expiresAt: socket.data.identity.expiresAt.toISOString(),
          });
        },
        Math.min(warnIn, MAX_TIMER_MS),
      ),
      setTimeout(
        () => {
          socket.emit('session.ended', errorBody('TOKEN_EXPIRED'));
          socket.disconnect(true);
        },
        Math.min(Math.max(0, remaining), MAX_TIMER_MS),
      ),
    ];
  }

  /**
   * Ends the session once the person has made no request of their own for the tenant's idle
   * timeout. One timer per socket, re-armed for the remainder when it fires early, so a busy
   * socket costs a timestamp per request rather than a timer.
   */
  function armIdle(socket: RelaySocket): void {
    const timeoutMs = idleTimeoutsMs.get(socket.data.identity.tenantId) ?? 0;
    if (timeoutMs <= 0) return;
    const check = () => {
      const idleMs = Date.now() - socket.data.lastActive;
      if (idleMs < timeoutMs) {
        socket.data.idleTimer = setTimeout(check, timeoutMs - idleMs);
        return;
      }
      const { tenantId, userId } = socket.data.identity;
      logger.info({ tenant: tenantId, user: userId, sid: socket.id }, 'idle session ended');
      socket.emit('session.ended', errorBody('SESSION_IDLE'));
      socket.disconnect(true);
    };
    socket.data.idleTimer = setTimeout(check, timeoutMs);
  }

  /** Puts the socket in the room of a token id it signed in with, forgetting the oldest past a few. */
  function rememberTokenId(socket: RelaySocket, tokenId: string): void {
    const { tenantId } = socket.data.identity;
    const ids = socket.data.tokenIds;
    ids.delete(tokenId);
    ids.add(tokenId);
    void socket.join(tokenRoom(tenantId, tokenId));
    for (const old of ids) {
      if (ids.size <= MAX_TOKEN_IDS) break;
      ids.delete(old);
      void socket.leave(tokenRoom(tenantId, old));
    }
  }

  function endSessions(tenantId: string, tokenId: string): number {
    const ids = [...(io.of('/').adapter.rooms.get(tokenRoom(tenantId, tokenId)) ?? [])];
    let ended = 0;
    for (const id of ids) {
      const socket = io.sockets.sockets.get(id);
      if (!socket) continue;
      socket.emit(
        'session.ended',
        errorBody('UNAUTHENTICATED', 'This session was signed out. Sign in again to continue.'),
      );
      socket.disconnect(true);
      ended++;
    }
    if (ended > 0) logger.info({ tenant: tenantId, sessions: ended }, 'ended revoked sessions');
    return ended;
  }

  /**
   * Asks the store which token ids of this node's sockets were revoked (by a call another node
   * answered) and ends those sessions. The store decides, so it holds while Redis is down.
   */
  let checkingRevocations = false;
  async function checkRevocations(): Promise<void> {
    if (checkingRevocations) return;
    checkingRevocations = true;
    try {
      const byTenant = new Map<string, Set<string>>();
      for (const socket of io.sockets.sockets.values()) {
        if (socket.data.tokenIds.size === 0) continue;
        const { tenantId } = socket.data.identity;
        const ids = byTenant.get(tenantId) ?? new Set();
        for (const id of socket.data.tokenIds) ids.add(id);
        byTenant.set(tenantId, ids);
      }
      for (const [tenantId, ids] of byTenant) {
        const all = [...ids];
        for (let i = 0; i < all.length; i += REVOCATION_CHECK_BATCH) {
          const revoked = await revocations.revokedAmong(
            tenantId,
            all.slice(i, i + REVOCATION_CHECK_BATCH),
          );
          for (const tokenId of revoked) endSessions(tenantId, tokenId);
        }
      }
    } catch (error) {
      logger.warn({ err: error }, 'revocation check failed; retrying at the next one');
    } finally {
      checkingRevocations = false;
    }
  }
  const revocationCheck = setInterval(() => void checkRevocations(), config.revocationCheckMs);
  revocationCheck.unref();

  /** A socket leaves the conversation when the consent or break-glass access it read under ends. */
  function endAccessAt(
    socket: RelaySocket,
    conversationId: string,
    { until, reason }: { until: string; reason: 'consent' | 'breakglass' },
  ): void {
    clearTimeout(socket.data.consentTimers.get(conversationId));
    const delay = Math.min(Math.max(0, Date.parse(until) - Date.now()), MAX_TIMER_MS);
    socket.data.consentTimers.set(
      conversationId,
      setTimeout(() => {
        socket.data.consentTimers.delete(conversationId);
        if (!socket.data.open.has(conversationId)) return;
        rooms.leave(socket, conversationId);
        socket.emit('participant.removed', {
          conversationId,
          userId: socket.data.identity.userId,
          reason:
            reason === 'consent'
              ? errorBody(
                  'CONSENT_REQUIRED',
                  "The patient's consent to share this conversation with you has expired.",
                )
              : errorBody('FORBIDDEN', 'Your break-glass access to this conversation has ended.'),
        });
      }, delay),
    );
  }

  return {
    armExpiry,
    armIdle,
    rememberTokenId,
    endSessions,
    endAccessAt,
    /** Stops a closed socket's timers: expiry, idleness and the end of its access. */
    disarm(socket: RelaySocket): void {
      for (const timer of socket.data.timers) clearTimeout(timer);
      clearTimeout(socket.data.idleTimer);
      for (const timer of socket.data.consentTimers.values()) clearTimeout(timer);
    },
    /** Stops the revocation check. */
    close(): void {
      clearInterval(revocationCheck);
    },
  };
}
