// Asking for a consent signature, viewing, signing and declining through a real relay: who may
// do what, what a record holds, receipts anyone can verify, the audit chain, and a signing that
// fails half-way leaving nothing behind.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Sqlite from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConsentRequestCreate, ConsentRequestView, ConsentSign } from '@carethread/shared';
import { canonicalHash, canonicalJson } from '../../src/core/canonical.js';
import { verifyReceipt } from '../../src/consent/receipts.js';
import { call, ok, startRelay, type RawSocket, type TestRelay } from '../helpers.js';
import { consentCast, requestFor, signable, type ConsentCast } from './cast.js';

const cli = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/carethread.js');
const run = promisify(execFile);

let relay: TestRelay;
let cast: ConsentCast;
let provider: RawSocket;
let alice: RawSocket;
let bob: RawSocket;
const conversation = () => cast.conversation();

beforeAll(async () => {
  relay = await startRelay();
  cast = await consentCast(relay);
  ({ provider, alice, bob } = cast);
});
afterAll(async () => {
  cast.close();
  await relay.close();
});

describe('consent requests', () => {
  it('lets the care team ask the patient, with recipients from the family in the conversation', async () => {
    const conversationId = await conversation();
    await ok(provider, 'conversation.open', { conversationId });
    const announced = new Promise<ConsentRequestView>((resolve) => {
      provider.once('consent.updated', resolve);
    });
    const asked = requestFor(conversationId);
    const request = await ok(provider, 'consent.request', asked);
    expect(request).toMatchObject({
      state: 'requested',
      signerId: 'alice',
      capacity: 'self',
      templateVersion: 1,
      recipients: [{ userId: 'bob', displayName: 'Bob Moreno', relationship: 'father' }],
    });
    expect((await announced).requestId).toBe(request.requestId);
    // The same request again (a retry) is the same request; the same id for something else is not.
    expect(await ok(provider, 'consent.request', asked)).toEqual(request);
    const other = await call(provider, 'consent.request', { ...asked, purpose: 'Another purpose' });
    expect(other).toMatchObject({ ok: false, error: { code: 'CONFLICT' } });
    const { requests } = await ok(alice, 'consent.list', {});
    expect(requests.map((r) => r.requestId)).toContain(request.requestId);
  });

  it('refuses requests that name the wrong people or come from the wrong person', async () => {
    const conversationId = await conversation();
    const cases: [RawSocket, ConsentRequestCreate, string][] = [
      [alice, requestFor(conversationId), 'FORBIDDEN'],
      [provider, requestFor(conversationId, { recipients: ['alice'] }), 'VALIDATION'],
      [provider, requestFor(conversationId, { patientId: 'bob' }), 'VALIDATION'],
      [provider, requestFor(conversationId, { expiresAt: '2020-01-01T00:00:00Z' }), 'VALIDATION'],
      [provider, requestFor(conversationId, { templateId: 'no-such-template' }), 'NOT_FOUND'],
      [provider, requestFor('c-does-not-exist'), 'NOT_FOUND'],
    ];
    for (const [socket, payload, code] of cases) {
      const ack = await call(socket, 'consent.request', payload);
      expect(ack.ok ? 'ok' : ack.error.code, JSON.stringify(payload)).toBe(code);
    }
    expect((await ok(provider, 'consent.list', { conversationId })).requests).toEqual([]);
  });
});

describe('signing', () => {
  it('records everything CONSENT.md asks for and returns a receipt anyone can verify', async () => {
    const conversationId = await conversation();
    const request = await ok(provider, 'consent.request', requestFor(conversationId));
    expect((await call(bob, 'consent.view', { requestId: request.requestId })).ok).toBe(false);
    const form = await signable(request, alice);

    const refusals: [RawSocket, ConsentSign, string][] = [
      [provider, { ...form, signature: { method: 'typed', name: 'Dr' } }, 'FORBIDDEN'],
      [
        alice,
        {
          ...form,
          disclosureHash: 'sha256:old',
          signature: { method: 'typed', name: 'Alice Moreno' },
        },
        'VALIDATION',
      ],
      [
        alice,
        { ...form, acknowledgements: [], signature: { method: 'typed', name: 'Alice Moreno' } },
        'VALIDATION',
      ],
      [
        alice,
        { ...form, answers: {}, signature: { method: 'typed', name: 'Alice Moreno' } },
        'VALIDATION',
      ],
    ];
    for (const [socket, payload, code] of refusals) {
      const ack = await call(socket, 'consent.sign', payload);
      expect(ack.ok ? 'ok' : ack.error.code).toBe(code);
    }

    const signed = await ok(alice, 'consent.sign', {
      ...form,
      signature: { method: 'typed', name: 'Alice Moreno' },
    });
    const { record } = signed;
    expect(record).toMatchObject({
      requestId: request.requestId,
      templateHash: request.templateHash,
      signer: { tenantId: 'dev', userId: 'alice', role: 'patient', displayName: 'Alice Moreno' },
      capacity: 'self',
      meaning: 'I authorize the disclosure described in this form.',
      signature: { method: 'typed', name: 'Alice Moreno', imageHash: null },
      recipients: [{ userId: 'bob' }],
    });
    expect(record.ip).toMatch(/127\.0\.0\.1/);
    expect(Date.parse(record.signedAt)).toBeLessThanOrEqual(Date.now());
    expect(signed.recordHash).toBe(canonicalHash(record));

    const jwks = await (await fetch(`${relay.url}/.well-known/jwks.json`)).json();
    const verified = await verifyReceipt(
      signed.receipt,
      jwks as Parameters<typeof verifyReceipt>[1],
    );
    expect(verified.record).toEqual(record);
    expect(verified.recordHash).toBe(signed.recordHash);

    // Signing twice is refused; the request is signed.
    const again = await call(alice, 'consent.sign', {
      ...form,
      signature: { method: 'typed', name: 'Alice Moreno' },
    });
    expect(again.ok ? 'ok' : again.error.code).toBe('CONFLICT');
    const [stored] = (await ok(provider, 'consent.list', { conversationId })).requests;
    expect(stored?.state).toBe('signed');

    // The audit trail: requested, viewed, signed, each chained to the one before.
    const events = await relay.relay.store.listConsentEvents('dev', request.requestId);
    expect(events.map((e) => e.type)).toEqual(['requested', 'viewed', 'signed']);
    events.forEach((event, i) => {
      expect(event.prevHash).toBe(i === 0 ? `sha256:${'0'.repeat(64)}` : events[i - 1]?.hash);
    });
    expect(events[2]?.detail).toMatchObject({ recordHash: signed.recordHash });
    expect(JSON.stringify(events)).not.toContain('Alice Moreno');
  });

  it('verifies receipts from the command line, and refuses a tampered one', async () => {
    const conversationId = await conversation();
    const request = await ok(provider, 'consent.request', requestFor(conversationId));
    const signed = await ok(alice, 'consent.sign', {
      ...(await signable(request, alice)),
      signature: { method: 'typed', name: 'Alice Moreno' },
    });
    const good = await run(process.execPath, [cli, 'verify', signed.receipt, '--relay', relay.url]);
    expect(JSON.parse(good.stdout)).toMatchObject({ valid: true, recordHash: signed.recordHash });

    const [header, payload, signature] = signed.receipt.split('.');
    const forged = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString()) as Record<
      string,
      unknown
    >;
    forged.purpose = 'Anything at all';
    const tampered = [
      header,
      Buffer.from(canonicalJson(forged)).toString('base64url'),
      signature,
    ].join('.');
    const bad = await run(process.execPath, [cli, 'verify', tampered, '--relay', relay.url]).then(
      () => undefined,
      (error: unknown) => error as { code: number; stdout: string },
    );
    expect(bad?.code).toBe(1);
    expect(JSON.parse(bad?.stdout ?? '{}')).toMatchObject({ valid: false });
  });

  it('lets a named representative sign for the patient, saying so in the record', async () => {
    const conversationId = await conversation();
    const request = await ok(
      provider,
      'consent.request',
      requestFor(conversationId, { representative: { userId: 'bob', capacity: 'guardian' } }),
    );
    expect(request).toMatchObject({ signerId: 'bob', capacity: 'guardian' });
    const { meaning } = await ok(bob, 'consent.view', { requestId: request.requestId });
    expect(meaning).toBe(
      'I authorize the disclosure described in this form, signing as guardian of Alice Moreno.',
    );
    const form = await signable(request, bob);
    const byPatient = await call(alice, 'consent.sign', {
      ...form,
      signature: { method: 'typed', name: 'Alice' },
    });
    expect(byPatient.ok ? 'ok' : byPatient.error.code).toBe('FORBIDDEN');
    const png = `data:image/png;base64,${Buffer.from('not really a png, but bytes').toString('base64')}`;
    const { record } = await ok(bob, 'consent.sign', {
      ...form,
      answers: { ...form.answers, capacity: 'Legal guardian' },
      signature: { method: 'drawn', name: 'Bob Moreno', image: png },
    });
    expect(record.meaning).toBe(
      'I authorize the disclosure described in this form, signing as guardian of Alice Moreno.',
    );
    expect(record.signature.imageHash).toMatch(/^sha256:[0-9a-f]{64}$/);
    const stored = await relay.relay.store.getConsentRecord('dev', request.requestId);
    expect(stored?.signatureImage).toBe(png);
  });

  it('records a decline, after which the request cannot be signed', async () => {
    const conversationId = await conversation();
    const request = await ok(provider, 'consent.request', requestFor(conversationId));
    const form = await signable(request, alice);
    const declined = await ok(alice, 'consent.decline', {
      requestId: request.requestId,
      reason: 'Not now',
    });
    expect(declined.state).toBe('declined');
    const late = await call(alice, 'consent.sign', {
      ...form,
      signature: { method: 'typed', name: 'Alice' },
    });
    expect(late.ok ? 'ok' : late.error.code).toBe('CONFLICT');
  });

  it('stores a signature whole or not at all when the write fails half-way', async () => {
    const conversationId = await conversation();
    const request = await ok(provider, 'consent.request', requestFor(conversationId));
    const form = await signable(request, alice);
    // A record row appears behind the relay's back, so inserting the real one fails after the
    // request row was already updated inside the same transaction.
    const raw = new Sqlite(path.join(relay.dataDir, 'carethread.sqlite'));
    raw
      .prepare(
        'insert into consent_records (tenant_id, request_id, canonical, record_hash, receipt) values (?, ?, ?, ?, ?)',
      )
      .run('dev', request.requestId, '{}', 'sha256:x', 'x');
    const ack = await call(alice, 'consent.sign', {
      ...form,
      signature: { method: 'typed', name: 'Alice Moreno' },
    });
    expect(ack.ok).toBe(false);
    raw
      .prepare('delete from consent_records where tenant_id = ? and request_id = ?')
      .run('dev', request.requestId);
    raw.close();
    const events = await relay.relay.store.listConsentEvents('dev', request.requestId);
    expect(events.map((e) => e.type)).toEqual(['requested', 'viewed']);
    expect((await relay.relay.store.getConsentRequest('dev', request.requestId))?.state).toBe(
      'viewed',
    );
    // Once the obstacle is gone the same signature goes through.
    await ok(alice, 'consent.sign', {
      ...form,
      signature: { method: 'typed', name: 'Alice Moreno' },
    });
  });

  it('makes a sealed PDF of the signed form with its audit page; any alteration breaks the seal', async () => {
    const conversationId = await conversation();
    const request = await ok(provider, 'consent.request', requestFor(conversationId));
    const unsigned = await call(alice, 'consent.pdf', { requestId: request.requestId });
    expect(unsigned.ok ? 'ok' : unsigned.error.code).toBe('NOT_FOUND');
    const signed = await ok(alice, 'consent.sign', {
      ...(await signable(request, alice)),
      signature: { method: 'typed', name: 'Alice Moreno' },
    });
    const first = await ok(alice, 'consent.pdf', { requestId: request.requestId });
    // A second record's PDF from the same relay (the sealing key is used again).
    const other = await ok(provider, 'consent.request', requestFor(conversationId));
    await ok(alice, 'consent.sign', {
      ...(await signable(other, alice)),
      signature: { method: 'typed', name: 'Alice Moreno' },
    });
    expect((await ok(alice, 'consent.pdf', { requestId: other.requestId })).pdf).not.toBe(
      first.pdf,
    );
    const again = await ok(provider, 'consent.pdf', { requestId: request.requestId });
    expect(again).toEqual(first);
    const denied = await call(bob, 'consent.pdf', { requestId: request.requestId });
    expect(denied.ok ? 'ok' : denied.error.code).toBe('FORBIDDEN');

    const dir = mkdtempSync(path.join(tmpdir(), 'carethread-pdf-'));
    try {
      const file = path.join(dir, 'consent.pdf');
      const bytes = Buffer.from(first.pdf, 'base64');
      writeFileSync(file, bytes);
      expect(first.sha256).toBe(`sha256:${createHash('sha256').update(bytes).digest('hex')}`);
      const seal = (await run('pdfsig', [file])).stdout;
      expect(seal).toContain('Signer Certificate Common Name: CareThread relay (self-signed)');
      expect(seal).toContain('Total document signed');
      expect(seal).toContain('Signature Validation: Signature is Valid.');
      const text = (await run('pdftotext', ['-layout', file, '-'])).stdout;
      for (const expected of [
        'Authorization to share my treatment information with my family',
        'Bob Moreno (father)',
        '[X]',
        'I am signing as: The patient',
        'I authorize the disclosure described in this form.',
        'Alice Moreno (typed signature, as self)',
        'Audit trail',
        signed.recordHash,
        request.templateHash,
      ])
        expect(text).toContain(expected);
      expect(text).toMatch(/3\. signed\s+\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC\s+by alice/);

      // Change one byte inside the signed range: the seal no longer matches.
      const tampered = Buffer.from(bytes);
      const at = tampered.indexOf('CareThread relay', tampered.length - 2000);
      tampered[at] = 'K'.charCodeAt(0);
      writeFileSync(file, tampered);
      expect((await run('pdfsig', [file])).stdout).toContain(
        'Signature Validation: Digest Mismatch.',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
