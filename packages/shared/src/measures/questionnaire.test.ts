import { describe, expect, it } from 'vitest';
import { chooseLanguage } from '../consent-templates.js';
import { describeIssues } from '../issues.js';
import { textIn } from './elements.js';
import { GAD7 } from './gad7.js';
import { PHQ9 } from './phq9.js';
import {
  MEASURE_EXTENSION,
  MeasureQuestionnaire,
  maximumTotal,
  measureLanguages,
  minimumTotal,
  scoreBands,
} from './questionnaire.js';

const TRANSLATION = 'http://hl7.org/fhir/StructureDefinition/translation';
const ORDINAL = 'http://hl7.org/fhir/StructureDefinition/ordinalValue';
const BAND = 'https://carethread.dev/fhir/StructureDefinition/score-band';

/** A deep copy of `value` to break, as plain JSON (as a host would send it). */
const copy = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;
const band = (min: number, max: number, code: string, es = code) => ({
  url: BAND,
  extension: [
    { url: 'min', valueInteger: min },
    { url: 'max', valueInteger: max },
    { url: 'code', valueCode: code },
    {
      url: 'display',
      valueString: code,
      _valueString: {
        extension: [
          {
            url: TRANSLATION,
            extension: [
              { url: 'lang', valueCode: 'es' },
              { url: 'content', valueString: es },
            ],
          },
        ],
      },
    },
  ],
});
const withBands = (q: MeasureQuestionnaire, bands: ReturnType<typeof band>[]) => ({
  ...copy(q),
  extension: [...q.extension.filter((e) => e.url !== BAND), ...bands],
});
/** Why `value` is refused, as the relay would say it. */
const refusal = (value: unknown) => {
  const result = MeasureQuestionnaire.safeParse(value);
  expect(result.success).toBe(false);
  return describeIssues(result.error?.issues ?? []);
};

describe('the shipped measures', () => {
  it('are MeasureQuestionnaires, parsed without losing anything', () => {
    expect(MeasureQuestionnaire.parse(copy(PHQ9))).toEqual(PHQ9);
    expect(MeasureQuestionnaire.parse(copy(GAD7))).toEqual(GAD7);
  });

  it('ask the published questions, coded in LOINC, in order', () => {
    expect(PHQ9.code?.map((c) => c.code)).toEqual(['44249-1']);
    expect(PHQ9.item.map((i) => [i.linkId, i.code?.[0]?.code, i.text])).toEqual([
      ['44250-9', '44250-9', 'Little interest or pleasure in doing things'],
      ['44255-8', '44255-8', 'Feeling down, depressed, or hopeless'],
      ['44259-0', '44259-0', 'Trouble falling or staying asleep, or sleeping too much'],
      ['44254-1', '44254-1', 'Feeling tired or having little energy'],
      ['44251-7', '44251-7', 'Poor appetite or overeating'],
      [
        '44258-2',
        '44258-2',
        'Feeling bad about yourself — or that you are a failure or have let yourself or your family down',
      ],
      [
        '44252-5',
        '44252-5',
        'Trouble concentrating on things, such as reading the newspaper or watching television',
      ],
      [
        '44253-3',
        '44253-3',
        'Moving or speaking so slowly that other people could have noticed? Or the opposite — being so fidgety or restless that you have been moving around a lot more than usual',
      ],
      [
        '44260-8',
        '44260-8',
        'Thoughts that you would be better off dead or of hurting yourself in some way',
      ],
    ]);
    expect(GAD7.code?.map((c) => c.code)).toEqual(['69737-5']);
    expect(GAD7.item.map((i) => [i.linkId, i.code?.[0]?.code, i.text])).toEqual([
      ['69725-0', '69725-0', 'Feeling nervous, anxious or on edge'],
      ['68509-9', '68509-9', 'Not being able to stop or control worrying'],
      ['69733-4', '69733-4', 'Worrying too much about different things'],
      ['69734-2', '69734-2', 'Trouble relaxing'],
      ['69735-9', '69735-9', 'Being so restless that it is hard to sit still'],
      ['69689-8', '69689-8', 'Becoming easily annoyed or irritable'],
      ['69736-7', '69736-7', 'Feeling afraid as if something awful might happen'],
    ]);
  });

  it('answer every question from LOINC LL358-3, scoring 0 to 3, in English and Spanish', () => {
    for (const item of [...PHQ9.item, ...GAD7.item]) {
      expect(
        item.answerOption.map(({ valueCoding: c }) => [
          c.system,
          c.code,
          c.display,
          textIn(c, 'display', 'es'),
          c.extension,
        ]),
      ).toEqual([
        [
          'http://loinc.org',
          'LA6568-5',
          'Not at all',
          'Ningún día',
          [{ url: ORDINAL, valueDecimal: 0 }],
        ],
        [
          'http://loinc.org',
          'LA6569-3',
          'Several days',
          'Varios días',
          [{ url: ORDINAL, valueDecimal: 1 }],
        ],
        [
          'http://loinc.org',
          'LA6570-1',
          'More than half the days',
          'Más de la mitad de los días',
          [{ url: ORDINAL, valueDecimal: 2 }],
        ],
        [
          'http://loinc.org',
          'LA6571-9',
          'Nearly every day',
          'Casi todos los días',
          [{ url: ORDINAL, valueDecimal: 3 }],
        ],
      ]);
    }
  });

  it('name the LOINC code of their total, and flag risk on PHQ-9 question 9 only', () => {
    const scoreCode = (q: MeasureQuestionnaire) =>
      q.extension.flatMap((e) => (e.url === MEASURE_EXTENSION.scoreCode ? [e.valueCoding] : []));
    expect(scoreCode(PHQ9)).toMatchObject([{ system: 'http://loinc.org', code: '44261-6' }]);
    expect(scoreCode(GAD7)).toMatchObject([{ system: 'http://loinc.org', code: '70274-6' }]);
    const risky = [...PHQ9.item, ...GAD7.item].filter((item) => item.extension);
    expect(risky.map((item) => [item.linkId, item.extension])).toEqual([
      ['44260-8', [{ url: MEASURE_EXTENSION.riskThreshold, valueInteger: 1 }]],
    ]);
  });

  it('score 0 to 27 (PHQ-9) and 0 to 21 (GAD-7)', () => {
    expect([minimumTotal(PHQ9), maximumTotal(PHQ9)]).toEqual([0, 27]);
    expect([minimumTotal(GAD7), maximumTotal(GAD7)]).toEqual([0, 21]);
  });

  it('have Spanish for every text, answer and band, as the published Spanish (US) forms word it', () => {
    for (const q of [PHQ9, GAD7]) {
      expect(measureLanguages(q)).toEqual(['en', 'es']);
      const options = q.item.flatMap((item) => item.answerOption.map((o) => o.valueCoding));
      const bands = scoreBands(q);
      const pairs = [
        [q.title, textIn(q, 'title', 'es')],
        [q.description, textIn(q, 'description', 'es')],
        ...q.item.map((item) => [item.text, textIn(item, 'text', 'es')]),
        ...options.map((coding) => [coding.display, textIn(coding, 'display', 'es')]),
        ...bands.map((b) => [b.display, textIn(b, 'display', 'es')]),
      ];
      expect(pairs).toHaveLength(2 + q.item.length * 5 + bands.length);
      expect(bands.length).toBeGreaterThanOrEqual(4);
      // textIn falls back to the English text, so an English "translation" is a missing one.
      for (const [english, spanish] of pairs) expect(spanish).not.toBe(english);
      expect(textIn(q, 'description', 'es')).toBe(
        'Durante las últimas 2 semanas, ¿qué tan seguido ha tenido molestias debido a los siguientes problemas?',
      );
    }
    expect(PHQ9.item.map((item) => textIn(item, 'text', 'es'))).toEqual([
      'Poco interés o placer en hacer cosas',
      'Se ha sentido decaído(a), deprimido(a) o sin esperanzas',
      'Ha tenido dificultad para quedarse o permanecer dormido(a), o ha dormido demasiado',
      'Se ha sentido cansado(a) o con poca energía',
      'Sin apetito o ha comido en exceso',
      'Se ha sentido mal con usted mismo(a) – o que es un fracaso o que ha quedado mal con usted mismo(a) o con su familia',
      'Ha tenido dificultad para concentrarse en ciertas actividades, tales como leer el periódico o ver la televisión',
      '¿Se ha movido o hablado tan lento que otras personas podrían haberlo notado? o lo contrario – muy inquieto(a) o agitado(a) que ha estado moviéndose mucho más de lo normal',
      'Pensamientos de que estaría mejor muerto(a) o de lastimarse de alguna manera',
    ]);
    expect(GAD7.item.map((item) => textIn(item, 'text', 'es'))).toEqual([
      'Se ha sentido nervioso(a), ansioso(a) o con los nervios de punta',
      'No ha sido capaz de parar o controlar su preocupación',
      'Se ha preocupado demasiado por motivos diferentes',
      'Ha tenido dificultad para relajarse',
      'Se ha sentido tan inquieto(a) que no ha podido quedarse quieto(a)',
      'Se ha molestado o irritado fácilmente',
      'Ha tenido miedo de que algo terrible fuera a pasar',
    ]);
    expect(scoreBands(PHQ9).map((b) => [b.code, b.display, textIn(b, 'display', 'es')])).toEqual([
      ['minimal', 'Minimal', 'Mínima'],
      ['mild', 'Mild', 'Leve'],
      ['moderate', 'Moderate', 'Moderada'],
      ['moderately-severe', 'Moderately severe', 'Moderadamente grave'],
      ['severe', 'Severe', 'Grave'],
    ]);
    expect(scoreBands(GAD7).map((b) => [b.code, textIn(b, 'display', 'es')])).toEqual([
      ['minimal', 'Mínima'],
      ['mild', 'Leve'],
      ['moderate', 'Moderada'],
      ['severe', 'Grave'],
    ]);
  });
});

describe('textIn', () => {
  const item = PHQ9.item[0]!;

  it('reads the translation in the language asked for, of any region and case', () => {
    for (const lang of ['es', 'es-MX', 'ES-us'])
      expect(textIn(item, 'text', lang)).toBe('Poco interés o placer en hacer cosas');
  });

  it('falls back to the base text for its own language and for languages not offered', () => {
    for (const lang of ['en', 'en-GB', 'fr', 'pt-BR', ''])
      expect(textIn(item, 'text', lang)).toBe('Little interest or pleasure in doing things');
  });

  it('follows the language chooseLanguage picks among the measure’s languages', () => {
    const lang = chooseLanguage(measureLanguages(GAD7), 'es-419');
    expect(textIn(GAD7, 'title', lang)).toBe(
      'Escala de 7 preguntas del trastorno de ansiedad generalizada (GAD-7)',
    );
  });
});

describe('MeasureQuestionnaire refuses', () => {
  it('score bands with a gap between the lowest and the highest total', () => {
    const gap = [band(0, 4, 'low'), band(6, 27, 'high')];
    expect(refusal(withBands(PHQ9, gap))).toContain('No score band covers the totals 5–5');
    expect(refusal(withBands(PHQ9, [band(1, 27, 'all')]))).toContain(
      'No score band covers the totals 0–0',
    );
    expect(refusal(withBands(PHQ9, [band(0, 26, 'all')]))).toContain(
      'No score band covers the totals 27–27',
    );
    expect(refusal(withBands(PHQ9, []))).toContain('needs score bands');
  });

  it('score bands that overlap, or reach past the possible totals', () => {
    const overlap = [band(0, 5, 'low'), band(5, 27, 'high')];
    expect(refusal(withBands(PHQ9, overlap))).toContain('overlaps the band below it');
    expect(refusal(withBands(GAD7, [band(0, 27, 'all')]))).toContain(
      'reaches past the highest total, 21',
    );
    expect(refusal(withBands(GAD7, [band(0, 21, 'a'), band(0, 21, 'b')]))).toContain('overlaps');
  });

  it('a linkId used twice', () => {
    const q = copy(PHQ9);
    q.item[1]!.linkId = q.item[0]!.linkId;
    expect(refusal(q)).toContain('item.1.linkId: The linkId "44250-9" is used twice');
  });

  it('a question without answers, or with one answer', () => {
    for (const answerOption of [undefined, [], PHQ9.item[0]!.answerOption.slice(0, 1)]) {
      const q = copy(PHQ9);
      q.item[2]!.answerOption = answerOption as never;
      expect(refusal(q)).toMatch(/^item\.2\.answerOption /);
    }
  });

  it('an answer without its ordinalValue, or with two', () => {
    const two = [1, 2].map((valueDecimal) => ({ url: ORDINAL, valueDecimal }));
    for (const extension of [undefined, [], two]) {
      const q = copy(GAD7);
      q.item[3]!.answerOption[1]!.valueCoding.extension = extension as never;
      expect(refusal(q)).toMatch(/^item\.3\.answerOption\.1\.valueCoding\.extension/);
    }
  });

  it('a string without a translation into a language the measure is offered in', () => {
    const q = copy(PHQ9);
    delete q.item[4]!._text;
    delete q.item[0]!.answerOption[2]!.valueCoding._display;
    const french = band(0, 4, 'minimal');
    french.extension[3]!._valueString!.extension[0]!.extension[0] = {
      url: 'lang',
      valueCode: 'fr',
    };
    q.extension[1] = french as never;
    const refused = refusal(q);
    expect(refused).toContain('item.4._text: Has no "es" translation');
    expect(refused).toContain(
      'item.0.answerOption.2.valueCoding._display: Has no "es" translation',
    );
    expect(refused).toContain('_valueString: Has no "es" translation');
    expect(refused).toContain('is not offered in "fr"');
  });

  it('a translation into a language the measure is not offered in', () => {
    const q = copy(GAD7);
    q.extension = q.extension.filter((e) => e.url !== MEASURE_EXTENSION.offeredLanguage);
    expect(refusal(q)).toContain(
      '_title: Has a "es" translation, but the questionnaire is not offered in "es"',
    );
    expect(MeasureQuestionnaire.safeParse(stripSpanish(q)).success).toBe(true);
  });

  it('extensions it does not know, and measures without a score code, threshold or direction', () => {
    const unknown = copy(PHQ9);
    unknown.extension.push({
      url: 'https://example.org/reverse-scored',
      valueBoolean: true,
    } as never);
    expect(MeasureQuestionnaire.safeParse(unknown).success).toBe(false);
    for (const url of [
      MEASURE_EXTENSION.scoreCode,
      MEASURE_EXTENSION.changeThreshold,
      MEASURE_EXTENSION.lowerIsBetter,
    ]) {
      const q = copy(GAD7);
      q.extension = q.extension.filter((e) => e.url !== url);
      expect(refusal(q)).toContain(`A measure needs each of these exactly once`);
    }
  });

  it('a risk threshold no answer reaches, or every answer reaches', () => {
    for (const valueInteger of [0, 4]) {
      const q = copy(PHQ9);
      q.item[8]!.extension = [{ url: MEASURE_EXTENSION.riskThreshold, valueInteger }];
      expect(refusal(q)).toContain('item.8.extension: The risk threshold');
    }
  });

  it('questions of another type, or optional', () => {
    const integer = copy(GAD7);
    integer.item[0]!.type = 'integer' as never;
    expect(refusal(integer)).toContain('item.0.type');
    const optional = copy(GAD7);
    optional.item[0]!.required = false as never;
    expect(refusal(optional)).toContain('item.0.required');
  });
});

/** `q` with every translation removed: a measure in English only. */
function stripSpanish(q: MeasureQuestionnaire): unknown {
  return JSON.parse(JSON.stringify(q), (key, value: unknown) =>
    key.startsWith('_') ? undefined : value,
  );
}
