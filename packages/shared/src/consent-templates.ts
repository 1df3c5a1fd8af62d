// What the relay checks in a consent template before publishing it (the elements a disclosure
// authorization must state, answer ids, choices, and that every translation has the structure of
// the default text), and how a reader's language picks one of a template's texts.
import {
  DISCLOSURE_ELEMENTS,
  type ConsentBlock,
  type ConsentTemplateContent,
  type DisclosureElement,
  type TemplateText,
} from './consent.js';

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

/** Disclosure elements no block of `content` covers; empty for other kinds of template. */
export function missingDisclosureElements(content: ConsentTemplateContent): DisclosureElement[] {
  if (content.kind !== 'disclosure-authorization') return [];
  const covered = new Set(content.blocks.flatMap((block) => block.covers ?? []));
  return DISCLOSURE_ELEMENTS.filter((element) => !covered.has(element));
}

/** Every language a template is offered in, its default first. */
export function templateLanguages(content: ConsentTemplateContent): string[] {
  return [content.language, ...(content.translations ?? []).map((text) => text.language)];
}

/** The text of `content` in exactly `language` (in any case), or undefined when not offered. */
export function templateText(
  content: ConsentTemplateContent,
  language: string,
): TemplateText | undefined {
  const wanted = language.toLowerCase();
  const { title, blocks } = content;
  return [{ language: content.language, title, blocks }, ...(content.translations ?? [])].find(
    (text) => text.language.toLowerCase() === wanted,
  );
}

/**
 * The language to show a reader who asked for `wanted`, among `offered` (default first): the
 * same tag, else the reader's primary language on its own ("es-MX" reads "es"), else another
 * tag of that primary language ("pt" reads "pt-BR"), else the default. Tags compare in any case.
 *
 * @example
 * chooseLanguage(['en', 'es'], 'es-MX'); // 'es'
 * chooseLanguage(['en', 'es'], 'fr'); // 'en'
 */
export function chooseLanguage(offered: readonly string[], wanted?: string): string {
  const fallback = offered[0] ?? 'en';
  if (!wanted) return fallback;
  const lower = (tag: string) => tag.toLowerCase();
  const primary = (tag: string) => lower(tag).split('-')[0];
  return (
    offered.find((tag) => lower(tag) === lower(wanted)) ??
    offered.find((tag) => lower(tag) === primary(wanted)) ??
    offered.find((tag) => primary(tag) === primary(wanted)) ??
    fallback
  );
}

const plural = (count: number, noun: string) => `${String(count)} ${noun}${count === 1 ? '' : 's'}`;
const coverage = (block: ConsentBlock) => [...(block.covers ?? [])].sort().join(', ') || 'nothing';
const idOf = (block: ConsentBlock) =>
  block.type === 'acknowledgement' || block.type === 'field' ? block.id : undefined;
const kindOf = (block: ConsentBlock) =>
  block.type === 'field'
    ? `a ${block.input} field`
    : `a${block.type === 'acknowledgement' ? 'n' : ''} ${block.type}`;

/** The first way `block` differs in structure from the default's `model`, as a sentence. */
function blockDifference(
  where: string,
  block: ConsentBlock,
  model: ConsentBlock,
  index: number,
): string | undefined {
  const position = String(index + 1);
  if (block.type !== model.type)
    return `${where} is ${kindOf(block)}; it must be ${kindOf(model)}, as block ${position} of the default text is.`;
  if (idOf(block) !== idOf(model))
    return `${where} has the id "${idOf(block) ?? ''}"; it must keep the id "${idOf(model) ?? ''}" of the default text.`;
  const named =
    idOf(model) === undefined ? where : where.replace(/^Block \d+/, `$& ("${idOf(model) ?? ''}")`);
  if (coverage(block) !== coverage(model))
    return `${named} covers ${coverage(block)}; it must cover ${coverage(model)}, as in the default text.`;
  if (block.type === 'list' && model.type === 'list' && block.items.length !== model.items.length)
    return `${named} has ${plural(block.items.length, 'item')}; it must have ${String(model.items.length)}, as in the default text.`;
  if (block.type !== 'field' || model.type !== 'field') return undefined;
  if (block.input !== model.input)
    return `${named} is ${kindOf(block)}; it must be ${kindOf(model)}, as in the default text.`;
  if (block.required !== model.required)
    return `${named} is ${block.required ? 'required' : 'optional'}; it must be ${model.required ? 'required' : 'optional'}, as in the default text.`;
  const options = (block.options ?? []).length;
  const modelOptions = (model.options ?? []).length;
  if (options !== modelOptions)
    return `${named} has ${plural(options, 'option')}; it must have ${String(modelOptions)}, as in the default text.`;
  return undefined;
}

/** Ways `text` differs in structure from the default text of `content`, as sentences. */
function translationProblems(content: ConsentTemplateContent, text: TemplateText): string[] {
  const translation = `the "${text.language}" translation`;
  if (text.blocks.length !== content.blocks.length)
    return [
      `The "${text.language}" translation has ${plural(text.blocks.length, 'block')}; it must have the ${String(content.blocks.length)} of the default text ("${content.language}"), in the same order.`,
    ];
  return text.blocks.flatMap((block, index) => {
    const model = content.blocks[index];
    const where = `Block ${String(index + 1)} of ${translation}`;
    const difference = model && blockDifference(where, block, model, index);
    return difference ? [difference] : [];
  });
}

/** Languages given more than once (in any case), the default text's included. */
function repeatedLanguages(content: ConsentTemplateContent): string[] {
  const languages = templateLanguages(content);
  const lower = languages.map((language) => language.toLowerCase());
  return [...new Set(lower.filter((language, i) => lower.indexOf(language) !== i))].map(
    (repeated) => {
      const count = lower.filter((language) => language === repeated).length;
      const spelled = languages[lower.lastIndexOf(repeated)] ?? repeated;
      const asDefault =
        content.language.toLowerCase() === repeated ? ' (once as the default text)' : '';
      return `Each language may be given once: "${spelled}" is given ${String(count)} times${asDefault}.`;
    },
  );
}

/** Choice fields without two different options, and options on other fields, in `blocks`. */
function fieldProblems(blocks: readonly ConsentBlock[], inLanguage = ''): string[] {
  return blocks.flatMap((block) => {
    if (block.type !== 'field') return [];
    const options = block.options ?? [];
    if (block.input === 'choice' && new Set(options).size < 2)
      return [`The choice field "${block.id}" needs at least two different options${inLanguage}.`];
    if (block.input !== 'choice' && options.length > 0)
      return [
        `Only choice fields have options; "${block.id}" is a ${block.input} field${inLanguage}.`,
      ];
    return [];
  });
}

/**
 * Everything wrong with a template beyond its shape, as sentences: missing disclosure elements,
 * answer ids used twice, choice fields without real options, languages given twice, and
 * translations whose structure differs from the default text. Empty when it may be published.
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
  const ids = content.blocks.flatMap((block) => idOf(block) ?? []);
  const repeated = [...new Set(ids.filter((id, i) => ids.indexOf(id) !== i))];
  if (repeated.length > 0) problems.push(`Answer ids must be unique: ${repeated.join(', ')}.`);
  problems.push(...fieldProblems(content.blocks), ...repeatedLanguages(content));
  for (const text of content.translations ?? []) {
    const different = translationProblems(content, text);
    // A translation's own choices are checked once its structure matches.
    problems.push(
      ...(different.length > 0
        ? different
        : fieldProblems(text.blocks, ` (in "${text.language}")`)),
    );
  }
  return problems;
}
