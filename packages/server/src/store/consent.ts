// The consent part of the Store contract, with its records: templates, requests and their events,
// signed records and their PDFs, grants, revocation and expiry, and the system entries of each
// step. Its SQL: sql/consent.ts.
import type {
  ConsentRequestView,
  ConsentScope,
  ConsentState,
  ConsentTemplateContent,
  TemplateVersionView,
} from '@carethread/shared';
import type { WrittenEvent } from './conversations.js';

/** A template version to publish: content, its hash, and who publishes it when. */
export interface NewTemplateVersion {
  tenantId: string;
  content: ConsentTemplateContent;
  hash: string;
  publishedAt: string;
  publishedBy: string;
}

/** One audit event of a consent request; the store chains it to the one before. */
export interface ConsentEventInput {
  type: ConsentState;
  at: string;
  actorId: string;
  /** Ids, codes and hashes only. */
  detail: Record<string, string | number | boolean | null>;
}

export interface ConsentEventRecord extends ConsentEventInput {
  seq: number;
  prevHash: string;
  hash: string;
}

/** The signed record as the receipt covers it. */
export interface SignedConsentRecord {
  canonical: string;
  recordHash: string;
  receipt: string;
  signatureImage: string | null;
}

export interface ConsentStore {
  /**
   * Publishes the next version of a template, or returns the newest version unchanged (and
   * `created: false`) when its hash equals the new content's. Versions are never changed.
   */
  publishTemplateVersion(
    version: NewTemplateVersion,
  ): Promise<{ template: TemplateVersionView; created: boolean }>;
  /** Every published version of a template, oldest first. */
  listTemplateVersions(tenantId: string, templateId: string): Promise<TemplateVersionView[]>;

  /** A published template version, the newest when `version` is omitted. */
  getTemplateVersion(
    tenantId: string,
    templateId: string,
    version?: number,
  ): Promise<TemplateVersionView | undefined>;

  /** Creates a request with its first event; an existing id returns the stored one unchanged. */
  createConsentRequest(
    tenantId: string,
    request: ConsentRequestView,
    event: ConsentEventInput,
  ): Promise<{ request: ConsentRequestView; created: boolean }>;
  getConsentRequest(tenantId: string, requestId: string): Promise<ConsentRequestView | undefined>;
  /** Requests of a conversation, or where `userId` is the patient or the signer; oldest first. */
  listConsentRequests(
    tenantId: string,
    filter: { conversationId?: string; userId?: string },
  ): Promise<ConsentRequestView[]>;
  /**
   * Moves a request from one of `from` to `to` and appends `event`, in one transaction.
   * Undefined (and nothing written) when the request is in another state.
   */
  transitionConsentRequest(
    tenantId: string,
    requestId: string,
    from: readonly ConsentState[],
    to: ConsentState,
    event: ConsentEventInput,
  ): Promise<ConsentRequestView | undefined>;
  /** Like a transition to `signed` that also stores the record: all of it or none of it. */
  signConsentRequest(
    tenantId: string,
    requestId: string,
    from: readonly ConsentState[],
    record: SignedConsentRecord,
    event: ConsentEventInput,
  ): Promise<ConsentRequestView | undefined>;
  getConsentRecord(tenantId: string, requestId: string): Promise<SignedConsentRecord | undefined>;
  /** The record's sealed PDF (base64), if made yet. */
  getConsentPdf(tenantId: string, requestId: string): Promise<string | undefined>;
  /** Keeps the first PDF made for a record and returns the one kept (write once). */
  saveConsentPdf(tenantId: string, requestId: string, pdf: string): Promise<string>;
  /**
   * Revokes a signed consent: the request becomes `revoked`, its grants end at `event.at`, the
   * revocation (canonical JSON) is kept with the record and the event is appended, in one
   * transaction. Undefined when it was not signed.
   */
  revokeConsent(
    tenantId: string,
    requestId: string,
    event: ConsentEventInput,
    revocation: string,
  ): Promise<ConsentRequestView | undefined>;
  /** The revocation kept by `revokeConsent` (canonical JSON), if revoked since it was kept. */
  getConsentRevocation(tenantId: string, requestId: string): Promise<string | undefined>;
  /**
   * Marks every request past its expiry at `at` as `expired` (from requested, viewed or signed),
   * each with its audit event; the changed requests with their tenant.
   */
  expireDueConsents(at: string): Promise<{ tenantId: string; request: ConsentRequestView }[]>;
  /**
   * What the consents in effect at time `at` let `userId` see of the conversation's patient:
   * the scopes of all of them together, with the one that ends last (`requestId`, `expiresAt`).
   * Undefined when none is in effect.
   */
  activeGrant(
    tenantId: string,
    conversationId: string,
    userId: string,
    at: string,
  ): Promise<{ requestId: string; expiresAt: string; scopes: ConsentScope[] } | undefined>;
  /** The audit trail of a request, oldest first. */
  listConsentEvents(tenantId: string, requestId: string): Promise<ConsentEventRecord[]>;
  /**
   * The system entry that reported the request reaching `state` (each step is written into its
   * conversation's log in the step's transaction; `viewed` is not), with the conversation's
   * access version now: what the transport delivers after the commit.
   */
  consentEntry(
    tenantId: string,
    requestId: string,
    state: ConsentState,
  ): Promise<WrittenEvent | undefined>;
}
