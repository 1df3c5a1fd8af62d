// PHQ-9, the Patient Health Questionnaire's depression module (LOINC 44249-1), as a measure
// CareThread scores. The tenth, unscored question (how difficult the problems made daily life) is
// left out. Developed by Drs. Robert L. Spitzer, Janet B.W. Williams, Kurt Kroenke and colleagues,
// with an educational grant from Pfizer Inc.; no permission required to reproduce, translate,
// display or distribute.
import { LOINC, band, es, question } from './phq-family.js';
import { MEASURE_EXTENSION, type MeasureQuestionnaire } from './questionnaire.js';

/**
 * PHQ-9 in English and Spanish (US): nine questions scoring 0 to 3, a total of 0 to 27 in five
 * severity bands; a change of 5 points is a real change (Löwe et al. 2004); any answer but "Not at
 * all" to question 9 (thoughts of being better off dead or of self-harm) flags a risk.
 *
 * @example scoreMeasure(PHQ9, answers); // { ok: true, total: 12, band: { code: 'moderate', ... } ... }
 */
export const PHQ9: MeasureQuestionnaire = {
  resourceType: 'Questionnaire',
  id: 'phq-9',
  url: 'https://carethread.dev/fhir/Questionnaire/phq-9',
  version: '1.0.0',
  name: 'PHQ9',
  title: 'Patient Health Questionnaire-9 (PHQ-9)',
  _title: es('Cuestionario sobre la salud del paciente-9 (PHQ-9)'),
  status: 'active',
  language: 'en',
  code: [
    {
      system: LOINC,
      code: '44249-1',
      display: 'PHQ-9 quick depression assessment panel [Reported.PHQ]',
    },
  ],
  description:
    'Over the last 2 weeks, how often have you been bothered by any of the following problems?',
  _description: es(
    'Durante las últimas 2 semanas, ¿qué tan seguido ha tenido molestias debido a los siguientes problemas?',
  ),
  extension: [
    {
      url: MEASURE_EXTENSION.scoreCode,
      valueCoding: {
        system: LOINC,
        code: '44261-6',
        display: 'Patient Health Questionnaire 9 item (PHQ-9) total score [Reported]',
      },
    },
    band(0, 4, 'minimal'),
    band(5, 9, 'mild'),
    band(10, 14, 'moderate'),
    band(15, 19, 'moderately-severe'),
    band(20, 27, 'severe'),
    { url: MEASURE_EXTENSION.changeThreshold, valueInteger: 5 },
    { url: MEASURE_EXTENSION.lowerIsBetter, valueBoolean: true },
    { url: MEASURE_EXTENSION.offeredLanguage, valueCode: 'es' },
  ],
  item: [
    question(
      '44250-9',
      'Little interest or pleasure in doing things',
      'Poco interés o placer en hacer cosas',
    ),
    question(
      '44255-8',
      'Feeling down, depressed, or hopeless',
      'Se ha sentido decaído(a), deprimido(a) o sin esperanzas',
    ),
    question(
      '44259-0',
      'Trouble falling or staying asleep, or sleeping too much',
      'Ha tenido dificultad para quedarse o permanecer dormido(a), o ha dormido demasiado',
    ),
    question(
      '44254-1',
      'Feeling tired or having little energy',
      'Se ha sentido cansado(a) o con poca energía',
    ),
    question('44251-7', 'Poor appetite or overeating', 'Sin apetito o ha comido en exceso'),
    question(
      '44258-2',
      'Feeling bad about yourself — or that you are a failure or have let yourself or your family down',
      'Se ha sentido mal con usted mismo(a) – o que es un fracaso o que ha quedado mal con usted mismo(a) o con su familia',
    ),
    question(
      '44252-5',
      'Trouble concentrating on things, such as reading the newspaper or watching television',
      'Ha tenido dificultad para concentrarse en ciertas actividades, tales como leer el periódico o ver la televisión',
    ),
    question(
      '44253-3',
      'Moving or speaking so slowly that other people could have noticed? Or the opposite — being so fidgety or restless that you have been moving around a lot more than usual',
      '¿Se ha movido o hablado tan lento que otras personas podrían haberlo notado? o lo contrario – muy inquieto(a) o agitado(a) que ha estado moviéndose mucho más de lo normal',
    ),
    {
      ...question(
        '44260-8',
        'Thoughts that you would be better off dead or of hurting yourself in some way',
        'Pensamientos de que estaría mejor muerto(a) o de lastimarse de alguna manera',
      ),
      // Any thought of death or self-harm needs a clinician's attention, whatever the total.
      extension: [{ url: MEASURE_EXTENSION.riskThreshold, valueInteger: 1 }],
    },
  ],
};
