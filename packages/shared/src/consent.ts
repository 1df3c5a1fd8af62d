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

/** The BCP 47 language of a form's text, e.g. "en" or "es-US". */
export const LanguageTag = z.string().check(z.regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/));
/**
 * The language a reader asks for (`navigator.language`, a page's `lang`), in any case: the relay
 * answers with the form's closest language.
 */
export const ReaderLanguage = z
  .string()
  .check(z.maxLength(35), z.regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$/));

/** A form's text in one language: its title and blocks. */
export const TemplateText = z.object({
  language: LanguageTag,
  title: Label,
  blocks: z.array(ConsentBlock).check(z.minLength(1), z.maxLength(500)),
});
export type TemplateText = z.infer<typeof TemplateText>;

/** What a host publishes: the content whose canonical form is hashed, every language included. */
export const ConsentTemplateContent = z.extend(TemplateText, {
  templateId: TemplateId,
  kind: TemplateKind,
  /**
   * The same form in other languages. Each has exactly the structure of the default text (the
   * same blocks in the same order, with the same ids, `covers`, field inputs, `required` and
   * numbers of options and list items), so every language states every required element; the
   * relay checks it at publish time (`templateProblems`).
   */
  translations: z.optional(z.array(TemplateText).check(z.maxLength(20))),
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

/**
 * What a consent lets its family recipients see of the patient's care (issue 18, ADR 26):
 * `messages` the conversation (its messages, corrections, joins and leaves), `files` the files
 * shared in it, `goals` the care plan with its goals and progress, `scores` measure results with
 * their scores, `trend` only a word for each measure's direction ("improving").
 */
export const CONSENT_SCOPES = ['messages', 'files', 'goals', 'scores', 'trend'] as const;
export const ConsentScope = z.enum(CONSENT_SCOPES);
export type ConsentScope = z.infer<typeof ConsentScope>;

/** What a consent that names no scopes shares, as every consent did before scopes: the conversation. */
export const CONVERSATION_SCOPES: readonly ConsentScope[] = ['messages', 'files'];

/**
 * The scopes a consent grants, complete and in a stable order: `scores` includes `trend` (the
 * words are read from the scores), and a consent naming none shares the conversation.
 *
 * @example grantedScopes(['scores', 'goals']) // ['goals', 'scores', 'trend']
 */
export function grantedScopes(scopes: readonly ConsentScope[] | undefined): ConsentScope[] {
  const named = new Set(scopes?.length ? scopes : CONVERSATION_SCOPES);
  if (named.has('scores')) named.add('trend');
  return CONSENT_SCOPES.filter((scope) => named.has(scope));
}

/** The list of scopes a consent names: one of each, files only with the messages that carry them. */
const Scopes = z.array(ConsentScope).check(
  z.minLength(1),
  z.maxLength(CONSENT_SCOPES.length),
  z.refine((scopes) => new Set(scopes).size === scopes.length, {
    message: 'Name each scope once.',
  }),
  z.refine((scopes) => !scopes.includes('files') || scopes.includes('messages'), {
    message: 'Files are shared in messages: a consent sharing files must share messages too.',
  }),
);

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
  /** What the recipients may see; the conversation (`CONVERSATION_SCOPES`) when omitted. */
  scopes: z.optional(Scopes),
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
  /** What the recipients may see once signed, complete (`grantedScopes`). */
  scopes: z.array(ConsentScope),
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

export const ConsentView = z.object({
  requestId: ConsentRequestId,
  /**
   * The reader's language. The form comes in its closest language: the same tag, else the same
   * primary language ("es-MX" reads "es"), else the template's default.
   */
  language: z.optional(ReaderLanguage),
});
export type ConsentView = z.infer<typeof ConsentView>;

export const ConsentViewResult = z.object({
  request: ConsentRequestView,
  /** The language of the text returned, which `consent.sign` names as the one shown. */
  language: LanguageTag,
  /** Every language the form is offered in, its default first. */
  languages: z.array(LanguageTag),
  /**
   * The reader's own name from their token: what a typed signature name (signing or revoking) is
   * checked against, with `matchSignatureName`.
   */
  signatureName: z.string(),
  /**
   * The template version with its text (`language`, `title`, `blocks`) in `language` and without
   * `translations`; `hash` is the version's, over every language.
   */
  template: TemplateVersionView,
  /**
   * The electronic-records disclosure in the language closest to the form's (English or
   * Spanish), and the hash `consent.sign` returns once it is accepted.
   */
  disclosure: z.object({ language: z.string(), text: z.string(), hash: z.string() }),
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
  /**
   * The language the form was shown in (`consent.view`'s `language`), one of the template's; its
   * default when omitted. Answers to choice fields are options in that language.
   */
  language: z.optional(ReaderLanguage),
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
  /**
   * The language the form, the disclosure and the meaning were shown in. Absent from records
   * signed before forms had translations: those were shown in the template's default language.
   */
  language: z.optional(LanguageTag),
  /**
   * What the recipients may see (`grantedScopes`). Absent from records signed before consents had
   * scopes: those share the conversation (`CONVERSATION_SCOPES`).
   */
  scopes: z.optional(z.array(ConsentScope)),
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
