// The host API's consent routes: templates and their versions, requests, the signed record, its
// sealed PDF, receipt and events. The consent services hold the rules.
import {
  ApiConsentCancel,
  ApiConsentFormQuery,
  ApiConsentEventPage,
  ApiConsentRecord,
  ApiConsentRequestCreate,
  ApiConsentRequestPage,
  ApiConsentRequestQuery,
  ApiTemplatePublishResult,
  ApiTemplateVersionPage,
  type ConsentRecordView,
  type ConsentRevocationView,
  ConsentRequestPath,
  ConsentRequestView,
  ConsentViewResult,
  PageQuery,
  TemplatePath,
  TemplatePublish,
} from '@carethread/shared';
import type { Identity } from '../auth/tokens.js';
import { RelayError } from '../core/errors.js';
import type { HostApiDeps } from './host-api-deps.js';
import { pageInMemory } from './paging.js';
import { route, type RouteSpec } from './route.js';

export function consentRoutes({
  store,
  consents,
  templates,
  transport,
}: Pick<HostApiDeps, 'store' | 'consents' | 'templates' | 'transport'>): RouteSpec[] {
  async function requestOf(identity: Identity, requestId: string): Promise<ConsentRequestView> {
    const request = await store.getConsentRequest(identity.tenantId, requestId);
    if (!request) throw new RelayError('NOT_FOUND', 'This consent request does not exist.');
    return request;
  }

  return [
    route({
      method: 'POST',
      path: '/api/v1/consent-templates',
      operationId: 'publishConsentTemplate',
      summary: 'Publish a consent template version (the same content again returns that version)',
      tag: 'Consent',
      body: TemplatePublish,
      success: {
        status: 200,
        description: 'The version published, or the newest one when the content is unchanged.',
        schema: ApiTemplatePublishResult,
      },
      errors: [],
      handler: ({ identity, body }) => templates.publish(identity, body),
    }),
    route({
      method: 'GET',
      path: '/api/v1/consent-templates/{templateId}/versions',
      operationId: 'listConsentTemplateVersions',
      summary: 'Every published version of a template, oldest first',
      tag: 'Consent',
      params: TemplatePath,
      query: PageQuery,
      success: { status: 200, description: 'A page of versions.', schema: ApiTemplateVersionPage },
      errors: ['NOT_FOUND'],
      handler: async ({ identity, params, query }) =>
        pageInMemory(await templates.versions(identity, params.templateId), query),
    }),
    route({
      method: 'POST',
      path: '/api/v1/consent-requests',
      operationId: 'createConsentRequest',
      summary: 'Ask a patient (or their representative) to sign a consent',
      tag: 'Consent',
      body: ApiConsentRequestCreate,
      success: {
        status: 201,
        description: 'The request, or the existing one with this id.',
        schema: ConsentRequestView,
      },
      errors: ['NOT_FOUND'],
      handler: async ({ identity, body }) => {
        const { onBehalfOf, ...create } = body;
        const request = await consents.request(identity, create, onBehalfOf);
        transport.announceConsent(identity.tenantId, request);
        return request;
      },
    }),
    route({
      method: 'GET',
      path: '/api/v1/consent-requests',
      operationId: 'listConsentRequests',
      summary:
        "The tenant's consent requests, oldest first; filtered by conversation, patient or state",
      tag: 'Consent',
      query: ApiConsentRequestQuery,
      success: { status: 200, description: 'A page of requests.', schema: ApiConsentRequestPage },
      errors: [],
      handler: async ({ identity, query }) =>
        pageInMemory(
          (
            await store.listConsentRequests(identity.tenantId, {
              ...(query.conversationId === undefined
                ? {}
                : { conversationId: query.conversationId }),
              ...(query.patientId === undefined ? {} : { userId: query.patientId }),
            })
          ).filter(
            (r) =>
              (query.patientId === undefined || r.patientId === query.patientId) &&
              (query.state === undefined || r.state === query.state),
          ),
          query,
        ),
    }),
    route({
      method: 'GET',
      path: '/api/v1/consent-requests/{requestId}',
      operationId: 'getConsentRequest',
      summary: 'A consent request and its state',
      tag: 'Consent',
      params: ConsentRequestPath,
      success: { status: 200, description: 'The request.', schema: ConsentRequestView },
      errors: ['NOT_FOUND'],
      handler: ({ identity, params }) => requestOf(identity, params.requestId),
    }),
    route({
      method: 'GET',
      path: '/api/v1/consent-requests/{requestId}/form',
      operationId: 'getConsentForm',
      summary:
        "The request's form in the language closest to `language` (the same tag, else the same primary language, else the template's default), with the electronic-records disclosure and what signing means in that language",
      tag: 'Consent',
      params: ConsentRequestPath,
      query: ApiConsentFormQuery,
      success: {
        status: 200,
        description: 'The form, and the language it is in.',
        schema: ConsentViewResult,
      },
      errors: ['NOT_FOUND'],
      handler: async ({ identity, params, query }) =>
        (await consents.view(identity, params.requestId, query.language)).view,
    }),
    route({
      method: 'POST',
      path: '/api/v1/consent-requests/{requestId}/cancel',
      operationId: 'cancelConsentRequest',
      summary:
        'Withdraw a request nobody has answered yet (a signed consent is revoked by its signer)',
      tag: 'Consent',
      params: ConsentRequestPath,
      body: ApiConsentCancel,
      success: { status: 200, description: 'The cancelled request.', schema: ConsentRequestView },
      errors: ['NOT_FOUND', 'CONFLICT'],
      handler: async ({ identity, params, body }) => {
        const request = await consents.cancel(identity, params.requestId, body.reason);
        transport.announceConsent(identity.tenantId, request);
        return request;
      },
    }),
    route({
      method: 'GET',
      path: '/api/v1/consent-requests/{requestId}/record',
      operationId: 'getConsentRecord',
      summary: 'The signed record, its hash and its receipt, and the revocation once revoked',
      tag: 'Consent',
      params: ConsentRequestPath,
      success: { status: 200, description: 'The signed record.', schema: ApiConsentRecord },
      errors: ['NOT_FOUND'],
      handler: async ({ identity, params }) => {
        await requestOf(identity, params.requestId);
        const stored = await store.getConsentRecord(identity.tenantId, params.requestId);
        if (!stored) throw new RelayError('NOT_FOUND', 'This consent has not been signed.');
        const revocation = await store.getConsentRevocation(identity.tenantId, params.requestId);
        return {
          record: JSON.parse(stored.canonical) as ConsentRecordView,
          recordHash: stored.recordHash,
          receipt: stored.receipt,
          ...(revocation ? { revocation: JSON.parse(revocation) as ConsentRevocationView } : {}),
        };
      },
    }),
    route({
      method: 'GET',
      path: '/api/v1/consent-requests/{requestId}/record.pdf',
      operationId: 'getConsentPdf',
      summary: 'The sealed PDF of the signed record (the same bytes every time)',
      tag: 'Consent',
      params: ConsentRequestPath,
      success: { status: 200, description: 'The sealed PDF.', contentType: 'application/pdf' },
      errors: ['NOT_FOUND'],
      handler: async ({ identity, params }) => {
        const { pdf } = await consents.pdf(identity, params.requestId);
        return { raw: Buffer.from(pdf, 'base64'), contentType: 'application/pdf' };
      },
    }),
    route({
      method: 'GET',
      path: '/api/v1/consent-requests/{requestId}/receipt',
      operationId: 'getConsentReceipt',
      summary:
        "The receipt: a compact JWS over the canonical record, verifiable with the relay's JWKS",
      tag: 'Consent',
      params: ConsentRequestPath,
      success: { status: 200, description: 'The compact JWS.', contentType: 'application/jose' },
      errors: ['NOT_FOUND'],
      handler: async ({ identity, params }) => {
        await requestOf(identity, params.requestId);
        const stored = await store.getConsentRecord(identity.tenantId, params.requestId);
        if (!stored) throw new RelayError('NOT_FOUND', 'This consent has not been signed.');
        return { raw: stored.receipt, contentType: 'application/jose' };
      },
    }),
    route({
      method: 'GET',
      path: '/api/v1/consent-requests/{requestId}/events',
      operationId: 'listConsentEvents',
      summary: 'The audit trail of a consent request: hash-chained events, oldest first',
      tag: 'Consent',
      params: ConsentRequestPath,
      query: PageQuery,
      success: { status: 200, description: 'A page of events.', schema: ApiConsentEventPage },
      errors: ['NOT_FOUND'],
      handler: async ({ identity, params, query }) => {
        await requestOf(identity, params.requestId);
        return pageInMemory(
          await store.listConsentEvents(identity.tenantId, params.requestId),
          query,
        );
      },
    }),
  ];
}
