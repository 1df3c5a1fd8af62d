// Consents as the relay stores them, for the FHIR mapping tests: a published disclosure template,
// requests in each state, records signed with the relay's real receipt key and their sealed PDFs.
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  ELECTRONIC_RECORDS_DISCLOSURE,
  signatureMeaning,
  type ConsentRecordView,
  type ConsentRequestView,
  type ConsentTemplateContent,
  type TemplateVersionView,
} from '@carethread/shared';
import { canonicalHash } from '../../src/core/canonical.js';
import { createConsentPdfSealer } from '../../src/consent/pdf.js';
import { loadReceiptSigner, type ReceiptSigner } from '../../src/consent/receipts.js';
import type {
  ConsentEventInput,
  ConsentEventRecord,
  SignedConsentRecord,
} from '../../src/store/types.js';
import type { ConsentExportInput } from '../../src/fhir/consent.js';
import { familyDisclosureTemplate } from '../consent/fixtures.js';

export const TENANT = 'sunrise';
export const BASE_URL = 'https://relay.sunrise.example/fhir';

/** A 1×1 PNG, the smallest drawn signature there is. */
const DRAWN_SIGNATURE =
  'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

export function publishedTemplate(
  content: ConsentTemplateContent = familyDisclosureTemplate(),
): TemplateVersionView {
  return {
    ...content,
    version: 3,
    hash: canonicalHash(content),
    publishedAt: '2025-01-10T09:00:00.000Z',
    publishedBy: 'dr-rivera',
  };
}

/** Chains events the way the store does: each hash covers the one before. */
export function chain(inputs: ConsentEventInput[]): ConsentEventRecord[] {
  const events: ConsentEventRecord[] = [];
  let prevHash = 'sha256:' + '0'.repeat(64);
  inputs.forEach((input, index) => {
    const hash = canonicalHash({ ...input, seq: index + 1, prevHash });
    events.push({ ...input, seq: index + 1, prevHash, hash });
    prevHash = hash;
  });
  return events;
}

export interface Scenario {
  /** Holds the receipt key and the seal certificate; remove it after the tests. */
  dataDir: string;
  receipts: ReceiptSigner;
  template: TemplateVersionView;
  /** Alice signs for herself; Bob (her mother) and Carol (partner) may read her conversation. */
  signed: ConsentExportInput;
  /** The same consent, revoked by Alice three months later. */
  revoked: ConsentExportInput;
  /** Dan, Eve's father, signs for her as guardian with a drawn signature; he and Fay receive. */
  guardian: ConsentExportInput;
  /** Alice declines a request to share with her brother. */
  declined: ConsentExportInput;
  /** A request Alice has opened but not answered. */
  viewed: ConsentExportInput;
  /** Raw PDFs and receipts, to check the mapping against. */
  pdfs: { signed: Buffer; guardian: Buffer };
}

const REQUESTED_AT = '2025-03-03T15:00:00.000Z';
const VIEWED_AT = '2025-03-03T15:04:10.000Z';
const SIGNED_AT = '2025-03-03T15:07:31.512Z';
const EXPIRES_AT = '2026-03-03T15:00:00.000Z';
export const REVOKED_AT = '2025-06-02T08:30:00.000Z';
export const DECLINED_AT = '2025-03-04T10:00:00.000Z';

function requestOf(
  template: TemplateVersionView,
  overrides: Partial<ConsentRequestView> & Pick<ConsentRequestView, 'requestId' | 'state'>,
): ConsentRequestView {
  return {
    templateId: template.templateId,
    templateVersion: template.version,
    templateHash: template.hash,
    conversationId: 'enc-2025-0042',
    patientId: 'alice',
    signerId: 'alice',
    capacity: 'self',
    recipients: [
      { userId: 'bob', displayName: 'Bob Moreno', relationship: 'Mother' },
      { userId: 'carol', displayName: 'Carol Diaz', relationship: 'partner' },
    ],
    purpose: 'So my family can support my recovery.',
    expiresAt: EXPIRES_AT,
    scopes: ['messages', 'files'],
    requestedBy: 'dr-rivera',
    requestedAt: REQUESTED_AT,
    updatedAt: REQUESTED_AT,
    ...overrides,
  };
}

async function sign(
  receipts: ReceiptSigner,
  request: ConsentRequestView,
  signer: { userId: string; role: string; displayName: string },
  patientName: string,
  signature: ConsentRecordView['signature'],
  answers: ConsentRecordView['answers'],
): Promise<{ view: ConsentRecordView; stored: Omit<SignedConsentRecord, 'signatureImage'> }> {
  const view: ConsentRecordView = {
    requestId: request.requestId,
    templateId: request.templateId,
    templateVersion: request.templateVersion,
    templateHash: request.templateHash,
    conversationId: request.conversationId,
    patientId: request.patientId,
    recipients: request.recipients,
    purpose: request.purpose,
    expiresAt: request.expiresAt,
    signer: { tenantId: TENANT, ...signer, authTime: '2025-03-03T14:55:00.000Z' },
    capacity: request.capacity,
    meaning: signatureMeaning(request.capacity, patientName),
    disclosureHash: canonicalHash(ELECTRONIC_RECORDS_DISCLOSURE),
    acknowledgements: ['no-conditioning', 'redisclosure', 'revoke'],
    answers,
    signature,
    signedAt: SIGNED_AT,
    ip: '203.0.113.7',
    userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0',
  };
  return { view, stored: await receipts.sign(view) };
}

/** Builds every scenario once: two receipt signatures and two sealed PDFs (about a second). */
export async function makeScenario(): Promise<Scenario> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'carethread-fhir-'));
  const receipts = await loadReceiptSigner(dataDir);
  const sealer = createConsentPdfSealer(dataDir);
  const template = publishedTemplate();

  const requestedEvent: ConsentEventInput = {
    type: 'requested',
    at: REQUESTED_AT,
    actorId: 'dr-rivera',
    detail: { templateId: template.templateId, templateVersion: template.version },
  };
  const viewedEvent = (actorId: string): ConsentEventInput => ({
    type: 'viewed',
    at: VIEWED_AT,
    actorId,
    detail: {},
  });

  // Alice, for herself.
  const aliceRequest = requestOf(template, {
    requestId: 'req_alice_0001',
    state: 'signed',
    updatedAt: SIGNED_AT,
  });
  const alice = await sign(
    receipts,
    aliceRequest,
    { userId: 'alice', role: 'patient', displayName: 'Alice Moreno' },
    'Alice Moreno',
    { method: 'typed', name: 'Alice Moreno', imageHash: null },
    { capacity: 'The patient', 'ends-on': '2026-03-03' },
  );
  const aliceEvents = chain([
    requestedEvent,
    viewedEvent('alice'),
    {
      type: 'signed',
      at: SIGNED_AT,
      actorId: 'alice',
      detail: { recordHash: alice.stored.recordHash, method: 'typed', capacity: 'self' },
    },
  ]);
  const alicePdf = await sealer.make({
    record: alice.view,
    recordHash: alice.stored.recordHash,
    template,
    patientName: 'Alice Moreno',
    events: aliceEvents,
    signatureImage: null,
  });
  const signed: ConsentExportInput = {
    tenantId: TENANT,
    baseUrl: BASE_URL,
    request: aliceRequest,
    template,
    record: { ...alice.stored, signatureImage: null },
    pdf: { base64: alicePdf.toString('base64') },
    events: aliceEvents,
  };
  const revoked: ConsentExportInput = {
    ...signed,
    request: { ...aliceRequest, state: 'revoked', updatedAt: REVOKED_AT },
    events: chain([
      ...aliceEvents,
      {
        type: 'revoked',
        at: REVOKED_AT,
        actorId: 'alice',
        detail: { signature: canonicalHash('Alice Moreno'), method: 'typed' },
      },
    ]),
  };

  // Dan signs for his daughter Eve as her guardian.
  const eveRequest = requestOf(template, {
    requestId: 'req-eve-0002',
    state: 'signed',
    patientId: 'eve',
    signerId: 'dan',
    capacity: 'guardian',
    recipients: [
      { userId: 'dan', displayName: 'Dan Okafor', relationship: 'father' },
      { userId: 'fay', displayName: 'Fay Okafor', relationship: 'aunt' },
    ],
    updatedAt: SIGNED_AT,
  });
  const dan = await sign(
    receipts,
    eveRequest,
    { userId: 'dan', role: 'family', displayName: 'Dan Okafor' },
    'Eve Okafor',
    {
      method: 'drawn',
      name: 'Dan Okafor',
      imageHash: `sha256:${createHash('sha256').update(DRAWN_SIGNATURE).digest('hex')}`,
    },
    { capacity: 'Legal guardian', 'ends-on': '2026-03-03' },
  );
  const eveEvents = chain([
    requestedEvent,
    viewedEvent('dan'),
    {
      type: 'signed',
      at: SIGNED_AT,
      actorId: 'dan',
      detail: { recordHash: dan.stored.recordHash, method: 'drawn', capacity: 'guardian' },
    },
  ]);
  const evePdf = await sealer.make({
    record: dan.view,
    recordHash: dan.stored.recordHash,
    template,
    patientName: 'Eve Okafor',
    events: eveEvents,
    signatureImage: DRAWN_SIGNATURE,
  });
  const guardian: ConsentExportInput = {
    tenantId: TENANT,
    baseUrl: BASE_URL,
    request: eveRequest,
    template,
    record: { ...dan.stored, signatureImage: DRAWN_SIGNATURE },
    pdf: {
      base64: evePdf.toString('base64'),
      url: 'https://relay.sunrise.example/api/consents/req-eve-0002/pdf',
    },
    events: eveEvents,
    patientName: 'Eve Okafor',
  };

  const declined: ConsentExportInput = {
    tenantId: TENANT,
    baseUrl: BASE_URL,
    request: requestOf(template, {
      requestId: 'req_alice_0003',
      state: 'declined',
      recipients: [{ userId: 'gil', displayName: 'Gil Moreno', relationship: 'brother' }],
      updatedAt: DECLINED_AT,
    }),
    template,
    events: chain([
      requestedEvent,
      viewedEvent('alice'),
      {
        type: 'declined',
        at: DECLINED_AT,
        actorId: 'alice',
        detail: { reason: 'Not now.' },
      },
    ]),
  };
  const viewed: ConsentExportInput = {
    tenantId: TENANT,
    baseUrl: BASE_URL,
    request: requestOf(template, {
      requestId: 'req_alice_0004',
      state: 'viewed',
      updatedAt: VIEWED_AT,
    }),
    template,
    events: chain([requestedEvent, viewedEvent('alice')]),
  };

  return {
    dataDir,
    receipts,
    template,
    signed,
    revoked,
    guardian,
    declined,
    viewed,
    pdfs: { signed: alicePdf, guardian: evePdf },
  };
}
