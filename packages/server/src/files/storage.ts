// Where file contents live: one interface, a local folder by default or an S3-compatible bucket
// (s3-storage.ts). Objects are streamed in and out and appear whole or not at all.
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** A complete object as a listing sees it. */
export interface StoredObject {
  key: string;
  /** When it was written (S3: its Last-Modified, to the second). */
  modifiedAt: Date;
}

export interface FileStorage {
  /**
   * Streams `source` into the object `key`. Nothing is visible under `key` until every byte is
   * durable; on any error (or a crash) the partial object is gone. Resolves with its size.
   */
  put(key: string, source: Readable): Promise<number>;
  /** The object's bytes, or undefined when there is no (complete) object under `key`. */
  get(key: string): Promise<Readable | undefined>;
  remove(key: string): Promise<void>;
  /**
   * Removes what interrupted writes left behind, older than `olderThanMs` (another node sharing
   * the folder may be writing the newer ones); how many it removed.
   */
  sweepPartial(olderThanMs: number): Promise<number>;
  /**
   * Every complete object written more than `olderThanMs` ago, in no particular order: what the
   * orphan sweep checks against the store. Names that are not storage keys are skipped.
   */
  list(olderThanMs: number): AsyncIterable<StoredObject>;
  /** Lets go of connections (the relay is closing). */
  close(): void;
}

const TEMP_SUFFIX = '.partial';
/** Keys are ours (tenant id, file id, attempt), never a path a caller chose. */
const SAFE_KEY = /^[a-z0-9][a-z0-9-]{0,62}\/[A-Za-z0-9_-]{8,64}\.[0-9a-f]{16}$/;

/** Whether `key` is one of ours: `<tenant>/<file id>.<attempt>`. */
export const isStorageKey = (key: string): boolean => SAFE_KEY.test(key);

/**
 * Objects as files under `root` (`<dataDir>/files`): written to a temporary name, fsynced, renamed
 * into place and the folder fsynced, so a reader never sees a half-written file.
 * @example const storage = createLocalFileStorage(path.join(dataDir, 'files'));
 */
export function createLocalFileStorage(root: string): FileStorage {
  function fileOf(key: string): string {
    if (!isStorageKey(key)) throw new Error(`Invalid storage key ${JSON.stringify(key)}.`);
    return path.join(root, key);
  }
  async function syncPath(target: string): Promise<void> {
    const handle = await open(target, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  /** Every entry of every tenant folder, with its stat when it still exists. */
  async function* entries() {
    let tenants: string[];
    try {
      tenants = await readdir(root);
    } catch {
      return;
    }
    for (const tenant of tenants)
      for (const name of await readdir(path.join(root, tenant)).catch(() => [])) {
        const file = path.join(root, tenant, name);
        const info = await stat(file).catch(() => undefined);
        if (info?.isFile()) yield { tenant, name, file, info };
      }
  }

  return {
    async put(key, source) {
      const file = fileOf(key);
      await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
      const temporary = `${file}.${randomBytes(4).toString('hex')}${TEMP_SUFFIX}`;
      try {
        await pipeline(source, createWriteStream(temporary, { flags: 'wx', mode: 0o600 }));
        // Durable before visible: the rename publishes bytes already on disk.
        await syncPath(temporary);
        await rename(temporary, file);
        await syncPath(path.dirname(file));
        return (await stat(file)).size;
      } catch (error) {
        await rm(temporary, { force: true });
        throw error;
      }
    },

    async get(key) {
      const file = fileOf(key);
      try {
        const handle = await open(file, 'r');
        return createReadStream('', { fd: handle });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      }
    },

    async remove(key) {
      await rm(fileOf(key), { force: true });
    },

    async sweepPartial(olderThanMs) {
      const before = Date.now() - olderThanMs;
      let removed = 0;
      for await (const { name, file, info } of entries())
        if (name.endsWith(TEMP_SUFFIX) && info.mtimeMs <= before) {
          await rm(file, { force: true });
          removed += 1;
        }
      return removed;
    },

    async *list(olderThanMs) {
      const before = Date.now() - olderThanMs;
      for await (const { tenant, name, info } of entries()) {
        const key = `${tenant}/${name}`;
        if (isStorageKey(key) && info.mtimeMs <= before) yield { key, modifiedAt: info.mtime };
      }
    },

    close() {
      // Nothing held open between calls.
    },
  };
}
