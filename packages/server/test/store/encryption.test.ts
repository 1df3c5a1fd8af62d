// Encryption at rest (ADR 14) through a real relay: message text, edits, consent answers, the
// signature image, receipts, PDFs, webhook payloads and replayed host-API answers are nowhere in
// the raw SQLite files or a pg_dump, while every read path returns them; wrong keys stop the
// relay at startup; altered ciphertext is a stable error; keys rotate while a relay runs.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Sqlite from 'better-sqlite3';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { ConsentTemplateContent } from '@carethread/shared';
import type { RelayConfigInput } from '../../src/config.js';
import { verifyReceipt } from '../../src/consent/receipts.js';
import { call, connectAs, ok, seedConversation, startRelay, textsOf, waitFor } from '../helpers.js';
import type { TestRelay } from '../helpers.js';
import { familyDisclosureTemplate } from '../consent/fixtures.js';
import { describeWithServices } from '../needs-services.js';
import { startReceiver, WEBHOOK_SECRET, type Receiver } from '../webhooks/receiver.js';

const run = promisify(execFile);
const cli = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/carethread.js');

const MESSAGE_TEXT = 'Quokka-lantern 4417: my sponsor and I talked about relapse';
const EDIT_TEXT = 'Quokka-lantern 4417: corrected, we talked about my new dose';
const HOST_TEXT = 'Pelican-harbour 8120 reminder from the clinic';
const ANSWER_TEXT = 'Marmoset-violet 3391 please also tell my aunt';
/** A real 1x1 PNG, so the sealed PDF embeds it. */
const SIGNATURE_IMAGE =
  'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
/** Stored in clear on purpose (not patient-written): proves that the grep can find things. */
const TITLE = 'Care team c-secret';

function template(): ConsentTemplateContent {
  const base = familyDisclosureTemplate('secret-form');
  return {
    ...base,
    blocks: [
      ...base.blocks,
      { type: 'field', id: 'notes', label: 'Anything else', input: 'text', required: true },
    ],
  };
}

const inAWeek = () => new Date(Date.now() + 7 * 86_400_000).toISOString();

/** The host posts HOST_TEXT with an idempotency key; the same call again is a retry. */
const postHostMessage = (relay: TestRelay) =>
  fetch(`${relay.url}/api/v1/conversations/c-secret/messages`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${relay.apiKey}`,
      'content-type': 'application/json',
      'idempotency-key': 'secret-post-1',
    },
    body: JSON.stringify({ id: 'secret-host-001', text: HOST_TEXT }),
  });

/** Everything secret, written the ways people and the host write it. */
async function writeSecrets(relay: TestRelay) {
  const staff = await connectAs(relay, await relay.token('admin', 'staff'));
  await ok(staff, 'consent.template.publish', template());
  staff.close();
  await seedConversation(
    relay,
    'c-secret',
    [
      { userId: 'alice', role: 'patient', displayName: 'Alice Moreno' },
      { userId: 'bob', role: 'family', displayName: 'Bob Moreno', relationship: 'father' },
    ],
    'dr-rivera',
    { consent: false },
  );
  const doctor = await connectAs(relay, await relay.token('dr-rivera', 'provider'));
  const alice = await connectAs(
    relay,
    await relay.token('alice', 'patient', { name: 'Alice Moreno' }),
  );
  try {
    const sent = await ok(doctor, 'message.send', {
      conversationId: 'c-secret',
      id: 'secret-msg-001',
      text: MESSAGE_TEXT,
    });
    await ok(doctor, 'message.edit', {
      conversationId: 'c-secret',
      id: 'secret-edit-001',
      targetSeq: sent.seq,
      text: EDIT_TEXT,
    });
    expect((await postHostMessage(relay)).status).toBe(201);
    const request = await ok(doctor, 'consent.request', {
      requestId: 'req-secret',
      templateId: 'secret-form',
      conversationId: 'c-secret',
      patientId: 'alice',
      recipients: ['bob'],
      purpose: 'So my father can support my recovery.',
      expiresAt: inAWeek(),
    });
    const { disclosure, template: form } = await ok(alice, 'consent.view', {
      requestId: request.requestId,
    });
    const signed = await ok(alice, 'consent.sign', {
      requestId: request.requestId,
      disclosureHash: disclosure.hash,
      acknowledgements: form.blocks.flatMap((b) => (b.type === 'acknowledgement' ? [b.id] : [])),
      answers: { capacity: 'The patient', 'ends-on': inAWeek().slice(0, 10), notes: ANSWER_TEXT },
      signature: { method: 'drawn', name: 'Alice Moreno', image: SIGNATURE_IMAGE },
    });
    const { pdf } = await ok(alice, 'consent.pdf', { requestId: request.requestId });
    return { receipt: signed.receipt, pdf };
  } finally {
    doctor.close();
    alice.close();
  }
}

/** Every read path gives the secrets back in clear. */
async function expectReadable(relay: TestRelay, written: { receipt: string; pdf: string }) {
  const doctor = await connectAs(relay, await relay.token('dr-rivera', 'provider'));
  try {
    const history = await ok(doctor, 'history.page', { conversationId: 'c-secret' });
    expect(history.messages.map((m) => m.text)).toEqual([EDIT_TEXT, HOST_TEXT]);
    const synced = await ok(doctor, 'sync', { conversationId: 'c-secret', afterSeq: 0 });
    // Sync shows a message with its correction applied, then the correction itself.
    expect(textsOf(synced.entries)).toEqual([EDIT_TEXT, EDIT_TEXT, HOST_TEXT]);
    const pdf = await ok(doctor, 'consent.pdf', { requestId: 'req-secret' });
    expect(pdf.pdf).toBe(written.pdf);
  } finally {
    doctor.close();
  }
  const api = (url: string) =>
    fetch(`${relay.url}${url}`, { headers: { authorization: `Bearer ${relay.apiKey}` } });
  const record = (await (await api('/api/v1/consent-requests/req-secret/record')).json()) as {
    record: { answers: Record<string, unknown> };
  };
  expect(record.record.answers.notes).toBe(ANSWER_TEXT);
  const receipt = await (await api('/api/v1/consent-requests/req-secret/receipt')).text();
  expect(receipt).toBe(written.receipt);
  const jwks = (await (await fetch(`${relay.url}/.well-known/jwks.json`)).json()) as Parameters<
    typeof verifyReceipt
  >[1];
  expect((await verifyReceipt(receipt, jwks)).record).toMatchObject({
    answers: { notes: ANSWER_TEXT },
  });
  const fhir = JSON.stringify(await (await api('/fhir/Patient/alice/$everything')).json());
  expect(fhir).toContain(ANSWER_TEXT);
  expect(fhir).toContain(EDIT_TEXT);
  // A retry with the idempotency key replays the first answer, text and all.
  const replay = await postHostMessage(relay);
  expect(replay.headers.get('idempotent-replayed')).toBe('true');
  expect(((await replay.json()) as { text: string }).text).toBe(HOST_TEXT);
}

/** What of `needles` occurs in `bytes` (as UTF-8). */
function found(bytes: Buffer, needles: Record<string, string>): string[] {
  return Object.entries(needles).flatMap(([name, needle]) =>
    bytes.includes(Buffer.from(needle, 'utf8')) ? [name] : [],
  );
}

function secretsOf(written: { receipt: string; pdf: string }): Record<string, string> {
  return {
    message: MESSAGE_TEXT,
    edit: EDIT_TEXT,
    hostMessage: HOST_TEXT,
    answer: ANSWER_TEXT,
    signatureImage: SIGNATURE_IMAGE.slice('data:image/png;base64,'.length),
    receipt: written.receipt,
    // Base64 of "%PDF-": a PDF stored in clear (base64) would show it.
    pdf: written.pdf.slice(0, 64),
    // The receipt's payload is the canonical record in base64url: its first bytes.
    receiptPayload: written.receipt.split('.')[1]?.slice(0, 40) ?? 'missing',
  };
}

const webhookConfig = (receiver: Receiver): Partial<RelayConfigInput> => ({
  devTenantWebhooks: [{ id: 'ehr', url: receiver.url, secret: WEBHOOK_SECRET }],
  webhookDelivery: { pollMs: 50, retryBaseMs: 50, retryMaxMs: 200 },
});

async function webhookTexts(receiver: Receiver): Promise<string[]> {
  await waitFor(() => receiver.unique().length >= 3, 5_000, 'webhook deliveries');
  return receiver
    .unique()
    .flatMap((e) => (e.type.startsWith('message.') ? [(e.data as { text: string }).text] : []));
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

describe('encryption at rest on SQLite', () => {
  it('keeps messages, edits, answers, the signature, receipts, PDFs and webhook payloads out of the raw files (and -wal)', async () => {
    const receiver = await startReceiver();
    cleanups.push(() => receiver.close());
    const relay = await startRelay(webhookConfig(receiver));
    cleanups.push(() => relay.close());
    const written = await writeSecrets(relay);
    await expectReadable(relay, written);
    expect(await webhookTexts(receiver)).toEqual([MESSAGE_TEXT, EDIT_TEXT, HOST_TEXT]);

    // Read while the relay runs: the newest pages are still in the write-ahead log.
    const files = readdirSync(relay.dataDir).filter((f) => f.startsWith('carethread.sqlite'));
    expect(files).toEqual(
      expect.arrayContaining(['carethread.sqlite', 'carethread.sqlite-wal']) as string[],
    );
    const raw = Buffer.concat(files.map((f) => readFileSync(path.join(relay.dataDir, f))));
    expect(readFileSync(path.join(relay.dataDir, 'carethread.sqlite-wal')).length).toBeGreaterThan(
      0,
    );
    expect(found(raw, { title: TITLE })).toEqual(['title']);
    expect(found(raw, secretsOf(written))).toEqual([]);
  });

  it('answers a stable error for altered or moved ciphertext, and keeps serving everything else', async () => {
    const relay = await startRelay();
    cleanups.push(() => relay.close());
    await seedConversation(relay, 'c-tamper', [{ userId: 'alice', role: 'patient' }]);
    await seedConversation(relay, 'c-fine', [{ userId: 'alice', role: 'patient' }]);
    const alice = await connectAs(relay, await relay.token('alice', 'patient'));
    cleanups.push(() => {
      alice.close();
    });
    for (const [conversationId, id] of [
      ['c-tamper', 'tamper-001'],
      ['c-tamper', 'tamper-002'],
      ['c-fine', 'fine-001'],
    ] as const)
      await ok(alice, 'message.send', { conversationId, id, text: `text of ${id}` });

    const db = new Sqlite(path.join(relay.dataDir, 'carethread.sqlite'));
    cleanups.push(() => {
      db.close();
    });
    const textAt = (seq: number) =>
      db
        .prepare<[number], string>(
          "select text from entries where conversation_id = 'c-tamper' and seq = ?",
        )
        .pluck()
        .get(seq) ?? '';
    const setText = (seq: number, text: string) =>
      db
        .prepare("update entries set text = ? where conversation_id = 'c-tamper' and seq = ?")
        .run(text, seq);
    const [first, second] = [textAt(1), textAt(2)];
    expect(first).toMatch(/^ct1:1:/);

    // One bit flipped in the ciphertext.
    const bytes = Buffer.from(first.slice('ct1:1:'.length), 'base64');
    bytes[20] = (bytes[20] ?? 0) ^ 1;
    setText(1, `ct1:1:${bytes.toString('base64')}`);
    const altered = await call(alice, 'history.page', { conversationId: 'c-tamper' });
    expect(altered).toMatchObject({ ok: false, error: { code: 'INTERNAL' } });
    // A valid ciphertext of another row, moved here.
    setText(1, second);
    const moved = await call(alice, 'sync', { conversationId: 'c-tamper', afterSeq: 0 });
    expect(moved).toMatchObject({ ok: false, error: { code: 'INTERNAL' } });
    // Plain text put in place of the ciphertext is refused too, never served as if sealed.
    setText(1, 'injected in clear');
    expect(await call(alice, 'sync', { conversationId: 'c-tamper', afterSeq: 0 })).toMatchObject({
      ok: false,
      error: { code: 'INTERNAL' },
    });
    expect(relay.logs()).toMatch(/does not decrypt|is not encrypted/);

    // The relay is still up, and everything else reads and writes.
    const fine = await ok(alice, 'sync', { conversationId: 'c-fine', afterSeq: 0 });
    expect(textsOf(fine.entries)).toEqual(['text of fine-001']);
    await ok(alice, 'message.send', { conversationId: 'c-fine', id: 'fine-002', text: 'still ok' });
    setText(1, first);
    const restored = await ok(alice, 'sync', { conversationId: 'c-tamper', afterSeq: 0 });
    expect(textsOf(restored.entries)).toEqual(['text of tamper-001', 'text of tamper-002']);
  });

  it('refuses to start with a master key that does not open the data keys, naming the key', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'carethread-keys-'));
    cleanups.push(() => {
      rmSync(dataDir, { recursive: true, force: true });
    });
    const keyA = randomBytes(32).toString('base64');
    const keyB = randomBytes(32).toString('base64');
    const first = await startRelay({ encryption: { masterKey: keyA } }, dataDir);
    await seedConversation(first, 'c-keys', [{ userId: 'alice', role: 'patient' }]);
    const alice = await connectAs(first, await first.token('alice', 'patient'));
    await ok(alice, 'message.send', { conversationId: 'c-keys', id: 'keys-001', text: 'sealed' });
    alice.close();
    await first.close();

    await expect(startRelay({ encryption: { masterKey: keyB } }, dataDir)).rejects.toThrow(
      /wrapped by master key mk-[0-9a-f]{12}, which is not configured \(configured: mk-[0-9a-f]{12}\)/,
    );
    // An altered wrap does not open either, and says so.
    const db = new Sqlite(path.join(dataDir, 'carethread.sqlite'));
    const wrapped = db.prepare('select wrapped from data_keys').pluck().get() as string;
    // A different first character, whatever it was (1 in 64 wraps starts with any given one).
    const altered = `${wrapped.startsWith('A') ? 'B' : 'A'}${wrapped.slice(1)}`;
    db.prepare('update data_keys set wrapped = ?').run(altered);
    db.close();
    await expect(startRelay({ encryption: { masterKey: keyA } }, dataDir)).rejects.toThrow(
      /does not open the data key of tenant "dev".*altered/,
    );
    const fixed = new Sqlite(path.join(dataDir, 'carethread.sqlite'));
    fixed.prepare('update data_keys set wrapped = ?').run(wrapped);
    fixed.close();
    const again = await startRelay({ encryption: { masterKey: keyA } }, dataDir);
    cleanups.push(() => again.close());
    const reader = await connectAs(again, await again.token('alice', 'patient'));
    cleanups.push(() => {
      reader.close();
    });
    const { entries } = await ok(reader, 'sync', { conversationId: 'c-keys', afterSeq: 0 });
    expect(textsOf(entries)).toEqual(['sealed']);
  });

  it('rotates the master key while a relay keeps running; the old key can then be removed', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'carethread-rotate-'));
    cleanups.push(() => {
      rmSync(dataDir, { recursive: true, force: true });
    });
    const keyFile = path.join(dataDir, 'master-keys');
    const configFile = path.join(dataDir, 'config.json');
    writeFileSync(configFile, JSON.stringify({ encryption: { masterKeyFile: keyFile } }));
    const oldKey = randomBytes(32).toString('base64');
    const newKey = randomBytes(32).toString('base64');
    writeFileSync(keyFile, `${oldKey}\n`);
    const keys = (action: string) =>
      run(process.execPath, [cli, 'keys', action], {
        // The relay's own settings: its SQLite file, not a DATABASE_URL the test run may have.
        env: {
          ...process.env,
          CARETHREAD_DATA_DIR: dataDir,
          CARETHREAD_CONFIG: configFile,
          DATABASE_URL: '',
        },
      });

    const relay = await startRelay({ encryption: { masterKeyFile: keyFile } }, dataDir);
    let closed = false;
    cleanups.push(() => (closed ? undefined : relay.close()));
    await seedConversation(relay, 'c-rotate', [{ userId: 'alice', role: 'patient' }]);
    const alice = await connectAs(relay, await relay.token('alice', 'patient'));
    cleanups.push(() => {
      alice.close();
    });
    await ok(alice, 'message.send', { conversationId: 'c-rotate', id: 'before-001', text: 'old' });
    const before = await keys('status');
    const oldId = /^master keys: (mk-[0-9a-f]{12}) \(current\)$/m.exec(before.stdout)?.[1];
    expect(before.stdout).toContain(`dev\tversion 1\twrapped by ${oldId ?? '?'} (current)`);

    // The new key goes first, the old one stays after it; then rotate while messages flow.
    writeFileSync(keyFile, `${newKey}\n${oldKey}\n`);
    const flow = { sending: true };
    let n = 0;
    const traffic = (async () => {
      while (flow.sending) {
        n++;
        await ok(alice, 'message.send', {
          conversationId: 'c-rotate',
          id: `during-${String(n).padStart(3, '0')}`,
          text: `during ${String(n)}`,
        });
      }
    })();
    const rotated = await keys('rotate');
    flow.sending = false;
    await traffic;
    expect(rotated.stdout).toMatch(/^re-wrapped 1 data keys under mk-[0-9a-f]{12}$/m);
    const newId = /under (mk-[0-9a-f]{12})/.exec(rotated.stdout)?.[1] ?? '?';
    expect(newId).not.toBe(oldId);
    expect(rotated.stdout).toContain(`dev\tversion 1\twrapped by ${newId} (current)`);
    expect(rotated.stdout).toContain(
      `no data key is wrapped by ${oldId ?? '?'}: it can be removed`,
    );
    await ok(alice, 'message.send', { conversationId: 'c-rotate', id: 'after-001', text: 'new' });
    const live = await ok(alice, 'sync', { conversationId: 'c-rotate', afterSeq: 0 });
    expect(live.entries.length).toBe(n + 2);
    alice.close();
    await relay.close();
    closed = true;

    // With the old key removed, old and new data read; with only the old key, nothing starts.
    writeFileSync(keyFile, `${newKey}\n`);
    const renewed = await startRelay({ encryption: { masterKeyFile: keyFile } }, dataDir);
    cleanups.push(() => renewed.close());
    const reader = await connectAs(renewed, await renewed.token('alice', 'patient'));
    cleanups.push(() => {
      reader.close();
    });
    const { entries } = await ok(reader, 'sync', { conversationId: 'c-rotate', afterSeq: 0 });
    expect(textsOf(entries)).toEqual([
      'old',
      ...Array.from({ length: n }, (_, i) => `during ${String(i + 1)}`),
      'new',
    ]);
    writeFileSync(keyFile, `${oldKey}\n`);
    await expect(startRelay({ encryption: { masterKeyFile: keyFile } }, dataDir)).rejects.toThrow(
      /not configured/,
    );
  });
});

describeWithServices(
  'encryption at rest on PostgreSQL',
  ['DATABASE_URL'],
  ({ DATABASE_URL: url }) => {
    const schema = `ct_crypto_${randomBytes(6).toString('hex')}`;
    const admin = new Kysely<unknown>({
      dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 1 }) }),
    });
    afterAll(async () => {
      await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(admin);
      await admin.destroy();
    });

    it('keeps the same secrets out of a pg_dump of the schema, while reads return them', async () => {
      const receiver = await startReceiver();
      cleanups.push(() => receiver.close());
      const relay = await startRelay({
        databaseUrl: url,
        postgres: { poolSize: 4, schema },
        ...webhookConfig(receiver),
      });
      cleanups.push(() => relay.close());
      const written = await writeSecrets(relay);
      await expectReadable(relay, written);
      expect(await webhookTexts(receiver)).toEqual([MESSAGE_TEXT, EDIT_TEXT, HOST_TEXT]);

      const { stdout } = await run(
        'pg_dump',
        ['--format=plain', '--data-only', `--schema=${schema}`, `--dbname=${url}`],
        { maxBuffer: 64 * 1024 * 1024, encoding: 'buffer' },
      );
      expect(found(stdout, { title: TITLE })).toEqual(['title']);
      expect(found(stdout, secretsOf(written))).toEqual([]);
    });
  },
);
