// The store contract: one suite that every engine must pass unchanged. Engines call
// `describeStoreContract(name, makeStore)` from their own test file.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Sender } from '@carethread/shared';
import { verifyAuditChain } from '../../src/store/chain.js';
import type { AppendRequest, Store } from '../../src/store/types.js';
import { systemEntryContract } from './system-entries-contract.js';

const at = (n: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString();
const patient = { userId: 'alice', role: 'patient' as const, displayName: 'Alice' };
const provider = { userId: 'dr', role: 'provider' as const, displayName: 'Dr. Rivera' };

function message(
  conversationId: string,
  clientId: string,
  text: string,
  sender: Sender = patient,
  tenantId = 't1',
): AppendRequest {
  return { kind: 'message', tenantId, conversationId, clientId, sender, text, at: at(1) };
}

export function describeStoreContract(
  engine: string,
  makeStore: () => Promise<{ store: Store; cleanup: () => Promise<void> }>,
): void {
  describe(`store contract: ${engine}`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;

    beforeEach(async () => {
      ({ store, cleanup } = await makeStore());
      for (const [tenantId, conversationId] of [
        ['t1', 'c1'],
        ['t1', 'c2'],
        ['t2', 'c1'],
      ] as const) {
        await store.createConversation(
          {
            tenantId,
            conversationId,
            title: `${tenantId}/${conversationId}`,
            createdBy: 'dr',
            createdAt: at(0),
          },
          [
            { ...provider, relationship: null, title: 'Therapist' },
            { ...patient, relationship: null, title: null },
          ],
        );
      }
    });
    afterEach(async () => {
      await cleanup();
    });
    systemEntryContract(() => store);

    it('keeps a file uploading until its attempt completes; a crashed attempt is taken over', async () => {
      const claim = (attempt: string, uploaderId = 'alice', tenantId = 't1') =>
        store.claimFileUpload({
          tenantId,
          fileId: 'file-0001',
          conversationId: 'c1',
          uploaderId,
          name: 'scan.pdf',
          attempt,
          at: at(2),
        });
      const first = await claim('a1');
      expect(first).toMatchObject({
        state: 'claimed',
        file: { state: 'uploading', name: 'scan.pdf' },
      });
      // A second attempt (after a crash) gets a fresh key; the first can no longer complete.
      const second = await claim('a2');
      expect(second.state).toBe('claimed');
      if (first.state !== 'claimed' || second.state !== 'claimed') return;
      expect(second.file.key).not.toBe(first.file.key);
      expect(await claim('a3', 'mallory')).toEqual({ state: 'taken' });
      const facts = {
        contentType: 'application/pdf',
        size: 10,
        sha256: 'ab',
        uploadSha256: 'cd',
        at: at(3),
      };
      expect(await store.completeFileUpload('t1', 'file-0001', 'a1', facts)).toBe(false);
      expect(await store.completeFileUpload('t1', 'file-0001', 'a2', facts)).toBe(true);
      expect(await store.getFile('t1', 'file-0001')).toMatchObject({
        state: 'complete',
        attempt: 'a2',
        key: second.file.key,
        size: 10,
        contentType: 'application/pdf',
      });
      expect(await claim('a4')).toMatchObject({ state: 'complete', file: { attempt: 'a2' } });
      // Another tenant's id space is its own; an abandoned attempt leaves no row.
      expect((await claim('b1', 'alice', 't2')).state).toBe('claimed');
      await store.abandonFileUpload('t2', 'file-0001', 'b1');
      expect(await store.getFile('t2', 'file-0001')).toBeUndefined();
    });

    it("names each complete file's attempt, for the orphan sweep, and nothing else", async () => {
      const claim = (fileId: string, attempt: string, tenantId = 't1') =>
        store.claimFileUpload({
          tenantId,
          fileId,
          conversationId: 'c1',
          uploaderId: 'alice',
          name: 'scan.pdf',
          attempt,
          at: at(2),
        });
      const facts = {
        contentType: 'text/plain',
        size: 1,
        sha256: 'a',
        uploadSha256: 'b',
        at: at(3),
      };
      await claim('file-done', 'a1');
      await claim('file-done', 'a2');
      expect(await store.completeFileUpload('t1', 'file-done', 'a2', facts)).toBe(true);
      await claim('file-busy', 'b1');
      await claim('file-done', 'c1', 't2');
      expect(await store.completeFileUpload('t2', 'file-done', 'c1', facts)).toBe(true);
      expect(
        await store.completedFileAttempts('t1', ['file-done', 'file-busy', 'file-none']),
      ).toEqual([{ fileId: 'file-done', attempt: 'a2' }]);
      expect(await store.completedFileAttempts('t2', ['file-done'])).toEqual([
        { fileId: 'file-done', attempt: 'c1' },
      ]);
      expect(await store.completedFileAttempts('t1', [])).toEqual([]);
    });

    it('stores a message with its attachments, sealed, and returns them in history and catch-up', async () => {
      const attachments = [
        { fileId: 'file-0002', name: 'scan.pdf', contentType: 'application/pdf', size: 42 },
      ];
      const request = { ...message('c1', 'id-att-001', 'see file'), attachments };
      const [stored] = await store.appendEntries([request]);
      expect(stored).toMatchObject({ ok: true, entry: { attachments } });
      const [again] = await store.appendEntries([request]);
      expect(again).toMatchObject({ ok: true, duplicate: true, entry: { attachments } });
      const [other] = await store.appendEntries([message('c1', 'id-att-001', 'see file')]);
      expect(other).toMatchObject({ ok: false, code: 'CONFLICT' });
      const page = await store.history('t1', 'c1', undefined, 10);
      expect(page.messages[0]?.attachments).toEqual(attachments);
      const after = await store.entriesAfter('t1', 'c1', 0, 10);
      expect(after.entries[0]).toMatchObject({ attachments });
    });

    it('refuses a second conversation with the same id in the same tenant', async () => {
      expect(
        await store.createConversation(
          { tenantId: 't1', conversationId: 'c1', title: 'x', createdBy: 'dr', createdAt: at(0) },
          [],
        ),
      ).toBe(false);
    });

    it('numbers entries 1, 2, 3... per conversation, independent across conversations and tenants', async () => {
      const results = await store.appendEntries([
        message('c1', 'id-000001', 'a'),
        message('c2', 'id-000002', 'b'),
        message('c1', 'id-000003', 'c'),
        { ...message('c1', 'id-000004', 'd'), tenantId: 't2' },
      ]);
      expect(results.map((r) => (r.ok ? r.entry.seq : r.code))).toEqual([1, 1, 2, 1]);
      const more = await store.appendEntries([message('c1', 'id-000005', 'e')]);
      expect(more[0]).toMatchObject({ ok: true, entry: { seq: 3 } });
    });

    it('stores a repeated client id once and returns the original entry', async () => {
      const [first] = await store.appendEntries([message('c1', 'id-dup-001', 'hello')]);
      const again = await store.appendEntries([
        message('c1', 'id-dup-001', 'hello'),
        message('c1', 'id-dup-001', 'hello'),
      ]);
      expect(first).toMatchObject({ ok: true, duplicate: false, entry: { seq: 1 } });
      expect(again).toEqual([
        { ok: true, duplicate: true, entry: first?.ok ? first.entry : undefined, accessVersion: 0 },
        { ok: true, duplicate: true, entry: first?.ok ? first.entry : undefined, accessVersion: 0 },
      ]);
      const { entries } = await store.entriesAfter('t1', 'c1', 0, 100);
      expect(entries).toHaveLength(1);
    });

    it('answers CONFLICT when a client id is reused for different text', async () => {
      await store.appendEntries([message('c1', 'id-reuse-01', 'one')]);
      const [result] = await store.appendEntries([message('c1', 'id-reuse-01', 'two')]);
      expect(result).toMatchObject({ ok: false, code: 'CONFLICT' });
    });

    it('refuses writes from non-members and to unknown conversations, writing nothing', async () => {
      const stranger = { userId: 'mallory', role: 'family' as const, displayName: 'Mallory' };
      const results = await store.appendEntries([
        message('c1', 'id-strange1', 'x', stranger),
        message('nope', 'id-strange2', 'x'),
      ]);
      // Someone else's conversation answers exactly like a missing one (no existence oracle).
      expect(results.map((r) => (r.ok ? 'ok' : r.code))).toEqual(['NOT_FOUND', 'NOT_FOUND']);
      expect(results[0]).toEqual(results[1]);
      expect((await store.entriesAfter('t1', 'c1', 0, 10)).entries).toHaveLength(0);
    });

    it('checks membership at write time: a removed participant can no longer write', async () => {
      expect(await store.removeParticipant('t1', 'c1', 'alice', at(2), 'dr')).toBeDefined();
      const [result] = await store.appendEntries([message('c1', 'id-removed1', 'x')]);
      expect(result).toMatchObject({ ok: false, code: 'NOT_FOUND' });
      expect(await store.getParticipant('t1', 'c1', 'alice')).toBeUndefined();
      await store.addParticipant(
        't1',
        'c1',
        { ...patient, relationship: null, title: null },
        at(3),
        'dr',
      );
      expect(await store.getParticipant('t1', 'c1', 'alice')).toMatchObject({
        userId: 'alice',
        role: 'patient',
      });
    });

    it('finds the entry a request repeats, and nothing for other content or another id', async () => {
      const [stored] = await store.appendEntries([message('c1', 'id-repeat01', 'hello')]);
      expect(await store.storedRepeat(message('c1', 'id-repeat01', 'hello'))).toEqual(
        stored?.ok ? stored.entry : 'not stored',
      );
      expect(await store.storedRepeat(message('c1', 'id-repeat01', 'other'))).toBeUndefined();
      expect(await store.storedRepeat(message('c1', 'id-repeat02', 'hello'))).toBeUndefined();
      expect((await store.entriesAfter('t1', 'c1', 0, 10)).entries).toHaveLength(1);
    });

    it('treats a role change like a removal: the access version rises, and the old role is told', async () => {
      const version = async () => (await store.getConversation('t1', 'c1'))?.accessVersion;
      const start = await version();
      const kept = await store.addParticipant(
        't1',
        'c1',
        { ...patient, relationship: null, title: null },
        at(2),
        'dr',
      );
      expect(kept.replacedRole).toBeNull();
      expect(await version()).toBe(start);
      const changed = await store.addParticipant(
        't1',
        'c1',
        { ...patient, role: 'family', relationship: 'self', title: null },
        at(3),
        'dr',
      );
      expect(changed).toMatchObject({ replacedRole: 'patient', participant: { role: 'family' } });
      expect(await version()).toBe((start ?? 0) + 1);
      // Now family with no consent: the store refuses the write, whatever role the sender claims.
      const [refused] = await store.appendEntries([message('c1', 'id-rolechg1', 'x')]);
      expect(refused).toMatchObject({ ok: false, code: 'CONSENT_REQUIRED' });
      const trail = await store.listAuditEvents('t1', { conversationId: 'c1' }, 0, 100);
      expect(trail.at(-1)?.detail).toEqual({ role: 'family', previousRole: 'patient' });
    });

    it('holds a family token to consent even where the store gives the person another role', async () => {
      const bobAsFamily = { userId: 'dr', role: 'family' as const, displayName: 'Dr. Rivera' };
      const [refused, allowed] = await store.appendEntries([
        message('c1', 'id-famtok01', 'x', bobAsFamily),
        message('c1', 'id-famtok02', 'y', provider),
      ]);
      expect(refused).toMatchObject({ ok: false, code: 'CONSENT_REQUIRED' });
      expect(allowed).toMatchObject({ ok: true });
    });

    it('raises the access version with each removal, and every append reports the one it saw', async () => {
      const version = async (conversationId: string) =>
        (await store.getConversation('t1', conversationId))?.accessVersion;
      expect(await version('c1')).toBe(0);
      const [before] = await store.appendEntries([message('c1', 'id-version1', 'before')]);
      expect(before).toMatchObject({ ok: true, accessVersion: 0 });
      await store.removeParticipant('t1', 'c1', 'dr', at(2), 'alice');
      // Removing someone who is not a member changes nothing, so it narrows nothing.
      await store.removeParticipant('t1', 'c1', 'dr', at(3), 'alice');
      expect(await version('c1')).toBe(1);
      expect(await version('c2')).toBe(0);
      const [after, again] = await store.appendEntries([
        message('c1', 'id-version2', 'after'),
        message('c1', 'id-version1', 'before'),
      ]);
      expect(after).toMatchObject({ ok: true, duplicate: false, accessVersion: 1 });
      expect(again).toMatchObject({ ok: true, duplicate: true, accessVersion: 1 });
    });

    it('keeps the original text when a message is corrected, and shows the correction to readers', async () => {
      await store.appendEntries([message('c1', 'id-orig-001', 'original')]);
      const [edit] = await store.appendEntries([
        {
          kind: 'edit',
          tenantId: 't1',
          conversationId: 'c1',
          clientId: 'id-edit-001',
          targetSeq: 1,
          sender: patient,
          text: 'corrected',
          at: at(5),
        },
      ]);
      expect(edit).toMatchObject({ ok: true, entry: { kind: 'edit', seq: 2, targetSeq: 1 } });
      const { messages } = await store.history('t1', 'c1', undefined, 10);
      expect(messages).toEqual([
        expect.objectContaining({ seq: 1, text: 'corrected', editedAt: at(5) }),
      ]);
      const { entries } = await store.entriesAfter('t1', 'c1', 0, 10);
      expect(entries.map((e) => [e.kind, e.seq])).toEqual([
        ['message', 1],
        ['edit', 2],
      ]);
    });

    it('lets only the sender correct a message, and only a message that exists', async () => {
      await store.appendEntries([message('c1', 'id-orig-002', 'mine')]);
      const results = await store.appendEntries([
        {
          kind: 'edit',
          tenantId: 't1',
          conversationId: 'c1',
          clientId: 'id-edit-002',
          targetSeq: 1,
          sender: provider,
          text: 'theirs',
          at: at(5),
        },
        {
          kind: 'edit',
          tenantId: 't1',
          conversationId: 'c1',
          clientId: 'id-edit-003',
          targetSeq: 99,
          sender: patient,
          text: 'x',
          at: at(5),
        },
      ]);
      expect(results.map((r) => (r.ok ? 'ok' : r.code))).toEqual(['FORBIDDEN', 'NOT_FOUND']);
    });

    it('deletes a message for readers once, by its sender only; the record keeps it and its files', async () => {
      const files = [
        { fileId: 'file-del1', name: 'scan.pdf', contentType: 'application/pdf', size: 9 },
      ];
      await store.appendEntries([
        { ...message('c1', 'id-del-orig1', 'regret this'), kind: 'message', attachments: files },
        message('c1', 'id-del-orig2', 'keep this'),
      ]);
      const deletion = (clientId: string, targetSeq: number, sender: Sender = patient) =>
        ({
          kind: 'delete',
          tenantId: 't1',
          conversationId: 'c1',
          clientId,
          targetSeq,
          sender,
          text: '',
          at: at(7),
        }) as const;
      // In one batch: a stranger's attempt, a deletion, its retry, a second deletion, a correction
      // of the deleted message, and a deletion of a deletion.
      const results = await store.appendEntries([
        deletion('id-del-0001', 1, provider),
        deletion('id-del-0002', 1),
        deletion('id-del-0002', 1),
        deletion('id-del-0003', 1),
        { ...message('c1', 'id-del-0004', 'fixed'), kind: 'edit', targetSeq: 1 },
        deletion('id-del-0005', 3),
      ]);
      expect(results.map((r) => (r.ok ? (r.duplicate ? 'duplicate' : 'ok') : r.code))).toEqual([
        'FORBIDDEN',
        'ok',
        'duplicate',
        'CONFLICT',
        'CONFLICT',
        'NOT_FOUND',
      ]);
      expect(results[1]).toMatchObject({
        entry: { kind: 'edit', seq: 3, targetSeq: 1, text: '', deleted: true, editedAt: at(7) },
      });
      const { messages } = await store.history('t1', 'c1', undefined, 10);
      expect(messages[0]).toEqual(
        expect.objectContaining({ seq: 1, text: '', deletedAt: at(7), editedAt: null }),
      );
      expect(messages[0]).not.toHaveProperty('attachments');
      expect(messages[1]).not.toHaveProperty('deletedAt');
      const read = await store.entriesAfter('t1', 'c1', 0, 10);
      expect(read.entries.map((e) => [e.kind, e.seq, e.text])).toEqual([
        ['message', 1, ''],
        ['message', 2, 'keep this'],
        ['edit', 3, ''],
      ]);
      const record = await store.entriesAfter('t1', 'c1', 0, 10, 'record');
      expect(record.entries[0]).toEqual(
        expect.objectContaining({ text: 'regret this', attachments: files, deletedAt: at(7) }),
      );
      expect(await store.fileHiddenByDeletion('t1', 'c1', 'file-del1')).toBe(true);
      expect(await store.fileHiddenByDeletion('t1', 'c1', 'file-other')).toBe(false);
      // Shared again by a message that stands, the file is not hidden.
      await store.appendEntries([
        { ...message('c1', 'id-del-again', 'again'), kind: 'message', attachments: files },
      ]);
      expect(await store.fileHiddenByDeletion('t1', 'c1', 'file-del1')).toBe(false);
    });

    it('pages history backwards and entries forwards without gaps or overlaps', async () => {
      await store.appendEntries(
        Array.from({ length: 25 }, (_, i) =>
          message('c1', `id-page-${String(i).padStart(3, '0')}`, `m${i + 1}`),
        ),
      );
      const newest = await store.history('t1', 'c1', undefined, 10);
      expect(newest.messages.map((m) => m.seq)).toEqual([16, 17, 18, 19, 20, 21, 22, 23, 24, 25]);
      expect(newest.hasMore).toBe(true);
      const older = await store.history('t1', 'c1', 16, 10);
      expect(older.messages.map((m) => m.seq)).toEqual([6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
      const oldest = await store.history('t1', 'c1', 6, 10);
      expect(oldest).toMatchObject({ hasMore: false });
      expect(oldest.messages.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5]);
      const after = await store.entriesAfter('t1', 'c1', 20, 3);
      expect(after.entries.map((e) => e.seq)).toEqual([21, 22, 23]);
      expect(after.hasMore).toBe(true);
    });

    it('never lowers a read mark', async () => {
      expect(await store.markRead('t1', 'c1', 'alice', 5)).toBe(5);
      expect(await store.markRead('t1', 'c1', 'alice', 3)).toBe(5);
    });

    it("lists a user's conversations within their tenant only", async () => {
      await store.appendEntries([message('c2', 'id-list-001', 'x')]);
      const list = await store.listConversationsOf('t1', 'alice');
      expect(list.map((c) => [c.conversationId, c.lastSeq]).sort()).toEqual([
        ['c1', 0],
        ['c2', 1],
      ]);
      expect((await store.listConversationsOf('t2', 'alice')).map((c) => c.conversationId)).toEqual(
        ['c1'],
      );
    });

    it('keeps tenants apart: the same conversation id in another tenant is another conversation', async () => {
      await store.appendEntries([message('c1', 'id-tenant-01', 'secret of t1')]);
      expect((await store.entriesAfter('t2', 'c1', 0, 10)).entries).toEqual([]);
      expect(await store.getParticipant('t3', 'c1', 'alice')).toBeUndefined();
    });

    it('publishes template versions in order, never changes one, and keeps tenants apart', async () => {
      const content = {
        templateId: 'tpl',
        kind: 'general' as const,
        language: 'en',
        title: 'Photo consent',
        blocks: [{ type: 'paragraph' as const, text: 'You may take photos.' }],
      };
      const publish = (tenantId: string, hash: string, title = content.title) =>
        store.publishTemplateVersion({
          tenantId,
          content: { ...content, title },
          hash,
          publishedAt: at(2),
          publishedBy: 'admin',
        });
      const hash = (n: number) => `sha256:${String(n).repeat(64)}`;
      const first = await publish('t1', hash(1));
      expect(first).toMatchObject({
        created: true,
        template: { version: 1, title: 'Photo consent' },
      });
      expect(await publish('t1', hash(1))).toEqual({ ...first, created: false });
      const second = await publish('t1', hash(2), 'Photo consent, revised');
      expect(second.template.version).toBe(2);
      expect(await store.listTemplateVersions('t1', 'tpl')).toEqual([
        first.template,
        second.template,
      ]);
      expect(await store.listTemplateVersions('t2', 'tpl')).toEqual([]);
      expect((await publish('t2', hash(1))).template.version).toBe(1);
    });

    it('moves consent requests only from the expected states, with a chained audit event each time', async () => {
      const request = {
        requestId: 'req-00000001',
        templateId: 'tpl',
        templateVersion: 1,
        templateHash: `sha256:${'a'.repeat(64)}`,
        conversationId: 'c1',
        patientId: 'alice',
        signerId: 'alice',
        capacity: 'self' as const,
        recipients: [{ userId: 'bob', displayName: 'Bob', relationship: 'father' }],
        purpose: 'Support',
        expiresAt: at(50),
        scopes: ['messages' as const, 'files' as const],
        state: 'requested' as const,
        requestedBy: 'dr',
        requestedAt: at(3),
        updatedAt: at(3),
      };
      const event = (type: 'requested' | 'viewed' | 'signed' | 'declined', n: number) => ({
        type,
        at: at(n),
        actorId: 'alice',
        detail: { n },
      });
      expect(await store.createConsentRequest('t1', request, event('requested', 3))).toEqual({
        request,
        created: true,
      });
      expect((await store.createConsentRequest('t1', request, event('requested', 3))).created).toBe(
        false,
      );
      expect(
        await store.transitionConsentRequest(
          't1',
          request.requestId,
          ['signed'],
          'declined',
          event('declined', 4),
        ),
      ).toBeUndefined();
      const viewed = await store.transitionConsentRequest(
        't1',
        request.requestId,
        ['requested'],
        'viewed',
        event('viewed', 5),
      );
      expect(viewed).toMatchObject({ state: 'viewed', updatedAt: at(5) });
      const record = {
        canonical: '{}',
        recordHash: 'sha256:r',
        receipt: 'jws',
        signatureImage: null,
      };
      const signed = await store.signConsentRequest(
        't1',
        request.requestId,
        ['requested', 'viewed'],
        record,
        event('signed', 6),
      );
      expect(signed?.state).toBe('signed');
      expect(await store.getConsentRecord('t1', request.requestId)).toEqual(record);
      // The grant shares what the request named (ADR 26); a second consent in effect adds its own.
      expect(await store.activeGrant('t1', 'c1', 'bob', at(6))).toEqual({
        requestId: request.requestId,
        expiresAt: at(50),
        scopes: ['messages', 'files'],
      });
      const goals = {
        ...request,
        requestId: 'req-00000002',
        expiresAt: at(60),
        scopes: ['goals' as const, 'scores' as const, 'trend' as const],
      };
      await store.createConsentRequest('t1', goals, event('requested', 6));
      await store.signConsentRequest(
        't1',
        goals.requestId,
        ['requested'],
        record,
        event('signed', 6),
      );
      expect(await store.getConsentRequest('t1', goals.requestId)).toMatchObject({
        scopes: goals.scopes,
      });
      expect(await store.activeGrant('t1', 'c1', 'bob', at(7))).toEqual({
        requestId: goals.requestId,
        expiresAt: at(60),
        scopes: ['messages', 'files', 'goals', 'scores', 'trend'],
      });
      expect(await store.activeGrant('t1', 'c1', 'bob', at(55))).toMatchObject({
        scopes: ['goals', 'scores', 'trend'],
      });
      expect(await store.activeGrant('t1', 'c1', 'alice', at(7))).toBeUndefined();
      expect(
        await store.signConsentRequest(
          't1',
          request.requestId,
          ['viewed'],
          record,
          event('signed', 7),
        ),
      ).toBeUndefined();
      const events = await store.listConsentEvents('t1', request.requestId);
      expect(events.map((e) => [e.seq, e.type])).toEqual([
        [1, 'requested'],
        [2, 'viewed'],
        [3, 'signed'],
      ]);
      expect(events[1]?.prevHash).toBe(events[0]?.hash);
      expect(events[2]?.prevHash).toBe(events[1]?.hash);
      expect(await store.getConsentRequest('t2', request.requestId)).toBeUndefined();
      expect(await store.listConsentRequests('t1', { userId: 'alice' })).toHaveLength(2);
      expect(await store.listConsentRequests('t1', { userId: 'bob' })).toHaveLength(0);

      // Signing widens access and leaves the version alone; revoking narrows it and raises it.
      expect((await store.getConversation('t1', 'c1'))?.accessVersion).toBe(0);
      expect(await store.getConsentRevocation('t1', request.requestId)).toBeUndefined();
      const revocation = '{"signature":{"name":"Alice"}}';
      await store.revokeConsent(
        't1',
        request.requestId,
        { ...event('signed', 8), type: 'revoked' },
        revocation,
      );
      expect((await store.getConversation('t1', 'c1'))?.accessVersion).toBe(1);
      // The revocation is kept with the record, and only once: a second revocation is refused.
      expect(await store.getConsentRevocation('t1', request.requestId)).toBe(revocation);
      expect(
        await store.revokeConsent(
          't1',
          request.requestId,
          { ...event('signed', 9), type: 'revoked' },
          '{"another":true}',
        ),
      ).toBeUndefined();
      expect(await store.getConsentRevocation('t1', request.requestId)).toBe(revocation);
      expect(await store.getConsentRevocation('t2', request.requestId)).toBeUndefined();
    });

    it("lists a tenant's conversations by id, after a given id, and nobody else's", async () => {
      expect(
        (await store.listConversations('t1', undefined, 10)).map((c) => c.conversationId),
      ).toEqual(['c1', 'c2']);
      expect((await store.listConversations('t1', 'c1', 10)).map((c) => c.conversationId)).toEqual([
        'c2',
      ]);
      expect(await store.listConversations('t1', undefined, 1)).toHaveLength(1);
      expect((await store.listConversations('t2', undefined, 10)).map((c) => c.title)).toEqual([
        't2/c1',
      ]);
    });

    it('claims an idempotency key once, replays its answer, and forgets it when released or old', async () => {
      expect(await store.claimIdempotencyKey('t1', 'k1', 'fp-a', at(1))).toEqual({
        state: 'claimed',
      });
      expect(await store.claimIdempotencyKey('t1', 'k1', 'fp-a', at(2))).toEqual({
        state: 'running',
        fingerprint: 'fp-a',
      });
      // Keys are per tenant.
      expect(await store.claimIdempotencyKey('t2', 'k1', 'fp-b', at(2))).toEqual({
        state: 'claimed',
      });
      await store.completeIdempotencyKey('t1', 'k1', 201, '{"ok":true}');
      expect(await store.claimIdempotencyKey('t1', 'k1', 'fp-a', at(3))).toEqual({
        state: 'done',
        fingerprint: 'fp-a',
        status: 201,
        body: '{"ok":true}',
      });
      await store.releaseIdempotencyKey('t2', 'k1');
      expect(await store.claimIdempotencyKey('t2', 'k1', 'fp-c', at(4))).toEqual({
        state: 'claimed',
      });
      expect(await store.expireIdempotencyKeys(at(4))).toBe(1);
      expect(await store.claimIdempotencyKey('t1', 'k1', 'fp-z', at(5))).toEqual({
        state: 'claimed',
      });
    });

    it('records a webhook event with each committed change, for tenants with webhooks only', async () => {
      await store.appendEntries([
        message('c1', 'm-00000001', 'one'),
        message('c1', 'm-00000001', 'one'),
      ]);
      await store.appendEntries([
        message('c1', 'm-00000002', 'two'),
        message('c1', 'm-00000003', 'x', patient, 't2'),
      ]);
      await store.addParticipant(
        't1',
        'c1',
        { userId: 'bob', role: 'family', displayName: 'Bob', relationship: 'brother', title: null },
        at(2),
        'dr',
      );
      await store.removeParticipant('t1', 'c1', 'bob', at(3), 'dr');
      await store.removeParticipant('t1', 'c1', 'bob', at(4), 'dr'); // not a member any more: no event
      const events = await store.outboxEventsAfter('t1', 0, 100);
      expect(events.map((e) => e.type)).toEqual([
        'message.created',
        'message.created',
        'participant.added',
        'participant.removed',
      ]);
      expect(events.map((e) => e.data.seq)).toEqual([1, 2, undefined, undefined]);
      expect(events[0]?.data.text).toBe('one');
      expect(new Set(events.map((e) => e.id)).size).toBe(4);
      expect(await store.outboxEventsAfter('t2', 0, 100)).toEqual([]);
      expect(
        (await store.outboxEventsAfter('t1', events[1]?.seq ?? 0, 100)).map((e) => e.type),
      ).toEqual(['participant.added', 'participant.removed']);
    });

    it('leases an endpoint to one node at a time, until it expires or is given up', async () => {
      await store.webhookCursor('t1', 'ehr');
      const lease = (holder: string, now: number) =>
        store.leaseWebhookEndpoint('t1', 'ehr', holder, at(now), at(now + 10));
      expect(await lease('node-a', 1)).toBe(true);
      expect(await lease('node-b', 2)).toBe(false);
      expect(await lease('node-a', 5)).toBe(true); // renewed, now until 15
      expect(await lease('node-b', 14)).toBe(false);
      expect(await lease('node-b', 15)).toBe(true); // node-a stopped renewing
      expect(await lease('node-a', 16)).toBe(false);
      await store.releaseWebhookLease('t1', 'ehr', 'node-a'); // not its lease: nothing changes
      expect(await lease('node-a', 17)).toBe(false);
      await store.releaseWebhookLease('t1', 'ehr', 'node-b');
      expect(await lease('node-a', 18)).toBe(true);
      expect(await store.leaseWebhookEndpoint('t1', 'other', 'node-a', at(1), at(2))).toBe(false);
    });

    it('keeps an endpoint cursor: starts after the newest event, records failures, dead-letters', async () => {
      await store.appendEntries([message('c1', 'm-00000001', 'before the endpoint')]);
      const start = await store.webhookCursor('t1', 'ehr');
      const [old] = await store.outboxEventsAfter('t1', 0, 1);
      expect(start).toEqual({
        lastSeq: old?.seq,
        attempts: 0,
        nextAttemptAt: null,
        firstFailedAt: null,
      });

      await store.appendEntries([message('c1', 'm-00000002', 'after')]);
      expect(await store.countOutboxEventsAfter('t1', start.lastSeq)).toBe(1);
      expect(await store.countOutboxEventsAfter('t1', 0)).toBe(2);
      expect(await store.countOutboxEventsAfter('t2', 0)).toBe(0);
      // An existing cursor is read as it is, not created again.
      expect((await store.webhookCursor('t1', 'ehr')).lastSeq).toBe(start.lastSeq);
      const [head] = await store.outboxEventsAfter('t1', start.lastSeq, 10);
      if (!head) throw new Error('no event after the cursor');
      await store.recordWebhookFailure('t1', 'ehr', {
        attempts: 2,
        nextAttemptAt: at(9),
        firstFailedAt: at(5),
        error: 'HTTP 500',
      });
      expect(await store.webhookCursor('t1', 'ehr')).toEqual({
        lastSeq: start.lastSeq,
        attempts: 2,
        nextAttemptAt: at(9),
        firstFailedAt: at(5),
      });
      await store.deadLetterWebhook('t1', 'ehr', head, 3, 'HTTP 500', at(10));
      expect(await store.webhookCursor('t1', 'ehr')).toMatchObject({
        lastSeq: head.seq,
        attempts: 0,
      });
      const letters = await store.listDeadLetters('t1', undefined, 10);
      expect(letters.map((l) => [l.endpointId, l.event.id, l.attempts, l.redeliveredAt])).toEqual([
        ['ehr', head.id, 3, null],
      ]);
      expect(await store.listDeadLetters('t1', { endpointId: 'ehr', seq: head.seq }, 10)).toEqual(
        [],
      );
      expect(await store.listDeadLetters('t2', undefined, 10)).toEqual([]);
      await store.markDeadLetterRedelivered('t1', 'ehr', head.seq, at(11));
      expect((await store.getDeadLetter('t1', 'ehr', head.id))?.redeliveredAt).toBe(at(11));
      // A cursor never moves back.
      await store.advanceWebhookCursor('t1', 'ehr', 1);
      expect((await store.webhookCursor('t1', 'ehr')).lastSeq).toBe(head.seq);
    });

    it('keeps revoked token ids per tenant until they expire, the first revocation time winning', async () => {
      expect(await store.revokedTokenIds('t1', ['jti-a', 'jti-b'], at(1))).toEqual([]);
      expect(await store.revokeToken('t1', 'jti-a', at(1), at(100))).toEqual({
        revokedAt: at(1),
        keptUntil: at(100),
      });
      // Again: the first time stays, the later expiry wins, an earlier one changes nothing.
      expect(await store.revokeToken('t1', 'jti-a', at(5), at(200))).toEqual({
        revokedAt: at(1),
        keptUntil: at(200),
      });
      expect(await store.revokeToken('t1', 'jti-a', at(6), at(50))).toEqual({
        revokedAt: at(1),
        keptUntil: at(200),
      });
      await store.revokeToken('t1', 'jti-c', at(1), at(10));
      expect(
        (await store.revokedTokenIds('t1', ['jti-a', 'jti-b', 'jti-c'], at(2))).sort(),
      ).toEqual(['jti-a', 'jti-c']);
      expect(await store.revokedTokenIds('t2', ['jti-a'], at(2))).toEqual([]);
      expect(await store.revokedTokenIds('t1', [], at(2))).toEqual([]);
      // Past its expiry a revocation no longer counts, and is forgotten when swept.
      expect(await store.revokedTokenIds('t1', ['jti-a', 'jti-c'], at(10))).toEqual(['jti-a']);
      expect(await store.expireRevokedTokens(at(11))).toBe(1);
      expect(await store.expireRevokedTokens(at(11))).toBe(0);
      expect(await store.revokedTokenIds('t1', ['jti-a'], at(199))).toEqual(['jti-a']);
      const many = Array.from({ length: 600 }, (_, i) => `jti-many-${String(i)}`);
      expect(await store.revokedTokenIds('t1', [...many, 'jti-a'], at(2))).toEqual(['jti-a']);
    });

    it('refuses new entries in an archived conversation and keeps what it holds', async () => {
      await store.appendEntries([message('c1', 'm-00000001', 'before')]);
      const archived = await store.archiveConversation('t1', 'c1', at(5), 'host:ehr');
      expect(archived).toMatchObject({ conversationId: 'c1', archivedAt: at(5), lastSeq: 1 });
      expect((await store.archiveConversation('t1', 'c1', at(9), 'host:ehr'))?.archivedAt).toBe(
        at(5),
      );
      expect(await store.archiveConversation('t1', 'nope', at(9), 'host:ehr')).toBeUndefined();
      const [refused, hostRefused, elsewhere] = await store.appendEntries([
        message('c1', 'm-00000002', 'after'),
        {
          ...message('c1', 'm-00000003', 'notice', { ...provider, userId: 'host:ehr' }),
          byHost: true,
        },
        message('c2', 'm-00000004', 'still open'),
      ]);
      expect(refused).toMatchObject({ ok: false, code: 'ARCHIVED' });
      expect(hostRefused).toMatchObject({ ok: false, code: 'ARCHIVED' });
      expect(elsewhere).toMatchObject({ ok: true });
      expect((await store.history('t1', 'c1', undefined, 10)).messages.map((m) => m.text)).toEqual([
        'before',
      ]);
    });

    it('lets the host post without being a participant, and nobody else', async () => {
      const host = { userId: 'host:ehr', role: 'staff' as const, displayName: 'Riverside Clinic' };
      const [posted, again, stranger] = await store.appendEntries([
        { ...message('c1', 'm-00000001', 'Your appointment is at 10:00', host), byHost: true },
        { ...message('c1', 'm-00000001', 'Your appointment is at 10:00', host), byHost: true },
        message('c1', 'm-00000002', 'hi', host),
      ]);
      expect(posted).toMatchObject({ ok: true, duplicate: false, entry: { seq: 1 } });
      expect(again).toMatchObject({ ok: true, duplicate: true, entry: { seq: 1 } });
      expect(stranger).toMatchObject({ ok: false, code: 'NOT_FOUND' });
    });

    it('audits every stored message in its transaction, and access entries, in one verifiable chain', async () => {
      await store.appendEntries([
        message('c1', 'id-audit-01', 'secret words'),
        message('c1', 'id-strange', 'refused', { ...patient, userId: 'mallory' }),
      ]);
      await store.appendEntries([
        { ...message('c1', 'id-audit-02', 'secret correction'), kind: 'edit', targetSeq: 1 },
      ]);
      await store.appendAuditEvents([
        {
          tenantId: 't1',
          at: at(5),
          actorId: 'dr',
          action: 'conversation.read',
          conversationId: 'c1',
          subjectId: null,
          detail: { via: 'history', fromSeq: 1, toSeq: 2, count: 2 },
        },
        {
          tenantId: 't2',
          at: at(5),
          actorId: 'alice',
          action: 'session.connected',
          conversationId: null,
          subjectId: null,
          detail: { role: 'patient' },
        },
      ]);
      const all = await store.listAuditEvents('t1', {}, 0, 100);
      expect(all.map((e) => [e.action, e.actorId, e.detail])).toEqual([
        ['conversation.created', 'dr', { participants: 'dr,alice' }],
        ['conversation.created', 'dr', { participants: 'dr,alice' }],
        ['message.sent', 'alice', { seq: 1, id: 'id-audit-01' }],
        ['message.edited', 'alice', { seq: 2, id: 'id-audit-02', targetSeq: 1 }],
        ['conversation.read', 'dr', { via: 'history', fromSeq: 1, toSeq: 2, count: 2 }],
      ]);
      expect(JSON.stringify(all)).not.toContain('secret');
      expect(verifyAuditChain('t1', all)).toMatchObject({ ok: true, entries: 5 });
      expect(verifyAuditChain('t2', await store.listAuditEvents('t2', {}, 0, 100))).toMatchObject({
        ok: true,
        entries: 2,
      });
      // A person's accounting: what they did, and what was done about them.
      const alices = await store.listAuditEvents('t1', { userId: 'alice' }, 0, 100);
      expect(alices.map((e) => e.action)).toEqual(['message.sent', 'message.edited']);
    });

    it("keeps a conversation's changes in a hash-chained audit trail, per tenant", async () => {
      await store.addParticipant(
        't1',
        'c1',
        { userId: 'bob', role: 'family', displayName: 'Bob', relationship: 'brother', title: null },
        at(2),
        'dr',
      );
      await store.removeParticipant('t1', 'c1', 'bob', at(3), 'dr');
      await store.archiveConversation('t1', 'c1', at(4), 'host:ehr');
      const trail = await store.listAuditEvents('t1', { conversationId: 'c1' }, 0, 100);
      expect(trail.map((e) => [e.action, e.actorId, e.subjectId])).toEqual([
        ['conversation.created', 'dr', null],
        ['participant.added', 'dr', 'bob'],
        ['participant.removed', 'dr', 'bob'],
        ['conversation.archived', 'host:ehr', null],
      ]);
      expect(trail[0]?.detail).toEqual({ participants: 'dr,alice' });
      // The chain runs through the tenant: c2's creation sits between c1's creation and the rest.
      const c2 = await store.listAuditEvents('t1', { conversationId: 'c2' }, 0, 100);
      expect(c2[0]?.prevHash).toBe(trail[0]?.hash);
      expect(trail[1]?.prevHash).toBe(c2[0]?.hash);
      expect(
        await store.listAuditEvents('t1', { conversationId: 'c1' }, trail[2]?.seq ?? 0, 100),
      ).toHaveLength(1);
      expect(
        (await store.listAuditEvents('t2', { conversationId: 'c1' }, 0, 100)).map((e) => e.action),
      ).toEqual(['conversation.created']);
    });
  });
}
