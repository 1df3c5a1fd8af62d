// A full disk under the store, made for real: a small tmpfs that a filler file fills to the last
// byte, holding the embedded store's data folder, or a PostgreSQL tablespace that the messages
// table is moved to (PostgreSQL then answers SQLSTATE 53100). Sends are refused (never acked
// unstored), /readyz says 503 while the store cannot write, the log names the disk once per
// episode and once at recovery, and writes resume by themselves once space is freed. With SQLite,
// reads keep answering meanwhile (their audit entries go to the released disk reserve).
import { execFileSync } from 'node:child_process';
import {
  chownSync,
  closeSync,
  mkdtempSync,
  openSync,
  rmSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Sqlite from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
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
  type RawSocket,
  type TestRelay,
} from '../helpers.js';
import { describeWithServices } from '../needs-services.js';

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

type LogLine = { msg: string; level: number };
const logLines = (relay: TestRelay) =>
  relay
    .logs()
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as LogLine);

/**
 * Sends messages of `text` until the relay refuses one (20 at most): a commit grows the
 * write-ahead log, so a few sends may find room left in its last block. Acked ids go to `acked`.
 */
async function sendUntilRefused(socket: RawSocket, text: string, acked: string[]) {
  for (let i = 0; i < 20; i++) {
    const id = `full-${String(i).padStart(4, '0')}`;
    const ack = await call(socket, 'message.send', { conversationId: 'c-1', id, text });
    if (!ack.ok) return ack.error;
    acked.push(id);
  }
  return undefined;
}

const required = process.env.CARETHREAD_REQUIRE_SERVICES === '1';

/**
 * A small disk for one describe block: mounted before its tests, unmounted by `release` (after
 * the relay on it has closed). Mounted in a hook, so a run that filters the tests out mounts none.
 */
function smallDisk(size: string) {
  let mount: { folder: string } | { reason: string } | undefined;
  beforeAll(() => {
    mount = mountSmallDisk(size);
  });
  return {
    /** The mounted folder; skips the test (fails it when services are required) if mounting is refused. */
    folder(context: { skip: (note?: string) => never }): string {
      if (mount && 'folder' in mount) return mount.folder;
      const reason = mount?.reason ?? 'the disk was not mounted';
      console.warn(`full disk: ${required ? 'cannot run' : 'SKIPPED'}; ${reason}.`);
      if (required) expect.fail(reason);
      return context.skip(reason);
    },
    release() {
      if (!mount || !('folder' in mount)) return;
      execFileSync('umount', [mount.folder]);
      rmSync(mount.folder, { recursive: true, force: true });
    },
  };
}

describe('a full disk under the embedded store', () => {
  let relay: TestRelay | undefined;
  const disk = smallDisk('8m');
  afterAll(async () => {
    await relay?.close().catch(() => undefined);
    disk.release();
  });

  it('refuses sends, answers 503 and keeps reads, names the disk once, and resumes when space is freed', async (context) => {
    const folder = disk.folder(context);
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
    // A read first: its audit entry may be the first write to meet the full disk; it is then
    // written in the room the released reserve makes.
    const first = await call(alice, 'history.page', { conversationId: 'c-1' });
    expect(first.ok && first.data.messages.map((m) => m.id)).toEqual(['before-0001']);
    const text = 'x'.repeat(3000);
    const refused = await sendUntilRefused(alice, text, acked);
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

    const lines = () => logLines(started);
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

describeWithServices('a full disk under PostgreSQL', ['DATABASE_URL'], ({ DATABASE_URL: url }) => {
  const admin = new Kysely<unknown>({
    dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 1 }) }),
  });
  const suffix = randomBytes(5).toString('hex');
  const schema = `ct_full_${suffix}`;
  const tablespace = `ct_full_${suffix}`;
  const disk = smallDisk('4m');
  let relay: TestRelay | undefined;
  afterAll(async () => {
    await relay?.close().catch(() => undefined);
    await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(admin);
    await sql`drop tablespace if exists ${sql.id(tablespace)}`.execute(admin);
    await admin.destroy();
    disk.release();
  });

  it('refuses sends with SQLSTATE 53100, answers 503, names the disk once, and resumes when space is freed', async (context) => {
    const folder = disk.folder(context);
    // PostgreSQL runs on this machine (as in CI): its own user must own the tablespace folder.
    const dataDirectory = await sql<{
      dir: string;
    }>`select current_setting('data_directory') as dir`.execute(admin);
    const { uid, gid } = statSync(dataDirectory.rows[0]?.dir ?? '');
    chownSync(folder, uid, gid);
    await sql`create tablespace ${sql.id(tablespace)} location ${sql.lit(folder)}`.execute(admin);

    const started = await startRelay({ databaseUrl: url, postgres: { poolSize: 4, schema } });
    relay = started;
    await seedConversation(started, 'c-1', [{ userId: 'alice', role: 'patient' }]);
    // Messages now live on the small disk; everything else stays where it was.
    await sql`alter table ${sql.id(schema, 'entries')} set tablespace ${sql.id(tablespace)}`.execute(
      admin,
    );
    const alice = await connectAs(started, await started.token('alice', 'patient'));
    await ok(alice, 'message.send', { conversationId: 'c-1', id: 'before-0001', text: 'kept' });
    const acked = ['before-0001'];

    const filler = path.join(folder, 'filler');
    fillDisk(filler);
    const text = 'x'.repeat(3000);
    const refused = await sendUntilRefused(alice, text, acked);
    expect(refused?.code).toBe('UNAVAILABLE');
    expect(refused?.message).toContain('disk is full');
    const again = await call(alice, 'message.send', { conversationId: 'c-1', id: 'again', text });
    expect(again.ok).toBe(false);

    const ready = await fetch(`${started.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: 'store-full' });
    const full = logLines(started).filter((l) => l.msg.includes('is full'));
    expect(full).toHaveLength(1);
    expect(full[0]?.msg).toContain('the disk of the PostgreSQL server');
    expect(full[0]?.level).toBeGreaterThanOrEqual(50);

    unlinkSync(filler);
    await ok(alice, 'message.send', { conversationId: 'c-1', id: 'after-0001', text });
    acked.push('after-0001');
    expect((await fetch(`${started.url}/readyz`)).status).toBe(200);
    expect(logLines(started).filter((l) => l.msg.includes('writes resumed'))).toHaveLength(1);
    expect(logLines(started).filter((l) => l.msg.includes('is full'))).toHaveLength(1);
    const stored = (await started.relay.store.entriesAfter('dev', 'c-1', 0, 1000)).entries;
    expect(stored.map((e) => e.id)).toEqual(acked);
    alice.close();
  });
});
