// CareThread consents as FHIR R4 for the chart: the Consent (the access rule and its state), the
// sealed PDF as a DocumentReference, the form and its answers as Questionnaire and
// QuestionnaireResponse, and the signing as a Provenance carrying the JWS receipt. Pure mapping.
import { createHash } from 'node:crypto';
import {
  ConsentRecordView,
  type ConsentBlock,
  type ConsentRequestView,
  type ConsentState,
  type TemplateVersionView,
} from '@carethread/shared';
import type {
  CodeableConcept,
  Coding,
  Consent,
  ConsentPolicy,
  DocumentReference,
  Extension,
  Meta,
  Patient,
  Provenance,
  ProvenanceAgent,
  Questionnaire,
  QuestionnaireResponse,
  RelatedPerson,
  Resource,
} from 'fhir/r4.js';
import type { ConsentEventRecord, SignedConsentRecord } from '../store/types.js';
import { CARETHREAD_EXTENSION, fhirId, identifierSystem, reference } from './ids.js';
import {
  capacityConcept,
  patientReference,
  patientResource,
  relatedPersonReference,
  relatedPersonResource,
} from './people.js';
import { questionnaireFromTemplate, questionnaireUrl, responseItems } from './questionnaire.js';

const LOINC = 'http://loinc.org';
const V3_ACT_CODE = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';
const V3_ROLE_CLASS = 'http://terminology.hl7.org/CodeSystem/v3-RoleClass';
const V3_PARTICIPATION_TYPE = 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType';
const V3_CONFIDENTIALITY = 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality';
const V3_DATA_OPERATION = 'http://terminology.hl7.org/CodeSystem/v3-DataOperation';
const CONSENT_SCOPE = 'http://terminology.hl7.org/CodeSystem/consentscope';
const CONSENT_POLICY = 'http://terminology.hl7.org/CodeSystem/consentpolicycodes';
const CONSENT_ACTION = 'http://terminology.hl7.org/CodeSystem/consentaction';
const PROVENANCE_PARTICIPANT = 'http://terminology.hl7.org/CodeSystem/provenance-participant-type';
/** ASTM E1762 signature types, the R4 `Signature.type` system. */
const SIGNATURE_TYPE = 'urn:iso-astm:E1762-95:2013';

/** The rules a disclosure authorization answers to, as Consent.policy URIs. */
export const POLICY_URI = {
  hipaaAuthorization:
    'https://www.ecfr.gov/current/title-45/subtitle-A/subchapter-C/part-164/subpart-E/section-164.508',
  part2Consent:
    'https://www.ecfr.gov/current/title-42/chapter-I/subchapter-A/part-2/subpart-C/section-2.31',
} as const;

/**
 * Labels of anything that reveals substance-use treatment (even that someone is a patient of the
 * program): restricted, 42 CFR Part 2, and no redisclosure without the patient's consent.
 */
const PART2_LABELS: Coding[] = [
  { system: V3_CONFIDENTIALITY, code: 'R', display: 'restricted' },
  { system: V3_ACT_CODE, code: '42CFRPart2', display: '42 CFR Part2' },
  { system: V3_ACT_CODE, code: 'NORDSCLCD', display: 'no redisclosure without consent directive' },
];

const LOINC_PATIENT_CONSENT: Coding = {
  system: LOINC,
  code: '59284-0',
  display: 'Patient Consent',
};
const LOINC_RELEASE_OF_INFORMATION: Coding = {
  system: LOINC,
  code: '64292-6',
  display: 'Release of information consent',
};

/** What {@link consentResources} maps. */
export interface ConsentExportInput {
  tenantId: string;
  /** The FHIR base the resources are published under, e.g. `https://relay.example/fhir`. */
  baseUrl: string;
  request: ConsentRequestView;
  /** The template version the request names. */
  template: TemplateVersionView;
  /** The signed record, once signed (also for a signed consent later revoked or expired). */
  record?: SignedConsentRecord;
  /** The sealed PDF of the record (`consent.pdf`); `url` adds where the same bytes can be fetched. */
  pdf?: { base64: string; url?: string };
  /** The request's audit trail, oldest first: gives decline and revocation times. */
  events: readonly ConsentEventRecord[];
  /** The patient's name, when the caller knows it (a self-signed record names the patient). */
  patientName?: string;
  /**
   * Whether the form discloses substance-use treatment information (42 CFR Part 2). Inferred from
   * the template by {@link includesSubstanceUseInformation} when omitted.
   */
  substanceUseInformation?: boolean;
}

/** The FHIR resources of one consent request; the last four exist only once it was signed. */
export interface ConsentResources {
  consent: Consent;
  /** The patient, and each recipient and representative as RelatedPerson of the patient. */
  people: (Patient | RelatedPerson)[];
  /** The template version as a form: what the QuestionnaireResponse answers. */
  questionnaire: Questionnaire;
  documentReference?: DocumentReference;
  questionnaireResponse?: QuestionnaireResponse;
  provenance?: Provenance;
}

/**
 * The R4 consent-state-codes status of a CareThread consent state. An open request (requested or
 * viewed) has been put to the signer, so it is `proposed`, not `draft` (still being written);
 * revoked, expired and cancelled consents are `inactive` (terminated), a declined one `rejected`.
 *
 * @example consentStatus('revoked') // 'inactive'
 */
export function consentStatus(state: ConsentState): Consent['status'] {
  switch (state) {
    case 'requested':
    case 'viewed':
      return 'proposed';
    case 'signed':
      return 'active';
    case 'declined':
      return 'rejected';
    // A cancelled request (withdrawn by the care team before it was answered) never took effect.
    case 'revoked':
    case 'expired':
    case 'cancelled':
      return 'inactive';
  }
}

const NEGATION = /\b(not|no|never|without|excludes?|excluding|except)\b/i;
const SUBSTANCE_USE = /substance|42\s*C\.?F\.?R\.?\s*(Part\s*)?2|alcohol|drug/i;

function blockTexts(block: ConsentBlock): string[] {
  switch (block.type) {
    case 'heading':
    case 'paragraph':
    case 'acknowledgement':
      return [block.text];
    case 'list':
      return block.items;
    case 'field':
      return [block.label];
  }
}

/**
 * Whether a template says it discloses substance-use treatment information. The template schema
 * has no flag for it: a disclosure authorization only has to cover the element "substance-use",
 * which states whether such information is included. So this reads the blocks covering it: a
 * sentence there that mentions substance use or 42 CFR Part 2 without a negation ("not", "no",
 * "excludes") says it is included. Pass `substanceUseInformation` to decide it yourself.
 *
 * @example includesSubstanceUseInformation(template) // true for "This includes substance use…"
 */
export function includesSubstanceUseInformation(template: TemplateVersionView): boolean {
  return template.blocks
    .filter((block) => block.covers?.includes('substance-use'))
    .flatMap(blockTexts)
    .some((text) => SUBSTANCE_USE.test(text) && !NEGATION.test(text));
}

const escapeXml = (text: string) =>
  text.replace(
    /[&<>"]/g,
    (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[ch] ?? ch,
  );

function lastEventAt(
  events: readonly ConsentEventRecord[],
  type: ConsentEventRecord['type'],
): string | undefined {
  return events.findLast((event) => event.type === type)?.at;
}

function parseRecord(stored: SignedConsentRecord, request: ConsentRequestView): ConsentRecordView {
  const record = ConsentRecordView.parse(JSON.parse(stored.canonical));
  if (record.requestId !== request.requestId)
    throw new TypeError(`The record is of request ${record.requestId}, not ${request.requestId}.`);
  return record;
}

const sha = (algorithm: 'sha1' | 'sha256', bytes: Buffer) =>
  createHash(algorithm).update(bytes).digest('base64');

/**
 * Maps one consent request, with its record and PDF once signed, to FHIR R4 resources.
 *
 * Ids are stable ({@link fhirId} of the tenant and request id), so exporting the same consent
 * again updates the same resources. Recipients are RelatedPerson resources returned in `people`
 * and referenced by id (not contained), because the Provenance and other consents refer to the
 * same people.
 *
 * @example
 * const { consent, documentReference, provenance } = consentResources({
 *   tenantId, baseUrl: 'https://relay.example/fhir', request, template, record, pdf, events,
 * });
 */
export function consentResources(input: ConsentExportInput): ConsentResources {
  const { tenantId, request, template, events } = input;
  if (template.templateId !== request.templateId || template.version !== request.templateVersion)
    throw new TypeError(
      `The request names template ${request.templateId} v${request.templateVersion}, not ${template.templateId} v${template.version}.`,
    );
  if (input.pdf && !input.record) throw new TypeError('A consent PDF needs its signed record.');
  const stored = input.record;
  const record = stored && parseRecord(stored, request);
  // The language the form was signed in (its default before records said); the request's form.
  const language = record?.language ?? template.language;
  const signedAt = record?.signedAt ?? lastEventAt(events, 'signed');
  const disclosure = template.kind === 'disclosure-authorization';
  const part2 = input.substanceUseInformation ?? includesSubstanceUseInformation(template);
  const meta: { meta?: Meta } = part2 ? { meta: { security: PART2_LABELS } } : {};
  const requestIdentifier = {
    system: identifierSystem(tenantId, 'consent-request'),
    value: request.requestId,
  };

  const patientName =
    input.patientName ?? (record?.capacity === 'self' ? record.signer.displayName : undefined);
  const patient = patientReference(tenantId, request.patientId, patientName);
  const representative = request.capacity !== 'self';
  const recipientOfSigner = request.recipients.find((r) => r.userId === request.signerId);
  const signerName = record?.signer.displayName ?? recipientOfSigner?.displayName;
  const signer = representative
    ? relatedPersonReference(tenantId, request.patientId, request.signerId, signerName)
    : patient;

  const people: (Patient | RelatedPerson)[] = [
    patientResource(tenantId, { userId: request.patientId, displayName: patientName }),
  ];
  for (const recipient of request.recipients) {
    people.push(
      relatedPersonResource(tenantId, request.patientId, {
        ...recipient,
        ...(recipient.userId === request.signerId ? { capacity: request.capacity } : {}),
      }),
    );
  }
  if (representative && !recipientOfSigner) {
    people.push(
      relatedPersonResource(tenantId, request.patientId, {
        userId: request.signerId,
        displayName: signerName,
        capacity: request.capacity,
      }),
    );
  }

  const questionnaire = questionnaireFromTemplate({ tenantId, baseUrl: input.baseUrl, template });
  const ids = {
    consent: fhirId(tenantId, 'Consent', request.requestId),
    documentReference: fhirId(tenantId, 'DocumentReference', request.requestId),
    questionnaireResponse: fhirId(tenantId, 'QuestionnaireResponse', request.requestId),
    provenance: fhirId(tenantId, 'Provenance', request.requestId),
  };
  const consentRef = reference('Consent', ids.consent);
  const pdfRef = input.pdf && reference('DocumentReference', ids.documentReference, template.title);
  const answersRef = reference('QuestionnaireResponse', ids.questionnaireResponse);
  const questionnaireCanonical = `${questionnaireUrl(input.baseUrl, template.templateId)}|${template.version}`;

  let documentReference: DocumentReference | undefined;
  let questionnaireResponse: QuestionnaireResponse | undefined;
  let provenance: Provenance | undefined;
  if (stored && record) {
    questionnaireResponse = {
      resourceType: 'QuestionnaireResponse',
      id: ids.questionnaireResponse,
      ...meta,
      language,
      identifier: requestIdentifier,
      questionnaire: questionnaireCanonical,
      status: 'completed',
      subject: patient,
      authored: record.signedAt,
      author: signer,
      source: signer,
      item: responseItems(template, record),
    };

    if (input.pdf) {
      const bytes = Buffer.from(input.pdf.base64, 'base64');
      documentReference = {
        resourceType: 'DocumentReference',
        id: ids.documentReference,
        ...meta,
        identifier: [requestIdentifier],
        status: 'current',
        docStatus: 'final',
        type: { coding: [disclosure ? LOINC_RELEASE_OF_INFORMATION : LOINC_PATIENT_CONSENT] },
        category: [{ coding: [LOINC_PATIENT_CONSENT] }],
        subject: patient,
        date: record.signedAt,
        author: [signer],
        description: template.title,
        ...(part2
          ? { securityLabel: [...PART2_LABELS].map((coding) => ({ coding: [coding] })) }
          : {}),
        content: [
          {
            attachment: {
              extension: [
                {
                  url: CARETHREAD_EXTENSION.attachmentSha256,
                  valueBase64Binary: sha('sha256', bytes),
                },
              ],
              contentType: 'application/pdf',
              language,
              data: bytes.toString('base64'),
              ...(input.pdf.url ? { url: input.pdf.url } : {}),
              size: bytes.length,
              hash: sha('sha1', bytes),
              title: template.title,
              creation: record.signedAt,
            },
          },
        ],
        context: { related: [consentRef, answersRef] },
      };
    }

    const onBehalfOf = representative ? { onBehalfOf: patient } : {};
    const role: CodeableConcept =
      request.capacity === 'self'
        ? { coding: [{ system: V3_ROLE_CLASS, code: 'PAT', display: 'patient' }] }
        : capacityConcept(request.capacity);
    const agent: ProvenanceAgent = {
      type: { coding: [{ system: PROVENANCE_PARTICIPANT, code: 'author', display: 'Author' }] },
      role: [role],
      who: signer,
      ...onBehalfOf,
    };
    provenance = {
      resourceType: 'Provenance',
      id: ids.provenance,
      ...meta,
      target: [consentRef, ...(pdfRef ? [pdfRef] : []), answersRef],
      occurredDateTime: record.signedAt,
      recorded: record.signedAt,
      activity: { coding: [{ system: V3_DATA_OPERATION, code: 'CREATE', display: 'create' }] },
      agent: [agent],
      entity: [
        {
          role: 'source',
          what: {
            identifier: {
              system: identifierSystem(tenantId, 'consent-record'),
              value: stored.recordHash,
            },
            display: 'The signed CareThread consent record (RFC 8785 JSON) the receipt covers',
          },
        },
      ],
      signature: [
        {
          // The receipt is the relay's JWS over the record of the signer's act, so the signature
          // is the signer's consent signature (ASTM E1762 "Consent Signature").
          type: [
            {
              system: SIGNATURE_TYPE,
              code: '1.2.840.10065.1.12.1.7',
              display: 'Consent Signature',
            },
          ],
          when: record.signedAt,
          who: signer,
          ...onBehalfOf,
          targetFormat: 'application/json',
          sigFormat: 'application/jose',
          data: Buffer.from(stored.receipt, 'utf8').toString('base64'),
        },
      ],
    };
  }

  const status = consentStatus(request.state);
  const revokedAt =
    request.state === 'revoked' ? (lastEventAt(events, 'revoked') ?? request.updatedAt) : undefined;
  const dateTime =
    signedAt ??
    (request.state === 'declined'
      ? (lastEventAt(events, 'declined') ?? request.updatedAt)
      : request.requestedAt);
  const extension: Extension[] = revokedAt
    ? [{ url: CARETHREAD_EXTENSION.consentRevoked, valueDateTime: revokedAt }]
    : [];
  const policy: ConsentPolicy[] = [
    ...(disclosure ? [{ uri: POLICY_URI.hipaaAuthorization }] : []),
    ...(part2 ? [{ uri: POLICY_URI.part2Consent }] : []),
  ];
  const recipients = request.recipients.map((r) =>
    r.relationship ? `${r.displayName} (${r.relationship})` : r.displayName,
  );
  const div = [
    `<p><b>${escapeXml(template.title)}</b> (${status})</p>`,
    `<p>Shared with: ${escapeXml(recipients.join(', '))}</p>`,
    `<p>Purpose: ${escapeXml(request.purpose)}</p>`,
    `<p>Ends: ${escapeXml(request.expiresAt)}${revokedAt ? `; revoked ${escapeXml(revokedAt)}` : ''}</p>`,
  ].join('');

  const consent: Consent = {
    resourceType: 'Consent',
    id: ids.consent,
    ...meta,
    language,
    text: { status: 'generated', div: `<div xmlns="http://www.w3.org/1999/xhtml">${div}</div>` },
    ...(extension.length > 0 ? { extension } : {}),
    identifier: [requestIdentifier],
    status,
    scope: {
      coding: [{ system: CONSENT_SCOPE, code: 'patient-privacy', display: 'Privacy Consent' }],
    },
    category: [
      { coding: [LOINC_PATIENT_CONSENT] },
      ...(disclosure
        ? [{ coding: [{ system: V3_ACT_CODE, code: 'IDSCL', display: 'information disclosure' }] }]
        : []),
    ],
    patient,
    dateTime,
    performer: [signer],
    ...(policy.length > 0 ? { policy } : {}),
    policyRule: {
      coding: [
        disclosure
          ? { system: CONSENT_POLICY, code: 'hipaa-auth', display: 'HIPAA Authorization' }
          : { system: V3_ACT_CODE, code: 'OPTIN', display: 'opt-in' },
      ],
    },
    // The sealed PDF is the source; without it, the signed answers are.
    ...(pdfRef ? { sourceReference: pdfRef } : record ? { sourceReference: answersRef } : {}),
    provision: {
      type: 'permit',
      period: { ...(signedAt ? { start: signedAt } : {}), end: request.expiresAt },
      actor: request.recipients.map((recipient) => ({
        role: {
          coding: [
            { system: V3_PARTICIPATION_TYPE, code: 'IRCP', display: 'information recipient' },
          ],
        },
        reference: relatedPersonReference(
          tenantId,
          request.patientId,
          recipient.userId,
          recipient.displayName,
        ),
      })),
      action: [{ coding: [{ system: CONSENT_ACTION, code: 'disclose', display: 'Disclose' }] }],
    },
  };

  return {
    consent,
    people,
    questionnaire,
    ...(documentReference ? { documentReference } : {}),
    ...(questionnaireResponse ? { questionnaireResponse } : {}),
    ...(provenance ? { provenance } : {}),
  };
}

/** Every resource of a mapped consent, people first, in an order fit for a Bundle. */
export function listConsentResources(resources: ConsentResources): Resource[] {
  return [
    ...resources.people,
    resources.questionnaire,
    resources.consent,
    ...(resources.documentReference ? [resources.documentReference] : []),
    ...(resources.questionnaireResponse ? [resources.questionnaireResponse] : []),
    ...(resources.provenance ? [resources.provenance] : []),
  ];
}
