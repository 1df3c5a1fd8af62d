import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GAD7 } from './gad7.js';
import { PHQ9 } from './phq9.js';
import { MEASURE_EXTENSION, type MeasureQuestionnaire } from './questionnaire.js';
import { bandOf, scoreMeasure, trendOf } from './scoring.js';

const NOT_AT_ALL = 'LA6568-5';
const ANSWERS = ['LA6568-5', 'LA6569-3', 'LA6570-1', 'LA6571-9'] as const;
const PHQ9_ITEMS = [
  '44250-9',
  '44255-8',
  '44259-0',
  '44254-1',
  '44251-7',
  '44258-2',
  '44252-5',
  '44253-3',
  '44260-8',
];
const GAD7_ITEMS = ['69725-0', '68509-9', '69733-4', '69734-2', '69735-9', '69689-8', '69736-7'];

// The published severity tables (Kroenke et al. 2001; Spitzer et al. 2006), one row per total.
// prettier-ignore
const PHQ9_BANDS: Record<number, string> = {
  0: 'minimal', 1: 'minimal', 2: 'minimal', 3: 'minimal', 4: 'minimal',
  5: 'mild', 6: 'mild', 7: 'mild', 8: 'mild', 9: 'mild',
  10: 'moderate', 11: 'moderate', 12: 'moderate', 13: 'moderate', 14: 'moderate',
  15: 'moderately-severe', 16: 'moderately-severe', 17: 'moderately-severe',
  18: 'moderately-severe', 19: 'moderately-severe',
  20: 'severe', 21: 'severe', 22: 'severe', 23: 'severe', 24: 'severe', 25: 'severe',
  26: 'severe', 27: 'severe',
};
// prettier-ignore
const GAD7_BANDS: Record<number, string> = {
  0: 'minimal', 1: 'minimal', 2: 'minimal', 3: 'minimal', 4: 'minimal',
  5: 'mild', 6: 'mild', 7: 'mild', 8: 'mild', 9: 'mild',
  10: 'moderate', 11: 'moderate', 12: 'moderate', 13: 'moderate', 14: 'moderate',
  15: 'severe', 16: 'severe', 17: 'severe', 18: 'severe', 19: 'severe', 20: 'severe',
  21: 'severe',
};

/** Answers to every question of `items`, the i-th with the `points[i]`-th answer. */
const answered = (items: readonly string[], points: readonly number[]) =>
  Object.fromEntries(items.map((linkId, i) => [linkId, ANSWERS[points[i] ?? 0]!]));
const pointsFor = (count: number) =>
  fc.array(fc.integer({ min: 0, max: 3 }), { minLength: count, maxLength: count });

describe('bands', () => {
  for (const [name, q, table, maximum] of [
    ['PHQ-9', PHQ9, PHQ9_BANDS, 27],
    ['GAD-7', GAD7, GAD7_BANDS, 21],
  ] as const) {
    it(`of every ${name} total from 0 to ${maximum} are the published ones`, () => {
      expect(Object.keys(table)).toHaveLength(maximum + 1);
      for (let total = 0; total <= maximum; total++)
        expect(bandOf(q, total).code, `total ${total}`).toBe(table[total]);
    });

    it(`are not given for what is not a ${name} total`, () => {
      for (const total of [-1, maximum + 1, 2.5, Number.NaN])
        expect(() => bandOf(q, total)).toThrow(RangeError);
    });
  }
});

describe('scoreMeasure', () => {
  it('scores any full set of PHQ-9 answers as the sum of their points, in its band', () => {
    fc.assert(
      fc.property(pointsFor(9), (points) => {
        const total = points.reduce((sum, p) => sum + p, 0);
        const score = scoreMeasure(PHQ9, answered(PHQ9_ITEMS, points));
        expect(score).toMatchObject({ ok: true, total, maximum: 27 });
        if (!score.ok) return;
        expect(score.band.code).toBe(PHQ9_BANDS[total]);
        expect(score.answers).toEqual(
          PHQ9_ITEMS.map((linkId, i) => ({
            linkId,
            code: ANSWERS[points[i]!],
            ordinal: points[i],
          })),
        );
      }),
    );
  });

  it('flags a risk exactly when PHQ-9 question 9 is answered with anything but "Not at all"', () => {
    fc.assert(
      fc.property(pointsFor(9), (points) => {
        const answers = answered(PHQ9_ITEMS, points);
        const score = scoreMeasure(PHQ9, answers);
        expect(score.riskItems.length > 0).toBe(answers['44260-8'] !== NOT_AT_ALL);
        expect(score.riskItems).toEqual(answers['44260-8'] === NOT_AT_ALL ? [] : ['44260-8']);
      }),
    );
  });

  it('scores any full set of GAD-7 answers as the sum of their points, with no risk item', () => {
    fc.assert(
      fc.property(pointsFor(7), (points) => {
        const total = points.reduce((sum, p) => sum + p, 0);
        const score = scoreMeasure(GAD7, answered(GAD7_ITEMS, points));
        expect(score).toMatchObject({ ok: true, total, maximum: 21, riskItems: [] });
        expect(score.ok && score.band.code).toBe(GAD7_BANDS[total]);
      }),
    );
  });

  it('reports the questions left unanswered, in question order', () => {
    const { '44259-0': _3, '44250-9': _1, ...answers } = answered(PHQ9_ITEMS, []);
    expect(scoreMeasure(PHQ9, answers)).toEqual({
      ok: false,
      missing: ['44250-9', '44259-0'],
      invalid: [],
      riskItems: [],
    });
    expect(scoreMeasure(GAD7, {})).toEqual({
      ok: false,
      missing: GAD7_ITEMS,
      invalid: [],
      riskItems: [],
    });
  });

  it('reports answers no question offers, and answers to questions the measure lacks', () => {
    const answers = {
      ...answered(GAD7_ITEMS, [1, 1, 1, 1, 1, 1, 1]),
      '69734-2': 'LA6572-7',
      '69725-0': '',
      '44250-9': NOT_AT_ALL,
      constructor: NOT_AT_ALL,
    };
    expect(scoreMeasure(GAD7, answers)).toEqual({
      ok: false,
      missing: [],
      invalid: ['69725-0', '69734-2', '44250-9', 'constructor'],
      riskItems: [],
    });
  });

  it('reports a risk answered even when other questions are not', () => {
    expect(scoreMeasure(PHQ9, { '44260-8': 'LA6569-3' })).toMatchObject({
      ok: false,
      missing: PHQ9_ITEMS.slice(0, 8),
      riskItems: ['44260-8'],
    });
  });
});

describe('trendOf', () => {
  it('calls a PHQ-9 change of 5 points or more real, lower totals better', () => {
    expect(trendOf(PHQ9, 10, 10)).toBe('steady');
    expect(trendOf(PHQ9, 10, 6)).toBe('steady');
    expect(trendOf(PHQ9, 10, 5)).toBe('improving');
    expect(trendOf(PHQ9, 10, 14)).toBe('steady');
    expect(trendOf(PHQ9, 10, 15)).toBe('worsening');
    expect(trendOf(PHQ9, 27, 0)).toBe('improving');
  });

  it('calls a GAD-7 change of 4 points or more real, lower totals better', () => {
    expect(trendOf(GAD7, 10, 7)).toBe('steady');
    expect(trendOf(GAD7, 10, 6)).toBe('improving');
    expect(trendOf(GAD7, 10, 13)).toBe('steady');
    expect(trendOf(GAD7, 10, 14)).toBe('worsening');
  });

  it('reads which way is better from the measure', () => {
    const higherIsBetter: MeasureQuestionnaire = {
      ...GAD7,
      extension: GAD7.extension.map((e) =>
        e.url === MEASURE_EXTENSION.lowerIsBetter ? { ...e, valueBoolean: false } : e,
      ),
    };
    expect(trendOf(higherIsBetter, 10, 14)).toBe('improving');
    expect(trendOf(higherIsBetter, 10, 6)).toBe('worsening');
    expect(trendOf(higherIsBetter, 10, 13)).toBe('steady');
  });
});
