// The Store contract served by a SQLite database on a worker thread. The relay's event loop only
// posts batches and receives results; statement execution and the commit's fsync happen on the
// worker, and the next batch forms while a commit is in flight.
import { Worker } from 'node:worker_threads';
import { DecryptionError, MasterKeyError } from './keyring.js';
import type { SqliteOptions } from './sqlite.js';
import type { CallMessage, CompactAppend, ReplyMessage, StoreMethod } from './sqlite-worker.js';
import { entryFromRequest, type AppendResult, type Store } from './types.js';

/** Raised on the main thread for an error thrown by the store on the worker. */
export class StoreError extends Error {
  override name = 'StoreError';
  constructor(
    message: string,
    /** The worker's error code (`SQLITE_FULL`, `ENOSPC`), when it had one. */
    readonly code?: string,
  ) {
    super(message);
  }
}

function workerUrl(): URL {
  // Under vitest this module runs from its .ts source; the worker always runs compiled from dist
  // (the test command builds first).
  return import.meta.url.endsWith('.ts')
    ? new URL('../../dist/src/store/sqlite-worker.js', import.meta.url)
    : new URL('./sqlite-worker.js', import.meta.url);
}

export interface ThreadedStoreHooks {
  /** Called once if the worker stops without `close()`: the store can take no more work. */
  onFailure?: (error: Error) => void;
}

/** A Store backed by a worker; `worker` is exposed for operations and fault tests. */
export type ThreadedStore = Store & { readonly worker: Worker };

export async function createThreadedSqliteStore(
  options: SqliteOptions,
  hooks: ThreadedStoreHooks = {},
): Promise<ThreadedStore> {
  const worker = new Worker(workerUrl(), { workerData: options });
  const pending = new Map<
    number,
    { resolve: (value: unknown) => void; reject: (error: Error) => void }
  >();
  let nextId = 1;
  let closed = false;
  let closing = false;
  let failOpen: ((error: Error) => void) | undefined;

  const ready = new Promise<void>((resolve, reject) => {
    failOpen = reject;
    worker.on('message', (text: string) => {
      const reply = JSON.parse(text) as ReplyMessage;
      if (reply.kind === 'ready') {
        resolve();
        return;
      }
      if (reply.kind === 'failed') {
        reject(
          reply.error.name === 'MasterKeyError'
            ? new MasterKeyError(reply.error.message)
            : new StoreError(`The database could not be opened: ${reply.error.message}`),
        );
        return;
      }
      const call = pending.get(reply.id);
      if (!call) return;
      pending.delete(reply.id);
      if (reply.ok) call.resolve(reply.result);
      else
        call.reject(
          reply.error.name === 'DecryptionError'
            ? new DecryptionError(reply.error.message)
            : new StoreError(reply.error.message, reply.error.code),
        );
    });
  });
  worker.on('error', (error) => {
    for (const call of pending.values())
      call.reject(new StoreError(`The store worker failed: ${error.message}`));
    pending.clear();
  });
  worker.on('exit', (code) => {
    closed = true;
    const error = new StoreError(`The store worker stopped (exit code ${code}).`);
    for (const call of pending.values()) call.reject(error);
    pending.clear();
    failOpen?.(error);
    if (!closing) hooks.onFailure?.(error);
  });
  await ready;
  failOpen = undefined;

  function call<T>(method: StoreMethod, ...args: unknown[]): Promise<T> {
    if (closed) return Promise.reject(new StoreError('The store is closed.'));
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      worker.postMessage(JSON.stringify({ id, method, args } satisfies CallMessage));
    });
  }

  return {
    worker,
    // The worker migrates before it reports ready.
    migrate: () => Promise.resolve(),
    ping: () => call('ping'),
    async close() {
      if (closed) return;
      closing = true;
      await call('close');
      await worker.terminate();
    },
    createConversation: (...args) => call('createConversation', ...args),
    getConversation: (...args) => call('getConversation', ...args),
    listConversationsOf: (...args) => call('listConversationsOf', ...args),
    getParticipant: (...args) => call('getParticipant', ...args),
    listParticipants: (...args) => call('listParticipants', ...args),
    addParticipant: (...args) => call('addParticipant', ...args),
    removeParticipant: (...args) => call('removeParticipant', ...args),
    markRead: (...args) => call('markRead', ...args),
    async appendEntries(requests) {
      const compact = await call<CompactAppend[]>('appendEntries', requests);
      return requests.map((request, i): AppendResult => {
        const result = compact[i];
        if (!result) throw new StoreError('The store answered fewer results than requests.');
        if (!('seq' in result)) return result;
        return {
          ok: true,
          duplicate: false,
          entry: entryFromRequest(request, result.seq),
          accessVersion: result.accessVersion,
        };
      });
    },
    history: (...args) => call('history', ...args),
    publishTemplateVersion: (...args) => call('publishTemplateVersion', ...args),
    listTemplateVersions: (...args) => call('listTemplateVersions', ...args),
    getTemplateVersion: (...args) => call('getTemplateVersion', ...args),
    createConsentRequest: (...args) => call('createConsentRequest', ...args),
    getConsentRequest: (...args) => call('getConsentRequest', ...args),
    listConsentRequests: (...args) => call('listConsentRequests', ...args),
    transitionConsentRequest: (...args) => call('transitionConsentRequest', ...args),
    signConsentRequest: (...args) => call('signConsentRequest', ...args),
    getConsentRecord: (...args) => call('getConsentRecord', ...args),
    listConsentEvents: (...args) => call('listConsentEvents', ...args),
    consentEntry: (...args) => call('consentEntry', ...args),
    revokeConsent: (...args) => call('revokeConsent', ...args),
    getConsentRevocation: (...args) => call('getConsentRevocation', ...args),
    activeGrant: (...args) => call('activeGrant', ...args),
    expireDueConsents: (...args) => call('expireDueConsents', ...args),
    getConsentPdf: (...args) => call('getConsentPdf', ...args),
    saveConsentPdf: (...args) => call('saveConsentPdf', ...args),
    entriesAfter: (...args) => call('entriesAfter', ...args),
    countEntriesAfter: (...args) => call('countEntriesAfter', ...args),
    logAfter: (...args) => call('logAfter', ...args),
    storedRepeat: (...args) => call('storedRepeat', ...args),
    listConversations: (...args) => call('listConversations', ...args),
    archiveConversation: (...args) => call('archiveConversation', ...args),
    appendAuditEvents: (...args) => call('appendAuditEvents', ...args),
    listAuditEvents: (...args) => call('listAuditEvents', ...args),
    claimIdempotencyKey: (...args) => call('claimIdempotencyKey', ...args),
    completeIdempotencyKey: (...args) => call('completeIdempotencyKey', ...args),
    releaseIdempotencyKey: (...args) => call('releaseIdempotencyKey', ...args),
    expireIdempotencyKeys: (...args) => call('expireIdempotencyKeys', ...args),
    outboxEventsAfter: (...args) => call('outboxEventsAfter', ...args),
    countOutboxEventsAfter: (...args) => call('countOutboxEventsAfter', ...args),
    webhookCursor: (...args) => call('webhookCursor', ...args),
    advanceWebhookCursor: (...args) => call('advanceWebhookCursor', ...args),
    leaseWebhookEndpoint: (...args) => call('leaseWebhookEndpoint', ...args),
    releaseWebhookLease: (...args) => call('releaseWebhookLease', ...args),
    recordWebhookFailure: (...args) => call('recordWebhookFailure', ...args),
    deadLetterWebhook: (...args) => call('deadLetterWebhook', ...args),
    listDeadLetters: (...args) => call('listDeadLetters', ...args),
    getDeadLetter: (...args) => call('getDeadLetter', ...args),
    markDeadLetterRedelivered: (...args) => call('markDeadLetterRedelivered', ...args),
    dataKeys: () => call('dataKeys'),
    rewrapDataKeys: () => call('rewrapDataKeys'),
    revokeToken: (...args) => call('revokeToken', ...args),
    revokedTokenIds: (...args) => call('revokedTokenIds', ...args),
    expireRevokedTokens: (...args) => call('expireRevokedTokens', ...args),
    claimFileUpload: (...args) => call('claimFileUpload', ...args),
    completeFileUpload: (...args) => call('completeFileUpload', ...args),
    abandonFileUpload: (...args) => call('abandonFileUpload', ...args),
    getFile: (...args) => call('getFile', ...args),
    fileHiddenByDeletion: (...args) => call('fileHiddenByDeletion', ...args),
    completedFileAttempts: (...args) => call('completedFileAttempts', ...args),
  };
}
