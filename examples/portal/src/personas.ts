// The people of the demo. A real portal has its own accounts; CareThread only needs, per signed-in
// user, an id, a display name, a role and (for family) a relationship or (for staff) a title.
import type { Role } from '@carethread/shared';

export interface Persona {
  sub: string;
  name: string;
  role: Role;
  relationship?: string;
  title?: string;
}

export const personas: readonly Persona[] = [
  { sub: 'alice', name: 'Alice Moreno', role: 'patient' },
  { sub: 'bob', name: 'Bob Moreno', role: 'family', relationship: 'brother' },
  { sub: 'dr-rivera', name: 'Dr. Sam Rivera', role: 'provider', title: 'Therapist' },
];

// Named after the patient: a title the host writes once reads the same in every reader's language.
export const DEMO_CONVERSATION = { id: 'c-demo', title: 'Alice Moreno' };

export function personaById(sub: string | undefined): Persona | undefined {
  return personas.find((p) => p.sub === sub);
}
