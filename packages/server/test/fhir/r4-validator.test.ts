// The validator the FHIR tests rely on really rejects invalid R4, and each of its three parts
// catches what it is there for: a test that passes "zero errors" means something only then.
import { expect, it } from 'vitest';
import { r4Errors } from './r4-validator.js';

const consent = {
  resourceType: 'Consent',
  id: 'c-1',
  status: 'active',
  scope: {
    coding: [
      { system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' },
    ],
  },
  category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
  patient: { reference: 'Patient/p-1' },
  policyRule: {
    coding: [
      { system: 'http://terminology.hl7.org/CodeSystem/consentpolicycodes', code: 'hipaa-auth' },
    ],
  },
  provision: { type: 'permit', period: { end: '2026-03-03T15:00:00.000Z' } },
};

const from = (validator: string, errors: string[]) =>
  errors.filter((e) => e.startsWith(`${validator}:`));

it('accepts a minimal valid R4 Consent', () => {
  expect(r4Errors(consent)).toEqual([]);
});

it('rejects a status outside the R4 consent-state-codes (an R5 code, a CareThread state)', () => {
  for (const status of ['not-done', 'signed']) {
    const errors = r4Errors({ ...consent, status });
    expect(from('fhir.js', errors).join()).toContain('Consent.status');
    expect(from('schema', errors).join()).toContain('/status');
  }
});

it('rejects a missing required element', () => {
  const { scope: _scope, ...noScope } = consent;
  expect(from('fhir.js', r4Errors(noScope)).join()).toContain('Consent.scope Missing property');
  const { status: _status, ...noStatus } = consent;
  expect(from('fhir.js', r4Errors(noStatus)).join()).toContain('Consent.status');
  const actorWithoutRole = {
    ...consent,
    provision: { type: 'permit', actor: [{ reference: { reference: 'RelatedPerson/r-1' } }] },
  };
  const errors = r4Errors(actorWithoutRole);
  expect(from('fhir.js', errors).join()).toContain('Consent.provision.actor[0].role');
  expect(from('medplum', errors).join()).toContain('Consent.provision.actor[0].role');
});

it('rejects an id FHIR does not allow, which only the JSON schema checks', () => {
  const errors = r4Errors({ ...consent, id: 'req_alice_0001' });
  expect(from('schema', errors).join()).toContain('/id');
  expect(from('fhir.js', errors)).toEqual([]);
});

it('rejects an element R4 does not define, and a wrong primitive', () => {
  const unknown = r4Errors({ ...consent, signedBy: 'alice' });
  expect(from('fhir.js', unknown)).not.toEqual([]);
  expect(from('schema', unknown)).not.toEqual([]);
  expect(from('medplum', unknown)).not.toEqual([]);
  const badDate = r4Errors({ ...consent, dateTime: 'yesterday' });
  expect(from('fhir.js', badDate)).not.toEqual([]);
  expect(from('schema', badDate)).not.toEqual([]);
});

it('rejects a broken invariant (ppc-1: a policy or a policyRule), which only Medplum evaluates', () => {
  const { policyRule: _policyRule, ...noPolicy } = consent;
  const errors = r4Errors(noPolicy);
  expect(from('medplum', errors).join()).toContain('ppc-1');
  expect(from('fhir.js', errors)).toEqual([]);
});

it('rejects an attachment whose data is not base64', () => {
  const errors = r4Errors({
    resourceType: 'DocumentReference',
    status: 'current',
    content: [{ attachment: { contentType: 'application/pdf', data: 'not base64!' } }],
  });
  expect(from('medplum', errors).join()).toContain('base64Binary');
});

it('rejects a Bundle with an invalid resource inside, or two entries with one fullUrl', () => {
  const bad = r4Errors({
    resourceType: 'Bundle',
    type: 'collection',
    entry: [
      { fullUrl: 'https://x.example/fhir/Consent/c-1', resource: { ...consent, status: 'x' } },
    ],
  });
  expect(from('fhir.js', bad).join()).toContain('Consent.status');
  const entry = { fullUrl: 'https://x.example/fhir/Consent/c-1', resource: consent };
  const twice = r4Errors({ resourceType: 'Bundle', type: 'collection', entry: [entry, entry] });
  expect(from('medplum', twice).join()).toContain('bdl-7');
});
