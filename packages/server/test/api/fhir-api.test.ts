// The FHIR R4 read side over HTTP: a real relay, a consent signed and revoked through the
// protocol, and every answer validated against the R4 specification.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Bundle, Communication, Consent, DocumentReference, Provenance } from 'fhir/r4.js';
import { fhirId } from '../../src/fhir/ids.js';
import { r4Errors } from '../fhir/r4-validator.js';
import {
  connectAs,
  grantConsent,
  ok,
  seedConversation,
  startRelay,
  type TestRelay,
} from '../helpers.js';

let relay: TestRelay;
let requestId: string;

async function fhir(path: string): Promise<{ status: number; type: string | null; body: unknown }> {
  const response = await fetch(`${relay.url}${path}`, {
    headers: { authorization: `Bearer ${relay.apiKey}` },
  });
  return {
    status: response.status,
    type: response.headers.get('content-type'),
    body: await response.json(),
  };
}

beforeAll(async () => {
  relay = await startRelay();
  await seedConversation(
    relay,
    'c-1',
    [
      { userId: 'alice', role: 'patient', displayName: 'Alice Moreno' },
      { userId: 'bob', role: 'family', displayName: 'Bob Moreno', relationship: 'brother' },
    ],
    'dr-rivera',
    { consent: false },
  );
  requestId = await grantConsent(relay, 'c-1', 'alice', ['bob']);
  const doctor = await connectAs(relay, await relay.token('dr-rivera', 'provider'));
  for (let i = 1; i <= 5; i++)
    await ok(doctor, 'message.send', {
      conversationId: 'c-1',
      id: `msg-${String(i).padStart(4, '0')}`,
      text: `Session note ${String(i)}`,
    });
  doctor.close();
});
afterAll(async () => {
  await relay.close();
});

it('serves each consent resource by id, valid R4, with the PDF hash and the receipt', async () => {
  const consentId = fhirId('dev', 'Consent', requestId);
  const consent = await fhir(`/fhir/Consent/${consentId}`);
  expect(consent.status).toBe(200);
  expect(consent.type).toContain('application/fhir+json');
  expect(r4Errors(consent.body as object)).toEqual([]);
  expect((consent.body as Consent).status).toBe('active');

  const document = await fhir(
    `/fhir/DocumentReference/${fhirId('dev', 'DocumentReference', requestId)}`,
  );
  expect(r4Errors(document.body as object)).toEqual([]);
  expect((document.body as DocumentReference).content[0]?.attachment.contentType).toBe(
    'application/pdf',
  );

  const provenance = await fhir(`/fhir/Provenance/${fhirId('dev', 'Provenance', requestId)}`);
  expect(r4Errors(provenance.body as object)).toEqual([]);
  const record = await (
    await fetch(`${relay.url}/api/v1/consent-requests/${requestId}/receipt`, {
      headers: { authorization: `Bearer ${relay.apiKey}` },
    })
  ).text();
  expect(
    Buffer.from((provenance.body as Provenance).signature?.[0]?.data ?? '', 'base64').toString(),
  ).toBe(record);

  const answers = await fhir(
    `/fhir/QuestionnaireResponse/${fhirId('dev', 'QuestionnaireResponse', requestId)}`,
  );
  expect(r4Errors(answers.body as object)).toEqual([]);

  const missing = await fhir(`/fhir/Consent/${fhirId('dev', 'Consent', 'nope')}`);
  expect(missing.status).toBe(404);
  expect((missing.body as { error: { code: string } }).error.code).toBe('NOT_FOUND');
});

it('finds a consent by its request id, with its documents included', async () => {
  const found = await fhir(`/fhir/Consent?identifier=${requestId}`);
  expect(found.status).toBe(200);
  const bundle = found.body as Bundle;
  expect(r4Errors(bundle)).toEqual([]);
  expect(bundle.total).toBe(1);
  expect(bundle.entry?.map((e) => [e.resource?.resourceType, e.search?.mode])).toEqual([
    ['Consent', 'match'],
    ['DocumentReference', 'include'],
    ['QuestionnaireResponse', 'include'],
    ['Provenance', 'include'],
  ]);
  const nothing = (await fhir('/fhir/Consent?identifier=no-such-request')).body as Bundle;
  expect([nothing.total, nothing.entry]).toEqual([0, []]);
});

it('pages a conversation as Communications and exports a patient as one valid Bundle', async () => {
  const first = await fhir('/fhir/Communication?conversation=c-1&_count=3');
  expect(first.status).toBe(200);
  const page = first.body as Bundle<Communication>;
  expect(r4Errors(page)).toEqual([]);
  expect(page.total).toBe(5);
  expect(page.entry?.map((e) => e.resource?.payload?.[0]?.contentString)).toEqual([
    'Session note 1',
    'Session note 2',
    'Session note 3',
  ]);
  const next = page.link?.find((l) => l.relation === 'next')?.url ?? '';
  const second = await fhir(new URL(next).pathname + new URL(next).search);
  expect((second.body as Bundle).entry).toHaveLength(2);

  const everything = await fhir('/fhir/Patient/alice/$everything');
  expect(everything.status).toBe(200);
  expect(r4Errors(everything.body as object)).toEqual([]);
  const types = (everything.body as Bundle).entry?.map((e) => e.resource?.resourceType);
  expect(types).toEqual(
    expect.arrayContaining([
      'Patient',
      'Consent',
      'DocumentReference',
      'Provenance',
      'Communication',
    ]),
  );
  expect((await fhir('/fhir/Patient/nobody/$everything')).status).toBe(404);
});

it('shows a revoked consent as inactive', async () => {
  const alice = await connectAs(
    relay,
    await relay.token('alice', 'patient', { name: 'Alice Moreno' }),
  );
  await ok(alice, 'consent.revoke', {
    requestId,
    signature: { method: 'typed', name: 'Alice Moreno' },
  });
  alice.close();
  const consent = await fhir(`/fhir/Consent/${fhirId('dev', 'Consent', requestId)}`);
  expect(r4Errors(consent.body as object)).toEqual([]);
  expect((consent.body as Consent).status).toBe('inactive');
});
