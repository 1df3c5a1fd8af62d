// A consent form as its reader sees it: the template's text in one of its languages, the
// electronic-records disclosure in the matching language with its hash, and the check of a
// signer's acknowledgements and answers against the text that was shown.
import {
  ELECTRONIC_RECORDS_DISCLOSURES,
  relayTextLanguage,
  templateText,
  type ConsentBlock,
  type ConsentSign,
  type RelayTextLanguage,
  type TemplateVersionView,
} from '@carethread/shared';
import { canonicalHash } from '../core/canonical.js';

/** The electronic-records disclosure in one language, and the hash a signer returns for it. */
export interface Disclosure {
  language: RelayTextLanguage;
  text: string;
  hash: string;
}

const disclosureIn = (language: RelayTextLanguage): Disclosure => ({
  language,
  text: ELECTRONIC_RECORDS_DISCLOSURES[language],
  hash: canonicalHash(ELECTRONIC_RECORDS_DISCLOSURES[language]),
});
const DISCLOSURES: Record<RelayTextLanguage, Disclosure> = {
  en: disclosureIn('en'),
  es: disclosureIn('es'),
};

/** The disclosure shown beside a form in `language`. */
export function disclosureFor(language: string): Disclosure {
  return DISCLOSURES[relayTextLanguage(language)];
}

/** The disclosure a record accepted, by its hash; undefined for a text the relay no longer has. */
export function disclosureByHash(hash: string): Disclosure | undefined {
  return Object.values(DISCLOSURES).find((disclosure) => disclosure.hash === hash);
}

/**
 * The version with its text (`language`, `title`, `blocks`) in `language` and without
 * `translations`; in its default language when it has no text in `language`.
 */
export function versionIn(template: TemplateVersionView, language: string): TemplateVersionView {
  const { translations: _others, ...version } = template;
  const text = templateText(template, language);
  return text ? { ...version, ...text } : version;
}

/** What is wrong with a signer's acknowledgements and answers to `blocks`, as sentences. */
export function answerProblems(blocks: readonly ConsentBlock[], input: ConsentSign): string[] {
  const problems: string[] = [];
  const acknowledgementIds = blocks.flatMap((b) => (b.type === 'acknowledgement' ? [b.id] : []));
  const missing = acknowledgementIds.filter((id) => !input.acknowledgements.includes(id));
  if (missing.length > 0) problems.push(`Check every acknowledgement (${missing.join(', ')}).`);
  const unknownAcks = input.acknowledgements.filter((id) => !acknowledgementIds.includes(id));
  if (unknownAcks.length > 0) problems.push(`Unknown acknowledgements: ${unknownAcks.join(', ')}.`);
  const fields = new Map(blocks.flatMap((b) => (b.type === 'field' ? [[b.id, b]] : [])));
  for (const id of Object.keys(input.answers)) {
    if (!fields.has(id)) problems.push(`"${id}" is not a field of this form.`);
  }
  for (const field of fields.values()) {
    const answer = input.answers[field.id];
    if (answer === undefined || answer === '') {
      if (field.required) problems.push(`"${field.label}" is required.`);
      continue;
    }
    const wrong =
      field.input === 'checkbox'
        ? typeof answer !== 'boolean'
        : typeof answer !== 'string' ||
          (field.input === 'date' && !/^\d{4}-\d{2}-\d{2}$/.test(answer)) ||
          (field.input === 'choice' && !(field.options ?? []).includes(answer));
    if (wrong) problems.push(`"${field.label}" has an answer of the wrong kind.`);
  }
  return problems;
}
