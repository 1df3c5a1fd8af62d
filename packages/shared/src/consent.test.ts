import { describe, expect, it } from 'vitest';
import { ConsentTemplateContent, DISCLOSURE_ELEMENTS } from './consent.js';
import { missingDisclosureElements, templateProblems } from './consent-templates.js';

const base: ConsentTemplateContent = {
  templateId: 'x',
  kind: 'disclosure-authorization',
  language: 'es-US',
  title: 'Autorización',
  blocks: [{ type: 'paragraph', text: 'Todo en un párrafo.', covers: [...DISCLOSURE_ELEMENTS] }],
};

describe('consent templates', () => {
  it('accepts a disclosure authorization whose blocks cover every element', () => {
    expect(ConsentTemplateContent.safeParse(base).success).toBe(true);
    expect(templateProblems(base)).toEqual([]);
  });

  it('lists each element no block covers, in the order CONSENT.md gives them', () => {
    const partial = {
      ...base,
      blocks: [{ type: 'heading' as const, text: 'Title', covers: ['purpose' as const] }],
    };
    expect(missingDisclosureElements(partial)).toEqual(
      DISCLOSURE_ELEMENTS.filter((element) => element !== 'purpose'),
    );
  });

  it('asks nothing of a general consent', () => {
    expect(
      missingDisclosureElements({
        ...base,
        kind: 'general',
        blocks: [{ type: 'paragraph', text: 'x' }],
      }),
    ).toEqual([]);
  });

  it('refuses HTML-like blocks and unknown elements by shape', () => {
    for (const block of [
      { type: 'html', text: '<b>x</b>' },
      { type: 'paragraph', text: 'x', covers: ['everything'] },
      { type: 'field', id: 'Bad Id', label: 'x', input: 'text', required: true },
    ]) {
      expect(ConsentTemplateContent.safeParse({ ...base, blocks: [block] }).success).toBe(false);
    }
  });
});
