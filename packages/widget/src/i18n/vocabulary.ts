// The words a host stores about people, shown in the reader's language when they are common
// terms: a family member's relationship ("brother") and a care-team member's title ("Therapist").
// Hosts store one label per person, in their own language, while the people reading it may read
// another; a term this list knows is translated (whatever its case), anything else is shown as
// the host wrote it. The terms follow HL7 v3 PersonalRelationshipRoleType and common care-team
// roles in behavioural health.
import { msg } from '@lit/localize';

function relationship(term: string): string | undefined {
  switch (term) {
    case 'brother':
      return msg('brother', { id: 'relationship-brother' });
    case 'sister':
      return msg('sister', { id: 'relationship-sister' });
    case 'sibling':
      return msg('sibling', { id: 'relationship-sibling' });
    case 'mother':
      return msg('mother', { id: 'relationship-mother' });
    case 'father':
      return msg('father', { id: 'relationship-father' });
    case 'parent':
      return msg('parent', { id: 'relationship-parent' });
    case 'son':
      return msg('son', { id: 'relationship-son' });
    case 'daughter':
      return msg('daughter', { id: 'relationship-daughter' });
    case 'child':
      return msg('child', { id: 'relationship-child' });
    case 'spouse':
      return msg('spouse', { id: 'relationship-spouse' });
    case 'husband':
      return msg('husband', { id: 'relationship-husband' });
    case 'wife':
      return msg('wife', { id: 'relationship-wife' });
    case 'partner':
      return msg('partner', { id: 'relationship-partner' });
    case 'grandmother':
      return msg('grandmother', { id: 'relationship-grandmother' });
    case 'grandfather':
      return msg('grandfather', { id: 'relationship-grandfather' });
    case 'grandparent':
      return msg('grandparent', { id: 'relationship-grandparent' });
    case 'aunt':
      return msg('aunt', { id: 'relationship-aunt' });
    case 'uncle':
      return msg('uncle', { id: 'relationship-uncle' });
    case 'cousin':
      return msg('cousin', { id: 'relationship-cousin' });
    case 'friend':
      return msg('friend', { id: 'relationship-friend' });
    case 'guardian':
      return msg('guardian', { id: 'relationship-guardian' });
    default:
      return undefined;
  }
}

function careTitle(term: string): string | undefined {
  switch (term) {
    case 'therapist':
      return msg('Therapist', { id: 'title-therapist' });
    case 'counselor':
    case 'counsellor':
      return msg('Counselor', { id: 'title-counselor' });
    case 'psychiatrist':
      return msg('Psychiatrist', { id: 'title-psychiatrist' });
    case 'psychologist':
      return msg('Psychologist', { id: 'title-psychologist' });
    case 'nurse':
      return msg('Nurse', { id: 'title-nurse' });
    case 'physician':
    case 'doctor':
      return msg('Physician', { id: 'title-physician' });
    case 'social worker':
      return msg('Social worker', { id: 'title-social-worker' });
    case 'case manager':
      return msg('Case manager', { id: 'title-case-manager' });
    case 'peer recovery coach':
    case 'peer support specialist':
      return msg('Peer recovery coach', { id: 'title-peer-coach' });
    default:
      return undefined;
  }
}

const term = (label: string) => label.trim().toLowerCase().replace(/\s+/g, ' ');

/** A family member's relationship as the reader reads it: a known term translated, else as is. */
export const relationshipLabel = (label: string): string => relationship(term(label)) ?? label;

/** A care-team member's title as the reader reads it: a known term translated, else as is. */
export const careTitleLabel = (label: string): string => careTitle(term(label)) ?? label;
