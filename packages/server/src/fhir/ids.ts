// FHIR identity for CareThread records: resource ids derived deterministically from CareThread ids,
// the identifier systems and extension URLs that CareThread defines, and references between them.
import { createHash } from 'node:crypto';
import type { Reference } from 'fhir/r4.js';

/**
 * Where CareThread's own FHIR definitions live: extension and identifier-system URLs are built on
 * it. These are names, not endpoints a client must reach.
 */
export const CARETHREAD_FHIR = 'https://carethread.dev/fhir';

/** The extensions CareThread defines, for what R4 has no element for. */
export const CARETHREAD_EXTENSION = {
  /** On an Attachment: SHA-256 of its bytes, base64 (R4's `Attachment.hash` is SHA-1 only). */
  attachmentSha256: `${CARETHREAD_FHIR}/StructureDefinition/attachment-sha256`,
  /** On a Consent: when the consent was revoked (`valueDateTime`); absent unless revoked. */
  consentRevoked: `${CARETHREAD_FHIR}/StructureDefinition/consent-revoked`,
  /** On a Communication: the CareThread conversation it belongs to (`valueIdentifier`). */
  conversation: `${CARETHREAD_FHIR}/StructureDefinition/conversation`,
  /** On a Communication: the Communication whose text this one corrects (`valueReference`). */
  corrects: `${CARETHREAD_FHIR}/StructureDefinition/communication-corrects`,
} as const;

/** What a CareThread identifier names; each kind has its own system per tenant. */
export type IdentifierKind =
  | 'user'
  | 'consent-request'
  | 'consent-record'
  | 'consent-template'
  | 'conversation'
  | 'conversation-entry';

/**
 * The identifier system for CareThread ids of `kind` in a tenant. Ids are only unique within a
 * tenant (a user id is the `sub` of that tenant's tokens), so the tenant is part of the system.
 *
 * @example identifierSystem('sunrise', 'user') // 'https://carethread.dev/fhir/sid/sunrise/user'
 */
export function identifierSystem(tenantId: string, kind: IdentifierKind): string {
  return `${CARETHREAD_FHIR}/sid/${encodeURIComponent(tenantId)}/${kind}`;
}

// A fixed namespace for RFC 9562 name-based (version 5) UUIDs: the same CareThread ids always give
// the same FHIR id, on every relay, without a lookup table.
const NAMESPACE = Buffer.from('f159afbe2c084df4a61b9bc50334274e', 'hex');

/**
 * The stable FHIR id of the resource of `resourceType` that CareThread record `keys` map to in a
 * tenant: a version-5 UUID over the tenant, the type and the keys. CareThread ids may hold
 * characters FHIR ids cannot (`_`, `:`, spaces) or be longer than 64, so they are never used
 * as they are; the original ids travel as `identifier`s.
 *
 * @example fhirId('sunrise', 'Consent', 'req_alice_0001') // 'd1c0720b-9a86-53c7-b59e-c375f44fbd0c'
 */
export function fhirId(tenantId: string, resourceType: string, ...keys: string[]): string {
  const name = Buffer.from(JSON.stringify([tenantId, resourceType, ...keys]), 'utf8');
  const hash = createHash('sha1').update(NAMESPACE).update(name).digest();
  hash.writeUInt8((hash.readUInt8(6) & 0x0f) | 0x50, 6); // version 5
  hash.writeUInt8((hash.readUInt8(8) & 0x3f) | 0x80, 8); // RFC 9562 variant
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** A relative literal reference, `Type/id`, with a display when one is known. */
export function reference(resourceType: string, id: string, display?: string | null): Reference {
  return display
    ? { reference: `${resourceType}/${id}`, display }
    : { reference: `${resourceType}/${id}` };
}

/** `baseUrl` without trailing slashes, so that `${base}/Type/id` is well formed. */
export function trimBase(baseUrl: string): string {
  return baseUrl.replace(/\/+$/, '');
}
