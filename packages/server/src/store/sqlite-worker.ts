// Worker-thread side of the threaded SQLite store: owns the database and answers calls from the
// relay's main thread, so SQL and fsync never block socket I/O.
import { parentPort, workerData } from 'node:worker_threads';
import { createSqliteStore, type SqliteOptions } from './sqlite.js';
import type { Store } from './types.js';

export type StoreMethod = Exclude<keyof Store, 'migrate'>;

export interface CallMessage {
  id: number;
  method: StoreMethod;
  args: unknown[];
}

interface ErrorDescription {
  name: string;
  message: string;
}

export type ReplyMessage =
  | { kind: 'reply'; id: number; ok: true; result: unknown }
  | { kind: 'reply'; id: number; ok: false; error: ErrorDescription }
  | { kind: 'ready' }
  | { kind: 'failed'; error: ErrorDescription };

const port = parentPort;
if (!port) throw new Error('sqlite-worker must run in a worker thread');

function describe(error: unknown): ErrorDescription {
  return error instanceof Error
    ? { name: error.name, message: error.message }
    : { name: 'Error', message: String(error) };
}

try {
  const store = await createSqliteStore(workerData as SqliteOptions);
  port.on('message', (call: CallMessage) => {
    const method = store[call.method].bind(store) as (...args: unknown[]) => Promise<unknown>;
    method(...call.args).then(
      (result) => {
        port.postMessage({ kind: 'reply', id: call.id, ok: true, result } satisfies ReplyMessage);
      },
      (error: unknown) => {
        port.postMessage({
          kind: 'reply',
          id: call.id,
          ok: false,
          error: describe(error),
        } satisfies ReplyMessage);
      },
    );
  });
  port.postMessage({ kind: 'ready' } satisfies ReplyMessage);
} catch (error) {
  port.postMessage({ kind: 'failed', error: describe(error) } satisfies ReplyMessage);
}
