// A full disk under the embedded store, made for real: the relay's data folder is a small tmpfs
// that a filler file fills to the last byte. Sends are refused (never acked unstored), /readyz
// says 503 while the store cannot write, reads keep answering, the log names the disk once per
// episode and once at recovery, and writes resume by themselves once space is freed.
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Sqlite from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSqliteStore } from '../../src/store/sqlite.js';
import {
  call,
  connectAs,
  dataFolderKeys,
  ok,
  seedConversation,
  startRelay,
  waitFor,
  type TestRelay,
} from '../helpers.js';

/** Mounts a tmpfs of `size` on a fresh folder; the reason when this machine does not allow it. */
function mountSmallDisk(size: string): { folder: string } | { reason: string } {
  const folder = mkdtempSync(path.join(tmpdir(), 'carethread-full-disk-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', folder], {
      stdio: 'pipe',
    });
    return { folder };
  } catch (error) {
    rmSync(folder, { recursive: true, force: true });
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    return { reason: `mounting a tmpfs is not permitted here (${stderr || String(error)})` };
  }
}

/** Writes `file` until the disk refuses another byte; returns the bytes written. */
function fillDisk(file: string): number {
  const fd = openSync(file, 'w');
  let written = 0;
  try {
    for (let chunk = 1 << 20; chunk >= 1;) {
      try {
        written += writeSync(fd, Buffer.alloc(chunk, 1));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
        chunk >>= 1;
      }
    }
  } finally {
    closeSync(fd);
  }
  return written;
}

const mounted = mountSmallDisk('8m');
const required = process.env.CARETHREAD_REQUIRE_SERVICES === '1';
if ('reason' in mounted)
  console.warn(`full disk: ${required ? 'cannot run' : 'SKIPPED'}; ${mounted.reason}.`);

describe.runIf('folder' in mounted || required)('a full disk under the embedded store', () => {
  let relay: TestRelay | undefined;
  const folder = 'folder' in mounted ? mounted.folder : '';
  afterAll(async () => {
    await relay?.close().catch(() => undefined);
    if (folder) {
      execFileSync('umount', [folder]);
      rmSync(folder, { recursive: true, force: true });
    }
  });
  beforeAll(() => {
    if ('reason' in mounted) expect.fail(mounted.reason);
  });

  it('refuses sends, answers 503 and keeps reads, names the disk once, and resumes when space is freed', async () => {
    const started = await startRelay(
      { sqlite: { synchronous: 'normal', diskReserveBytes: 1024 * 1024 } },
      folder,
    );
    relay = started;
    await seedConversation(started, 'c-1', [{ userId: 'alice', role: 'patient' }]);
    const alice = await connectAs(started, await started.token('alice', 'patient'));
    await ok(alice, 'message.send', { conversationId: 'c-1', id: 'before-0001', text: 'kept' });
    const acked = ['before-0001'];
    const dbFile = path.join(folder, 'carethread.sqlite');

    const filler = path.join(folder, 'filler');
    fillDisk(filler);
    // A commit grows the write-ahead log; a few sends at most find room left in its last block.
    const text = 'x'.repeat(3000);
    let refused: { code: string; message: string } | undefined;
    for (let i = 0; i < 20 && !refused; i++) {
      const id = `full-${String(i).padStart(4, '0')}`;
      const ack = await call(alice, 'message.send', { conversationId: 'c-1', id, text });
      if (ack.ok) acked.push(id);
      else refused = ack.error;
    }
    expect(refused?.code).toBe('UNAVAILABLE');
    // More refusals in the same episode: still one log line.
    for (let i = 0; i < 3; i++) {
      const ack = await call(alice, 'message.send', {
        conversationId: 'c-1',
        id: `again-${String(i)}`,
        text,
      });
      expect(ack.ok).toBe(false);
    }

    const ready = await fetch(`${started.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: 'store-full' });
    const page = await call(alice, 'history.page', { conversationId: 'c-1' });
    expect(page.ok && page.data.messages.map((m) => m.id)).toEqual(acked);

    const lines = () =>
      started
        .logs()
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as { msg: string; level: number });
    const fullLines = lines().filter((l) => l.msg.includes('is full'));
    expect(fullLines).toHaveLength(1);
    expect(fullLines[0]?.msg).toContain(`the disk holding ${dbFile} is full`);
    expect(fullLines[0]?.level).toBeGreaterThanOrEqual(50);
    expect(lines().some((l) => l.msg.includes('cannot rollback'))).toBe(false);

    unlinkSync(filler);
    await waitFor(
      () => lines().some((l) => l.msg.includes('writes resumed')),
      10_000,
      'the recovery log line',
    );
    expect((await fetch(`${started.url}/readyz`)).status).toBe(200);
    await ok(alice, 'message.send', { conversationId: 'c-1', id: 'after-0001', text });
    acked.push('after-0001');
    expect(lines().filter((l) => l.msg.includes('writes resumed'))).toHaveLength(1);
    expect(lines().filter((l) => l.msg.includes('is full'))).toHaveLength(1);
    alice.close();
    await started.close();
    relay = undefined;

    // The store is whole and holds exactly what was acked.
    const store = await createSqliteStore({ filename: dbFile, masterKeys: dataFolderKeys(folder) });
    try {
      const stored = (await store.entriesAfter('dev', 'c-1', 0, 1000)).entries.map((e) => e.id);
      expect(stored).toEqual(acked);
    } finally {
      await store.close();
    }
    const database = new Sqlite(dbFile, { readonly: true });
    try {
      expect(database.pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      database.close();
    }
  });
});
