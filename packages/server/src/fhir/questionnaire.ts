// A consent template as an R4 Questionnaire, in its default language, and a signed record's
// answers as the items of its QuestionnaireResponse, in the language the form was shown in.
import {
  templateText,
  type ConsentBlock,
  type ConsentRecordView,
  type TemplateVersionView,
} from '@carethread/shared';
import type {
  Coding,
  Questionnaire,
  QuestionnaireItem,
  QuestionnaireResponseItem,
  QuestionnaireResponseItemAnswer,
} from 'fhir/r4.js';
import { fhirId, identifierSystem, trimBase } from './ids.js';

/**
 * The canonical URL of a template's form, without version; a QuestionnaireResponse names
 * `url|version`.
 *
 * @example questionnaireUrl('https://relay.example/fhir', 'family-disclosure')
 * // 'https://relay.example/fhir/consent-templates/family-disclosure'
 */
export function questionnaireUrl(baseUrl: string, templateId: string): string {
  return `${trimBase(baseUrl)}/consent-templates/${encodeURIComponent(templateId)}`;
}

/** The Questionnaire item type of each field input; a `choice` is answered with a Coding in R4. */
const QUESTION_TYPES = {
  text: 'string',
  date: 'date',
  checkbox: 'boolean',
  choice: 'choice',
} as const;

/** Choice options are labels, not codes: the code is the label with its spaces normalised. */
function choiceCoding(label: string): Coding {
  const code = label.trim().replace(/\s+/g, ' ');
  return code ? { code, display: label } : { display: label };
}

/**
 * A template version as a Questionnaire: fields and acknowledgements are questions whose linkId is
 * their block id; headings, paragraphs and lists are display items (linkId `block.N`, which no
 * block id can be).
 */
export function questionnaireFromTemplate(input: {
  tenantId: string;
  baseUrl: string;
  template: TemplateVersionView;
}): Questionnaire {
  const { tenantId, template } = input;
  const item = template.blocks.map((block, index): QuestionnaireItem => {
    switch (block.type) {
      case 'heading':
      case 'paragraph':
        return { linkId: `block.${index}`, type: 'display', text: block.text };
      case 'list':
        return {
          linkId: `block.${index}`,
          type: 'display',
          text: block.items.map((line) => `- ${line}`).join('\n'),
        };
      case 'acknowledgement':
        return { linkId: block.id, type: 'boolean', required: true, text: block.text };
      case 'field': {
        return {
          linkId: block.id,
          type: QUESTION_TYPES[block.input],
          required: block.required,
          text: block.label,
          ...(block.input === 'choice'
            ? { answerOption: (block.options ?? []).map((o) => ({ valueCoding: choiceCoding(o) })) }
            : {}),
        };
      }
    }
  });
  return {
    resourceType: 'Questionnaire',
    id: fhirId(tenantId, 'Questionnaire', template.templateId, String(template.version)),
    language: template.language,
    url: questionnaireUrl(input.baseUrl, template.templateId),
    identifier: [
      { system: identifierSystem(tenantId, 'consent-template'), value: template.templateId },
    ],
    version: String(template.version),
    title: template.title,
    status: 'active',
    subjectType: ['Patient'],
    date: template.publishedAt,
    item,
  };
}

type FieldBlock = Extract<ConsentBlock, { type: 'field' }>;

/**
 * The answer to `block` (the default text's field) given to `shown` (the same field as the
 * signer saw it). A choice is coded by the default text's option at the same place, so its code is
 * one of the Questionnaire's answer options whatever the language, and displayed as chosen.
 */
function answerOf(
  block: FieldBlock,
  shown: FieldBlock,
  answer: string | boolean,
): QuestionnaireResponseItemAnswer {
  const wrong = () =>
    new TypeError(`The answer to "${block.id}" does not fit its ${block.input} field.`);
  if (block.input === 'checkbox') {
    if (typeof answer !== 'boolean') throw wrong();
    return { valueBoolean: answer };
  }
  if (typeof answer !== 'string') throw wrong();
  if (block.input === 'date') {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(answer)) throw wrong();
    return { valueDate: answer };
  }
  if (block.input !== 'choice') return { valueString: answer };
  const option = block.options?.[(shown.options ?? []).indexOf(answer)] ?? answer;
  return { valueCoding: { ...choiceCoding(option), display: answer } };
}

/**
 * The record's answers in form order, with each question's text as the signer read it (records
 * without a language were read in the default one); unanswered optional fields are left out.
 */
export function responseItems(
  template: TemplateVersionView,
  record: ConsentRecordView,
): QuestionnaireResponseItem[] {
  const shown = (templateText(template, record.language ?? template.language) ?? template).blocks;
  return template.blocks.flatMap((block, index): QuestionnaireResponseItem[] => {
    // Publishing made every translation's blocks match the default's, type for type.
    const read = shown[index]?.type === block.type ? (shown[index] ?? block) : block;
    if (block.type === 'acknowledgement' && read.type === 'acknowledgement') {
      const checked = record.acknowledgements.includes(block.id);
      return [{ linkId: block.id, text: read.text, answer: [{ valueBoolean: checked }] }];
    }
    if (block.type !== 'field' || read.type !== 'field') return [];
    const answer = record.answers[block.id];
    if (answer === undefined || answer === '') return [];
    return [{ linkId: block.id, text: read.label, answer: [answerOf(block, read, answer)] }];
  });
}
