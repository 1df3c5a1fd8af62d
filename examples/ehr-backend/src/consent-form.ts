// The EHR's consent form: a complete disclosure authorization, as a program's staff would publish
// it. The relay refuses a disclosure template unless every element of a valid authorization
// (who discloses, to whom, what, why, until when, revocation, redisclosure...) is covered by a block.
import type { ConsentTemplateContent, TemplateText } from '@carethread/shared';

/**
 * The form in Spanish, block for block ("usted" form, as a US clinic writes to patients): the
 * relay refuses a translation whose blocks, ids, covered elements or fields differ.
 */
const SPANISH: TemplateText = {
  language: 'es',
  title: 'Autorización para compartir información de mi tratamiento con mi familia',
  blocks: [
    { type: 'heading', text: '¿Quién comparte la información y con quién?' },
    {
      type: 'paragraph',
      text: 'Riverside Behavioral Health puede compartir la información que se indica a continuación con las personas nombradas en esta solicitud.',
      covers: ['discloser', 'recipients'],
    },
    {
      type: 'list',
      items: [
        'Los mensajes de mi conversación de atención médica',
        'Los horarios de mis citas y los objetivos de mi plan de tratamiento',
        'Esto incluye información sobre el tratamiento de trastornos por consumo de sustancias, protegida por la norma federal 42 CFR Parte 2.',
      ],
      covers: ['information', 'substance-use'],
    },
    {
      type: 'paragraph',
      text: 'Propósito: que mi familia pueda apoyarme en mi recuperación. Esta autorización vence en la fecha que se indica abajo.',
      covers: ['purpose', 'expiry'],
    },
    {
      type: 'acknowledgement',
      id: 'revoke',
      text: 'Puedo revocar esta autorización por escrito en cualquier momento desde el portal, excepto en lo que respecta a la información que ya se haya compartido con base en ella.',
      covers: ['revocation'],
    },
    {
      type: 'acknowledgement',
      id: 'no-conditioning',
      text: 'Mi tratamiento no depende de que firme o no este formulario.',
      covers: ['treatment-conditioning'],
    },
    {
      type: 'acknowledgement',
      id: 'redisclosure',
      text: 'Las personas que reciban esta información no pueden volver a compartirla; la ley federal prohíbe que la divulguen de nuevo.',
      covers: ['redisclosure'],
    },
    {
      type: 'paragraph',
      text: 'Usted recibirá una copia de este formulario firmado.',
      covers: ['copy-to-signer'],
    },
    {
      type: 'field',
      id: 'capacity',
      label: 'Firmo en calidad de',
      input: 'choice',
      required: true,
      options: ['Paciente', 'Tutor legal', 'Agente de atención médica'],
      covers: ['signer-capacity'],
    },
    {
      type: 'field',
      id: 'ends-on',
      label: 'Esta autorización vence el',
      input: 'date',
      required: true,
    },
  ],
};

export const FAMILY_DISCLOSURE_FORM: ConsentTemplateContent = {
  templateId: 'riverside-family-disclosure',
  kind: 'disclosure-authorization',
  language: 'en',
  title: 'Authorization to share my treatment information with my family',
  blocks: [
    { type: 'heading', text: 'Who shares and with whom' },
    {
      type: 'paragraph',
      text: 'Riverside Behavioral Health may share the information below with the people named in this request.',
      covers: ['discloser', 'recipients'],
    },
    {
      type: 'list',
      items: [
        'Messages in my care conversation',
        'Appointment times and my treatment plan goals',
        'This includes substance use disorder treatment information protected by 42 CFR Part 2.',
      ],
      covers: ['information', 'substance-use'],
    },
    {
      type: 'paragraph',
      text: 'Purpose: so my family can support my recovery. This authorization ends on the date below.',
      covers: ['purpose', 'expiry'],
    },
    {
      type: 'acknowledgement',
      id: 'revoke',
      text: 'I can revoke this authorization at any time in writing in the portal, except for information already shared in reliance on it.',
      covers: ['revocation'],
    },
    {
      type: 'acknowledgement',
      id: 'no-conditioning',
      text: 'My treatment does not depend on whether I sign.',
      covers: ['treatment-conditioning'],
    },
    {
      type: 'acknowledgement',
      id: 'redisclosure',
      text: 'Recipients may not share this information further; federal law prohibits redisclosure.',
      covers: ['redisclosure'],
    },
    {
      type: 'paragraph',
      text: 'You will receive a copy of this signed form.',
      covers: ['copy-to-signer'],
    },
    {
      type: 'field',
      id: 'capacity',
      label: 'I am signing as',
      input: 'choice',
      required: true,
      options: ['The patient', 'Legal guardian', 'Health care agent'],
      covers: ['signer-capacity'],
    },
    {
      type: 'field',
      id: 'ends-on',
      label: 'This authorization ends on',
      input: 'date',
      required: true,
    },
  ],
  translations: [SPANISH],
};
