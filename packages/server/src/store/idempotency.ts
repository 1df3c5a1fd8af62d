// The idempotency part of the Store contract, with its records: the host API's idempotency keys
// and the answers kept for their retries. Its SQL: sql/idempotency.ts.

/** What claiming an idempotency key found. */
export type IdempotencyClaim =
  | { state: 'claimed' }
  | { state: 'running'; fingerprint: string }
  | { state: 'done'; fingerprint: string; status: number; body: string };

export interface IdempotencyStore {
  /**
   * Claims a host-API idempotency key for a request with `fingerprint`, or says what an earlier
   * request with the key left: still running, or its answer.
   */
  claimIdempotencyKey(
    tenantId: string,
    key: string,
    fingerprint: string,
    at: string,
  ): Promise<IdempotencyClaim>;
  /** Stores the answer of a claimed key, to be replayed to retries. */
  completeIdempotencyKey(
    tenantId: string,
    key: string,
    status: number,
    body: string,
  ): Promise<void>;
  /** Gives a claimed key up (the request failed in a way a retry may fix). */
  releaseIdempotencyKey(tenantId: string, key: string): Promise<void>;
  /** Forgets keys created before `before`; returns how many. */
  expireIdempotencyKeys(before: string): Promise<number>;
}
