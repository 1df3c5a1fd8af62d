import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Sqlite from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect, sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { migrationProvider } from '../../src/store/migrations.js';
import { createSqliteStore } from '../../src/store/sqlite.js';
import { createThreadedSqliteStore } from '../../src/store/threaded.js';
import { TEST_MASTER_KEYS as masterKeys } from '../helpers.js';
import { describeStoreContract } from './contract.js';

describeStoreContract('SQLite', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'carethread-store-'));
  const store = await createSqliteStore({
    filename: path.join(dir, 'test.sqlite'),
    outboxTenants: ['t1'],
    masterKeys,
  });
  return {
    store,
    cleanup: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describeStoreContract(
  'SQLite with the portable append path (the one PostgreSQL uses)',
  async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'carethread-store-'));
    const store = await createSqliteStore({
      filename: path.join(dir, 'test.sqlite'),
      portableAppends: true,
      outboxTenants: ['t1'],
      masterKeys,
    });
    return {
      store,
      cleanup: async () => {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
);

describeStoreContract('SQLite on a worker thread (what the relay uses)', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'carethread-store-'));
  const store = await createThreadedSqliteStore({
    filename: path.join(dir, 'test.sqlite'),
    outboxTenants: ['t1'],
    masterKeys,
  });
  return {
    store,
    cleanup: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('SQLite engine', () => {
  it('keeps consents signed before scopes meaning the conversation, its files included', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'carethread-store-'));
    const file = path.join(dir, 'test.sqlite');
    // A store as it was before consent scopes (migration 0019), with one grant in effect.
    const before = new Kysely<unknown>({
      dialect: new SqliteDialect({ database: new Sqlite(file) }),
    });
    const migrated = await new Migrator({
      db: before,
      provider: migrationProvider('sqlite'),
    }).migrateTo('0018_consent_template_translations');
    expect(migrated.error).toBeUndefined();
    await sql`insert into consent_grants
      (tenant_id, request_id, recipient_id, conversation_id, patient_id, expires_at, revoked_at)
      values ('t1', 'req-old', 'bob', 'c1', 'alice', '2999-01-01T00:00:00.000Z', null)`.execute(
      before,
    );
    await before.destroy();

    const store = await createSqliteStore({ filename: file, masterKeys });
    try {
      expect(await store.activeGrant('t1', 'c1', 'bob', new Date().toISOString())).toEqual({
        requestId: 'req-old',
        expiresAt: '2999-01-01T00:00:00.000Z',
        scopes: ['messages', 'files'],
      });
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs in WAL mode and migrates an existing file only once', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'carethread-store-'));
    const file = path.join(dir, 'test.sqlite');
    const first = await createSqliteStore({ filename: file, masterKeys });
    await first.close();
    const second = await createSqliteStore({ filename: file, masterKeys });
    await second.close();
    const raw = new Sqlite(file, { readonly: true });
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    // Every numbered migration ran once, not twice.
    const names = raw.prepare('select name from kysely_migration order by name').pluck().all();
    expect(names).toEqual([
      '0001_conversations_participants_entries',
      '0002_consent_templates',
      '0003_consent_requests_records_events',
      '0004_consent_grants',
      '0005_consent_record_pdf',
      '0006_api_idempotency',
      '0007_webhook_outbox',
      '0008_conversation_archive',
      '0009_audit_events',
      '0010_conversation_access_version',
      '0011_webhook_leases',
      '0012_revoked_tokens',
      '0013_audit_by_person',
      '0014_data_keys',
      '0015_files',
      '0016_entry_audience',
      '0017_consent_revocation',
      '0018_consent_template_translations',
      '0019_consent_scopes',
    ]);
    raw.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('rolls back the whole batch when the write fails part-way', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'carethread-store-'));
    const file = path.join(dir, 'test.sqlite');
    const store = await createSqliteStore({ filename: file, masterKeys });
    await store.createConversation(
      {
        tenantId: 't',
        conversationId: 'c',
        title: 'c',
        createdBy: 'a',
        createdAt: new Date().toISOString(),
      },
      [{ userId: 'a', role: 'patient', displayName: 'A', relationship: null, title: null }],
    );
    // A trigger makes the insert of the second row fail, as a full disk or crash would.
    const raw = new Sqlite(file);
    raw.exec(
      `create trigger fail_second before insert on entries when new.seq = 2 begin select raise(abort, 'disk full'); end`,
    );
    raw.close();
    const sender = { userId: 'a', role: 'patient' as const, displayName: 'A' };
    const request = (clientId: string) => ({
      kind: 'message' as const,
      tenantId: 't',
      conversationId: 'c',
      clientId,
      sender,
      text: 'x',
      at: new Date().toISOString(),
    });
    await expect(
      store.appendEntries([request('id-batch-01'), request('id-batch-02')]),
    ).rejects.toThrow(/disk full/);
    expect((await store.entriesAfter('t', 'c', 0, 10)).entries).toEqual([]);
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
});
