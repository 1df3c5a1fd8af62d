// The session's own request over the socket: a fresh token for the same person and role, which
// the session lifecycle then holds the socket to (its expiry and its token id for revocation).
import { AuthError, type Identity } from '../../../auth/tokens.js';
import { RelayError } from '../../../core/errors.js';
import type { Handlers, TransportContext } from '../context.js';
import type { Lifecycle } from '../lifecycle.js';

export function sessionHandlers(
  { verifier }: TransportContext,
  lifecycle: Lifecycle,
): Handlers<'auth.refresh'> {
  return {
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
}
