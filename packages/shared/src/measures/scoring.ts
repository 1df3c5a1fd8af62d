// Scoring a measure: the total of a patient's answers, its band, the answers that flag a risk,
// and the direction of the change between two totals.
import {
  changeThreshold,
  lowerIsBetter,
  maximumTotal,
  minimumTotal,
  ordinalOf,
  riskThresholdOf,
  scoreBands,
  type MeasureQuestionnaire,
  type ScoreBand,
} from './questionnaire.js';

/** One answer as scored: the question, the answer's code and the points it scored. */
export type ScoredAnswer = { linkId: string; code: string; ordinal: number };

/**
 * A scored measure, or why it cannot be scored. `riskItems` (the linkIds of answers at or over
 * their question's risk threshold) is there in both cases: a risk answered is never hidden
 * because another question was skipped.
 */
export type MeasureScore =
  | {
      ok: true;
      total: number;
      maximum: number;
      band: ScoreBand;
      riskItems: string[];
      /** In question order. */
      answers: ScoredAnswer[];
    }
  | {
      ok: false;
      /** Questions without an answer, in question order. */
      missing: string[];
      /** Questions answered with a code none of their answers has, then linkIds `q` lacks. */
      invalid: string[];
      riskItems: string[];
    };

/** Whether a total of a measure is better, worse or no different from the one before. */
export type MeasureTrend = 'improving' | 'steady' | 'worsening';

/**
 * The band of `q` that `total` falls in. Throws a RangeError for a number that is not a total
 * of `q` (a fraction, or outside its lowest and highest totals).
 *
 * @example bandOf(PHQ9, 12); // { min: 10, max: 14, code: 'moderate', display: 'Moderate', ... }
 */
export function bandOf(q: MeasureQuestionnaire, total: number): ScoreBand {
  const band = Number.isInteger(total)
    ? scoreBands(q).find(({ min, max }) => min <= total && total <= max)
    : undefined;
  if (!band)
    throw new RangeError(
      `${String(total)} is not a total of ${q.name}, whose totals are whole numbers from ${minimumTotal(q)} to ${maximumTotal(q)}.`,
    );
  return band;
}

/**
 * Scores `answers` (the code of the chosen answer, by linkId) to `q`: the sum of the answers'
 * points, its band, and the answers that flag a risk. Every question must be answered with one
 * of its answers' codes; otherwise the result says which are missing and which are invalid.
 *
 * @example
 * const score = scoreMeasure(GAD7, { '69725-0': 'LA6569-3', ... });
 * if (score.ok) textIn(score.band, 'display', 'es'); // 'Leve'
 */
export function scoreMeasure(
  q: MeasureQuestionnaire,
  answers: Readonly<Record<string, string>>,
): MeasureScore {
  const missing: string[] = [];
  const invalid: string[] = [];
  const riskItems: string[] = [];
  const scored: ScoredAnswer[] = [];
  for (const item of q.item) {
    const { linkId } = item;
    const code = Object.hasOwn(answers, linkId) ? answers[linkId] : undefined;
    if (code === undefined) {
      missing.push(linkId);
      continue;
    }
    const option = item.answerOption.find(({ valueCoding }) => valueCoding.code === code);
    if (!option) {
      invalid.push(linkId);
      continue;
    }
    const ordinal = ordinalOf(option);
    scored.push({ linkId, code, ordinal });
    const threshold = riskThresholdOf(item);
    if (threshold !== undefined && ordinal >= threshold) riskItems.push(linkId);
  }
  const linkIds = new Set(q.item.map((item) => item.linkId));
  invalid.push(...Object.keys(answers).filter((linkId) => !linkIds.has(linkId)));
  if (missing.length > 0 || invalid.length > 0) return { ok: false, missing, invalid, riskItems };
  const total = scored.reduce((sum, answer) => sum + answer.ordinal, 0);
  return {
    ok: true,
    total,
    maximum: maximumTotal(q),
    band: bandOf(q, total),
    riskItems,
    answers: scored,
  };
}

/**
 * Whether `currentTotal` is better than, no different from, or worse than `previousTotal`: a
 * change smaller than the measure's change threshold is no real change, and which way is better
 * is the measure's `lower-is-better` flag (lower totals are better for PHQ-9 and GAD-7, whose
 * totals count symptoms).
 *
 * @example
 * trendOf(PHQ9, 14, 9); // 'improving': 5 points lower, and 5 is PHQ-9's threshold
 * trendOf(PHQ9, 14, 10); // 'steady'
 */
export function trendOf(
  q: MeasureQuestionnaire,
  previousTotal: number,
  currentTotal: number,
): MeasureTrend {
  const change = currentTotal - previousTotal;
  if (Math.abs(change) < changeThreshold(q)) return 'steady';
  return change < 0 === lowerIsBetter(q) ? 'improving' : 'worsening';
}
