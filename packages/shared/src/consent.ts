// Consent templates: structured content (never HTML), versioned and immutable once published.
// A template of kind "disclosure-authorization" must cover every element that CONSENT.md lists
// (HIPAA 45 CFR 164.508(c), 42 CFR Part 2 §2.31); blocks say which elements they cover.
import { z } from 'zod/mini';
import { IsoTime, Label, UserId, printable } from './primitives.js';

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
const BlockText = z.string().check(z.minLength(1), z.maxLength(4000), z.regex(printable));
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
