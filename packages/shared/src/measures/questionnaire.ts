// What CareThread can score: the subset of an R4 Questionnaire that a patient-reported measure
// is (single-choice questions whose answers carry points, bands of the total, the change that
// counts), so a host may publish its own measure; and the readers of that subset.
import { z } from 'zod/mini';
import { LanguageTag } from '../consent.js';
import {
  Coding,
  FHIR_EXTENSION,
  FhirCode,
  FhirId,
  FhirUri,
  MeasureText,
  Translated,
  exactlyOneOf,
  translationsOf,
} from './elements.js';

const STRUCTURE_DEFINITIONS = 'https://carethread.dev/fhir/StructureDefinition';

/** The extensions CareThread defines for scoring a measure. */
export const MEASURE_EXTENSION = {
  /** On the Questionnaire: the code of the total score's Observation (`valueCoding`, LOINC). */
  scoreCode: `${STRUCTURE_DEFINITIONS}/score-code`,
  /**
   * On the Questionnaire, once per band of the total: sub-extensions `min` and `max`
   * (`valueInteger`, both included), `code` (`valueCode`) and `display` (`valueString`, its
   * translations on `_valueString`).
   */
  scoreBand: `${STRUCTURE_DEFINITIONS}/score-band`,
  /** On the Questionnaire: the smallest change of the total that is a real change (`valueInteger`). */
  changeThreshold: `${STRUCTURE_DEFINITIONS}/change-threshold`,
  /** On the Questionnaire: whether a lower total is the better one (`valueBoolean`). */
  lowerIsBetter: `${STRUCTURE_DEFINITIONS}/lower-is-better`,
  /**
   * On the Questionnaire, once per language it is offered in besides its own (`valueCode`): every
   * text, answer display and band display then has a translation in that language.
   */
  offeredLanguage: `${STRUCTURE_DEFINITIONS}/offered-language`,
  /** On an item: an answer whose points reach this value flags a risk (`valueInteger`). */
  riskThreshold: `${STRUCTURE_DEFINITIONS}/risk-threshold`,
} as const;

/** Points: whole numbers, so totals and the bands over them are whole numbers too. */
const Points = z.int().check(z.minimum(0), z.maximum(1000));

const BandPart = z.discriminatedUnion('url', [
  z.object({ url: z.literal('min'), valueInteger: Points }),
  z.object({ url: z.literal('max'), valueInteger: Points }),
  z.object({ url: z.literal('code'), valueCode: FhirCode }),
  z.object({
    url: z.literal('display'),
    valueString: MeasureText,
    _valueString: z.optional(Translated),
  }),
]);

const QuestionnaireExtension = z.discriminatedUnion('url', [
  z.object({ url: z.literal(MEASURE_EXTENSION.scoreCode), valueCoding: Coding }),
  z.object({
    url: z.literal(MEASURE_EXTENSION.scoreBand),
    extension: z
      .array(BandPart)
      .check(exactlyOneOf('A score band', ['min', 'max', 'code', 'display'])),
  }),
  z.object({
    url: z.literal(MEASURE_EXTENSION.changeThreshold),
    valueInteger: Points.check(z.minimum(1)),
  }),
  z.object({ url: z.literal(MEASURE_EXTENSION.lowerIsBetter), valueBoolean: z.boolean() }),
  z.object({ url: z.literal(MEASURE_EXTENSION.offeredLanguage), valueCode: LanguageTag }),
]);

/** An answer: a coded choice and the points it scores. */
export const MeasureAnswerOption = z.object({
  valueCoding: z.object({
    system: FhirUri,
    code: FhirCode,
    display: MeasureText,
    _display: z.optional(Translated),
    extension: z
      .array(z.object({ url: z.literal(FHIR_EXTENSION.ordinalValue), valueDecimal: Points }))
      .check(exactlyOneOf('An answer', [FHIR_EXTENSION.ordinalValue])),
  }),
});
export type MeasureAnswerOption = z.infer<typeof MeasureAnswerOption>;

/** A question: required, answered by exactly one of its options. */
export const MeasureItem = z.object({
  linkId: z.string().check(z.minLength(1), z.maxLength(255), z.regex(/^\S+$/)),
  code: z.optional(z.array(Coding).check(z.minLength(1), z.maxLength(10))),
  text: MeasureText,
  _text: z.optional(Translated),
  type: z.literal('choice'),
  required: z.literal(true),
  // Later checks read every question's answers, so a question without them stops there.
  answerOption: z
    .array(MeasureAnswerOption)
    .check(z.minLength(2, { abort: true }), z.maxLength(20)),
  extension: z.optional(
    z
      .array(z.object({ url: z.literal(MEASURE_EXTENSION.riskThreshold), valueInteger: Points }))
      .check(z.maxLength(1)),
  ),
});
export type MeasureItem = z.infer<typeof MeasureItem>;

const QuestionnaireShape = z.object({
  resourceType: z.literal('Questionnaire'),
  id: FhirId,
  url: FhirUri,
  version: z.string().check(z.minLength(1), z.maxLength(64), z.regex(/^\S+$/)),
  /** A computer-friendly name, as R4 asks (que-0). */
  name: z.string().check(z.regex(/^[A-Z][A-Za-z0-9_]{0,254}$/)),
  title: MeasureText,
  _title: z.optional(Translated),
  status: z.enum(['active', 'draft', 'retired']),
  /** The language of every base text; translations are on the `_` elements. */
  language: z.literal('en'),
  /** What the questionnaire is, e.g. its LOINC panel code. */
  code: z.optional(z.array(Coding).check(z.minLength(1), z.maxLength(10))),
  /** The stem a renderer shows above the questions ("Over the last 2 weeks..."). */
  description: MeasureText,
  _description: z.optional(Translated),
  extension: z
    .array(QuestionnaireExtension)
    .check(
      exactlyOneOf('A measure', [
        MEASURE_EXTENSION.scoreCode,
        MEASURE_EXTENSION.changeThreshold,
        MEASURE_EXTENSION.lowerIsBetter,
      ]),
    ),
  item: z.array(MeasureItem).check(z.minLength(1, { abort: true }), z.maxLength(100)),
});

/**
 * A band of a measure's total, e.g. 10–14 "Moderate": `min` and `max` are included; its display's
 * translations are on `_display`, so `textIn(band, 'display', lang)` reads it.
 */
export type ScoreBand = {
  min: number;
  max: number;
  code: string;
  display: string;
  _display?: Translated;
};

type QuestionnaireExtension = MeasureQuestionnaire['extension'][number];
type ExtensionOf<U extends QuestionnaireExtension['url']> = Extract<
  QuestionnaireExtension,
  { url: U }
>;

/** Every extension of `q` with `url`. */
function extensionsOf<U extends QuestionnaireExtension['url']>(
  q: MeasureQuestionnaire,
  url: U,
): ExtensionOf<U>[] {
  return q.extension.filter((extension): extension is ExtensionOf<U> => extension.url === url);
}

/** The extension of `q` with `url` that a MeasureQuestionnaire has exactly once. */
function extensionOf<U extends QuestionnaireExtension['url']>(
  q: MeasureQuestionnaire,
  url: U,
): ExtensionOf<U> {
  const [extension] = extensionsOf(q, url);
  if (!extension) throw new TypeError(`${q.name} has no ${url} extension: is it parsed?`);
  return extension;
}

/** The points `option` scores. */
export function ordinalOf(option: MeasureAnswerOption): number {
  const [ordinal] = option.valueCoding.extension;
  if (!ordinal) throw new TypeError(`The answer ${option.valueCoding.code} has no ordinalValue.`);
  return ordinal.valueDecimal;
}

/** The points from which an answer to `item` flags a risk, if answers to it can. */
export function riskThresholdOf(item: MeasureItem): number | undefined {
  return item.extension?.[0]?.valueInteger;
}

const pointsOf = (item: MeasureItem) => item.answerOption.map(ordinalOf);

/** The lowest total `q` can score: every question answered with its fewest points. */
export function minimumTotal(q: MeasureQuestionnaire): number {
  return q.item.reduce((sum, item) => sum + Math.min(...pointsOf(item)), 0);
}

/**
 * The highest total `q` can score: every question answered with its most points.
 *
 * @example maximumTotal(PHQ9); // 27
 */
export function maximumTotal(q: MeasureQuestionnaire): number {
  return q.item.reduce((sum, item) => sum + Math.max(...pointsOf(item)), 0);
}

/** The bands of the total of `q`, lowest first. */
export function scoreBands(q: MeasureQuestionnaire): ScoreBand[] {
  return extensionsOf(q, MEASURE_EXTENSION.scoreBand)
    .map(({ extension: parts }): ScoreBand => {
      const min = parts.find((part) => part.url === 'min')?.valueInteger;
      const max = parts.find((part) => part.url === 'max')?.valueInteger;
      const code = parts.find((part) => part.url === 'code')?.valueCode;
      const display = parts.find((part) => part.url === 'display');
      if (min === undefined || max === undefined || code === undefined || !display)
        throw new TypeError(`A score band of ${q.name} lacks a part: is it parsed?`);
      const translated = display._valueString;
      return {
        min,
        max,
        code,
        display: display.valueString,
        ...(translated && { _display: translated }),
      };
    })
    .sort((a, b) => a.min - b.min);
}

/** The smallest change of the total of `q` that counts as a real change. */
export function changeThreshold(q: MeasureQuestionnaire): number {
  return extensionOf(q, MEASURE_EXTENSION.changeThreshold).valueInteger;
}

/** Whether a lower total of `q` is the better one (as for symptom measures like PHQ-9). */
export function lowerIsBetter(q: MeasureQuestionnaire): boolean {
  return extensionOf(q, MEASURE_EXTENSION.lowerIsBetter).valueBoolean;
}

/**
 * The languages `q` is offered in, its own first: the `offered` argument of `chooseLanguage`.
 *
 * @example chooseLanguage(measureLanguages(PHQ9), 'es-MX'); // 'es'
 */
export function measureLanguages(q: MeasureQuestionnaire): string[] {
  return [
    q.language,
    ...extensionsOf(q, MEASURE_EXTENSION.offeredLanguage).map((e) => e.valueCode),
  ];
}

type Path = (string | number)[];
type Report = (message: string, path: Path) => void;

/** Each translatable string of `q`: where it is, and its translations. */
function translatables(
  q: MeasureQuestionnaire,
): { path: Path; translated: Translated | undefined }[] {
  const bandDisplays = q.extension.flatMap((extension, index) =>
    extension.url === MEASURE_EXTENSION.scoreBand
      ? extension.extension.flatMap((part, partIndex) =>
          part.url === 'display'
            ? [
                {
                  path: ['extension', index, 'extension', partIndex, '_valueString'],
                  translated: part._valueString,
                },
              ]
            : [],
        )
      : [],
  );
  return [
    { path: ['_title'], translated: q._title },
    { path: ['_description'], translated: q._description },
    ...q.item.flatMap((item, i) => [
      { path: ['item', i, '_text'], translated: item._text },
      ...item.answerOption.map((option, o) => ({
        path: ['item', i, 'answerOption', o, 'valueCoding', '_display'],
        translated: option.valueCoding._display,
      })),
    ]),
    ...bandDisplays,
  ];
}

/** Offered languages given twice or as the questionnaire's own; strings lacking a translation. */
function checkTranslations(q: MeasureQuestionnaire, report: Report): void {
  const own = q.language.toLowerCase();
  const offered = extensionsOf(q, MEASURE_EXTENSION.offeredLanguage).map((extension) =>
    extension.valueCode.toLowerCase(),
  );
  offered.forEach((tag, index) => {
    if (tag === own || offered.indexOf(tag) !== index)
      report(`The language "${tag}" is offered twice.`, ['extension']);
  });
  for (const { path, translated } of translatables(q)) {
    const langs = translationsOf(translated).map(({ lang }) => lang.toLowerCase());
    for (const tag of offered.filter((tag) => !langs.includes(tag)))
      report(`Has no "${tag}" translation, and the questionnaire is offered in "${tag}".`, path);
    langs.forEach((tag, index) => {
      if (!offered.includes(tag))
        report(
          `Has a "${tag}" translation, but the questionnaire is not offered in "${tag}".`,
          path,
        );
      else if (langs.indexOf(tag) !== index) report(`Has two "${tag}" translations.`, path);
    });
  }
}

/** Duplicate linkIds, duplicate answer codes in an item, and risk thresholds out of reach. */
function checkItems(q: MeasureQuestionnaire, report: Report): void {
  const linkIds = q.item.map((item) => item.linkId);
  q.item.forEach((item, i) => {
    if (linkIds.indexOf(item.linkId) !== i)
      report(`The linkId "${item.linkId}" is used twice: answers are keyed by it.`, [
        'item',
        i,
        'linkId',
      ]);
    const codes = item.answerOption.map((option) => option.valueCoding.code);
    codes.forEach((code, o) => {
      if (codes.indexOf(code) !== o)
        report(`The answer code "${code}" is used twice in one question.`, [
          'item',
          i,
          'answerOption',
          o,
        ]);
    });
    const threshold = riskThresholdOf(item);
    const points = pointsOf(item);
    if (
      threshold !== undefined &&
      !(threshold > Math.min(...points) && threshold <= Math.max(...points))
    )
      report(
        `The risk threshold ${threshold} must be reached by some answers and not by others (answers score ${Math.min(...points)} to ${Math.max(...points)}).`,
        ['item', i, 'extension'],
      );
  });
}

/** Bands that overlap, leave a total without a band, or reach past the possible totals. */
function checkBands(q: MeasureQuestionnaire, report: Report): void {
  const bands = scoreBands(q);
  const lowest = minimumTotal(q);
  const highest = maximumTotal(q);
  const name = (band: ScoreBand) => `"${band.code}" (${band.min}–${band.max})`;
  if (bands.length === 0) report('A measure needs score bands covering its totals.', ['extension']);
  let next = lowest;
  for (const band of bands) {
    if (band.min > band.max)
      report(`The score band ${name(band)} ends before it starts.`, ['extension']);
    if (band.min > next)
      report(`No score band covers the totals ${next}–${band.min - 1}.`, ['extension']);
    else if (band.min < next)
      report(
        next === lowest
          ? `The score band ${name(band)} starts below the lowest total, ${lowest}.`
          : `The score band ${name(band)} overlaps the band below it: a total has exactly one band.`,
        ['extension'],
      );
    next = Math.max(next, band.max + 1);
  }
  if (next <= highest) report(`No score band covers the totals ${next}–${highest}.`, ['extension']);
  if (next > highest + 1)
    report(`A score band reaches past the highest total, ${highest}.`, ['extension']);
  const codes = bands.map((band) => band.code);
  if (new Set(codes).size !== codes.length)
    report('Each score band needs its own code.', ['extension']);
  if (changeThreshold(q) > highest - lowest)
    report(`The change threshold is more than the totals can change (${highest - lowest}).`, [
      'extension',
    ]);
}

/**
 * A measure as CareThread scores it: an R4 Questionnaire of required single-choice questions
 * (`type: 'choice'`), each answer with an `ordinalValue`; its total's LOINC code, bands, change
 * threshold and direction as `MEASURE_EXTENSION`s. Its texts are English, with a translation of
 * every text, answer display and band display in each language it offers (`offered-language`).
 *
 * Refused: linkIds or answer codes given twice, questions without answers, answers without an
 * ordinalValue, bands that overlap or leave a total from the lowest to the highest without a
 * band, a missing or unoffered translation, and any extension CareThread does not know (it could
 * change what a score means, so it is never silently dropped).
 *
 * @example
 * const parsed = MeasureQuestionnaire.safeParse(await response.json());
 * if (parsed.success) scoreMeasure(parsed.data, answers);
 */
export const MeasureQuestionnaire = QuestionnaireShape.check(
  z.superRefine((q, ctx) => {
    const report: Report = (message, path) => {
      ctx.addIssue({ code: 'custom', message, path, input: q });
    };
    checkItems(q, report);
    checkBands(q, report);
    checkTranslations(q, report);
  }),
);
export type MeasureQuestionnaire = z.infer<typeof MeasureQuestionnaire>;
