// The per-patient export: one `collection` Bundle of everything CareThread holds about a patient
// (consents, their documents and provenance, the people involved, conversation entries).
import type { Bundle, Reference, Resource } from 'fhir/r4.js';
import { trimBase } from './ids.js';
import { patientId, patientResource } from './people.js';

const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;

/** What {@link patientCollectionBundle} gathers. */
export interface PatientBundleInput {
  tenantId: string;
  /** The FHIR base the resources live under: each entry's fullUrl is `base/Type/id`. */
  baseUrl: string;
  /** The patient (a CareThread user id) every patient-bound resource must be about. */
  patientId: string;
  /** E.g. `listConsentResources(...)` of each consent, then the patient's Communications. */
  resources: readonly Resource[];
  /** When the export was assembled (an instant); omitted when not given, to stay pure. */
  timestamp?: string;
}

/** The patient a resource is about, when it says (Consent.patient, RelatedPerson.patient, subject). */
function patientOf(resource: Resource): string | undefined {
  const bound = resource as { patient?: Reference; subject?: Reference };
  const ref = bound.patient?.reference ?? bound.subject?.reference;
  return ref?.startsWith('Patient/') ? ref.slice('Patient/'.length) : undefined;
}

/**
 * One patient's resources as a `collection` Bundle, each entry with its RESTful fullUrl, so the
 * relative references between them (`RelatedPerson/…`) resolve inside the Bundle. The Patient is
 * added first when missing. A resource listed twice (the same person in two consents) is kept once,
 * the first time. Throws when a resource has no valid id, or is about another patient: one
 * patient's export must never carry someone else's record.
 *
 * @example
 * patientCollectionBundle({
 *   tenantId, baseUrl, patientId: 'alice',
 *   resources: [...listConsentResources(signed), ...listConsentResources(revoked)],
 * });
 */
export function patientCollectionBundle(input: PatientBundleInput): Bundle {
  const base = trimBase(input.baseUrl);
  const ownId = patientId(input.tenantId, input.patientId);
  const hasPatient = input.resources.some((r) => r.resourceType === 'Patient' && r.id === ownId);
  const resources: readonly Resource[] = hasPatient
    ? input.resources
    : [patientResource(input.tenantId, { userId: input.patientId }), ...input.resources];

  const seen = new Set<string>();
  const entry: NonNullable<Bundle['entry']> = [];
  for (const resource of resources) {
    if (resource.id === undefined || !FHIR_ID.test(resource.id))
      throw new TypeError(`A ${resource.resourceType} without a valid FHIR id cannot be exported.`);
    if (resource.resourceType === 'Patient' && resource.id !== ownId)
      throw new TypeError(`Patient/${resource.id} is not the patient of this export.`);
    const about = patientOf(resource);
    if (about !== undefined && about !== ownId)
      throw new TypeError(
        `${resource.resourceType}/${resource.id} is about Patient/${about}, not this export's patient.`,
      );
    const fullUrl = `${base}/${resource.resourceType}/${resource.id}`;
    if (seen.has(fullUrl)) continue;
    seen.add(fullUrl);
    entry.push({ fullUrl, resource });
  }
  return {
    resourceType: 'Bundle',
    type: 'collection',
    ...(input.timestamp === undefined ? {} : { timestamp: input.timestamp }),
    entry,
  };
}
