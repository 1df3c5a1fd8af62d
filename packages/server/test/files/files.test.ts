// Files in conversations end to end (issue 8): a real relay, real HTTP uploads and downloads, the
// storage (the data folder, or an S3 bucket on s3rver) read behind the relay's back.
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadFileLinkKey } from '../../src/files/link-key.js';
import {
  call,
  connectAs,
  ok,
  seedConversation,
  startRelay,
  waitFor,
  type TestRelay,
} from '../helpers.js';
import { ApiAuditEventPage, type MessageView } from '@carethread/shared';
import {
  filesContaining,
  get,
  jpegWithGps,
  link,
  pngWithText,
  put,
  refusedUploads,
} from './file-helpers.js';
import { localKind, s3Kind, type StoragePlace } from './storages.js';

const pdf = Buffer.concat([Buffer.from('%PDF-1.7\n'), randomBytes(30_000)]);
const fileId = () => `f-${randomBytes(8).toString('hex')}`;

describe.each([localKind, s3Kind()])('files kept in $name', (kind) => {
  let relay: TestRelay;
  let patient: string;
  const uploadUrl = (id: string, conversationId = 'c1', name = 'scan.pdf') =>
    `${relay.url}/files/${id}?conversationId=${conversationId}&name=${encodeURIComponent(name)}`;
  let dataDir: string;
  let place: StoragePlace;
  const start = (maxBytes = 40_000) =>
    startRelay({ devTenantFiles: { maxBytes }, ...place.config }, dataDir);
  beforeAll(() => kind.setup());
  afterAll(() => kind.teardown());
  beforeEach(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'carethread-files-'));
    place = kind.place(dataDir);
    relay = await start();
    await seedConversation(relay, 'c1', [
      { userId: 'alice', role: 'patient' },
      { userId: 'bob', role: 'family', relationship: 'brother' },
    ]);
    patient = await relay.token('alice', 'patient');
  });
  afterEach(async () => {
    await relay.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function downloadAs(sub: string, role: 'patient' | 'family' | 'provider', id: string) {
    const answer = await link(relay.url, await relay.token(sub, role), id);
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    return get(answer.body.url ?? '');
  }

  describe('uploads and downloads', () => {
    it('round-trips a PDF byte for byte, served as an attachment with nosniff and a sandbox', async () => {
      const id = fileId();
      const uploaded = await put(uploadUrl(id), patient, pdf);
      expect(uploaded.status).toBe(201);
      expect(uploaded.json()).toMatchObject({
        file: { fileId: id, contentType: 'application/pdf', size: pdf.length, name: 'scan.pdf' },
      });
      // The care team and consented family download it.
      for (const [sub, role] of [
        ['dr-rivera', 'provider'],
        ['bob', 'family'],
      ] as const) {
        const downloaded = await downloadAs(sub, role, id);
        expect(downloaded.status).toBe(200);
        expect(downloaded.body.equals(pdf)).toBe(true);
        expect(downloaded.headers['content-type']).toBe('application/pdf');
        expect(downloaded.headers['content-disposition']).toMatch(/^attachment;/);
        expect(downloaded.headers['x-content-type-options']).toBe('nosniff');
        expect(downloaded.headers['content-security-policy']).toBe("default-src 'none'; sandbox");
      }
      const audit = await relay.relay.store.listAuditEvents(
        'dev',
        { conversationId: 'c1' },
        0,
        500,
      );
      const actions = audit.map((e) => `${e.action}:${e.actorId}`);
      expect(actions).toContain('file.uploaded:alice');
      expect(actions).toContain('file.downloaded:dr-rivera');
      expect(actions).toContain('file.downloaded:bob');
    });

    it('answers a retry with the same id and bytes with the stored file, other bytes with CONFLICT', async () => {
      const id = fileId();
      expect((await put(uploadUrl(id), patient, pdf)).status).toBe(201);
      const again = await put(uploadUrl(id), patient, pdf);
      expect(again.status).toBe(200);
      expect(again.json()).toMatchObject({ file: { fileId: id, size: pdf.length } });
      const other = Buffer.concat([Buffer.from('%PDF-1.4\n'), randomBytes(100)]);
      const clash = await put(uploadUrl(id), patient, other);
      expect(clash.status).toBe(409);
      expect(clash.json()).toMatchObject({ error: { code: 'CONFLICT' } });
      // The retry with other bytes was read to compare them: every byte of it is counted.
      expect((await refusedUploads(relay, 1))[0]).toMatchObject({
        actorId: 'alice',
        subjectId: id,
        detail: { code: 'CONFLICT', declaredBytes: other.length, bytes: other.length },
      });
    });

    it('refuses a program disguised with a PDF name and type, and keeps nothing', async () => {
      const id = fileId();
      const program = Buffer.concat([
        Buffer.from('MZ\u0090\u0000\u0003', 'latin1'),
        randomBytes(5000),
      ]);
      const refused = await put(uploadUrl(id, 'c1', 'report.pdf'), patient, program, {
        contentType: 'application/pdf',
      });
      expect(refused.status).toBe(415);
      expect(refused.json()).toMatchObject({ error: { code: 'UNSUPPORTED_FILE_TYPE' } });
      expect(await relay.relay.store.getFile('dev', id)).toBeUndefined();
      expect(place.objects()).toEqual([]);
      expect(place.partials()).toEqual([]);
      // Audited with the type the client claimed and what was read to decide: never the name.
      const [entry] = await refusedUploads(relay, 1);
      expect(entry).toMatchObject({
        actorId: 'alice',
        conversationId: 'c1',
        subjectId: id,
        detail: {
          code: 'UNSUPPORTED_FILE_TYPE',
          type: null,
          declaredType: 'application/pdf',
          declaredBytes: program.length,
        },
      });
      expect(entry?.detail.bytes).toBeGreaterThanOrEqual(4096);
      expect(JSON.stringify(entry)).not.toContain('report');
    });

    it('refuses a file one byte over the limit, declared (unread) or streamed, and keeps nothing', async () => {
      const text = (bytes: number) => Buffer.alloc(bytes, 'a');
      const limit = 40_000;
      const exact = await put(uploadUrl(fileId(), 'c1', 'notes.txt'), patient, text(limit), {
        chunked: true,
        chunkBytes: 4096,
      });
      expect(exact.status).toBe(201);
      const storedBefore = place.objects().length;
      for (const chunked of [false, true]) {
        const id = fileId();
        const over = await put(uploadUrl(id, 'c1', 'notes.txt'), patient, text(limit + 1), {
          chunked,
          chunkBytes: 4096,
        });
        expect(over.status).toBe(413);
        expect(over.json()).toMatchObject({ error: { code: 'TOO_LARGE' } });
        expect(await relay.relay.store.getFile('dev', id)).toBeUndefined();
        expect(place.objects()).toHaveLength(storedBefore);
        expect(place.partials()).toEqual([]);
      }
      const [declared, streamed] = await refusedUploads(relay, 2);
      expect(declared?.detail).toMatchObject({
        code: 'TOO_LARGE',
        declaredBytes: limit + 1,
        bytes: 0,
      });
      expect(streamed?.detail).toMatchObject({ code: 'TOO_LARGE', declaredBytes: null });
      expect(streamed?.detail.bytes).toBeGreaterThan(limit);
    });

    it('keeps no plaintext on disk: neither the content nor the name', async () => {
      const marker = `SECRET-${randomBytes(6).toString('hex')}`;
      const body = Buffer.from(`Lab result for Alice: ${marker}\n`.repeat(50));
      const id = fileId();
      expect((await put(uploadUrl(id, 'c1', `${marker}.txt`), patient, body)).status).toBe(201);
      // The name also travels with a message that carries the file.
      const alice = await connectAs(relay, patient);
      await ok(alice, 'message.send', {
        conversationId: 'c1',
        id: 'msg-secret',
        text: 'x',
        attachments: [id],
      });
      alice.close();
      await relay.relay.close(); // flush the WAL too
      // Nowhere: neither the data folder nor (S3) the bucket's own files hold it.
      for (const folder of place.folders) expect(filesContaining(folder, marker)).toEqual([]);
      relay = await start();
      const downloaded = await downloadAs('alice', 'patient', id);
      expect(downloaded.body.equals(body)).toBe(true);
    });

    it('strips EXIF (with its GPS position) from a JPEG and text chunks from a PNG', async () => {
      const gps = 'GPSLatitude=40.7128N;GPSLongitude=74.0060W';
      const jpeg = jpegWithGps(gps);
      const jpegId = fileId();
      const stored = await put(uploadUrl(jpegId, 'c1', 'photo.jpg'), patient, jpeg.file);
      expect(stored.json()).toMatchObject({
        file: { contentType: 'image/jpeg', size: jpeg.withoutExif.length },
      });
      const photo = await downloadAs('alice', 'patient', jpegId);
      expect(photo.body.includes(Buffer.from('GPSLatitude'))).toBe(false);
      expect(photo.body.equals(jpeg.withoutExif)).toBe(true);
      // Images are shown inline, still with nosniff and the sandbox.
      expect(photo.headers['content-disposition']).toMatch(/^inline;/);
      expect(photo.headers['x-content-type-options']).toBe('nosniff');

      const png = pngWithText(gps);
      const pngId = fileId();
      expect((await put(uploadUrl(pngId, 'c1', 'shot.png'), patient, png.file)).status).toBe(201);
      const picture = await downloadAs('alice', 'patient', pngId);
      expect(picture.body.equals(png.withoutText)).toBe(true);
    });
  });

  describe('who may upload and download', () => {
    it('refuses uploads from non-members, family without consent, and into archived conversations', async () => {
      await seedConversation(
        relay,
        'c2',
        [
          { userId: 'carol', role: 'patient' },
          { userId: 'dave', role: 'family', relationship: 'son' },
        ],
        'dr-rivera',
        { consent: false },
      );
      const outsider = await put(uploadUrl(fileId(), 'c2'), patient, pdf);
      expect(outsider.json()).toMatchObject({ error: { code: 'NOT_FOUND' } });
      const dave = await relay.token('dave', 'family');
      expect((await put(uploadUrl(fileId(), 'c2'), dave, pdf)).json()).toMatchObject({
        error: { code: 'CONSENT_REQUIRED' },
      });
      const archived = await fetch(`${relay.url}/api/v1/conversations/c2/archive`, {
        method: 'POST',
        headers: { authorization: `Bearer ${relay.apiKey}` },
      });
      expect(archived.status).toBe(200);
      const carol = await relay.token('carol', 'patient');
      expect((await put(uploadUrl(fileId(), 'c2'), carol, pdf)).json()).toMatchObject({
        error: { code: 'ARCHIVED' },
      });
      expect((await put(uploadUrl(fileId()), 'not-a-token', pdf)).status).toBe(401);

      // Each refusal after authentication is in the conversation's audit trail, as the host reads
      // it; the one before (no valid token) is only logged.
      await refusedUploads(relay, 3);
      const trail = ApiAuditEventPage.parse(
        await (
          await fetch(`${relay.url}/api/v1/conversations/c2/audit?limit=200`, {
            headers: { authorization: `Bearer ${relay.apiKey}` },
          })
        ).json(),
      );
      expect(
        trail.items
          .filter((e) => e.action === 'file.refused')
          .map((e) => [e.actorId, e.detail.code, e.detail.bytes]),
      ).toEqual([
        ['alice', 'NOT_FOUND', 0],
        ['dave', 'CONSENT_REQUIRED', 0],
        ['carol', 'ARCHIVED', 0],
      ]);
      expect(await refusedUploads(relay, 3)).toHaveLength(3);
      expect(relay.logs()).toMatch(/"code":"UNAUTHENTICATED".*"msg":"file upload refused"/);
    });

    it('gives no link to a non-member and refuses forged, altered and expired links', async () => {
      const id = fileId();
      expect((await put(uploadUrl(id), patient, pdf)).status).toBe(201);
      const mallory = await relay.token('mallory', 'patient');
      const refused = await link(relay.url, mallory, id);
      // Answered like a file that does not exist: no answer tells an outsider the id is in use.
      expect(refused.status).toBe(404);
      expect(refused.body.error?.code).toBe('NOT_FOUND');

      const good = await link(relay.url, patient, id);
      const url = new URL(good.body.url ?? '');
      // The same link for someone else, a later expiry, or a made-up signature.
      for (const [key, value] of [
        ['user', 'mallory'],
        ['exp', String(Number(url.searchParams.get('exp')) + 3600)],
        ['sig', randomBytes(32).toString('base64url')],
      ] as const) {
        const altered = new URL(url);
        altered.searchParams.set(key, value);
        const answer = await get(altered.toString());
        expect(answer.status, key).toBe(403);
        expect(answer.body.includes(Buffer.from('%PDF'))).toBe(false);
      }
      // A link signed with the relay's own key whose time is up.
      const exp = Math.floor(Date.now() / 1000) - 1;
      const sig = createHmac('sha256', loadFileLinkKey(relay.dataDir))
        .update(`carethread:file-link:v1\ndev\n${id}\nalice\n${String(exp)}`)
        .digest('base64url');
      const expired = await get(
        `${relay.url}/files/${id}?tenant=dev&user=alice&exp=${String(exp)}&sig=${sig}`,
      );
      expect(expired.status).toBe(403);
      expect((expired.json() as { error: { message: string } }).error.message).toMatch(/expired/);
      // The link holder's membership is checked again when the link is used.
      expect((await get(url.toString())).status).toBe(200);
      const removed = await fetch(`${relay.url}/api/v1/conversations/c1/participants/alice`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${relay.apiKey}` },
      });
      expect(removed.status).toBeLessThan(300);
      // Now it is not theirs, which answers like a file that is not there.
      expect((await get(url.toString())).status).toBe(404);
    });
  });

  describe('messages with files', () => {
    it('carries attachments in the live message, history and catch-up; refuses files it cannot attach', async () => {
      const id = fileId();
      expect((await put(uploadUrl(id), patient, pdf)).status).toBe(201);
      const alice = await connectAs(relay, patient);
      const bob = await connectAs(relay, await relay.token('bob', 'family'));
      try {
        await ok(bob, 'conversation.open', { conversationId: 'c1' });
        const live: MessageView[] = [];
        bob.on('message', (message) => live.push(message));
        const sent = await ok(alice, 'message.send', {
          conversationId: 'c1',
          id: 'msg-with-file',
          text: 'My scan',
          attachments: [id],
        });
        const attachment = {
          fileId: id,
          name: 'scan.pdf',
          contentType: 'application/pdf',
          size: pdf.length,
        };
        await waitFor(() => live.length > 0);
        expect(live[0]?.attachments).toEqual([attachment]);
        const history = await ok(alice, 'history.page', { conversationId: 'c1' });
        expect(history.messages.find((m) => m.seq === sent.seq)?.attachments).toEqual([attachment]);
        const caughtUp = await ok(bob, 'sync', { conversationId: 'c1', afterSeq: 0 });
        const entry = caughtUp.entries.find((e) => e.seq === sent.seq);
        expect(entry?.kind === 'message' && entry.attachments).toEqual([attachment]);
        // A retry of the same send is the same message; the same id with other files is not.
        expect(
          await ok(alice, 'message.send', {
            conversationId: 'c1',
            id: 'msg-with-file',
            text: 'My scan',
            attachments: [id],
          }),
        ).toEqual(sent);
        expect(
          await call(alice, 'message.send', {
            conversationId: 'c1',
            id: 'msg-with-file',
            text: 'My scan',
          }),
        ).toMatchObject({ ok: false, error: { code: 'CONFLICT' } });

        // The host exports it with the conversation: FHIR Communication.payload as an Attachment,
        // whose url the host API serves.
        const host = { authorization: `Bearer ${relay.apiKey}` };
        const bundle = (await (
          await fetch(`${relay.url}/fhir/Communication?conversation=c1`, { headers: host })
        ).json()) as {
          entry: { resource: { payload: { contentAttachment?: Record<string, unknown> }[] } }[];
        };
        const exported = bundle.entry
          .flatMap((e) => e.resource.payload)
          .find((p) => p.contentAttachment)?.contentAttachment;
        expect(exported).toMatchObject({
          contentType: 'application/pdf',
          size: pdf.length,
          title: 'scan.pdf',
          url: `${relay.url}/api/v1/files/${id}`,
        });
        const fromHost = await fetch(`${relay.url}/api/v1/files/${id}`, { headers: host });
        expect(fromHost.status).toBe(200);
        expect(fromHost.headers.get('x-content-type-options')).toBe('nosniff');
        expect(fromHost.headers.get('content-disposition')).toMatch(/^attachment;/);
        expect(Buffer.from(await fromHost.arrayBuffer()).equals(pdf)).toBe(true);

        // Unknown, unfinished and other conversations' files, duplicates and too many are refused.
        await seedConversation(relay, 'c3', [{ userId: 'alice', role: 'patient' }]);
        const elsewhere = fileId();
        expect((await put(uploadUrl(elsewhere, 'c3'), patient, pdf)).status).toBe(201);
        for (const [attachments, code] of [
          [['no-such-file'], 'NOT_FOUND'],
          [[elsewhere], 'NOT_FOUND'],
          [[id, id], 'VALIDATION'],
          [Array.from({ length: 11 }, () => id), 'TOO_LARGE'],
        ] as const) {
          const refused = await call(alice, 'message.send', {
            conversationId: 'c1',
            id: `msg-${randomBytes(6).toString('hex')}`,
            text: 'x',
            attachments: [...attachments],
          });
          expect(refused, code).toMatchObject({ ok: false, error: { code } });
        }
        // Files alone are a message (its FHIR payload is the attachment only); nothing at all is not.
        const filesOnly = await ok(alice, 'message.send', {
          conversationId: 'c1',
          id: 'msg-files-only',
          text: '',
          attachments: [id],
        });
        const again = await ok(alice, 'history.page', { conversationId: 'c1' });
        expect(again.messages.find((m) => m.seq === filesOnly.seq)).toMatchObject({
          text: '',
          attachments: [attachment],
        });
        const onlyFile = (await (
          await fetch(`${relay.url}/fhir/Communication?conversation=c1`, { headers: host })
        ).json()) as {
          entry: { resource: { identifier: { value: string }[]; payload: object[] } }[];
        };
        const payload = onlyFile.entry.find((e) =>
          e.resource.identifier.some((i) => i.value === `c1/${String(filesOnly.seq)}`),
        )?.resource.payload;
        expect(payload).toHaveLength(1);
        expect(payload?.[0]).toMatchObject({ contentAttachment: { title: 'scan.pdf' } });
        expect(
          await call(alice, 'message.send', { conversationId: 'c1', id: 'msg-empty', text: '' }),
        ).toMatchObject({ ok: false, error: { code: 'VALIDATION' } });
      } finally {
        alice.close();
        bob.close();
      }
    });
  });

  describe('what storage keeps', () => {
    const attempt = () => randomBytes(8).toString('hex');
    /** Bytes in storage that no complete file stands for, as a crash or a lost race leaves them. */
    async function leaveOrphans(completeId: string) {
      const storage = place.storage();
      const crashed = fileId();
      const claim = await relay.relay.store.claimFileUpload({
        tenantId: 'dev',
        fileId: crashed,
        conversationId: 'c1',
        uploaderId: 'alice',
        name: 'scan.pdf',
        attempt: attempt(),
        at: new Date().toISOString(),
      });
      if (claim.state !== 'claimed') throw new Error(claim.state);
      const keys = [
        // Stored, then the relay died before the row became complete.
        `dev/${crashed}.${claim.file.attempt}`,
        // An earlier attempt under a file id that a later one completed.
        `dev/${completeId}.${attempt()}`,
        // No row at all (an attempt that was abandoned after its bytes were stored).
        `dev/${fileId()}.${attempt()}`,
      ];
      for (const key of keys) await storage.put(key, Readable.from([randomBytes(200)]));
      storage.close();
      return keys;
    }
    async function completeKey(id: string) {
      const file = await relay.relay.store.getFile('dev', id);
      return `dev/${id}.${file?.attempt ?? ''}`;
    }

    it('streams a file larger than a part through, and one over the limit leaves no part behind', async () => {
      await relay.close();
      relay = await start(12 * 1024 * 1024);
      const big = Buffer.concat([Buffer.from('%PDF-1.7\n'), randomBytes(11 * 1024 * 1024)]);
      const id = fileId();
      expect((await put(uploadUrl(id), patient, big, { chunked: true })).status).toBe(201);
      expect((await downloadAs('alice', 'patient', id)).body.equals(big)).toBe(true);
      const over = Buffer.concat([big, randomBytes(2 * 1024 * 1024)]);
      const refusedId = fileId();
      const refused = await put(uploadUrl(refusedId), patient, over, { chunked: true });
      expect(refused.status).toBe(413);
      expect(await relay.relay.store.getFile('dev', refusedId)).toBeUndefined();
      expect(place.objects()).toEqual([await completeKey(id)]);
      expect(place.partials()).toEqual([]);
    });

    it('removes objects no complete file stands for, once they are old enough, and keeps the files', async () => {
      const id = fileId();
      expect((await put(uploadUrl(id), patient, pdf)).status).toBe(201);
      const orphans = await leaveOrphans(id);
      const kept = await completeKey(id);
      expect(place.objects()).toEqual([kept, ...orphans].sort());
      // Young objects may be another node's upload about to complete.
      expect(await relay.relay.files.sweepOrphans()).toBe(0);
      expect(place.objects()).toHaveLength(4);
      expect(await relay.relay.files.sweepOrphans(0)).toBe(3);
      expect(place.objects()).toEqual([kept]);
      expect((await downloadAs('bob', 'family', id)).body.equals(pdf)).toBe(true);
    });

    it('sweeps orphans older than an hour when the relay starts', async () => {
      const id = fileId();
      expect((await put(uploadUrl(id), patient, pdf)).status).toBe(201);
      const [old, ...young] = await leaveOrphans(id);
      const kept = await completeKey(id);
      for (const key of [old ?? '', kept]) place.backdate(key, 2 * 3_600_000);
      await relay.close();
      relay = await start();
      await waitFor(() => !place.objects().includes(old ?? ''), 5000, 'the sweep at start');
      expect(place.objects()).toEqual([kept, ...young].sort());
      // The sweep logs once every removal is done, a moment after the last object goes.
      await waitFor(
        () => /removed what interrupted uploads left/.test(relay.logs()),
        5000,
        'the sweep log line',
      );
      expect((await downloadAs('alice', 'patient', id)).body.equals(pdf)).toBe(true);
    });

    if (kind !== localKind)
      it('starts without its bucket, answers UNAVAILABLE while it is down, keeps no row, and takes the retry once it is back', async () => {
        const server = kind.server()!;
        const stored = fileId();
        expect((await put(uploadUrl(stored), patient, pdf)).status).toBe(201);
        const id = fileId();
        await server.stop();
        try {
          // A relay starts without its bucket, and says so.
          await relay.close();
          relay = await start();
          await waitFor(
            () => relay.logs().includes('sweeping file storage failed'),
            10_000,
            'the warning',
          );
          const refused = await put(uploadUrl(id), patient, pdf);
          expect(refused.status).toBe(503);
          const { error } = refused.json() as { error: { code: string; message: string } };
          expect(error.code).toBe('UNAVAILABLE');
          expect(error.message).toMatch(/not kept\. Retry/);
          expect(await relay.relay.store.getFile('dev', id)).toBeUndefined();
          // A download answers the same way, and the relay itself stays up and ready.
          const answer = await link(relay.url, patient, stored);
          const download = await get(answer.body.url ?? '');
          expect(download.status).toBe(503);
          expect(download.json()).toMatchObject({ error: { code: 'UNAVAILABLE' } });
          expect((await fetch(`${relay.url}/readyz`)).status).toBe(200);
          expect(relay.logs()).toMatch(/file request failed underneath/);
        } finally {
          await server.start();
        }
        expect((await put(uploadUrl(id), patient, pdf)).status).toBe(201);
        expect((await downloadAs('alice', 'patient', id)).body.equals(pdf)).toBe(true);
      });
  });
});
