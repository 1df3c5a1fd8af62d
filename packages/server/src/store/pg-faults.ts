// What the PostgreSQL store does when the database connection fails: which errors mean "the
// database cannot be reached" (answered UNAVAILABLE, never INTERNAL), when a transaction may be run
// again by the store itself, and the sentence a client gets when a COMMIT's outcome is unknown.
import { RelayError } from '../core/errors.js';
import type { AppendRequest, AppendResult, Store } from './types.js';

/** Socket errors of a dropped or refused connection. */
const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * SQLSTATEs of a server going away or not taking connections: 57P01 admin_shutdown (a restart,
 * pg_terminate_backend), 57P02 crash_shutdown, 57P03 cannot_connect_now (starting up), 53300
 * too_many_connections. Class 08 (connection exception) is matched by prefix.
 */
const SERVER_CODES = new Set(['57P01', '57P02', '57P03', '53300']);

/** pg and pg-pool report these without a code. */
const MESSAGES = [
  /^Connection terminated/, // "... unexpectedly", "... due to connection timeout"
  /timeout exceeded when trying to connect/,
  /is not queryable/, // a client whose connection already failed
  /the database system is (starting up|shutting down|in recovery mode)/,
];

/** Whether `error` (or an error it wraps) says the database connection failed. */
export function isConnectionFailure(error: unknown, depth = 0): boolean {
  if (!(error instanceof Error) || depth > 5) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (NETWORK_CODES.has(code) || SERVER_CODES.has(code) || /^08[0-9A-Z]{3}$/.test(code))
      return true;
  }
  if (MESSAGES.some((pattern) => pattern.test(error.message))) return true;
  if (
    error instanceof AggregateError &&
    error.errors.some((e) => isConnectionFailure(e, depth + 1))
  )
    return true;
  return isConnectionFailure(error.cause, depth + 1);
}

/** Nothing reached the database, or what did was rolled back: a retry cannot store anything twice. */
export const DATABASE_UNREACHABLE =
  'The database cannot be reached right now, so nothing was saved. Try again in a few seconds; the chat resends messages by itself.';

/** The connection dropped after COMMIT was sent: the change may or may not have been saved. */
export const COMMIT_OUTCOME_UNKNOWN =
  'The database connection dropped while this change was being saved, so it may have been saved. Send it again with the same id: a message is never stored twice, and a repeated signature is refused as already signed.';

function unavailable(message: string, cause: unknown): RelayError {
  const error = new RelayError('UNAVAILABLE', message);
  error.cause = cause;
  return error;
}

/** UNAVAILABLE for a transaction whose COMMIT was sent but never answered. */
export class CommitOutcomeUnknown extends RelayError {
  constructor(cause: unknown) {
    super('UNAVAILABLE', COMMIT_OUTCOME_UNKNOWN);
    this.cause = cause;
  }
}

/** How often a transaction is tried when its connection fails before COMMIT, and the waits between. */
const RETRY_WAITS_MS = [25, 100, 250];

/**
 * Runs `transaction` (one BEGIN ... COMMIT) again when the connection failed before COMMIT was
 * sent: the server rolled it back, so running it again cannot apply it twice. When COMMIT itself
 * was cut off the outcome is unknown; that is not retried here but answered UNAVAILABLE, and the
 * client's retry is safe because appends are idempotent by client message id.
 */
export async function withConnectionRetry<T>(
  transaction: (markCommitting: () => void) => Promise<T>,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    const sent = { commit: false };
    try {
      return await transaction(() => {
        sent.commit = true;
      });
    } catch (error) {
      if (!isConnectionFailure(error)) throw error;
      if (sent.commit) throw new CommitOutcomeUnknown(error);
      const wait = RETRY_WAITS_MS[attempt];
      if (wait === undefined) throw unavailable(DATABASE_UNREACHABLE, error);
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}

/** The store with every connection failure answered as UNAVAILABLE (a RelayError) instead of a raw pg error. */
export function answerConnectionFailures(store: Store): Store {
  const guarded = Object.entries(store).map(([name, method]) => [
    name,
    async (...args: unknown[]) => {
      try {
        return await (method as (...a: unknown[]) => Promise<unknown>).apply(store, args);
      } catch (error) {
        if (!(error instanceof RelayError) && isConnectionFailure(error))
          throw unavailable(DATABASE_UNREACHABLE, error);
        throw error;
      }
    },
  ]);
  return Object.fromEntries(guarded) as Store;
}

/** How many appends whose COMMIT went unanswered a node remembers until their retry comes. */
const REMEMBERED_UNKNOWN_COMMITS = 10_000;

const idKey = (r: AppendRequest) =>
  [r.tenantId, r.conversationId, r.sender.userId, r.clientId].join('\u0000');

/**
 * Appends whose COMMIT went unanswered are appended once more at once (idempotent by client id):
 * an entry the lost COMMIT did store comes back as a duplicate, which the transport would neither
 * acknowledge as new nor announce, so followers would never get it live. An entry stored with this
 * very request's time was stored by the lost COMMIT, never announced: it is answered as new. When
 * the database is still unreachable the client gets UNAVAILABLE and resends later; this node
 * remembers the time, so that resend is announced too (a resend reaching another node is answered
 * as a duplicate, and followers fill the gap at their next message or reconnection). Every attempt
 * whose COMMIT went unanswered is remembered, since any one of them may be the one that stored it.
 */
export function announceUnknownCommits(
  appendEntries: Store['appendEntries'],
): Store['appendEntries'] {
  const unknownAt = new Map<string, Set<string>>();
  return async (requests) => {
    let results: AppendResult[];
    try {
      results = await appendEntries(requests);
    } catch (error) {
      if (!(error instanceof CommitOutcomeUnknown)) throw error;
      for (const request of requests) {
        const key = idKey(request);
        unknownAt.set(key, (unknownAt.get(key) ?? new Set()).add(request.at));
        if (unknownAt.size > REMEMBERED_UNKNOWN_COMMITS)
          unknownAt.delete(unknownAt.keys().next().value ?? '');
      }
      try {
        results = await appendEntries(requests);
      } catch (again) {
        // Still unreachable: what the lost COMMIT did remains unknown, and the client says so.
        throw again instanceof RelayError && again.code === 'UNAVAILABLE' ? error : again;
      }
    }
    return results.map((result, i) => {
      const request = requests[i];
      const attempts = request && unknownAt.get(idKey(request));
      if (!request || attempts === undefined || !result.ok) return result;
      unknownAt.delete(idKey(request));
      const storedAt =
        result.entry.kind === 'message' ? result.entry.sentAt : result.entry.editedAt;
      return result.duplicate && attempts.has(storedAt) ? { ...result, duplicate: false } : result;
    });
  };
}
