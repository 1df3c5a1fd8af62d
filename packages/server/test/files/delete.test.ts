// Deleting a message (ADR 16, amended): a real relay, its sender deletes a message with a file.
// Readers see it deleted, without text or files, live, in history and in catch-up; the record
// (store row, host API, FHIR export, audit trail) keeps the message and its file.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiAuditEventPage, ApiEntryPage, type EditView } from '@carethread/shared';
import {
  call,
  connectAs,
  ok,
  rawEntries,
  seedConversation,
  startRelay,
  waitFor,
  type TestRelay,
} from '../helpers.js';
import { get, link, put } from './file-helpers.js';

const pdf = Buffer.concat([Buffer.from('%PDF-1.7\n'), randomBytes(3_000)]);

describe('deleting a message that shared a file', () => {
  let relay: TestRelay;
  let dataDir: string;
  beforeEach(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'carethread-delete-'));
    relay = await startRelay({ devTenantFiles: { maxBytes: 40_000 } }, dataDir);
    await seedConversation(relay, 'c1', [
      { userId: 'alice', role: 'patient' },
      { userId: 'bob', role: 'family', relationship: 'brother' },
    ]);
  });
  afterEach(async () => {
    await relay.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('hides it from readers and keeps it, with its file, in the record', async () => {
    const patient = await relay.token('alice', 'patient');
    const family = await relay.token('bob', 'family');
    const fileId = `f-${randomBytes(8).toString('hex')}`;
    const uploaded = await put(
      `${relay.url}/files/${fileId}?conversationId=c1&name=scan.pdf`,
      patient,
      pdf,
    );
    expect(uploaded.status).toBe(201);
    const alice = await connectAs(relay, patient);
    const bob = await connectAs(relay, family);
    try {
      await ok(bob, 'conversation.open', { conversationId: 'c1' });
      const live: EditView[] = [];
      bob.on('message.edited', (edit) => live.push(edit));
      const sent = await ok(alice, 'message.send', {
        conversationId: 'c1',
        id: 'msg-regret',
        text: 'Wrong scan, sorry',
        attachments: [fileId],
      });
      // Before the deletion the reader gets a link.
      const before = await link(relay.url, family, fileId);
      expect(before.status).toBe(200);

      // Only the sender may delete it.
      expect(
        await call(bob, 'message.delete', {
          conversationId: 'c1',
          id: 'delete-bob-01',
          targetSeq: sent.seq,
        }),
      ).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
      const deleted = await ok(alice, 'message.delete', {
        conversationId: 'c1',
        id: 'delete-alice-01',
        targetSeq: sent.seq,
      });
      expect(deleted).toMatchObject({ id: 'delete-alice-01', seq: sent.seq + 1 });
      // A retry is the same answer; a second deletion, or a correction after it, is refused.
      expect(
        await ok(alice, 'message.delete', {
          conversationId: 'c1',
          id: 'delete-alice-01',
          targetSeq: sent.seq,
        }),
      ).toEqual(deleted);
      for (const [event, payload] of [
        ['message.delete', { conversationId: 'c1', id: 'delete-again-01', targetSeq: sent.seq }],
        [
          'message.edit',
          { conversationId: 'c1', id: 'edit-late-0001', targetSeq: sent.seq, text: 'x' },
        ],
      ] as const) {
        expect(await call(alice, event, payload as never)).toMatchObject({
          ok: false,
          error: { code: 'CONFLICT' },
        });
      }
      // A deletion is not a message to delete.
      expect(
        await call(alice, 'message.delete', {
          conversationId: 'c1',
          id: 'delete-delete-1',
          targetSeq: deleted.seq,
        }),
      ).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });

      // Live, history and catch-up show it deleted, with neither text nor file.
      await waitFor(() => live.length > 0);
      expect(live[0]).toMatchObject({
        kind: 'edit',
        targetSeq: sent.seq,
        text: '',
        deleted: true,
        editedAt: deleted.deletedAt,
      });
      const history = await ok(bob, 'history.page', { conversationId: 'c1' });
      const shown = history.messages.find((m) => m.seq === sent.seq);
      expect(shown).toMatchObject({ text: '', deletedAt: deleted.deletedAt });
      expect(shown).not.toHaveProperty('attachments');
      const caughtUp = await ok(bob, 'sync', { conversationId: 'c1', afterSeq: 0 });
      expect(caughtUp.entries.map((e) => [e.kind, e.kind === 'event' ? null : e.text])).toEqual([
        ['message', ''],
        ['edit', ''],
      ]);
      expect(caughtUp.entries[0]).not.toHaveProperty('attachments');

      // Readers get no link to its file, the sender neither; the host API still serves it.
      for (const token of [family, patient]) {
        const refused = await link(relay.url, token, fileId);
        expect(refused).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND' } } });
      }
      // A link given out before the deletion no longer downloads.
      expect((await get(before.body.url ?? '')).status).toBe(404);
      const host = { authorization: `Bearer ${relay.apiKey}` };
      const fromHost = await fetch(`${relay.url}/api/v1/files/${fileId}`, { headers: host });
      expect(fromHost.status).toBe(200);
      expect(Buffer.from(await fromHost.arrayBuffer()).equals(pdf)).toBe(true);

      // The record: the store row keeps the sealed original; the host's export keeps text and file.
      // (The seeded consent's steps come first: system entries, read by the host's export too.)
      expect((await rawEntries(dataDir, 'c1')).filter((e) => e.kind !== 'event')).toEqual([
        { kind: 'message', text: 'Wrong scan, sorry' },
        { kind: 'delete', text: '' },
      ]);
      const exported = ApiEntryPage.parse(
        await (
          await fetch(`${relay.url}/api/v1/conversations/c1/entries`, { headers: host })
        ).json(),
      );
      expect(exported.items.find((e) => e.kind === 'message')).toMatchObject({
        text: 'Wrong scan, sorry',
        attachments: [{ fileId, name: 'scan.pdf' }],
        deletedAt: deleted.deletedAt,
      });

      // FHIR: the message is entered-in-error with its payload; the deletion points at it.
      const bundle = (await (
        await fetch(`${relay.url}/fhir/Communication?conversation=c1`, { headers: host })
      ).json()) as {
        entry: {
          resource: {
            status: string;
            payload?: { contentString?: string; contentAttachment?: { url: string } }[];
            extension: { url: string; valueReference?: { reference: string } }[];
          };
        }[];
      };
      const [message, deletion] = bundle.entry.map((e) => e.resource);
      expect(message).toMatchObject({
        status: 'entered-in-error',
        payload: [
          { contentString: 'Wrong scan, sorry' },
          { contentAttachment: { url: `${relay.url}/api/v1/files/${fileId}` } },
        ],
      });
      expect(deletion?.status).toBe('completed');
      expect(deletion).not.toHaveProperty('payload');
      expect(deletion?.extension.some((x) => x.url.endsWith('/communication-corrects'))).toBe(true);

      // The audit trail has the deletion, with ids and numbers only.
      const trail = ApiAuditEventPage.parse(
        await (
          await fetch(`${relay.url}/api/v1/conversations/c1/audit?limit=200`, { headers: host })
        ).json(),
      );
      expect(trail.items.find((e) => e.action === 'message.deleted')).toMatchObject({
        actorId: 'alice',
        detail: { seq: deleted.seq, id: 'delete-alice-01', targetSeq: sent.seq },
      });
    } finally {
      alice.close();
      bob.close();
    }
  });
});
