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
}
interface Bundle {
  entry?: { resource: FhirResource }[];
}

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

/**
 * Files the FHIR resources of consent request `requestId` into `chartDir` and returns their
 * `Type/id`s. One search by the request id answers the Consent with its DocumentReference,
 * QuestionnaireResponse and Provenance included (those exist once it is signed).
 */
export async function fileConsent(
  api: HostApi,
  chartDir: string,
  requestId: string,
): Promise<string[]> {
  const bundle = await api.get<Bundle>(`/fhir/Consent?identifier=${encodeURIComponent(requestId)}`);
  const resources = (bundle.entry ?? []).map((e) => e.resource);
  if (resources.length === 0) throw new Error(`The relay has no Consent for ${requestId}.`);
  const filed: string[] = [];
  for (const resource of resources) {
    writeFileAtomic(
      path.join(chartDir, `${resource.resourceType}-${resource.id}.json`),
      `${JSON.stringify(resource, null, 2)}\n`,
    );
    filed.push(`${resource.resourceType}/${resource.id}`);
  }
  return filed;
}
