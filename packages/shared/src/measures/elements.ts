// The FHIR R4 building blocks a measure questionnaire is made of: the primitive types it uses,
// Coding, and the standard translation extension, with `textIn` to read a text in a language.
import { z } from 'zod/mini';
import { LanguageTag } from '../consent.js';
import { chooseLanguage } from '../consent-templates.js';
import { printable, wellFormed } from '../primitives.js';

/** The extensions HL7 defines that a measure questionnaire uses. */
export const FHIR_EXTENSION = {
  /**
   * One translation of a string, on the string's `_field` (`_text`, `_display`...), with the
   * sub-extensions `lang` (`valueCode`) and `content` (`valueString`).
   */
  translation: 'http://hl7.org/fhir/StructureDefinition/translation',
  /** On an answer's Coding: the points the answer scores (`valueDecimal`). */
  ordinalValue: 'http://hl7.org/fhir/StructureDefinition/ordinalValue',
} as const;

/** A FHIR `id`: what the R4 JSON schema accepts. */
export const FhirId = z.string().check(z.regex(/^[A-Za-z0-9\-.]{1,64}$/));
/** A FHIR `uri` or `canonical`: no whitespace. */
export const FhirUri = z.string().check(z.minLength(1), z.maxLength(1000), z.regex(/^\S+$/));
/** A FHIR `code`: no leading, trailing or doubled whitespace. */
export const FhirCode = z.string().check(z.maxLength(200), z.regex(/^\S+( \S+)*$/));
/** Text shown to a patient: one line, at most 1000 characters. */
export const MeasureText = z
  .string()
  .check(z.minLength(1), z.maxLength(1000), z.regex(printable), wellFormed());

export const Coding = z.object({
  system: FhirUri,
  code: FhirCode,
  display: z.optional(MeasureText),
});
export type Coding = z.infer<typeof Coding>;

/**
 * A refinement of an extension list: each of `urls` appears exactly once. It aborts, so the
 * checks after it may read those extensions without guarding.
 */
export const exactlyOneOf = (where: string, urls: readonly string[]) =>
  z.refine<readonly { url: string }[]>(
    (list) => urls.every((url) => list.filter((extension) => extension.url === url).length === 1),
    { message: `${where} needs each of these exactly once: ${urls.join(', ')}.`, abort: true },
  );

const TranslationPart = z.discriminatedUnion('url', [
  z.object({ url: z.literal('lang'), valueCode: LanguageTag }),
  z.object({ url: z.literal('content'), valueString: MeasureText }),
]);

/** One translation of a string: its language and its text in that language. */
export const Translation = z.object({
  url: z.literal(FHIR_EXTENSION.translation),
  extension: z.array(TranslationPart).check(exactlyOneOf('A translation', ['lang', 'content'])),
});
export type Translation = z.infer<typeof Translation>;

/**
 * The extensions of a translated string, as FHIR JSON places them: `"_text": { "extension": [...] }`
 * beside `"text"`. Only translations are allowed there.
 */
export const Translated = z.object({
  extension: z.array(Translation).check(z.minLength(1), z.maxLength(20)),
});
export type Translated = z.infer<typeof Translated>;

/** Each translation of `translated` as its language (as written) and its text. */
export function translationsOf(
  translated: Translated | undefined,
): { lang: string; content: string }[] {
  return (translated?.extension ?? []).flatMap(({ extension }) => {
    const lang = extension.find((part) => part.url === 'lang')?.valueCode;
    const content = extension.find((part) => part.url === 'content')?.valueString;
    return lang === undefined || content === undefined ? [] : [{ lang, content }];
  });
}

/**
 * An element with a translatable string `F`: the string, and its translations on `_F`, as a
 * Questionnaire (`title`), an item (`text`), an answer's Coding or a score band (`display`) has.
 */
export type TranslatableElement<F extends string> = { readonly [K in F]: string } & Translations<F>;
type Translations<F extends string> = { readonly [K in `_${F}`]?: Translated };

/**
 * The string `field` of `element` in `lang`, or in the element's own language when it has no
 * translation in `lang`. A translation of the same primary language serves ("es-MX" reads "es"),
 * as `chooseLanguage` picks; tags compare in any case.
 *
 * @example
 * textIn(PHQ9.item[0], 'text', 'es'); // 'Poco interés o placer en hacer cosas'
 * textIn(PHQ9.item[0], 'text', 'fr'); // 'Little interest or pleasure in doing things'
 */
export function textIn<F extends string>(
  element: TranslatableElement<F>,
  field: F,
  lang: string,
): string {
  const translated: Translations<F> = element;
  const translations = translationsOf(translated[`_${field}`]);
  const chosen = chooseLanguage(
    translations.map((translation) => translation.lang),
    lang,
  );
  // chooseLanguage falls back to its first tag; a tag of another language is no translation.
  const primary = (tag: string) => tag.toLowerCase().split('-')[0];
  if (primary(chosen) !== primary(lang)) return element[field];
  return translations.find((translation) => translation.lang === chosen)?.content ?? element[field];
}
