// Where file contents live: one interface, a local folder by default (an S3-compatible bucket
// is a later implementation). Objects are streamed in and out and appear whole or not at all.
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

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
}

const TEMP_SUFFIX = '.partial';
/** Keys are ours (tenant id, file id, attempt), never a path a caller chose. */
const SAFE_KEY = /^[a-z0-9][a-z0-9-]{0,62}\/[A-Za-z0-9_-]{8,64}\.[0-9a-f]{16}$/;

/**
 * Objects as files under `root` (`<dataDir>/files`): written to a temporary name, fsynced, renamed
 * into place and the folder fsynced, so a reader never sees a half-written file.
 * @example const storage = createLocalFileStorage(path.join(dataDir, 'files'));
 */
export function createLocalFileStorage(root: string): FileStorage {
  function fileOf(key: string): string {
    if (!SAFE_KEY.test(key)) throw new Error(`Invalid storage key ${JSON.stringify(key)}.`);
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
      let tenants: string[];
      try {
        tenants = await readdir(root);
      } catch {
        return 0;
      }
      for (const tenant of tenants)
        for (const name of await readdir(path.join(root, tenant)).catch(() => []))
          if (name.endsWith(TEMP_SUFFIX)) {
            const file = path.join(root, tenant, name);
            const info = await stat(file).catch(() => undefined);
            if (!info || info.mtimeMs > before) continue;
            await rm(file, { force: true });
            removed += 1;
          }
      return removed;
    },
  };
}
