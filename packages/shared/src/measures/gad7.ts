// GAD-7, the generalized anxiety disorder scale (LOINC 69737-5), as a measure CareThread scores.
// The eighth, unscored question (how difficult the problems made daily life) is left out.
// Developed by Drs. Robert L. Spitzer, Janet B.W. Williams, Kurt Kroenke and colleagues, with an
// educational grant from Pfizer Inc.; no permission required to reproduce, translate, display or
// distribute.
import { LOINC, band, es, question } from './phq-family.js';
import { MEASURE_EXTENSION, type MeasureQuestionnaire } from './questionnaire.js';

/**
 * GAD-7 in English and Spanish (US): seven questions scoring 0 to 3, a total of 0 to 21 in four
 * severity bands; a change of 4 points is a real change (Toussaint et al. 2020).
 *
 * @example scoreMeasure(GAD7, answers); // { ok: true, total: 6, band: { code: 'mild', ... } ... }
 */
export const GAD7: MeasureQuestionnaire = {
  resourceType: 'Questionnaire',
  id: 'gad-7',
  url: 'https://carethread.dev/fhir/Questionnaire/gad-7',
  version: '1.0.0',
  name: 'GAD7',
  title: 'Generalized Anxiety Disorder 7-item scale (GAD-7)',
  _title: es('Escala de 7 preguntas del trastorno de ansiedad generalizada (GAD-7)'),
  status: 'active',
  language: 'en',
  code: [
    { system: LOINC, code: '69737-5', display: 'Generalized anxiety disorder 7 item (GAD-7)' },
  ],
  description: 'Over the last 2 weeks, how often have you been bothered by the following problems?',
  _description: es(
    'Durante las últimas 2 semanas, ¿qué tan seguido ha tenido molestias debido a los siguientes problemas?',
  ),
  extension: [
    {
      url: MEASURE_EXTENSION.scoreCode,
      valueCoding: {
        system: LOINC,
        code: '70274-6',
        display: 'Generalized anxiety disorder 7 item (GAD-7) total score [Reported.PHQ]',
      },
    },
    band(0, 4, 'minimal'),
    band(5, 9, 'mild'),
    band(10, 14, 'moderate'),
    band(15, 21, 'severe'),
    { url: MEASURE_EXTENSION.changeThreshold, valueInteger: 4 },
    { url: MEASURE_EXTENSION.lowerIsBetter, valueBoolean: true },
    { url: MEASURE_EXTENSION.offeredLanguage, valueCode: 'es' },
  ],
  item: [
    question(
      '69725-0',
      'Feeling nervous, anxious or on edge',
      'Se ha sentido nervioso(a), ansioso(a) o con los nervios de punta',
    ),
    question(
      '68509-9',
      'Not being able to stop or control worrying',
      'No ha sido capaz de parar o controlar su preocupación',
    ),
    question(
      '69733-4',
      'Worrying too much about different things',
      'Se ha preocupado demasiado por motivos diferentes',
    ),
    question('69734-2', 'Trouble relaxing', 'Ha tenido dificultad para relajarse'),
    question(
      '69735-9',
      'Being so restless that it is hard to sit still',
      'Se ha sentido tan inquieto(a) que no ha podido quedarse quieto(a)',
    ),
    question(
      '69689-8',
      'Becoming easily annoyed or irritable',
      'Se ha molestado o irritado fácilmente',
    ),
    question(
      '69736-7',
      'Feeling afraid as if something awful might happen',
      'Ha tenido miedo de que algo terrible fuera a pasar',
    ),
  ],
};
