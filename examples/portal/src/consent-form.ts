// The demo program's consent form: Alice's authorization to share her care conversation with her
// family. Each block says which element of a disclosure authorization it states.
import type { ConsentTemplateContent } from '@carethread/shared';

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
};
