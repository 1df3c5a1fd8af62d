// The measures CareThread ships are valid FHIR R4 Questionnaires by all three validators, so a
// chart or a form filler can take them as they are.
import { describe, expect, it } from 'vitest';
import { GAD7, MeasureQuestionnaire, PHQ9 } from '@carethread/shared';
import { r4Errors } from './r4-validator.js';

describe('the shipped measures are valid R4 Questionnaires', () => {
  for (const [name, measure] of [
    ['PHQ-9', PHQ9],
    ['GAD-7', GAD7],
  ] as const) {
    it(name, () => {
      expect(MeasureQuestionnaire.safeParse(measure).success).toBe(true);
      expect(r4Errors(measure)).toEqual([]);
    });
  }

  it('as the validators read their translations and score bands too', () => {
    type Band = { extension?: { _valueString?: { extension: object[] } }[] };
    const broken = JSON.parse(JSON.stringify(PHQ9)) as { extension: Band[] };
    // The first band's Spanish display, given both a value and sub-extensions, breaks ext-1.
    const spanish = broken.extension[1]?.extension?.[3]?._valueString?.extension[0];
    expect(spanish).toMatchObject({ url: 'http://hl7.org/fhir/StructureDefinition/translation' });
    Object.assign(spanish!, { valueString: 'Mínima' });
    expect(r4Errors(broken).join()).toContain('ext-1');
  });
});
