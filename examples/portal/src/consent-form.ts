// The demo program's consent form: Alice's authorization to share her care conversation with her
// family, in English and Spanish. Each block says which element of a disclosure authorization it
// states; the Spanish text has the same blocks in the same order, as the relay requires.
import type { ConsentTemplateContent, TemplateText } from '@carethread/shared';

/** The form in Spanish, block for block ("usted" form, as a US clinic writes to patients). */
const SPANISH: TemplateText = {
  language: 'es',
  title: 'Compartir mi conversación de atención médica con mi familia',
  blocks: [
    {
      type: 'paragraph',
      text: 'Sunrise Recovery puede compartir mi conversación de atención médica con los familiares nombrados en esta solicitud.',
      covers: ['discloser', 'recipients'],
    },
    {
      type: 'paragraph',
      text: 'Qué se comparte: los mensajes de mi conversación de atención médica, que incluyen información sobre el tratamiento de trastornos por consumo de sustancias protegida por la norma federal 42 CFR Parte 2.',
      covers: ['information', 'substance-use'],
    },
    {
      type: 'paragraph',
      text: 'Por qué: para que mi familia pueda apoyarme en mi recuperación. Esta autorización vence en la fecha indicada en la solicitud.',
      covers: ['purpose', 'expiry'],
    },
    {
      type: 'acknowledgement',
      id: 'can-revoke',
      text: 'Puedo revocar esta autorización en cualquier momento desde el portal; la información que se haya compartido antes de que la revoque no se puede recuperar.',
      covers: ['revocation'],
    },
    {
      type: 'acknowledgement',
      id: 'treatment-unaffected',
      text: 'Mi tratamiento no depende de que firme o no este formulario.',
      covers: ['treatment-conditioning'],
    },
    {
      type: 'acknowledgement',
      id: 'no-redisclosure',
      text: 'Mi familia no puede volver a compartir esta información con otras personas.',
      covers: ['redisclosure'],
    },
    {
      type: 'field',
      id: 'signing-as',
      label: 'Firmo en calidad de',
      input: 'choice',
      required: true,
      options: ['Paciente', 'Tutor legal'],
      covers: ['signer-capacity', 'copy-to-signer'],
    },
  ],
};

export const DEMO_CONSENT_FORM: ConsentTemplateContent = {
  templateId: 'sunrise-family-sharing',
  kind: 'disclosure-authorization',
  language: 'en',
  title: 'Sharing my care conversation with my family',
  blocks: [
    {
      type: 'paragraph',
      text: 'Sunrise Recovery may share my care conversation with the family members named in this request.',
      covers: ['discloser', 'recipients'],
    },
    {
      type: 'paragraph',
      text: 'What is shared: the messages of my care conversation, which include substance use disorder treatment information protected by 42 CFR Part 2.',
      covers: ['information', 'substance-use'],
    },
    {
      type: 'paragraph',
      text: 'Why: so my family can support my recovery. This authorization ends on the date in the request.',
      covers: ['purpose', 'expiry'],
    },
    {
      type: 'acknowledgement',
      id: 'can-revoke',
      text: 'I can revoke this at any time in the portal; information shared before I revoke cannot be taken back.',
      covers: ['revocation'],
    },
    {
      type: 'acknowledgement',
      id: 'treatment-unaffected',
      text: 'My treatment does not depend on whether I sign.',
      covers: ['treatment-conditioning'],
    },
    {
      type: 'acknowledgement',
      id: 'no-redisclosure',
      text: 'My family may not share this information further.',
      covers: ['redisclosure'],
    },
    {
      type: 'field',
      id: 'signing-as',
      label: 'I am signing as',
      input: 'choice',
      required: true,
      options: ['The patient', 'Legal guardian'],
      covers: ['signer-capacity', 'copy-to-signer'],
    },
  ],
  translations: [SPANISH],
};
