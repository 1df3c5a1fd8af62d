// The EHR's consent form: a complete disclosure authorization, as a program's staff would publish
// it. The relay refuses a disclosure template unless every element of a valid authorization
// (who discloses, to whom, what, why, until when, revocation, redisclosure...) is covered by a block.
import type { ConsentTemplateContent } from '@carethread/shared';

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
};
