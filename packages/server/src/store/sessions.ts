// The sessions part of the Store contract: the token ids revoked before they expire, kept until
// then. Its SQL: sql/sessions.ts.

export interface SessionStore {
  /**
   * Revokes a token id of the tenant until `keptUntil`. Revoking it again keeps the first
   * `revokedAt` and the later of the two `keptUntil`s; returns what is stored.
   */
  revokeToken(
    tenantId: string,
    tokenId: string,
    revokedAt: string,
    keptUntil: string,
  ): Promise<{ revokedAt: string; keptUntil: string }>;
  /** Which of `tokenIds` are revoked at time `at` (kept until after it). */
  revokedTokenIds(tenantId: string, tokenIds: readonly string[], at: string): Promise<string[]>;
  /** Forgets revocations kept until before `before`; returns how many. */
  expireRevokedTokens(before: string): Promise<number>;
}
