// The FHIR R4 read side of the host API: a consent's Consent, DocumentReference,
// QuestionnaireResponse and Provenance by id, a conversation's Communications page by page, and
// everything about one patient as a Bundle. Resources are mapped on request from the store
// (src/fhir), so the chart always gets the current state (a revoked Consent reads `inactive`).
import { z } from 'zod/mini';
import { API_PAGE_MAX, ConversationId, UserId, type ConsentRequestView } from '@carethread/shared';
import type { Resource } from 'fhir/r4.js';
import type { Identity } from '../auth/tokens.js';
import type { ConsentService } from '../consent/requests.js';
import { listConsentResources, consentResources, type ConsentResources } from '../fhir/consent.js';
import { communicationFromEntry, communicationSearchset } from '../fhir/communication.js';
import { patientCollectionBundle } from '../fhir/bundle.js';
import { fhirId } from '../fhir/ids.js';
import type { ChatService } from '../services/chat.js';
import { RelayError } from '../core/errors.js';
import type { Store, StoredEntry } from '../store/types.js';
import { route, type RawBody, type RouteSpec } from './route.js';

const FHIR_JSON = 'application/fhir+json';
const FhirIdPath = z.object({ id: z.string().check(z.regex(/^[A-Za-z0-9\-.]{1,64}$/)) });
const CommunicationQuery = z.object({
  conversation: ConversationId,
  /** `gtN`: entries after sequence N (the paging the search links use). */
  seq: z.optional(z.string().check(z.regex(/^gt\d{1,15}$/))),
  _count: z.optional(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(API_PAGE_MAX))),
});
const PatientPath = z.object({ userId: UserId });
const ConsentSearchQuery = z.object({
  /** `<system>|<request id>` or the request id alone, as the Consent's identifier carries it. */
  identifier: z.string().check(z.minLength(1), z.maxLength(400)),
});

/** The consent resource types served by id, and which part of the mapping each one is. */
const CONSENT_TYPES = {
  Consent: (r: ConsentResources) => r.consent,
  DocumentReference: (r: ConsentResources) => r.documentReference,
  QuestionnaireResponse: (r: ConsentResources) => r.questionnaireResponse,
  Provenance: (r: ConsentResources) => r.provenance,
} as const;

export interface FhirRouteDeps {
  store: Store;
  chat: ChatService;
  consents: ConsentService;
}

const asFhir = (resource: unknown): RawBody => ({
  raw: JSON.stringify(resource),
  contentType: FHIR_JSON,
});

export function fhirRoutes({ store, chat, consents }: FhirRouteDeps): RouteSpec[] {
  async function resourcesOf(
    identity: Identity,
    baseUrl: string,
    request: ConsentRequestView,
  ): Promise<ConsentResources> {
    const { tenantId } = identity;
    const [template, record, events, patient] = await Promise.all([
      store.getTemplateVersion(tenantId, request.templateId, request.templateVersion),
      store.getConsentRecord(tenantId, request.requestId),
      store.listConsentEvents(tenantId, request.requestId),
      store.getParticipant(tenantId, request.conversationId, request.patientId),
    ]);
    if (!template) throw new RelayError('INTERNAL', 'The template of this consent is missing.');
    const pdf = record ? (await consents.pdf(identity, request.requestId)).pdf : undefined;
    return consentResources({
      tenantId,
      baseUrl,
      request,
      template,
      events,
      ...(record ? { record } : {}),
      ...(pdf ? { pdf: { base64: pdf } } : {}),
      ...(patient ? { patientName: patient.displayName } : {}),
    });
  }

  /**
   * The consent request behind a resource id. Ids are name-based UUIDs of (tenant, type, request),
   * so they are recomputed over the tenant's requests rather than stored.
   */
  async function requestByResourceId(
    tenantId: string,
    type: keyof typeof CONSENT_TYPES,
    id: string,
  ): Promise<ConsentRequestView> {
    const requests = await store.listConsentRequests(tenantId, {});
    const found = requests.find((r) => fhirId(tenantId, type, r.requestId) === id);
    if (!found) throw new RelayError('NOT_FOUND', `There is no ${type}/${id} in this tenant.`);
    return found;
  }

  const byId = (type: keyof typeof CONSENT_TYPES): RouteSpec =>
    route({
      method: 'GET',
      path: `/fhir/${type}/{id}`,
      operationId: `readFhir${type}`,
      summary: `FHIR R4 ${type} of a consent`,
      tag: 'FHIR',
      params: FhirIdPath,
      success: { status: 200, description: `The ${type}.`, contentType: FHIR_JSON },
      errors: ['NOT_FOUND'],
      handler: async ({ identity, params, baseUrl }) => {
        const request = await requestByResourceId(identity.tenantId, type, params.id);
        const resource = CONSENT_TYPES[type](
          await resourcesOf(identity, `${baseUrl}/fhir`, request),
        );
        if (resource?.id !== params.id)
          throw new RelayError(
            'NOT_FOUND',
            `There is no ${type}/${params.id} yet: the consent has not been signed.`,
          );
        return asFhir(resource);
      },
    });

  return [
    route({
      method: 'GET',
      path: '/fhir/Consent',
      operationId: 'searchFhirConsent',
      summary:
        'Find the Consent of a consent request by its identifier, with its DocumentReference, QuestionnaireResponse and Provenance included',
      tag: 'FHIR',
      query: ConsentSearchQuery,
      success: { status: 200, description: 'A searchset Bundle.', contentType: FHIR_JSON },
      errors: [],
      handler: async ({ identity, query, baseUrl }) => {
        const requestId = query.identifier.split('|').at(-1) ?? '';
        const request = await store.getConsentRequest(identity.tenantId, requestId);
        const fhirBase = `${baseUrl}/fhir`;
        const resources = request ? await resourcesOf(identity, fhirBase, request) : undefined;
        const included = resources
          ? [resources.documentReference, resources.questionnaireResponse, resources.provenance]
          : [];
        const entry = [
          ...(resources
            ? [{ resource: resources.consent as Resource, mode: 'match' as const }]
            : []),
          ...included.flatMap((resource) =>
            resource ? [{ resource: resource, mode: 'include' as const }] : [],
          ),
        ];
        return asFhir({
          resourceType: 'Bundle',
          type: 'searchset',
          total: resources ? 1 : 0,
          link: [
            {
              relation: 'self',
              url: `${fhirBase}/Consent?identifier=${encodeURIComponent(query.identifier)}`,
            },
          ],
          entry: entry.map(({ resource, mode }) => ({
            fullUrl: `${fhirBase}/${resource.resourceType}/${resource.id ?? ''}`,
            resource,
            search: { mode },
          })),
        });
      },
    }),
    byId('Consent'),
    byId('DocumentReference'),
    byId('QuestionnaireResponse'),
    byId('Provenance'),
    route({
      method: 'GET',
      path: '/fhir/Communication',
      operationId: 'searchFhirCommunication',
      summary: "A conversation's entries as FHIR R4 Communications, a searchset page at a time",
      tag: 'FHIR',
      query: CommunicationQuery,
      success: { status: 200, description: 'A searchset Bundle.', contentType: FHIR_JSON },
      errors: ['NOT_FOUND'],
      handler: async ({ identity, query, baseUrl }) => {
        const { tenantId } = identity;
        await chat.requireMember(identity, query.conversation);
        const conversation = await store.getConversation(tenantId, query.conversation);
        const afterSeq = query.seq ? Number(query.seq.slice(2)) : 0;
        const count = query._count ?? 50;
        // Messages and corrections: the log's system entries are no Communications (a consent's
        // steps are its Consent resource).
        const { entries, hasMore } = await store.entriesAfter(
          tenantId,
          query.conversation,
          afterSeq,
          count,
          'record',
        );
        const patient = (await store.listParticipants(tenantId, query.conversation)).find(
          (p) => p.role === 'patient',
        );
        return asFhir(
          communicationSearchset({
            tenantId,
            baseUrl: `${baseUrl}/fhir`,
            relayBaseUrl: baseUrl,
            conversationId: query.conversation,
            ...(patient ? { patientId: patient.userId } : {}),
            entries,
            afterSeq,
            count,
            lastSeq: hasMore ? (conversation?.lastSeq ?? 0) : (entries.at(-1)?.seq ?? afterSeq),
            total: await store.countEntriesAfter(tenantId, query.conversation, afterSeq),
          }),
        );
      },
    }),
    route({
      method: 'GET',
      path: '/fhir/Patient/{userId}/$everything',
      operationId: 'exportFhirPatient',
      summary:
        "Everything CareThread holds about a patient as one FHIR R4 Bundle: consents with their documents and provenance, and the patient's conversations",
      tag: 'FHIR',
      params: PatientPath,
      success: { status: 200, description: 'A collection Bundle.', contentType: FHIR_JSON },
      errors: ['NOT_FOUND'],
      handler: async ({ identity, params, baseUrl }) => {
        const { tenantId } = identity;
        const requests = (
          await store.listConsentRequests(tenantId, { userId: params.userId })
        ).filter((r) => r.patientId === params.userId);
        const conversations = await store.listConversationsOf(tenantId, params.userId);
        if (requests.length === 0 && conversations.length === 0)
          throw new RelayError('NOT_FOUND', 'CareThread holds nothing about this patient.');
        const resources: Resource[] = [];
        for (const request of requests)
          resources.push(
            ...listConsentResources(await resourcesOf(identity, `${baseUrl}/fhir`, request)),
          );
        for (const conversation of conversations) {
          let afterSeq = 0;
          for (;;) {
            const page: { entries: StoredEntry[]; hasMore: boolean } = await store.entriesAfter(
              tenantId,
              conversation.conversationId,
              afterSeq,
              API_PAGE_MAX,
              'record',
            );
            for (const entry of page.entries)
              resources.push(
                communicationFromEntry({
                  tenantId,
                  entry,
                  patientId: params.userId,
                  relayBaseUrl: baseUrl,
                }),
              );
            afterSeq = page.entries.at(-1)?.seq ?? afterSeq;
            if (!page.hasMore) break;
          }
        }
        return asFhir(
          patientCollectionBundle({
            tenantId,
            baseUrl: `${baseUrl}/fhir`,
            patientId: params.userId,
            resources,
            timestamp: new Date().toISOString(),
          }),
        );
      },
    }),
  ];
}
