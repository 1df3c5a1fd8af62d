import { describe, expect, it } from 'vitest';
import { ConsentTemplateContent, DISCLOSURE_ELEMENTS, type ConsentBlock } from './consent.js';
import {
  chooseLanguage,
  templateLanguages,
  templateProblems,
  templateText,
} from './consent-templates.js';
import {
  ELECTRONIC_RECORDS_DISCLOSURE,
  electronicRecordsDisclosure,
  relayTextLanguage,
  signatureMeaning,
} from './consent-texts.js';

const blocks: ConsentBlock[] = [
  { type: 'heading', text: 'Sharing' },
  { type: 'paragraph', text: 'Everything in one paragraph.', covers: [...DISCLOSURE_ELEMENTS] },
  { type: 'list', items: ['Messages', 'Appointments'] },
  { type: 'acknowledgement', id: 'revoke', text: 'I can revoke it.', covers: ['revocation'] },
  {
    type: 'field',
    id: 'capacity',
    label: 'I am signing as',
    input: 'choice',
    required: true,
    options: ['The patient', 'Legal guardian'],
  },
];
const spanish: ConsentBlock[] = [
  { type: 'heading', text: '¿Qué se comparte?' },
  { type: 'paragraph', text: 'Todo en un párrafo.', covers: [...DISCLOSURE_ELEMENTS].reverse() },
  { type: 'list', items: ['Mensajes', 'Citas'] },
  { type: 'acknowledgement', id: 'revoke', text: 'Puedo revocarla.', covers: ['revocation'] },
  {
    type: 'field',
    id: 'capacity',
    label: 'Firmo en calidad de',
    input: 'choice',
    required: true,
    options: ['Paciente', 'Tutor legal'],
  },
];
const template: ConsentTemplateContent = {
  templateId: 'x',
  kind: 'disclosure-authorization',
  language: 'en',
  title: 'Authorization',
  blocks,
  translations: [{ language: 'es', title: 'Autorización', blocks: spanish }],
};

/** The template with its Spanish blocks changed by `change`. */
function withSpanish(change: (blocks: ConsentBlock[]) => ConsentBlock[]): ConsentTemplateContent {
  return {
    ...template,
    translations: [{ language: 'es', title: 'Autorización', blocks: change(spanish) }],
  };
}

describe('translations of a consent template', () => {
  it('accepts a translation with the same structure, covers in any order', () => {
    expect(ConsentTemplateContent.safeParse(template).success).toBe(true);
    expect(templateProblems(template)).toEqual([]);
  });

  it.each<[string, (b: ConsentBlock[]) => ConsentBlock[], string]>([
    [
      'a block left out',
      (b) => b.slice(0, 4),
      'The "es" translation has 4 blocks; it must have the 5 of the default text ("en"), in the same order.',
    ],
    [
      'another type',
      (b) => b.map((x, i) => (i === 3 ? { type: 'paragraph', text: 'Puedo revocarla.' } : x)),
      'Block 4 of the "es" translation is a paragraph; it must be an acknowledgement, as block 4 of the default text is.',
    ],
    [
      'an id translated',
      (b) => b.map((x) => (x.type === 'acknowledgement' ? { ...x, id: 'revocar' } : x)),
      'Block 4 of the "es" translation has the id "revocar"; it must keep the id "revoke" of the default text.',
    ],
    [
      'other elements covered',
      (b) => b.map((x) => (x.type === 'acknowledgement' ? { ...x, covers: [] } : x)),
      'Block 4 ("revoke") of the "es" translation covers nothing; it must cover revocation, as in the default text.',
    ],
    [
      'elements covered by a heading the default does not have',
      (b) => b.map((x) => (x.type === 'heading' ? { ...x, covers: ['purpose'] } : x)),
      'Block 1 of the "es" translation covers purpose; it must cover nothing, as in the default text.',
    ],
    [
      'another input',
      (b) => b.map((x) => (x.type === 'field' ? { ...x, input: 'text', options: undefined } : x)),
      'Block 5 ("capacity") of the "es" translation is a text field; it must be a choice field, as in the default text.',
    ],
    [
      'an optional field',
      (b) => b.map((x) => (x.type === 'field' ? { ...x, required: false } : x)),
      'Block 5 ("capacity") of the "es" translation is optional; it must be required, as in the default text.',
    ],
    [
      'an option left out',
      (b) =>
        b.map((x) =>
          x.type === 'field' ? { ...x, options: ['Paciente', 'Tutor legal', 'Agente'] } : x,
        ),
      'Block 5 ("capacity") of the "es" translation has 3 options; it must have 2, as in the default text.',
    ],
    [
      'an item left out of a list',
      (b) => b.map((x) => (x.type === 'list' ? { ...x, items: ['Mensajes'] } : x)),
      'Block 3 of the "es" translation has 1 item; it must have 2, as in the default text.',
    ],
    [
      'the same option twice',
      (b) => b.map((x) => (x.type === 'field' ? { ...x, options: ['Paciente', 'Paciente'] } : x)),
      'The choice field "capacity" needs at least two different options (in "es").',
    ],
  ])('refuses %s, naming the language and the block', (_, change, problem) => {
    expect(templateProblems(withSpanish(change))).toEqual([problem]);
  });

  it('refuses a language given twice, whatever its case', () => {
    const es = { language: 'es-US', title: 'Autorización', blocks: spanish };
    expect(
      templateProblems({ ...template, translations: [es, { ...es, language: 'es-us' }] }),
    ).toEqual(['Each language may be given once: "es-us" is given 2 times.']);
    expect(templateProblems({ ...template, translations: [{ ...es, language: 'en' }] })).toEqual([
      'Each language may be given once: "en" is given 2 times (once as the default text).',
    ]);
  });
});

describe('choosing the language of a form for a reader', () => {
  const offered = ['en', 'es-US', 'es', 'pt-BR'];
  it.each([
    [undefined, 'en'],
    ['es', 'es'],
    ['ES', 'es'],
    ['es-us', 'es-US'],
    ['es-MX', 'es'], // the primary subtag, where the form has it on its own
    ['pt', 'pt-BR'], // a form with the same primary subtag
    ['pt-PT', 'pt-BR'],
    ['fr', 'en'], // otherwise the default text
    ['zh-Hant-TW', 'en'],
  ])('gives a reader of %j the %j text', (wanted, chosen) => {
    expect(chooseLanguage(offered, wanted)).toBe(chosen);
  });

  it('finds the text of each offered language, the default first', () => {
    expect(templateLanguages(template)).toEqual(['en', 'es']);
    expect(templateText(template, 'es')).toEqual({
      language: 'es',
      title: 'Autorización',
      blocks: spanish,
    });
    expect(templateText(template, 'en')?.title).toBe('Authorization');
    expect(templateText(template, 'fr')).toBeUndefined();
  });
});

describe("the relay's own consent texts", () => {
  it('has the electronic-records disclosure in English and Spanish', () => {
    expect(electronicRecordsDisclosure('en')).toBe(ELECTRONIC_RECORDS_DISCLOSURE);
    const es = electronicRecordsDisclosure('es');
    expect(es.split('\n')).toHaveLength(ELECTRONIC_RECORDS_DISCLOSURE.split('\n').length);
    expect(es).toContain('copia en papel');
  });

  it('speaks the language of the form where it can, English otherwise', () => {
    expect(['es', 'es-US', 'ES-mx', 'en', 'en-GB', 'fr', 'pt-BR'].map(relayTextLanguage)).toEqual([
      'es',
      'es',
      'es',
      'en',
      'en',
      'en',
      'en',
    ]);
  });

  it('says what a signature means in English and Spanish', () => {
    expect(signatureMeaning('self', 'Alice Moreno', 'es')).toBe(
      'Autorizo la divulgación descrita en este formulario.',
    );
    expect(signatureMeaning('guardian', 'Alice Moreno', 'es')).toBe(
      'Autorizo la divulgación descrita en este formulario y firmo como tutor legal de Alice Moreno.',
    );
    expect(signatureMeaning('health-care-agent', 'Alice Moreno')).toBe(
      'I authorize the disclosure described in this form, signing as health care agent of Alice Moreno.',
    );
  });
});
