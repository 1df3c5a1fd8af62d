// The sealed PDF in the language the form was signed in (form, disclosure, meaning, labels and
// dates, accents included), naming the patient; and records signed before languages and checked
// names, which still parse, verify, render and export.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Consent, QuestionnaireResponse } from 'fhir/r4.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ApiConsentRecord,
  ConsentRecordView,
  ELECTRONIC_RECORDS_DISCLOSURE,
  ELECTRONIC_RECORDS_DISCLOSURES,
  type ConsentRequestView,
} from '@carethread/shared';
import { canonicalHash } from '../../src/core/canonical.js';
import { loadReceiptSigner, verifyReceipt } from '../../src/consent/receipts.js';
import { fhirId } from '../../src/fhir/ids.js';
import { r4Errors } from '../fhir/r4-validator.js';
import { ok, startRelay, type TestRelay } from '../helpers.js';
import { consentCast, inAWeek, requestFor, signable, type ConsentCast } from './cast.js';
import { SPANISH_FAMILY_DISCLOSURE, bilingualFamilyDisclosureTemplate } from './fixtures.js';

const run = promisify(execFile);
/** A purpose the care team wrote in Spanish, with the letters the form itself lacks. */
const SPANISH_PURPOSE =
  'Para que mi padre pueda acompañarme en mi recuperación (apoyo bilingüe). ¡Gracias!';
const dir = mkdtempSync(path.join(tmpdir(), 'carethread-pdf-language-'));
let relay: TestRelay;
let cast: ConsentCast;

beforeAll(async () => {
  relay = await startRelay();
  cast = await consentCast(relay, bilingualFamilyDisclosureTemplate());
});
afterAll(async () => {
  cast.close();
  await relay.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The text of the sealed PDF of `requestId`, after checking its seal. */
async function pdfText(requestId: string): Promise<string> {
  const { pdf } = await ok(cast.alice, 'consent.pdf', { requestId });
  const file = path.join(dir, `${requestId}.pdf`);
  writeFileSync(file, Buffer.from(pdf, 'base64'));
  expect((await run('pdfsig', [file])).stdout).toContain('Signature is Valid.');
  return (await run('pdftotext', ['-layout', file, '-'])).stdout;
}

const asked = async (): Promise<ConsentRequestView> =>
  ok(cast.provider, 'consent.request', requestFor(await cast.conversation()));

describe('the sealed PDF', () => {
  it('is written in the language the form was signed in, accents included', async () => {
    const request = await ok(
      cast.provider,
      'consent.request',
      requestFor(await cast.conversation(), { purpose: SPANISH_PURPOSE }),
    );
    const view = await ok(cast.alice, 'consent.view', {
      requestId: request.requestId,
      language: 'es',
    });
    const signed = await ok(cast.alice, 'consent.sign', {
      ...(await signable(request, cast.alice)),
      language: 'es',
      disclosureHash: view.disclosure.hash,
      answers: { capacity: 'Paciente', 'ends-on': '2027-06-01' },
      signature: { method: 'typed', name: 'Alice Moreno' },
    });
    const text = await pdfText(request.requestId);
    const flat = text.replace(/\s+/g, ' ');
    for (const expected of [
      SPANISH_FAMILY_DISCLOSURE.title,
      '¿Quién comparte la información y con quién?',
      'Paciente: Alice Moreno (ID de paciente: alice)',
      'Se comparte con: Bob Moreno (father)',
      `Propósito: ${SPANISH_PURPOSE}`,
      'Registros electrónicos',
      ...ELECTRONIC_RECORDS_DISCLOSURES.es.split('\n'),
      '[X] Puedo revocar esta autorización',
      'Firmo en calidad de: Paciente',
      'Esta autorización vence el: 2027-06-01',
      'Autorizo la divulgación descrita en este formulario.',
      'Alice Moreno (firma escrita, en nombre propio)',
      'Registro de auditoría',
      'Idioma del formulario: es',
      signed.recordHash,
    ])
      expect(flat).toContain(expected);
    // Dates as Spanish readers write them; the audit page keeps exact UTC times.
    expect(flat).toMatch(/Vence: \d{1,2} de [a-z]+ de \d{4}/);
    expect(flat).toMatch(
      /Firmado el \d{1,2} de [a-z]+ de \d{4}.* por Alice Moreno \(alice, paciente\)/,
    );
    expect(flat).toMatch(/3\. firmado \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC por alice/);
    // Every accented letter drew as itself: the one "?" ends the question of the heading.
    expect(flat.split('?')).toHaveLength(2);
    for (const letter of ['á', 'é', 'í', 'ó', 'ú', 'ñ', 'ü', '¿', '¡'])
      expect(flat).toContain(letter);
  });

  it("names the patient in English too, with the chart's id", async () => {
    const request = await asked();
    await ok(cast.alice, 'consent.sign', {
      ...(await signable(request, cast.alice)),
      signature: { method: 'typed', name: 'alice moreno' },
    });
    const flat = (await pdfText(request.requestId)).replace(/\s+/g, ' ');
    expect(flat).toContain('Patient: Alice Moreno (patient ID: alice)');
    expect(flat).not.toContain('Patient: alice');
    expect(flat).toContain('Electronic records');
    expect(flat).toContain(ELECTRONIC_RECORDS_DISCLOSURE.split('\n')[0]);
    expect(flat).toContain('alice moreno (typed signature, as self)');
    expect(flat).toMatch(/Ends: [A-Z][a-z]+ \d{1,2}, \d{4}/);
    expect(flat).toContain('Form language: en');
  });
});

describe('a record signed before languages and checked names', () => {
  let request: ConsentRequestView;
  let record: ConsentRecordView;

  beforeAll(async () => {
    // Signed the way the relay signed before: no language, no name checked, English disclosure.
    request = await asked();
    await signable(request, cast.alice);
    // What the request says of the form, the people and the purpose, the record says too.
    const {
      signerId: _signer,
      state: _state,
      capacity: _capacity,
      requestedBy: _by,
      requestedAt: _at,
      updatedAt: _updated,
      ...said
    } = request;
    record = {
      ...said,
      signer: {
        tenantId: 'dev',
        userId: 'alice',
        role: 'patient',
        displayName: 'Alice Moreno',
        authTime: null,
      },
      capacity: 'self',
      meaning: 'I authorize the disclosure described in this form.',
      disclosureHash: canonicalHash(ELECTRONIC_RECORDS_DISCLOSURE),
      acknowledgements: ['no-conditioning', 'redisclosure', 'revoke'],
      answers: { capacity: 'The patient', 'ends-on': inAWeek().slice(0, 10) },
      signature: { method: 'typed', name: 'X', imageHash: null },
      signedAt: new Date().toISOString(),
      ip: '127.0.0.1',
      userAgent: 'an older browser',
    };
    const receipts = await loadReceiptSigner(relay.dataDir);
    const { canonical, recordHash, receipt } = await receipts.sign(record);
    const signed = await relay.relay.store.signConsentRequest(
      'dev',
      request.requestId,
      ['viewed'],
      { canonical, recordHash, receipt, signatureImage: null },
      { type: 'signed', at: record.signedAt, actorId: 'alice', detail: { recordHash } },
    );
    expect(signed?.state).toBe('signed');
  });

  it('parses and verifies as it was signed', async () => {
    const response = await fetch(
      `${relay.url}/api/v1/consent-requests/${request.requestId}/record`,
      { headers: { authorization: `Bearer ${relay.apiKey}` } },
    );
    const body = ApiConsentRecord.parse(await response.json());
    expect(body.record).toEqual(record);
    expect(body.record).not.toHaveProperty('language');
    const jwks = (await (await fetch(`${relay.url}/.well-known/jwks.json`)).json()) as Parameters<
      typeof verifyReceipt
    >[1];
    const verified = await verifyReceipt(body.receipt, jwks);
    expect(verified.record).toEqual(record);
    expect(verified.recordHash).toBe(body.recordHash);
  });

  it("renders in the template's default language", async () => {
    const flat = (await pdfText(request.requestId)).replace(/\s+/g, ' ');
    expect(flat).toContain('Authorization to share my treatment information with my family');
    expect(flat).toContain('Patient: Alice Moreno (patient ID: alice)');
    expect(flat).toContain('I am signing as: The patient');
    expect(flat).toContain('X (typed signature, as self)');
  });

  it('exports to FHIR in the default language', async () => {
    const get = async <T>(type: string) => {
      const response = await fetch(
        `${relay.url}/fhir/${type}/${fhirId('dev', type, request.requestId)}`,
        {
          headers: { authorization: `Bearer ${relay.apiKey}` },
        },
      );
      expect(response.status).toBe(200);
      return (await response.json()) as T;
    };
    const consent = await get<Consent>('Consent');
    expect(consent.language).toBe('en');
    const answers = await get<QuestionnaireResponse>('QuestionnaireResponse');
    expect(answers.language).toBe('en');
    expect(r4Errors(consent)).toEqual([]);
    expect(r4Errors(answers)).toEqual([]);
  });
});
