// Whether the store can write. A disk-full episode (SQLite's SQLITE_FULL, PostgreSQL's SQLSTATE
// 53100 disk_full, ENOSPC) begins at the first write refused for lack of space and ends when space
// is back: /readyz says 503 meanwhile, and the log names the disk once when it begins and once
// when writes resume. Every read is recorded in the audit trail before it is shown, so a read
// needs a small write too: the embedded store keeps a reserve file beside its database, which a
// full disk releases so reads go on being recorded while sends are refused.
import {
  closeSync,
  openSync,
  renameSync,
  statSync,
  statfsSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import type { Logger } from 'pino';
import { RelayError } from '../core/errors.js';
import type { Store } from './types.js';

/** Codes of a write refused for lack of space: SQLite, PostgreSQL (53100 disk_full), errno. */
const FULL_CODES = new Set(['SQLITE_FULL', '53100', 'ENOSPC', 'EDQUOT']);
const FULL_MESSAGES = /database or disk is full|No space left on device|Disk quota exceeded/;

/** Whether `error` (or an error it wraps) says the disk under the store is full. */
export function isDiskFull(error: unknown, depth = 0): boolean {
  if (!(error instanceof Error) || depth > 5) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && FULL_CODES.has(code)) return true;
  if (FULL_MESSAGES.test(error.message)) return true;
  return isDiskFull(error.cause, depth + 1);
}

/** What a client is told when its write met a full disk (UNAVAILABLE: it retries by itself). */
export const DISK_FULL =
  "The relay's disk is full, so this could not be saved. Try again once space is freed; the chat sends messages again by itself.";

/** Free space the embedded store wants beyond its reserve before it calls a disk-full episode over. */
const HEADROOM_BYTES = 1024 * 1024;

export interface WriteHealthOptions {
  logger: Logger;
  /** The disk as an operator knows it: `the disk holding /data/carethread.sqlite`. */
  disk: string;
  /** A folder on that disk, when this process can see it (SQLite): its free space ends an episode. */
  folder?: string;
  /** A file of `bytes` kept on that disk and released to the audit trail when the disk fills. */
  reserve?: { file: string; bytes: number };
  /** How often free space is checked during an episode. */
  checkEveryMs?: number;
  /** Told when an episode begins (true) and ends (false): the metric. */
  onChange?: (full: boolean) => void;
}

export interface WriteHealth {
  /** The store, with disk-full errors answered as UNAVAILABLE and sends refused during an episode. */
  readonly store: Store;
  /** True while the store cannot write for lack of disk space. */
  readonly full: boolean;
  close(): void;
}

/** Writes `bytes` into `file` (whole, or not at all); false when the disk has no room for it. */
function createReserve(file: string, bytes: number): boolean {
  if (sizeOf(file) === bytes) return true;
  const temporary = `${file}.tmp`;
  const fd = openSync(temporary, 'w', 0o600);
  try {
    const chunk = Buffer.alloc(Math.min(bytes, 1024 * 1024));
    for (let written = 0; written < bytes;)
      written += writeSync(fd, chunk, 0, Math.min(chunk.length, bytes - written));
  } catch (error) {
    closeSync(fd);
    unlinkSync(temporary);
    if (isDiskFull(error)) return false;
    throw error;
  }
  closeSync(fd);
  renameSync(temporary, file);
  return true;
}

function sizeOf(file: string): number | undefined {
  try {
    return statSync(file).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    return undefined;
  }
}

function removeFile(file: string): void {
  try {
    unlinkSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

/**
 * Watches `store`'s writes for a full disk. With a `folder`, an episode ends once that disk has
 * free space again (checked every `checkEveryMs`) and the reserve is back; without one
 * (PostgreSQL, on another machine), at the first write that succeeds again.
 */
export function watchWrites(store: Store, options: WriteHealthOptions): WriteHealth {
  const { logger, disk, folder, reserve } = options;
  let full = false;
  let timer: NodeJS.Timeout | undefined;

  /** Starts an episode; true when this call did (and released the reserve, if there is one). */
  function begin(cause: unknown): boolean {
    if (full) return false;
    full = true;
    options.onChange?.(true);
    if (reserve) removeFile(reserve.file);
    logger.error(
      {
        err: cause,
        ...(reserve ? { reserveReleasedBytes: reserve.bytes } : {}),
      },
      `${disk} is full: free space on it, writes resume by themselves. Until then messages are refused (clients keep them and resend) and /readyz answers 503${reserve ? '; reads go on, recorded in the audit trail in the reserve the relay kept' : ''}.`,
    );
    if (folder) {
      timer = setInterval(check, options.checkEveryMs ?? 1000);
      timer.unref();
    }
    return true;
  }

  function end(): void {
    if (!full) return;
    full = false;
    clearInterval(timer);
    timer = undefined;
    options.onChange?.(false);
    logger.info(`${disk} has free space again: writes resumed.`);
  }

  function check(): void {
    if (!folder) return;
    try {
      const { bavail, bsize } = statfsSync(folder);
      if (bavail * bsize < (reserve?.bytes ?? 0) + HEADROOM_BYTES) return;
      if (reserve && !createReserve(reserve.file, reserve.bytes)) return;
      end();
    } catch (error) {
      logger.warn({ err: error }, `checking the free space of ${disk} failed; checking again`);
    }
  }

  // A reserve left by an earlier run is kept; one missing is made (a crash may have left a part).
  if (reserve) removeFile(`${reserve.file}.tmp`);
  const startedFull = reserve !== undefined && !createReserve(reserve.file, reserve.bytes);

  const refusal = (cause: unknown) => new RelayError('UNAVAILABLE', DISK_FULL, { cause });
  const guarded = new Proxy(store, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function' || typeof property !== 'string') return value;
      const method = value as (...args: unknown[]) => unknown;
      const isSend = property === 'appendEntries';
      const run = (args: unknown[], retried: boolean): unknown => {
        // The released reserve is for recording reads, not for new messages.
        if (full && reserve && isSend) return Promise.reject(refusal(undefined));
        const result = method.apply(target, args);
        if (!(result instanceof Promise)) return result;
        return result.then(
          (answer: unknown) => {
            if (full && !folder && (isSend || property === 'appendAuditEvents')) end();
            return answer;
          },
          (error: unknown) => {
            if (!isDiskFull(error)) throw error;
            // The failed transaction was rolled back, so the call that released the reserve
            // may run once more in the room it made (a read's audit entry, say).
            if (begin(error) && reserve && !isSend && !retried) return run(args, true);
            throw refusal(error);
          },
        );
      };
      return (...args: unknown[]) => run(args, false);
    },
  });

  // A disk already full at start: the reserve could not be made.
  if (startedFull) begin(new Error('No space left on device for the disk reserve'));

  return {
    store: guarded,
    get full() {
      return full;
    },
    close() {
      clearInterval(timer);
    },
  };
}
