// Consents exported to the chart: every resource is valid FHIR R4, and carries what the chart
// relies on (state, recipients, expiry, the PDF and its hashes, the receipt, who signed for whom).
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import type { Resource } from 'fhir/r4.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConsentRecordView } from '@carethread/shared';
import { verifyReceipt } from '../../src/consent/receipts.js';
import { patientCollectionBundle } from '../../src/fhir/bundle.js';
import {
  consentResources,
  consentStatus,
  includesSubstanceUseInformation,
  listConsentResources,
  POLICY_URI,
  type ConsentResources,
} from '../../src/fhir/consent.js';
import { CARETHREAD_EXTENSION, fhirId } from '../../src/fhir/ids.js';
import { patientId, relatedPersonId } from '../../src/fhir/people.js';
import {
  bilingualFamilyDisclosureTemplate,
  familyDisclosureTemplate,
} from '../consent/fixtures.js';
import {
  BASE_URL,
  DECLINED_AT,
  REVOKED_AT,
  TENANT,
  makeScenario,
  publishedTemplate,
  type Scenario,
} from './fixtures.js';
import { r4Errors } from './r4-validator.js';

let scenario: Scenario;
let signed: ConsentResources;
let revoked: ConsentResources;
let guardian: ConsentResources;
let declined: ConsentResources;
let viewed: ConsentResources;

beforeAll(async () => {
  scenario = await makeScenario();
  signed = consentResources(scenario.signed);
  revoked = consentResources(scenario.revoked);
  guardian = consentResources(scenario.guardian);
  declined = consentResources(scenario.declined);
  viewed = consentResources(scenario.viewed);
});
afterAll(() => {
  rmSync(scenario.dataDir, { recursive: true, force: true });
});

const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;
const codes = (concept: { coding?: { code?: string }[] } | undefined) =>
  (concept?.coding ?? []).map((c) => c.code);
const base64Of = (algorithm: string, bytes: Buffer) =>
  createHash(algorithm).update(bytes).digest('base64');

describe('every mapped resource is valid FHIR R4', () => {
  for (const name of ['signed', 'revoked', 'guardian', 'declined', 'viewed'] as const) {
    it(`the ${name} consent`, () => {
      const resources = listConsentResources({ signed, revoked, guardian, declined, viewed }[name]);
      for (const resource of resources) {
        expect(r4Errors(resource), `${resource.resourceType}/${resource.id ?? ''}`).toEqual([]);
        expect(resource.id).toMatch(FHIR_ID);
      }
    });
  }

  it('the per-patient collection Bundle of all of Alice’s consents', () => {
    const bundle = patientCollectionBundle({
      tenantId: TENANT,
      baseUrl: BASE_URL,
      patientId: 'alice',
      resources: [signed, revoked, declined, viewed].flatMap(listConsentResources),
      timestamp: '2025-07-01T12:00:00.000Z',
    });
    expect(r4Errors(bundle)).toEqual([]);
    expect(bundle.type).toBe('collection');
    const fullUrls = (bundle.entry ?? []).map((e) => e.fullUrl);
    expect(new Set(fullUrls).size).toBe(fullUrls.length);
    // Every literal reference resolves to an entry of the Bundle (relative to its base).
    const inBundle = new Set(fullUrls.map((url) => url!.slice(BASE_URL.length + 1)));
    const references = JSON.stringify(bundle).match(/"reference":"[^"]+"/g) ?? [];
    expect(references.length).toBeGreaterThan(10);
    for (const ref of references) expect(inBundle).toContain(ref.slice(13, -1));
  });
});

describe('a signed consent', () => {
  it('is an active patient-privacy Consent dated at signing, permitting each recipient until expiry', () => {
    const { consent } = signed;
    const { request } = scenario.signed;
    expect(consent.status).toBe('active');
    expect(codes(consent.scope)).toEqual(['patient-privacy']);
    expect(consent.category.flatMap(codes)).toContain('59284-0');
    expect(consent.patient).toEqual({
      reference: `Patient/${patientId(TENANT, 'alice')}`,
      display: 'Alice Moreno',
    });
    expect(consent.dateTime).toBe('2025-03-03T15:07:31.512Z');
    expect(consent.provision?.type).toBe('permit');
    expect(consent.provision?.period).toEqual({
      start: '2025-03-03T15:07:31.512Z',
      end: request.expiresAt,
    });
    expect(consent.provision?.actor).toEqual(
      request.recipients.map((r) => ({
        role: {
          coding: [
            {
              system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType',
              code: 'IRCP',
              display: 'information recipient',
            },
          ],
        },
        reference: {
          reference: `RelatedPerson/${relatedPersonId(TENANT, 'alice', r.userId)}`,
          display: r.displayName,
        },
      })),
    );
    expect(consent.sourceReference?.reference).toBe(
      `DocumentReference/${signed.documentReference!.id!}`,
    );
  });

  it('names HIPAA 164.508 and 42 CFR Part 2, since the form includes substance-use information', () => {
    expect(signed.consent.policy?.map((p) => p.uri)).toEqual([
      POLICY_URI.hipaaAuthorization,
      POLICY_URI.part2Consent,
    ]);
    expect(codes(signed.consent.policyRule)).toEqual(['hipaa-auth']);
    for (const resource of listConsentResources(signed).filter((r) => r.meta)) {
      expect(resource.meta?.security?.map((c) => c.code)).toEqual(['R', '42CFRPart2', 'NORDSCLCD']);
    }
    expect(signed.documentReference?.securityLabel?.flatMap(codes)).toContain('42CFRPart2');
  });

  it('has its recipients as RelatedPersons of the patient, with coded relationships', () => {
    const bob = signed.people.find((p) => p.id === relatedPersonId(TENANT, 'alice', 'bob'));
    expect(bob).toMatchObject({
      resourceType: 'RelatedPerson',
      patient: { reference: `Patient/${patientId(TENANT, 'alice')}` },
      name: [{ text: 'Bob Moreno' }],
      relationship: [{ coding: [{ code: 'MTH' }], text: 'Mother' }],
    });
  });

  it('has the sealed PDF as a DocumentReference with its SHA-1 (R4) and SHA-256 (extension)', () => {
    const doc = signed.documentReference!;
    const pdf = scenario.pdfs.signed;
    const attachment = doc.content[0]!.attachment;
    expect(doc.status).toBe('current');
    expect(doc.subject?.reference).toBe(`Patient/${patientId(TENANT, 'alice')}`);
    expect(doc.date).toBe('2025-03-03T15:07:31.512Z');
    expect(attachment.contentType).toBe('application/pdf');
    expect(Buffer.from(attachment.data!, 'base64').equals(pdf)).toBe(true);
    expect(attachment.size).toBe(pdf.length);
    expect(attachment.hash).toBe(base64Of('sha1', pdf));
    const sha256 = attachment.extension?.find(
      (e) => e.url === CARETHREAD_EXTENSION.attachmentSha256,
    )?.valueBase64Binary;
    expect(sha256).toBe(base64Of('sha256', pdf));
    // The same digest the relay's consent.pdf reports as `sha256:<hex>`.
    const hex = createHash('sha256').update(pdf).digest('hex');
    expect(Buffer.from(sha256!, 'base64').toString('hex')).toBe(hex);
    expect(codes(doc.type)).toEqual(['64292-6']);
  });

  it('has the answers as a completed QuestionnaireResponse of the template version', () => {
    const response = signed.questionnaireResponse!;
    expect(response.status).toBe('completed');
    expect(response.questionnaire).toBe(`${BASE_URL}/consent-templates/family-disclosure|3`);
    expect(response.questionnaire).toBe(
      `${signed.questionnaire.url!}|${signed.questionnaire.version!}`,
    );
    expect(response.authored).toBe('2025-03-03T15:07:31.512Z');
    expect(response.item).toEqual([
      expect.objectContaining({ linkId: 'revoke', answer: [{ valueBoolean: true }] }),
      expect.objectContaining({ linkId: 'no-conditioning', answer: [{ valueBoolean: true }] }),
      expect.objectContaining({ linkId: 'redisclosure', answer: [{ valueBoolean: true }] }),
      expect.objectContaining({
        linkId: 'capacity',
        answer: [{ valueCoding: { code: 'The patient', display: 'The patient' } }],
      }),
      expect.objectContaining({ linkId: 'ends-on', answer: [{ valueDate: '2026-03-03' }] }),
    ]);
    // Each answered linkId is a question of the Questionnaire, of the matching type.
    const questions = new Map(signed.questionnaire.item!.map((i) => [i.linkId, i.type]));
    expect(response.item!.map((i) => questions.get(i.linkId))).toEqual([
      'boolean',
      'boolean',
      'boolean',
      'choice',
      'date',
    ]);
  });

  it('has a Provenance of the signing that carries the JWS receipt, verifiable with the relay JWKS', async () => {
    const provenance = signed.provenance!;
    const record = scenario.signed.record!;
    expect(provenance.target.map((t) => t.reference)).toEqual([
      `Consent/${signed.consent.id!}`,
      `DocumentReference/${signed.documentReference!.id!}`,
      `QuestionnaireResponse/${signed.questionnaireResponse!.id!}`,
    ]);
    expect(provenance.recorded).toBe('2025-03-03T15:07:31.512Z');
    expect(provenance.agent).toEqual([
      expect.objectContaining({ who: signed.consent.patient, role: [expect.anything()] }),
    ]);
    expect(provenance.agent[0]!.onBehalfOf).toBeUndefined();
    const [signature] = provenance.signature!;
    expect(signature!.type[0]).toMatchObject({
      system: 'urn:iso-astm:E1762-95:2013',
      code: '1.2.840.10065.1.12.1.7',
    });
    expect(signature!.when).toBe('2025-03-03T15:07:31.512Z');
    expect(signature!.who).toEqual(signed.consent.patient);
    expect(signature!.sigFormat).toBe('application/jose');
    const receipt = Buffer.from(signature!.data!, 'base64').toString('utf8');
    expect(receipt).toBe(record.receipt);
    const verified = await verifyReceipt(receipt, scenario.receipts.jwks);
    expect(verified.recordHash).toBe(record.recordHash);
    expect(provenance.entity?.[0]?.what.identifier?.value).toBe(record.recordHash);
  });

  it('maps to the same resources every time, with ids of its tenant', () => {
    expect(consentResources(scenario.signed)).toEqual(signed);
    const elsewhere = consentResources({ ...scenario.signed, tenantId: 'another-tenant' });
    expect(elsewhere.consent.id).not.toBe(signed.consent.id);
    expect(signed.consent.id).toBe(fhirId(TENANT, 'Consent', 'req_alice_0001'));
  });
});

describe('a consent signed in Spanish', () => {
  it('carries its language, the questions as read and the codes of the default options', async () => {
    const template = publishedTemplate(bilingualFamilyDisclosureTemplate());
    const request = { ...scenario.signed.request, templateHash: template.hash };
    const english = ConsentRecordView.parse(JSON.parse(scenario.signed.record?.canonical ?? ''));
    const record: ConsentRecordView = {
      ...english,
      templateHash: template.hash,
      language: 'es',
      answers: { capacity: 'Paciente', 'ends-on': '2026-03-03' },
    };
    const { canonical, recordHash, receipt } = await scenario.receipts.sign(record);
    const resources = consentResources({
      ...scenario.signed,
      request,
      template: { ...template, version: request.templateVersion },
      record: { canonical, recordHash, receipt, signatureImage: null },
      pdf: undefined,
    });
    for (const resource of listConsentResources(resources))
      expect(r4Errors(resource), resource.resourceType).toEqual([]);
    expect(resources.consent.language).toBe('es');
    expect(resources.questionnaire.language).toBe('en');
    const answers = resources.questionnaireResponse;
    expect(answers?.language).toBe('es');
    const capacity = answers?.item?.find((item) => item.linkId === 'capacity');
    expect(capacity).toEqual({
      linkId: 'capacity',
      text: 'Firmo en calidad de',
      answer: [{ valueCoding: { code: 'The patient', display: 'Paciente' } }],
    });
    expect(answers?.item?.find((item) => item.linkId === 'revoke')?.text).toMatch(/^Puedo revocar/);
  });
});

describe('a revoked consent', () => {
  it('is inactive, keeps its expiry as the period end and says when it was revoked', () => {
    const { consent } = revoked;
    expect(consent.status).toBe('inactive');
    expect(consent.provision?.period?.end).toBe(scenario.revoked.request.expiresAt);
    expect(consent.extension).toEqual([
      { url: CARETHREAD_EXTENSION.consentRevoked, valueDateTime: REVOKED_AT },
    ]);
    expect(consent.id).toBe(signed.consent.id);
    // Revocation is never a deletion: the signed record, PDF and receipt stay.
    expect(revoked.provenance?.signature?.[0]?.data).toBe(signed.provenance?.signature?.[0]?.data);
    expect(revoked.documentReference?.status).toBe('current');
  });
});

describe('a consent signed by a guardian', () => {
  it('has the guardian as agent on behalf of the patient, in the capacity they signed in', () => {
    const provenance = guardian.provenance!;
    const patient = { reference: `Patient/${patientId(TENANT, 'eve')}`, display: 'Eve Okafor' };
    const dan = {
      reference: `RelatedPerson/${relatedPersonId(TENANT, 'eve', 'dan')}`,
      display: 'Dan Okafor',
    };
    expect(provenance.agent[0]).toMatchObject({ who: dan, onBehalfOf: patient });
    expect(provenance.agent[0]!.role?.flatMap(codes)).toEqual(['GUARD']);
    expect(provenance.signature?.[0]).toMatchObject({ who: dan, onBehalfOf: patient });
    expect(guardian.consent.performer).toEqual([dan]);
    const danPerson = guardian.people.find((p) => p.id === relatedPersonId(TENANT, 'eve', 'dan'));
    expect(
      danPerson?.resourceType === 'RelatedPerson' && danPerson.relationship?.flatMap(codes),
    ).toEqual(['FTH', 'GUARD']);
    expect(guardian.documentReference?.content[0]?.attachment.url).toBe(scenario.guardian.pdf?.url);
    expect(guardian.documentReference?.content[0]?.attachment.hash).toBe(
      base64Of('sha1', scenario.pdfs.guardian),
    );
  });
});

describe('a consent never signed', () => {
  it('declined: rejected, dated at the decline, with no document, answers or provenance', () => {
    expect(declined.consent.status).toBe('rejected');
    expect(declined.consent.dateTime).toBe(DECLINED_AT);
    expect(declined.consent.sourceReference).toBeUndefined();
    expect(declined.consent.provision?.period).toEqual({
      end: scenario.declined.request.expiresAt,
    });
    expect(declined.documentReference).toBeUndefined();
    expect(declined.questionnaireResponse).toBeUndefined();
    expect(declined.provenance).toBeUndefined();
  });

  it('open: proposed while requested or viewed', () => {
    expect(viewed.consent.status).toBe('proposed');
    expect(consentStatus('requested')).toBe('proposed');
    expect(viewed.provenance).toBeUndefined();
  });

  it('expired before signing: inactive, with no source', () => {
    const expired = consentResources({
      ...scenario.viewed,
      request: { ...scenario.viewed.request, state: 'expired' },
    });
    expect(expired.consent.status).toBe('inactive');
    expect(expired.consent.sourceReference).toBeUndefined();
    for (const resource of listConsentResources(expired)) expect(r4Errors(resource)).toEqual([]);
  });
});

describe('42 CFR Part 2', () => {
  it('is inferred from the blocks covering substance use, and can be decided by the caller', () => {
    expect(includesSubstanceUseInformation(scenario.template)).toBe(true);
    const content = familyDisclosureTemplate('no-sud');
    content.blocks = content.blocks.map((block) =>
      block.type === 'list'
        ? {
            ...block,
            items: [
              ...block.items.slice(0, 2),
              'This does not include substance use disorder treatment records.',
            ],
          }
        : block,
    );
    const template = publishedTemplate(content);
    expect(includesSubstanceUseInformation(template)).toBe(false);
    const plain = consentResources({
      ...scenario.viewed,
      template,
      request: { ...scenario.viewed.request, templateId: 'no-sud', templateHash: template.hash },
    });
    expect(plain.consent.policy?.map((p) => p.uri)).toEqual([POLICY_URI.hipaaAuthorization]);
    expect(plain.consent.meta).toBeUndefined();
    const resources: Resource[] = listConsentResources(plain);
    for (const resource of resources) expect(r4Errors(resource)).toEqual([]);
    const forced = consentResources({ ...scenario.signed, substanceUseInformation: false });
    expect(forced.documentReference?.securityLabel).toBeUndefined();
  });
});

it('refuses a record of another request, or a template other than the one requested', () => {
  expect(() => consentResources({ ...scenario.guardian, record: scenario.signed.record! })).toThrow(
    /record is of request/,
  );
  expect(() =>
    consentResources({ ...scenario.signed, template: { ...scenario.template, version: 4 } }),
  ).toThrow(/names template/);
});

it('a per-patient Bundle refuses another patient’s resources', () => {
  expect(() =>
    patientCollectionBundle({
      tenantId: TENANT,
      baseUrl: BASE_URL,
      patientId: 'alice',
      resources: [...listConsentResources(signed), guardian.consent],
    }),
  ).toThrow(/not this export's patient/);
});
