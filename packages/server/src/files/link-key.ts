// The key that signs file download links: made once in the data folder, the same on every node
// sharing it (createFileOnce), never in the database.
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { createFileOnce } from '../core/data-files.js';

/** Loads `<dataDir>/relay/file-link-key`, creating it on first use. */
export function loadFileLinkKey(dataDir: string): Buffer {
  const file = path.join(dataDir, 'relay', 'file-link-key');
  try {
    return Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  createFileOnce(file, `${randomBytes(32).toString('base64')}\n`);
  return Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
}
