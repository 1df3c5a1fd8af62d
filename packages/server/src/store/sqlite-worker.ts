// Worker-thread side of the threaded SQLite store: owns the database and answers calls from the
// relay's main thread, so SQL and fsync never block socket I/O.
import { parentPort, workerData } from 'node:worker_threads';
import { createSqliteStore, type SqliteOptions } from './sqlite.js';
import type { AppendResult, Store } from './types.js';

export type StoreMethod = Exclude<keyof Store, 'migrate'>;

export interface CallMessage {
  id: number;
  method: StoreMethod;
  args: unknown[];
}

interface ErrorDescription {
  name: string;
  message: string;
  /** SQLite's extended code (`SQLITE_FULL`) or an errno (`ENOSPC`): what the main thread acts on. */
  code?: string;
}

export type ReplyMessage =
  | { kind: 'reply'; id: number; ok: true; result: unknown }
  | { kind: 'reply'; id: number; ok: false; error: ErrorDescription }
  | { kind: 'ready' }
  | { kind: 'failed'; error: ErrorDescription };

const port = parentPort;
if (!port) throw new Error('sqlite-worker must run in a worker thread');

/**
 * Calls and replies cross the thread boundary as JSON text: one string copies faster than a
 * structured clone of many small objects (measured: postMessage was ~10 % of the event loop).
 */
function reply(message: ReplyMessage): void {
  port?.postMessage(JSON.stringify(message));
}

/**
 * A fresh append travels back as its sequence number alone: the caller still holds the request,
 * so sending the text and sender back would only cost copying and parsing on the event loop.
 */
export type CompactAppend = AppendResult | { ok: true; seq: number; accessVersion: number };

function compactAppends(results: AppendResult[]): CompactAppend[] {
  return results.map((r) =>
    r.ok && !r.duplicate ? { ok: true, seq: r.entry.seq, accessVersion: r.accessVersion } : r,
  );
}

function describe(error: unknown): ErrorDescription {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string'
    ? { name: error.name, message: error.message, code }
    : { name: error.name, message: error.message };
}

try {
  const store = await createSqliteStore(workerData as SqliteOptions);
  port.on('message', (text: string) => {
    const call = JSON.parse(text) as CallMessage;
    // JSON has no undefined: an omitted optional argument arrives as null.
    const args = call.args.map((arg) => (arg === null ? undefined : arg));
    const method = store[call.method].bind(store) as (...args: unknown[]) => Promise<unknown>;
    method(...args).then(
      (result) => {
        const compact =
          call.method === 'appendEntries' ? compactAppends(result as AppendResult[]) : result;
        reply({ kind: 'reply', id: call.id, ok: true, result: compact });
      },
      (error: unknown) => {
        reply({ kind: 'reply', id: call.id, ok: false, error: describe(error) });
      },
    );
  });
  reply({ kind: 'ready' });
} catch (error) {
  reply({ kind: 'failed', error: describe(error) });
}
