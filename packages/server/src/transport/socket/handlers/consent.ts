// Consent over the socket: requesting, viewing, signing, declining and revoking a request, its
// sealed PDF, and the templates; each a thin adapter onto the consent services.
import { errorBody, type ClientEventName, type ConsentRequestView } from '@carethread/shared';
import type { Handlers, RelaySocket, TransportContext } from '../context.js';
import { clientAddress } from '../handshake.js';
import type { Rooms } from '../rooms.js';
import type { SigningContext } from '../../../consent/requests.js';

type ConsentEvent = Extract<ClientEventName, `consent.${string}`>;

export function consentHandlers(
  { consents, templates, accessLog, config }: TransportContext,
  rooms: Rooms,
): Handlers<ConsentEvent> {
  /** A consent step, recorded before its answer leaves. */
  const auditConsent = (
    socket: RelaySocket,
    action: 'consent.viewed' | 'consent.signed' | 'consent.revoked',
    request: ConsentRequestView,
  ) =>
    accessLog.record(socket.data.identity.tenantId, {
      actorId: socket.data.identity.userId,
      action,
      conversationId: request.conversationId,
      subjectId: request.patientId,
      detail: { requestId: request.requestId },
    });

  /** Where a signature comes from: the forwarded address behind a trusted proxy, the browser. */
  const signingContext = (socket: RelaySocket): SigningContext => ({
    ip: clientAddress(socket.request, config.trustProxy),
    userAgent: socket.handshake.headers['user-agent'] ?? '',
  });

  return {
    'consent.request': async (socket, payload) => {
      const request = await consents.request(socket.data.identity, payload);
      rooms.announceConsent(socket.data.identity.tenantId, request);
      return request;
    },

    'consent.view': async (socket, { requestId, language }) => {
      const { view, viewedNow } = await consents.view(socket.data.identity, requestId, language);
      await auditConsent(socket, 'consent.viewed', view.request);
      if (viewedNow) rooms.announceConsent(socket.data.identity.tenantId, view.request);
      return view;
    },

    'consent.sign': async (socket, payload) => {
      const { request, result } = await consents.sign(
        socket.data.identity,
        payload,
        signingContext(socket),
      );
      await auditConsent(socket, 'consent.signed', request);
      rooms.announceConsent(socket.data.identity.tenantId, request);
      return result;
    },

    'consent.decline': async (socket, { requestId, reason }) => {
      const request = await consents.decline(socket.data.identity, requestId, reason);
      rooms.announceConsent(socket.data.identity.tenantId, request);
      return request;
    },

    'consent.revoke': async (socket, { requestId, signature }) => {
      const { tenantId } = socket.data.identity;
      const request = await consents.revoke(
        socket.data.identity,
        requestId,
        signature.name,
        signingContext(socket),
      );
      const reason = errorBody(
        'CONSENT_REQUIRED',
        'The patient withdrew their consent to share this conversation with you.',
      );
      rooms.accessNarrowed(
        tenantId,
        request.conversationId,
        request.recipients.map((r) => r.userId),
        reason,
      );
      await auditConsent(socket, 'consent.revoked', request);
      rooms.announceConsent(tenantId, request);
      return request;
    },

    'consent.pdf': async (socket, { requestId }) => {
      const pdf = await consents.pdf(socket.data.identity, requestId);
      await accessLog.record(socket.data.identity.tenantId, {
        actorId: socket.data.identity.userId,
        action: 'consent.viewed',
        detail: { requestId, via: 'pdf' },
      });
      return pdf;
    },

    'consent.list': async (socket, { conversationId }) => ({
      requests: await consents.list(socket.data.identity, conversationId),
    }),

    'consent.template.publish': (socket, payload) =>
      templates.publish(socket.data.identity, payload),

    'consent.template.versions': async (socket, { templateId }) => ({
      versions: await templates.versions(socket.data.identity, templateId),
    }),
  };
}
