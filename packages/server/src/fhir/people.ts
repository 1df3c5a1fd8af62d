// The people of CareThread records as FHIR resources: the patient (Patient), family members and
// representatives (RelatedPerson, always of one patient) and the care team (Practitioner).
import type { Role, Sender, SignerCapacity } from '@carethread/shared';
import type { CodeableConcept, Patient, Practitioner, Reference, RelatedPerson } from 'fhir/r4.js';
import { fhirId, identifierSystem, reference } from './ids.js';

const V3_ROLE_CODE = 'http://terminology.hl7.org/CodeSystem/v3-RoleCode';

/** Family relationships as hosts name them, to their HL7 v3 RoleCode (personal relationships). */
const RELATIONSHIP_CODES: Record<string, [code: string, display: string]> = {
  mother: ['MTH', 'mother'],
  father: ['FTH', 'father'],
  parent: ['PRN', 'parent'],
  'step-parent': ['STPPRN', 'step parent'],
  stepparent: ['STPPRN', 'step parent'],
  spouse: ['SPS', 'spouse'],
  husband: ['HUSB', 'husband'],
  wife: ['WIFE', 'wife'],
  partner: ['DOMPART', 'domestic partner'],
  'domestic partner': ['DOMPART', 'domestic partner'],
  'significant other': ['SIGOTHR', 'significant other'],
  sibling: ['SIB', 'sibling'],
  brother: ['BRO', 'brother'],
  sister: ['SIS', 'sister'],
  child: ['CHILD', 'child'],
  son: ['SON', 'natural son'],
  daughter: ['DAU', 'natural daughter'],
  grandparent: ['GRPRN', 'grandparent'],
  grandmother: ['GRMTH', 'grandmother'],
  grandfather: ['GRFTH', 'grandfather'],
  aunt: ['AUNT', 'aunt'],
  uncle: ['UNCLE', 'uncle'],
  cousin: ['COUSN', 'cousin'],
  niece: ['NIECE', 'niece'],
  nephew: ['NEPHEW', 'nephew'],
  friend: ['FRND', 'unrelated friend'],
  neighbor: ['NBOR', 'neighbor'],
  'family member': ['FAMMEMB', 'family member'],
};

/** A representative's capacity as the role the v3 RoleCode gives it (SecurityRoleType codes). */
export const CAPACITY_ROLES: Record<Exclude<SignerCapacity, 'self'>, [string, string]> = {
  guardian: ['GUARD', 'guardian'],
  'health-care-agent': ['HPOWATT', 'healthcare power of attorney'],
  'personal-representative': ['RESPRSN', 'responsible party'],
};

/** A relationship label ("Mother", "partner") as a CodeableConcept: always the text, coded when known. */
export function relationshipConcept(label: string): CodeableConcept {
  const known = RELATIONSHIP_CODES[label.trim().toLowerCase()];
  return known
    ? { coding: [{ system: V3_ROLE_CODE, code: known[0], display: known[1] }], text: label }
    : { text: label };
}

/** A representative's capacity as a CodeableConcept (v3 RoleCode). */
export function capacityConcept(capacity: Exclude<SignerCapacity, 'self'>): CodeableConcept {
  const [code, display] = CAPACITY_ROLES[capacity];
  return { coding: [{ system: V3_ROLE_CODE, code, display }], text: display };
}

/** The id of the Patient a CareThread patient user maps to. */
export const patientId = (tenantId: string, userId: string) => fhirId(tenantId, 'Patient', userId);

/** The id of the RelatedPerson a user is to one patient (the same user may relate to several). */
export const relatedPersonId = (tenantId: string, patientUserId: string, userId: string) =>
  fhirId(tenantId, 'RelatedPerson', patientUserId, userId);

/** The id of the Practitioner a care-team user maps to. */
export const practitionerId = (tenantId: string, userId: string) =>
  fhirId(tenantId, 'Practitioner', userId);

const userIdentifier = (tenantId: string, userId: string) => [
  { system: identifierSystem(tenantId, 'user'), value: userId },
];

/** A reference to the patient's Patient resource. */
export function patientReference(
  tenantId: string,
  userId: string,
  name?: string | null,
): Reference {
  return reference('Patient', patientId(tenantId, userId), name);
}

/** A reference to a user's RelatedPerson of the patient. */
export function relatedPersonReference(
  tenantId: string,
  patientUserId: string,
  userId: string,
  name?: string | null,
): Reference {
  return reference('RelatedPerson', relatedPersonId(tenantId, patientUserId, userId), name);
}

/**
 * The patient as a Patient: the CareThread user id as identifier, the display name as name.
 *
 * @example patientResource('sunrise', { userId: 'alice', displayName: 'Alice Moreno' })
 */
export function patientResource(
  tenantId: string,
  person: { userId: string; displayName?: string | null },
): Patient {
  return {
    resourceType: 'Patient',
    id: patientId(tenantId, person.userId),
    identifier: userIdentifier(tenantId, person.userId),
    ...(person.displayName ? { name: [{ text: person.displayName }] } : {}),
  };
}

/**
 * A family member or representative as a RelatedPerson of the patient; `relationship` holds the
 * family relationship and, for a representative, the capacity they sign in.
 */
export function relatedPersonResource(
  tenantId: string,
  patientUserId: string,
  person: {
    userId: string;
    displayName?: string | null;
    relationship?: string | null;
    capacity?: SignerCapacity;
  },
): RelatedPerson {
  const relationship: CodeableConcept[] = [];
  if (person.relationship) relationship.push(relationshipConcept(person.relationship));
  if (person.capacity && person.capacity !== 'self')
    relationship.push(capacityConcept(person.capacity));
  return {
    resourceType: 'RelatedPerson',
    id: relatedPersonId(tenantId, patientUserId, person.userId),
    identifier: userIdentifier(tenantId, person.userId),
    active: true,
    patient: patientReference(tenantId, patientUserId),
    ...(relationship.length > 0 ? { relationship } : {}),
    ...(person.displayName ? { name: [{ text: person.displayName }] } : {}),
  };
}

/** A care-team member (provider or staff) as a Practitioner. */
export function practitionerResource(
  tenantId: string,
  person: { userId: string; displayName?: string | null },
): Practitioner {
  return {
    resourceType: 'Practitioner',
    id: practitionerId(tenantId, person.userId),
    identifier: userIdentifier(tenantId, person.userId),
    ...(person.displayName ? { name: [{ text: person.displayName }] } : {}),
  };
}

/** A conversation participant as the resource their role maps to. */
export function participantResource(
  tenantId: string,
  patientUserId: string | undefined,
  participant: {
    userId: string;
    role: Role;
    displayName: string;
    relationship?: string | null;
  },
): Patient | RelatedPerson | Practitioner {
  switch (participant.role) {
    case 'patient':
      return patientResource(tenantId, participant);
    case 'family':
      if (patientUserId === undefined)
        throw new TypeError('A family member maps to a RelatedPerson only with its patient.');
      return relatedPersonResource(tenantId, patientUserId, participant);
    case 'provider':
    case 'staff':
      return practitionerResource(tenantId, participant);
  }
}

/**
 * Who a message's sender is, by role: Patient, RelatedPerson (of `patientUserId`) or Practitioner.
 * A family member of an unknown patient has no RelatedPerson id, so the reference names them by
 * identifier only.
 */
export function senderReference(
  tenantId: string,
  patientUserId: string | undefined,
  sender: Sender,
): Reference {
  switch (sender.role) {
    case 'patient':
      return patientReference(tenantId, sender.userId, sender.displayName);
    case 'family':
      return patientUserId === undefined
        ? {
            type: 'RelatedPerson',
            identifier: userIdentifier(tenantId, sender.userId)[0],
            display: sender.displayName,
          }
        : relatedPersonReference(tenantId, patientUserId, sender.userId, sender.displayName);
    case 'provider':
    case 'staff':
      return reference('Practitioner', practitionerId(tenantId, sender.userId), sender.displayName);
  }
}
