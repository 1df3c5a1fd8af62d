// What PHQ-9 and GAD-7 share: the LOINC frequency answers (LL358-3) in English and Spanish, the
// severity bands' names, and the FHIR shapes their questionnaires are built of. The wording is
// the published English and Spanish (US) one, which needs no permission to reproduce.
import { FHIR_EXTENSION, type Translated } from './elements.js';
import {
  MEASURE_EXTENSION,
  type MeasureAnswerOption,
  type MeasureQuestionnaire,
} from './questionnaire.js';

export const LOINC = 'http://loinc.org';

/** A string's Spanish translation, as its `_` element: `_text: es('...')`. */
export function es(content: string): Translated {
  return {
    extension: [
      {
        url: FHIR_EXTENSION.translation,
        extension: [
          { url: 'lang', valueCode: 'es' },
          { url: 'content', valueString: content },
        ],
      },
    ],
  };
}

const FREQUENCIES = [
  ['LA6568-5', 'Not at all', 'Ningún día'],
  ['LA6569-3', 'Several days', 'Varios días'],
  ['LA6570-1', 'More than half the days', 'Más de la mitad de los días'],
  ['LA6571-9', 'Nearly every day', 'Casi todos los días'],
] as const;

/**
 * The answers of a PHQ-9 or GAD-7 question (LOINC answer list LL358-3), scoring 0 to 3: new
 * objects for each question, so changing one question's answers never changes another's.
 */
function frequencyOptions(): MeasureAnswerOption[] {
  return FREQUENCIES.map(([code, display, spanish], points) => ({
    valueCoding: {
      system: LOINC,
      code,
      display,
      _display: es(spanish),
      extension: [{ url: FHIR_EXTENSION.ordinalValue, valueDecimal: points }],
    },
  }));
}

/** A question of the family: its LOINC code is its linkId too. */
export function question(
  loinc: string,
  text: string,
  spanish: string,
): MeasureQuestionnaire['item'][number] {
  return {
    linkId: loinc,
    code: [{ system: LOINC, code: loinc }],
    text,
    _text: es(spanish),
    type: 'choice',
    required: true,
    answerOption: frequencyOptions(),
  };
}

const SEVERITIES = {
  minimal: ['Minimal', 'Mínima'],
  mild: ['Mild', 'Leve'],
  moderate: ['Moderate', 'Moderada'],
  'moderately-severe': ['Moderately severe', 'Moderadamente grave'],
  severe: ['Severe', 'Grave'],
} as const;

/** The score-band extension for totals `min` to `max` (both included) of severity `code`. */
export function band(
  min: number,
  max: number,
  code: keyof typeof SEVERITIES,
): MeasureQuestionnaire['extension'][number] {
  const [display, spanish] = SEVERITIES[code];
  return {
    url: MEASURE_EXTENSION.scoreBand,
    extension: [
      { url: 'min', valueInteger: min },
      { url: 'max', valueInteger: max },
      { url: 'code', valueCode: code },
      { url: 'display', valueString: display, _valueString: es(spanish) },
    ],
  };
}
