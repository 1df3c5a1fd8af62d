// Backup and restore of the PostgreSQL store, as docs/operations.md tells an operator to do it:
// pg_dump the relay's schema, wipe it, pg_restore, start the relay on it with the same data folder,
// and check that history, sequence numbers, the audit trail and the consent chains are intact (and
// that the check really catches a tampered row). The data folder holds the master key: the database
// alone cannot be read.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { JSONWebKeySet } from 'jose';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { afterAll, expect, it } from 'vitest';
import type { ApiAuditEvent, ApiConsentEvent } from '@carethread/shared';
import { verifyReceipt } from '../../src/consent/receipts.js';
import { generatedKeyFile } from '../../src/master-keys.js';
import { verifyAuditChain, verifyConsentEventChain } from '../../src/store/chain.js';
import { connectAs, ok, seedConversation, startRelay, type TestRelay } from '../helpers.js';
import { describeWithServices } from '../needs-services.js';
import { allPages } from './host-pages.js';
import { expectNothingLost, printTally, tally } from './tally.js';

const run = promisify(execFile);

describeWithServices(
  'backup and restore of the PostgreSQL store',
  ['DATABASE_URL'],
  ({ DATABASE_URL: url }) => {
    const schema = `ct_fault_${randomBytes(6).toString('hex')}`;
    const admin = new Kysely<unknown>({
      dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 1 }) }),
    });
    const folder = mkdtempSync(path.join(tmpdir(), 'carethread-backup-'));
    const dataDir = path.join(folder, 'data');
    const dump = path.join(folder, 'carethread.dump');
    afterAll(async () => {
      await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(admin);
      await admin.destroy();
      rmSync(folder, { recursive: true, force: true });
    });

    const config = { databaseUrl: url, postgres: { poolSize: 4, schema } };
    const conversations = ['c-backup-a', 'c-backup-b'];

    /** Everything a restore must bring back, read through the relay as clients and the host see it. */
    async function snapshot(relay: TestRelay) {
      // The tenant's whole trail, read first: every read below is itself audited and grows it.
      const audit = await allPages<ApiAuditEvent>(relay.url, relay.apiKey, '/api/v1/audit');
      const doctor = await connectAs(relay, await relay.token('dr-rivera', 'provider'));
      try {
        const entries = [];
        for (const conversationId of conversations)
          entries.push(...(await ok(doctor, 'sync', { conversationId, afterSeq: 0 })).entries);
        const { requests } = await ok(doctor, 'consent.list', { conversationId: conversations[0] });
        const consents = await Promise.all(
          requests.map(async (request) => ({
            request,
            events: await allPages<ApiConsentEvent>(
              relay.url,
              relay.apiKey,
              `/api/v1/consent-requests/${request.requestId}/events`,
            ),
            receipt: await (
              await fetch(`${relay.url}/api/v1/consent-requests/${request.requestId}/receipt`, {
                headers: { authorization: `Bearer ${relay.apiKey}` },
              })
            ).text(),
            pdf: (await ok(doctor, 'consent.pdf', { requestId: request.requestId })).sha256,
          })),
        );
        return { entries, audit, consents };
      } finally {
        doctor.close();
      }
    }

    type Snapshot = Awaited<ReturnType<typeof snapshot>>;
    function verifyChains(state: Snapshot) {
      return {
        audit: verifyAuditChain('dev', state.audit),
        consents: state.consents.map(({ request, events }) =>
          verifyConsentEventChain('dev', request.requestId, events),
        ),
      };
    }

    it('restores a dumped and wiped schema whole: history, seqs, audit trail, consent chains', async () => {
      // Traffic of every kind: conversations, members, messages, an edit, a consent signed and revoked.
      const first = await startRelay(config, dataDir);
      const sent = new Set<string>();
      const acked = new Map<string, number>();
      let before: Snapshot;
      try {
        await seedConversation(first, conversations[0] ?? '', [
          { userId: 'alice', role: 'patient', displayName: 'Alice Moreno' },
          { userId: 'bob', role: 'family', displayName: 'Bob Moreno', relationship: 'father' },
        ]);
        await seedConversation(first, conversations[1] ?? '', [
          { userId: 'carol', role: 'patient', displayName: 'Carol' },
        ]);
        const doctor = await connectAs(first, await first.token('dr-rivera', 'provider'));
        const alice = await connectAs(
          first,
          await first.token('alice', 'patient', { name: 'Alice Moreno' }),
        );
        try {
          await ok(doctor, 'participant.add', {
            conversationId: conversations[1] ?? '',
            participant: { userId: 'nurse-kim', role: 'staff', displayName: 'Nurse Kim' },
          });
          for (let n = 0; n < 24; n++) {
            const conversationId = conversations[n % 2] ?? '';
            const id = `backup-msg-${String(n).padStart(3, '0')}`;
            sent.add(id);
            const ack = await ok(doctor, 'message.send', {
              conversationId,
              id,
              text: `note ${id}`,
            });
            acked.set(id, ack.seq);
          }
          await ok(doctor, 'message.edit', {
            conversationId: conversations[0] ?? '',
            id: 'backup-edit-001',
            // The first message (the seeded consent's steps come before it).
            targetSeq: acked.get('backup-msg-000') ?? 0,
            text: 'note corrected',
          });
          const [consent] = (await ok(alice, 'consent.list', {})).requests;
          await ok(alice, 'consent.revoke', {
            requestId: consent?.requestId ?? '',
            signature: { method: 'typed', name: 'Alice Moreno' },
          });
        } finally {
          doctor.close();
          alice.close();
        }
        before = await snapshot(first);
      } finally {
        await first.close();
      }
      expect(before.consents.map((c) => c.events.map((e) => e.type))).toEqual([
        ['requested', 'viewed', 'signed', 'revoked'],
      ]);

      // Back up, wipe, restore: the commands of docs/operations.md.
      await run('pg_dump', [
        '--format=custom',
        `--schema=${schema}`,
        `--file=${dump}`,
        `--dbname=${url}`,
      ]);
      await sql`drop schema ${sql.id(schema)} cascade`.execute(admin);
      const wiped = await sql`select 1 from pg_namespace where nspname = ${schema}`.execute(admin);
      expect(wiped.rows).toEqual([]);
      await run('pg_restore', ['--exit-on-error', '--no-owner', `--dbname=${url}`, dump]);

      const restored = await startRelay(config, dataDir);
      try {
        const after = await snapshot(restored);
        expect(after.entries).toEqual(before.entries);
        expect(after.consents).toEqual(before.consents);
        // The trail as it was, followed by the accesses of taking the first snapshot.
        expect(after.audit.slice(0, before.audit.length)).toEqual(before.audit);
        const chains = verifyChains(after);
        expect(chains.audit).toMatchObject({ ok: true, entries: after.audit.length });
        expect(chains.consents.every((c) => c.ok)).toBe(true);
        // Receipts verify against the restored relay's JWKS: its key came back with the data folder.
        const jwks = (await (
          await fetch(`${restored.url}/.well-known/jwks.json`)
        ).json()) as JSONWebKeySet;
        for (const { receipt } of after.consents) await verifyReceipt(receipt, jwks);

        const stored = after.entries
          .filter((e) => e.kind === 'message')
          .map((e) => ({ id: e.id, seq: e.seq, conversationId: e.conversationId }));
        const result = tally({
          sent,
          acked,
          stored,
          views: conversations.map((c) => stored.filter((e) => e.conversationId === c)),
        });
        printTally('PostgreSQL store dumped, wiped and restored', result);
        expectNothingLost(result);
        expect(result.stored).toBe(sent.size);

        // Sequences came back too: new entries and audit events follow on, and the chain goes on.
        const doctor = await connectAs(restored, await restored.token('dr-rivera', 'provider'));
        try {
          const lastSeq = Math.max(
            ...after.entries.filter((e) => e.conversationId === conversations[0]).map((e) => e.seq),
          );
          const next = await ok(doctor, 'message.send', {
            conversationId: conversations[0] ?? '',
            id: 'after-restore-001',
            text: 'first note after the restore',
          });
          expect(next.seq).toBe(lastSeq + 1);
          await ok(doctor, 'participant.add', {
            conversationId: conversations[0] ?? '',
            participant: { userId: 'nurse-lee', role: 'staff', displayName: 'Nurse Lee' },
          });
        } finally {
          doctor.close();
        }
        const grown = await snapshot(restored);
        expect(verifyChains(grown).audit).toMatchObject({ ok: true });
        expect(grown.audit.map((e) => e.action)).toEqual(
          expect.arrayContaining(['message.sent', 'participant.added']),
        );
        expect(grown.audit.length).toBeGreaterThan(after.audit.length);

        // The check catches tampering: one audit row and one consent event altered in place.
        const victim = before.audit[1];
        await sql`update ${sql.id(schema, 'audit_events')} set detail = '{"role":"provider"}'
        where seq = ${victim?.seq ?? 0}`.execute(admin);
        await sql`update ${sql.id(schema, 'consent_events')} set at = '2020-01-01T00:00:00.000Z'
        where seq = 2`.execute(admin);
        const tampered = verifyChains(await snapshot(restored));
        console.log(
          `backup ${String(statSync(dump).size)} bytes; audit entries ${String(before.audit.length)}, consent events ${String(before.consents[0]?.events.length)}; after tampering: audit ${JSON.stringify(tampered.audit)}, consent ${JSON.stringify(tampered.consents[0])}`,
        );
        expect(tampered.audit).toMatchObject({ ok: false, seq: victim?.seq });
        expect(tampered.consents[0]).toMatchObject({ ok: false, seq: 2 });
      } finally {
        await restored.close();
      }

      // Without the data folder the database alone is not enough. Without its master key a relay
      // cannot open the data at all, and says so at startup.
      await expect(startRelay(config)).rejects.toThrow(
        /master key mk-[0-9a-f]+, which is not configured/,
      );
      // With the master key alone, it reads the data but publishes another receipt key, and the
      // restored receipts no longer verify against it.
      const keyOnly = mkdtempSync(path.join(tmpdir(), 'carethread-key-only-'));
      mkdirSync(path.join(keyOnly, 'relay'));
      copyFileSync(generatedKeyFile(dataDir), generatedKeyFile(keyOnly));
      const stranger = await startRelay(config, keyOnly);
      try {
        const jwks = (await (
          await fetch(`${stranger.url}/.well-known/jwks.json`)
        ).json()) as JSONWebKeySet;
        await expect(verifyReceipt(before.consents[0]?.receipt ?? '', jwks)).rejects.toThrow();
      } finally {
        await stranger.close();
        rmSync(keyOnly, { recursive: true, force: true });
      }
    }, 30_000);
  },
);
