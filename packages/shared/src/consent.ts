// Consent templates: structured content (never HTML), versioned and immutable once published.
// A template of kind "disclosure-authorization" must cover every element that CONSENT.md lists
// (HIPAA 45 CFR 164.508(c), 42 CFR Part 2 §2.31); blocks say which elements they cover.
import { z } from 'zod/mini';
import {
  ConversationId,
  DisplayName,
  IsoTime,
  Label,
  UserId,
  printable,
  wellFormed,
} from './primitives.js';

/** The elements a disclosure authorization must state; each block may cover some of them. */
export const DISCLOSURE_ELEMENTS = [
  'discloser',
  'recipients',
  'information',
  'substance-use',
  'purpose',
  'expiry',
  'revocation',
  'treatment-conditioning',
  'redisclosure',
  'copy-to-signer',
  'signer-capacity',
] as const;
export const DisclosureElement = z.enum(DISCLOSURE_ELEMENTS);
export type DisclosureElement = z.infer<typeof DisclosureElement>;

/** What each element means, for the refusal that lists what a template lacks. */
export const disclosureElementSentences: Record<DisclosureElement, string> = {
  discloser: 'who discloses the information (the program)',
  recipients: 'to whom (each recipient by name and relationship)',
  information: 'what information, described specifically',
  'substance-use': 'whether substance-use treatment information is included',
  purpose: 'the purpose of the disclosure',
  expiry: 'an expiry date or event',
  revocation: 'the right to revoke in writing, how to do it, and the reliance exception',
  'treatment-conditioning': 'whether treatment depends on signing',
  redisclosure: 'whether recipients may redisclose (under Part 2: that they may not)',
  'copy-to-signer': 'that the signer gets a copy',
  'signer-capacity': "the signer's capacity and proof of authority when signing for someone else",
};

/** Template ids are chosen by the host, like conversation ids. */
export const TemplateId = z
  .string()
  .check(z.minLength(1), z.maxLength(128), z.regex(/^[A-Za-z0-9._:-]+$/));
/** Ids of acknowledgements and fields: the keys of the signer's answers. */
export const BlockId = z
  .string()
  .check(z.minLength(1), z.maxLength(64), z.regex(/^[a-z0-9][a-z0-9-]*$/));
const BlockText = z
  .string()
  .check(z.minLength(1), z.maxLength(4000), z.regex(printable), wellFormed());
const Covers = z.optional(
  z.array(DisclosureElement).check(z.maxLength(DISCLOSURE_ELEMENTS.length)),
);

export const ConsentBlock = z.discriminatedUnion('type', [
  z.object({ type: z.literal('heading'), text: Label, covers: Covers }),
  z.object({ type: z.literal('paragraph'), text: BlockText, covers: Covers }),
  z.object({
    type: z.literal('list'),
    items: z.array(BlockText).check(z.minLength(1), z.maxLength(50)),
    covers: Covers,
  }),
  /** A statement the signer must check before signing; always required. */
  z.object({ type: z.literal('acknowledgement'), id: BlockId, text: BlockText, covers: Covers }),
  z.object({
    type: z.literal('field'),
    id: BlockId,
    label: Label,
    input: z.enum(['text', 'date', 'checkbox', 'choice']),
    required: z.boolean(),
    /** For `choice`: the options, at least two. */
    options: z.optional(z.array(Label).check(z.maxLength(20))),
    covers: Covers,
  }),
]);
export type ConsentBlock = z.infer<typeof ConsentBlock>;

export const TemplateKind = z.enum(['disclosure-authorization', 'general']);
export type TemplateKind = z.infer<typeof TemplateKind>;

/** What a host publishes: the content whose canonical form is hashed. */
export const ConsentTemplateContent = z.object({
  templateId: TemplateId,
  kind: TemplateKind,
  /** BCP 47 language of the text, e.g. "en" or "es-US". */
  language: z.string().check(z.regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/)),
  title: Label,
  blocks: z.array(ConsentBlock).check(z.minLength(1), z.maxLength(500)),
});
export type ConsentTemplateContent = z.infer<typeof ConsentTemplateContent>;

/** A published version: immutable; `hash` is SHA-256 over the RFC 8785 form of the content. */
export const TemplateVersionView = z.extend(ConsentTemplateContent, {
  version: z.int().check(z.minimum(1)),
  hash: z.string().check(z.regex(/^sha256:[0-9a-f]{64}$/)),
  publishedAt: IsoTime,
  publishedBy: UserId,
});
export type TemplateVersionView = z.infer<typeof TemplateVersionView>;

export const TemplatePublish = ConsentTemplateContent;
export type TemplatePublish = z.infer<typeof TemplatePublish>;
export const TemplatePublishResult = z.object({
  template: TemplateVersionView,
  /** False when the content equals the newest version: that version is returned, none is made. */
  created: z.boolean(),
});
export type TemplatePublishResult = z.infer<typeof TemplatePublishResult>;

export const TemplateVersions = z.object({ templateId: TemplateId });
export type TemplateVersions = z.infer<typeof TemplateVersions>;
export const TemplateVersionsResult = z.object({ versions: z.array(TemplateVersionView) });
export type TemplateVersionsResult = z.infer<typeof TemplateVersionsResult>;

/** Disclosure elements no block of `content` covers; empty for other kinds of template. */
export function missingDisclosureElements(content: ConsentTemplateContent): DisclosureElement[] {
  if (content.kind !== 'disclosure-authorization') return [];
  const covered = new Set(content.blocks.flatMap((block) => block.covers ?? []));
  return DISCLOSURE_ELEMENTS.filter((element) => !covered.has(element));
}

/**
 * Everything wrong with a template beyond its shape, as sentences: missing disclosure elements,
 * answer ids used twice, choice fields without real options. Empty when it may be published.
 */
export function templateProblems(content: ConsentTemplateContent): string[] {
  const problems: string[] = [];
  const missing = missingDisclosureElements(content);
  if (missing.length > 0) {
    problems.push(
      `A disclosure authorization must state ${missing
        .map((element) => `${disclosureElementSentences[element]} [${element}]`)
        .join('; ')}.`,
    );
  }
  const ids = content.blocks.flatMap((block) =>
    block.type === 'acknowledgement' || block.type === 'field' ? [block.id] : [],
  );
  const repeated = [...new Set(ids.filter((id, i) => ids.indexOf(id) !== i))];
  if (repeated.length > 0) problems.push(`Answer ids must be unique: ${repeated.join(', ')}.`);
  for (const block of content.blocks) {
    if (block.type !== 'field') continue;
    const options = block.options ?? [];
    if (block.input === 'choice' && new Set(options).size < 2)
      problems.push(`The choice field "${block.id}" needs at least two different options.`);
    if (block.input !== 'choice' && options.length > 0)
      problems.push(`Only choice fields have options; "${block.id}" is a ${block.input} field.`);
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Signature requests, signing and receipts

/** Chosen by whoever creates the request (a UUID in practice); the idempotency key. */
/** How a typed signature name matched the signer's name (see `matchSignatureName`). */
const NameMatch = z.enum(['exact', 'normalized']);

export const ConsentRequestId = z
  .string()
  .check(z.minLength(8), z.maxLength(64), z.regex(/^[A-Za-z0-9_-]+$/));

/** In what capacity the signer signs: for themselves, or for the patient (45 CFR 164.502(g)). */
export const SignerCapacity = z.enum([
  'self',
  'guardian',
  'health-care-agent',
  'personal-representative',
]);
export type SignerCapacity = z.infer<typeof SignerCapacity>;

export const ConsentState = z.enum([
  'requested',
  'viewed',
  'signed',
  'declined',
  'revoked',
  'expired',
  /** The care team or the host withdrew the request before it was answered. */
  'cancelled',
]);
export type ConsentState = z.infer<typeof ConsentState>;

const Purpose = z
  .string()
  .check(z.minLength(1), z.maxLength(1000), z.regex(printable), wellFormed());

export const ConsentRequestCreate = z.object({
  requestId: ConsentRequestId,
  templateId: TemplateId,
  /** The version to sign; the newest when omitted. */
  templateVersion: z.optional(z.int().check(z.minimum(1))),
  /** The conversation the consent opens to the recipients. */
  conversationId: ConversationId,
  patientId: UserId,
  /** A named representative signing for the patient; the patient signs when omitted. */
  representative: z.optional(
    z.object({
      userId: UserId,
      capacity: z.enum(['guardian', 'health-care-agent', 'personal-representative']),
    }),
  ),
  /** Family participants of the conversation the consent would cover. */
  recipients: z.array(UserId).check(z.minLength(1), z.maxLength(20)),
  purpose: Purpose,
  /** When the authorization ends. */
  expiresAt: IsoTime,
});
export type ConsentRequestCreate = z.infer<typeof ConsentRequestCreate>;

export const ConsentRecipient = z.object({
  userId: UserId,
  /** A view of a stored name: `Label`, as in `Sender`. */
  displayName: Label,
  relationship: z.nullable(Label),
});
export type ConsentRecipient = z.infer<typeof ConsentRecipient>;

/** What a request and its signed record both say: which form, for whom, shared with whom, why. */
const consentSubject = {
  requestId: ConsentRequestId,
  templateId: TemplateId,
  templateVersion: z.int(),
  templateHash: z.string(),
  conversationId: ConversationId,
  patientId: UserId,
  recipients: z.array(ConsentRecipient),
  purpose: Purpose,
  expiresAt: IsoTime,
};

export const ConsentRequestView = z.object({
  ...consentSubject,
  signerId: UserId,
  capacity: SignerCapacity,
  state: ConsentState,
  requestedBy: UserId,
  requestedAt: IsoTime,
  updatedAt: IsoTime,
});
export type ConsentRequestView = z.infer<typeof ConsentRequestView>;

export const ConsentRef = z.object({ requestId: ConsentRequestId });
export type ConsentRef = z.infer<typeof ConsentRef>;

/**
 * The electronic-records disclosure (ESIGN §101(c), UETA) the signer accepts before signing; its
 * hash goes into the record, so the record says which text was accepted.
 */
export const ELECTRONIC_RECORDS_DISCLOSURE = [
  'You agree to receive and sign this form electronically. An electronic signature has the same effect as signing on paper.',
  'You may ask your care team for a paper copy of this form, and sign on paper instead, at no cost.',
  'You may withdraw this agreement to use electronic records at any time by telling your care team; it does not affect forms already signed.',
  'To read and keep this record you need a current web browser and a way to open or print a PDF file.',
].join('\n');

export const ConsentViewResult = z.object({
  request: ConsentRequestView,
  /**
   * The reader's own name from their token: what a typed signature name (signing or revoking) is
   * checked against, with `matchSignatureName`.
   */
  signatureName: z.string(),
  template: TemplateVersionView,
  disclosure: z.object({ text: z.string(), hash: z.string() }),
  /** What signing means, shown above the signature and stored in the record. */
  meaning: z.string(),
});
export type ConsentViewResult = z.infer<typeof ConsentViewResult>;

/** A drawn signature: a PNG data URL of at most ~150 KB. */
const SignatureImage = z
  .string()
  .check(z.maxLength(200_000), z.regex(/^data:image\/png;base64,[A-Za-z0-9+/]+=*$/));

export const ConsentSign = z.object({
  requestId: ConsentRequestId,
  /** The hash of the electronic-records disclosure the signer accepted. */
  disclosureHash: z.string(),
  /** Ids of the acknowledgements the signer checked: all of the template's. */
  acknowledgements: z.array(BlockId).check(z.maxLength(100)),
  answers: z.record(
    BlockId,
    z.union([z.string().check(z.maxLength(1000), wellFormed()), z.boolean()]),
  ),
  signature: z.discriminatedUnion('method', [
    z.object({ method: z.literal('typed'), name: DisplayName }),
    z.object({ method: z.literal('drawn'), name: DisplayName, image: SignatureImage }),
  ]),
});
export type ConsentSign = z.infer<typeof ConsentSign>;

/** The signed record as stored and returned: everything the receipt covers. */
export const ConsentRecordView = z.object({
  ...consentSubject,
  signer: z.object({
    tenantId: z.string(),
    userId: UserId,
    role: z.string(),
    displayName: Label,
    /** When the signer signed in to the host, from the token's auth_time; null if not given. */
    authTime: z.nullable(IsoTime),
  }),
  capacity: SignerCapacity,
  /** What the signature means, as shown to the signer. */
  meaning: z.string(),
  disclosureHash: z.string(),
  acknowledgements: z.array(BlockId),
  answers: z.record(BlockId, z.union([z.string(), z.boolean()])),
  signature: z.object({
    method: z.enum(['typed', 'drawn']),
    /** The name as the signer typed it. */
    name: Label,
    /** For a drawn signature: SHA-256 of the PNG; the image is kept with the record. */
    imageHash: z.nullable(z.string()),
    /**
     * The signer's name from their token that `name` was checked against (`matchSignatureName`).
     * Absent from records signed before names were checked.
     */
    checkedAgainst: z.optional(Label),
    /** How `name` matched `checkedAgainst`. */
    match: z.optional(NameMatch),
  }),
  signedAt: IsoTime,
  ip: z.string(),
  userAgent: z.string(),
});
export type ConsentRecordView = z.infer<typeof ConsentRecordView>;

export const ConsentSignResult = z.object({
  record: ConsentRecordView,
  /** sha256 of the canonical record (RFC 8785). */
  recordHash: z.string(),
  /** Compact JWS (ES256) whose payload is the canonical record; verify with the relay's JWKS. */
  receipt: z.string(),
});
export type ConsentSignResult = z.infer<typeof ConsentSignResult>;

export const ConsentDecline = z.object({
  requestId: ConsentRequestId,
  reason: z.optional(z.string().check(z.maxLength(500), z.regex(printable), wellFormed())),
});
export type ConsentDecline = z.infer<typeof ConsentDecline>;

/** Revocation is itself a signed act: the signer types their name to confirm it. */
export const ConsentRevoke = z.object({
  requestId: ConsentRequestId,
  signature: z.object({ method: z.literal('typed'), name: DisplayName }),
});
export type ConsentRevoke = z.infer<typeof ConsentRevoke>;

/**
 * A revocation as the relay keeps it beside the signed record: who revoked, when, and the typed
 * name with what it was checked against. Its hash is in the `revoked` audit event.
 */
export const ConsentRevocationView = z.object({
  requestId: ConsentRequestId,
  revokedBy: z.object({
    tenantId: z.string(),
    userId: UserId,
    role: z.string(),
    displayName: Label,
    authTime: z.nullable(IsoTime),
  }),
  revokedAt: IsoTime,
  signature: z.object({
    method: z.literal('typed'),
    name: Label,
    checkedAgainst: Label,
    match: NameMatch,
  }),
  ip: z.string(),
  userAgent: z.string(),
});
export type ConsentRevocationView = z.infer<typeof ConsentRevocationView>;

export const ConsentPdfResult = z.object({
  /** The sealed PDF, base64; the same bytes every time once made. */
  pdf: z.string(),
  /** `sha256:` + hex of the PDF bytes, for the chart's DocumentReference. */
  sha256: z.string(),
});
export type ConsentPdfResult = z.infer<typeof ConsentPdfResult>;

export const ConsentList = z.object({ conversationId: z.optional(ConversationId) });
export type ConsentList = z.infer<typeof ConsentList>;
export const ConsentListResult = z.object({ requests: z.array(ConsentRequestView) });
export type ConsentListResult = z.infer<typeof ConsentListResult>;

/** The meaning of a signature, as shown to the signer and stored in the record. */
export function signatureMeaning(capacity: SignerCapacity, patientName: string): string {
  return capacity === 'self'
    ? 'I authorize the disclosure described in this form.'
    : `I authorize the disclosure described in this form, signing as ${capacity.replaceAll('-', ' ')} of ${patientName}.`;
}
