// Files a relay creates once in its data folder (keys), which several nodes sharing the folder
// may race to create and a crash may interrupt: each is written whole under a temporary name and
// then linked into place, so a reader sees no file or the complete one, and the first one wins.
import {
  closeSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';

/**
 * Creates `file` (readable by this user only) with `contents` unless it exists. Returns false
 * when another process created it first: read theirs.
 */
export function createFileOnce(file: string, contents: string): boolean {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const temporary = `${file}.${String(process.pid)}-${randomBytes(4).toString('hex')}.tmp`;
  const fd = openSync(temporary, 'wx', 0o600);
  try {
    writeSync(fd, contents);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(temporary, file); // atomic, and fails if the file exists
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return false;
  } finally {
    unlinkSync(temporary);
  }
}
