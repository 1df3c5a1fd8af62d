// The EHR's own accounts. CareThread needs, per signed-in user, a stable id (the token's `sub`),
// a display name, a role, and a relationship (family) or a title (care team).
import type { Role } from '@carethread/shared';

export interface EhrUser {
  id: string;
  name: string;
  role: Role;
  relationship?: string;
  title?: string;
  /**
   * DEMO ONLY: a fixed password shown on the login page. A real EHR has its own identity
   * provider (password hashes, MFA, SSO); CareThread never sees passwords either way.
   */
  demoPassword: string;
}

export const users: readonly EhrUser[] = [
  { id: 'alice', name: 'Alice Moreno', role: 'patient', demoPassword: 'demo-alice' },
  {
    id: 'bob',
    name: 'Bob Moreno',
    role: 'family',
    relationship: 'brother',
    demoPassword: 'demo-bob',
  },
  {
    id: 'dr-rivera',
    name: 'Dr. Sam Rivera',
    role: 'provider',
    title: 'Therapist',
    demoPassword: 'demo-rivera',
  },
];

/** The encounter the demo opens in CareThread: Alice, her brother and her therapist. */
export const DEMO_CONVERSATION = {
  conversationId: 'riverside-enc-1001',
  title: 'Alice Moreno — family support',
} as const;

export function userById(id: string | undefined): EhrUser | undefined {
  return users.find((u) => u.id === id);
}
