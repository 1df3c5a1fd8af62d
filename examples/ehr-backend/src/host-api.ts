// A small client for the relay's host API: the tenant's API key on every call, an Idempotency-Key
// on every write (so a retry after a timeout cannot do the work twice), retries of the failures a
// retry can fix, and paging through lists with the `next` cursor.
import type { ApiErrorResponse } from '@carethread/shared';

/** An answer of the host API that is not a success: its HTTP status and stable error code. */
export class HostApiError extends Error {
  override name = 'HostApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface HostApi {
  /** GET a JSON (or FHIR JSON) resource. */
  get<T>(path: string): Promise<T>;
  /** POST `body`; the same `idempotencyKey` and body always mean the same single operation. */
  post<T>(path: string, body: unknown, idempotencyKey: string): Promise<T>;
  /** Every item of a paged list, following `next` until it is null. */
  pages<T>(path: string, limit?: number): AsyncGenerator<T>;
}

// 503 (relay restarting, store busy) and 429 are worth retrying; anything else is an answer.
const RETRYABLE_STATUS = new Set([429, 502, 503, 504]);
const ATTEMPTS = 5;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * @example
 * const api = createHostApi('http://127.0.0.1:8080', process.env.CARETHREAD_API_KEY);
 * await api.post('/api/v1/conversations', { conversationId, title, participants }, `enc-${id}`);
 * for await (const entry of api.pages('/api/v1/conversations/enc-1/entries')) archive(entry);
 */
export function createHostApi(relayUrl: string, apiKey: string): HostApi {
  async function call<T>(
    method: 'GET' | 'POST',
    path: string,
    init: { headers?: Record<string, string>; body?: string } = {},
  ): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      let response: Response;
      try {
        response = await fetch(new URL(path, relayUrl), {
          ...init,
          method,
          headers: { authorization: `Bearer ${apiKey}`, ...init.headers },
          signal: AbortSignal.timeout(15_000),
        });
      } catch (error) {
        // A network error or timeout: the write may or may not have happened. Retrying with the
        // same Idempotency-Key is safe either way; that is what the key is for.
        if (attempt >= ATTEMPTS) throw error;
        await sleep(200 * 2 ** attempt);
        continue;
      }
      if (RETRYABLE_STATUS.has(response.status) && attempt < ATTEMPTS) {
        await sleep(200 * 2 ** attempt);
        continue;
      }
      if (response.status === 204) return undefined as T;
      const body = await response.json();
      if (!response.ok) {
        const { error } = body as ApiErrorResponse;
        throw new HostApiError(response.status, error.code, `${method} ${path}: ${error.message}`);
      }
      return body as T;
    }
  }

  return {
    get: (path) => call('GET', path),
    post: (path, body, idempotencyKey) =>
      call('POST', path, {
        headers: { 'content-type': 'application/json', 'idempotency-key': idempotencyKey },
        body: JSON.stringify(body),
      }),
    async *pages<T>(path: string, limit = 200) {
      let cursor: string | null = null;
      do {
        const url = new URL(path, 'http://relay.invalid');
        url.searchParams.set('limit', String(limit));
        if (cursor) url.searchParams.set('cursor', cursor);
        const page: { items: T[]; next: string | null } = await call(
          'GET',
          url.pathname + url.search,
        );
        yield* page.items;
        cursor = page.next;
      } while (cursor);
    },
  };
}
