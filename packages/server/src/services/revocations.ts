// Signed-out sessions: the token ids (`jti`) a host revoked through the host API, kept in the
// store so every relay node refuses them, and forgotten once the token could not be used anyway.
import type { TenantConfig } from '../core/settings.js';
import { RelayError } from '../core/errors.js';
import type { Store } from '../store/types.js';

export interface RevocationServiceDeps {
  store: Store;
  tenants: readonly TenantConfig[];
  now?: () => Date;
}

export function createRevocationService({
  store,
  tenants,
  now = () => new Date(),
}: RevocationServiceDeps) {
  const byId = new Map(tenants.map((t) => [t.id, t]));
  const tenantOf = (tenantId: string) => {
    const tenant = byId.get(tenantId);
    if (!tenant) throw new RelayError('NOT_FOUND', 'This tenant is not configured on the relay.');
    return tenant;
  };
  return {
    /**
     * Revokes a token id. It is kept until the token's own expiry when the host gives it, and at
     * most for as long as any token of the tenant could still pass (its age limit, with the clock
     * tolerance on both ends), so a host cannot fill the table with rows kept for ever.
     */
    async revoke(tenantId: string, tokenId: string, expiresAt?: string) {
      const tenant = tenantOf(tenantId);
      const at = now();
      const toleranceMs = tenant.clockToleranceSeconds * 1000;
      const horizon = at.getTime() + tenant.maxTokenAgeSeconds * 1000 + 2 * toleranceMs;
      const until =
        expiresAt === undefined ? horizon : Math.min(Date.parse(expiresAt) + toleranceMs, horizon);
      return store.revokeToken(
        tenantId,
        tokenId,
        at.toISOString(),
        new Date(Math.max(until, at.getTime())).toISOString(),
      );
    },
    /** True when the host revoked this token id (asked at connect and at every refresh). */
    async isRevoked(tenantId: string, tokenId: string): Promise<boolean> {
      const revoked = await store.revokedTokenIds(tenantId, [tokenId], now().toISOString());
      return revoked.length > 0;
    },
    /** The ones of `tokenIds` that are revoked now (a node checking the sockets it holds). */
    revokedAmong(tenantId: string, tokenIds: readonly string[]): Promise<string[]> {
      return store.revokedTokenIds(tenantId, tokenIds, now().toISOString());
    },
  };
}
export type RevocationService = ReturnType<typeof createRevocationService>;
