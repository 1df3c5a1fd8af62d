// The EHR's chart, as a folder: one JSON file per FHIR resource, named `Type-id.json`. A consent
// is filed from the relay's FHIR API, so the chart holds the current state (a revoked consent
// reads `inactive`) whatever order the webhooks came in.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { HostApi } from './host-api.js';

/** The few FHIR fields this filing reads; the files keep every field the relay sent. */
interface FhirResource {
  resourceType: string;
  id: string;
  identifier?: { system?: string; value?: string }[] | { system?: string; value?: string };
  target?: { reference?: string }[];
}
interface Bundle {
  entry?: { resource: FhirResource }[];
}

/** The FHIR types that make up one consent in CareThread's mapping. */
const CONSENT_TYPES = ['Consent', 'DocumentReference', 'QuestionnaireResponse', 'Provenance'];

/**
 * Writes `file` whole or not at all (a crash mid-write never leaves half a resource), readable by
 * this user only: the chart and the secrets are health and key material.
 */
export function writeFileAtomic(file: string, text: string, mode = 0o600): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const temporary = `${file}.${String(process.pid)}.tmp`;
  writeFileSync(temporary, text, { mode });
  renameSync(temporary, file);
}

function namesRequest(resource: FhirResource, requestId: string): boolean {
  const identifiers = [resource.identifier ?? []].flat();
  return identifiers.some(
    (i) => i.value === requestId && (i.system ?? '').endsWith('/consent-request'),
  );
}

/**
 * Files the FHIR resources of consent request `requestId` of `patientId` into `chartDir` and
 * returns their `Type/id`s. The ids are found in the patient's export (`$everything`): the
 * Consent, DocumentReference and QuestionnaireResponse carry the request id as an identifier,
 * the Provenance targets the Consent. Each is then read by id, as a chart interface would.
 */
export async function fileConsent(
  api: HostApi,
  chartDir: string,
  patientId: string,
  requestId: string,
): Promise<string[]> {
  const bundle = await api.get<Bundle>(
    `/fhir/Patient/${encodeURIComponent(patientId)}/$everything`,
  );
  const resources = (bundle.entry ?? []).map((e) => e.resource);
  const consent = resources.find((r) => r.resourceType === 'Consent' && namesRequest(r, requestId));
  if (!consent) throw new Error(`The export of ${patientId} has no Consent for ${requestId}.`);
  const ofThisConsent = resources.filter(
    (r) =>
      CONSENT_TYPES.includes(r.resourceType) &&
      (namesRequest(r, requestId) ||
        (r.target ?? []).some((t) => t.reference === `Consent/${consent.id}`)),
  );
  const filed: string[] = [];
  for (const { resourceType, id } of ofThisConsent) {
    const resource = await api.get<FhirResource>(`/fhir/${resourceType}/${id}`);
    writeFileAtomic(
      path.join(chartDir, `${resourceType}-${id}.json`),
      `${JSON.stringify(resource, null, 2)}\n`,
    );
    filed.push(`${resourceType}/${id}`);
  }
  return filed;
}
