// Typed signature names through a real relay, on both engines: a signature (typed or drawn) and a
// revocation count only when the name typed is the signer's own name from their token, compared
// by the shared rule; the record says what was typed, what it was checked against and how.
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  ApiConsentRecord,
  ConsentRevocationView,
  type ConsentRequestView,
  type ConsentSign,
} from '@carethread/shared';
import { canonicalHash } from '../../src/core/canonical.js';
import { verifyReceipt } from '../../src/consent/receipts.js';
import { call, ok, type RawSocket, type TestRelay } from '../helpers.js';
import { consentCast, requestFor, signable, type ConsentCast } from './cast.js';
import { describeOnEachEngine } from './engines.js';

const PNG = `data:image/png;base64,${Buffer.from('a drawn name').toString('base64')}`;

describeOnEachEngine('typed signature names', (start) => {
  let relay: TestRelay;
  let cast: ConsentCast;
  let provider: RawSocket;
  let alice: RawSocket;
  let bob: RawSocket;

  beforeAll(async () => {
    relay = await start();
    cast = await consentCast(relay);
    ({ provider, alice, bob } = cast);
  });
  afterAll(async () => {
    cast.close();
    await relay.close();
  });

  /** A request to sign in a new conversation, for Alice or for Bob as her guardian. */
  async function asked(
    representative?: 'bob',
  ): Promise<{ request: ConsentRequestView; form: Omit<ConsentSign, 'signature'> }> {
    const request = await ok(
      provider,
      'consent.request',
      requestFor(
        await cast.conversation(),
        representative ? { representative: { userId: 'bob', capacity: 'guardian' } } : {},
      ),
    );
    return { request, form: await signable(request, representative ? bob : alice) };
  }

  it("refuses a typed or drawn signature that is not the signer's name, and says what to type", async () => {
    const { request, form } = await asked();
    for (const signature of [
      { method: 'typed', name: 'X' },
      { method: 'typed', name: 'Alice' },
      { method: 'typed', name: 'Bob Moreno' },
      { method: 'drawn', name: 'zzz', image: PNG },
    ] as const) {
      const ack = await call(alice, 'consent.sign', { ...form, signature });
      expect(ack.ok ? 'signed' : ack.error, signature.name).toEqual({
        code: 'SIGNER_NAME_MISMATCH',
        message: 'Type your full name as your care team has it: Alice Moreno.',
      });
    }
    // Nothing was signed: the request waits, with no record and no event beyond the view.
    expect((await relay.relay.store.getConsentRequest('dev', request.requestId))?.state).toBe(
      'viewed',
    );
    expect(await relay.relay.store.getConsentRecord('dev', request.requestId)).toBeUndefined();
    const events = await relay.relay.store.listConsentEvents('dev', request.requestId);
    expect(events.map((e) => e.type)).toEqual(['requested', 'viewed']);
  });

  it('tells the signer which name it checks a signature against', async () => {
    const { request } = await asked('bob');
    expect((await ok(bob, 'consent.view', { requestId: request.requestId })).signatureName).toBe(
      'Bob Moreno',
    );
  });

  it('accepts the name in another case, spacing or accents, and records what was typed and against what', async () => {
    const cases = [
      [{ method: 'typed', name: 'alice  moreno' }, 'normalized'],
      [{ method: 'typed', name: 'Alicé Moreno' }, 'normalized'],
      [{ method: 'drawn', name: 'ALICE MORENO', image: PNG }, 'normalized'],
      [{ method: 'typed', name: 'Alice Moreno' }, 'exact'],
    ] as const;
    for (const [signature, match] of cases) {
      const { form } = await asked();
      const signed = await ok(alice, 'consent.sign', { ...form, signature });
      expect(signed.record.signature).toMatchObject({
        method: signature.method,
        name: signature.name,
        checkedAgainst: 'Alice Moreno',
        match,
      });
      // The receipt covers it: the verified record says the same.
      const jwks = (await (await fetch(`${relay.url}/.well-known/jwks.json`)).json()) as Parameters<
        typeof verifyReceipt
      >[1];
      expect((await verifyReceipt(signed.receipt, jwks)).record).toEqual(signed.record);
    }
  });

  it("refuses a revocation whose typed name is not the revoker's; the consent stays in effect", async () => {
    const { request, form } = await asked();
    await ok(alice, 'consent.sign', {
      ...form,
      signature: { method: 'typed', name: 'Alice Moreno' },
    });
    for (const name of ['zzz', 'X', 'Alice', 'Bob Moreno']) {
      const ack = await call(alice, 'consent.revoke', {
        requestId: request.requestId,
        signature: { method: 'typed', name },
      });
      expect(ack.ok ? 'revoked' : ack.error, name).toEqual({
        code: 'SIGNER_NAME_MISMATCH',
        message: 'Type your full name as your care team has it: Alice Moreno.',
      });
    }
    expect((await relay.relay.store.getConsentRequest('dev', request.requestId))?.state).toBe(
      'signed',
    );
    expect(
      (await ok(bob, 'conversation.open', { conversationId: request.conversationId }))
        .conversationId,
    ).toBe(request.conversationId);
  });

  it("checks a revocation against the revoker's own name, even when another person signed", async () => {
    const { request, form } = await asked('bob');
    await ok(bob, 'consent.sign', {
      ...form,
      answers: { ...form.answers, capacity: 'Legal guardian' },
      signature: { method: 'typed', name: 'Bob Moreno' },
    });
    const asSigner = await call(alice, 'consent.revoke', {
      requestId: request.requestId,
      signature: { method: 'typed', name: 'Bob Moreno' },
    });
    expect(asSigner.ok ? 'revoked' : asSigner.error.code).toBe('SIGNER_NAME_MISMATCH');
    const revoked = await ok(alice, 'consent.revoke', {
      requestId: request.requestId,
      signature: { method: 'typed', name: 'alice moreno' },
    });
    expect(revoked.state).toBe('revoked');
  });

  it('keeps what was typed and checked against with the revocation; its audit event keeps no name', async () => {
    const { request, form } = await asked();
    await ok(alice, 'consent.sign', {
      ...form,
      signature: { method: 'typed', name: 'Alice Moreno' },
    });
    const revoked = await ok(alice, 'consent.revoke', {
      requestId: request.requestId,
      signature: { method: 'typed', name: 'ALICÉ  MORENO.' },
    });
    expect(revoked.state).toBe('revoked');

    const stored = await relay.relay.store.getConsentRevocation('dev', request.requestId);
    const revocation = ConsentRevocationView.parse(JSON.parse(stored ?? 'null'));
    expect(revocation).toMatchObject({
      requestId: request.requestId,
      revokedAt: revoked.updatedAt,
      revokedBy: { tenantId: 'dev', userId: 'alice', role: 'patient', displayName: 'Alice Moreno' },
      signature: {
        method: 'typed',
        name: 'ALICÉ  MORENO.',
        checkedAgainst: 'Alice Moreno',
        match: 'normalized',
      },
    });
    expect(revocation.ip).toMatch(/127\.0\.0\.1/);

    const events = await relay.relay.store.listConsentEvents('dev', request.requestId);
    expect(events.at(-1)).toMatchObject({
      type: 'revoked',
      detail: { method: 'typed', match: 'normalized', revocationHash: canonicalHash(revocation) },
    });
    expect(JSON.stringify(events)).not.toMatch(/moreno/i);

    // The host reads it beside the signed record.
    const response = await fetch(
      `${relay.url}/api/v1/consent-requests/${request.requestId}/record`,
      { headers: { authorization: `Bearer ${relay.apiKey}` } },
    );
    expect(response.status).toBe(200);
    const body = ApiConsentRecord.parse(await response.json());
    expect(body.revocation).toEqual(revocation);
  });
});
