// Patient-reported measures: the questionnaires CareThread can score (PHQ-9, GAD-7, or a host's
// own), reading their texts in a language, and scoring answers.
export { FHIR_EXTENSION, Translated, textIn, type TranslatableElement } from './elements.js';
export { GAD7 } from './gad7.js';
export { PHQ9 } from './phq9.js';
export {
  MEASURE_EXTENSION,
  MeasureAnswerOption,
  MeasureItem,
  MeasureQuestionnaire,
  maximumTotal,
  measureLanguages,
  minimumTotal,
  scoreBands,
  type ScoreBand,
} from './questionnaire.js';
export {
  bandOf,
  scoreMeasure,
  trendOf,
  type MeasureScore,
  type MeasureTrend,
  type ScoredAnswer,
} from './scoring.js';
