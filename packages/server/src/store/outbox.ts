// What each committed change writes to the webhook outbox, in the transaction of the change:
// the payloads of webhook events (packages/shared/src/webhooks.ts), built the same way by every
// write path. Only tenants with webhook endpoints record events.
import { randomUUID } from 'node:crypto';
import type {
  ConsentRequestView,
  WebhookBreakGlassData,
  ConsentState,
  WebhookConsentData,
  WebhookEventType,
  WebhookMessageData,
  WebhookParticipantData,
} from '@carethread/shared';
import type { AppendRequest, AuditEventRecord, ParticipantRecord } from './types.js';

/** One row for `outbox_events`, ready to insert. */
export interface OutboxRow {
  tenant_id: string;
  event_id: string;
  type: WebhookEventType;
  occurred_at: string;
  data: string;
}

export function outboxRow(
  tenantId: string,
  type: WebhookEventType,
  at: string,
  data: WebhookMessageData | WebhookParticipantData | WebhookConsentData | WebhookBreakGlassData,
): OutboxRow {
  return {
    tenant_id: tenantId,
    event_id: randomUUID(),
    type,
    occurred_at: at,
    data: JSON.stringify(data),
  };
}

const WEBHOOK_TYPE = {
  message: 'message.created',
  edit: 'message.edited',
  delete: 'message.deleted',
} as const;

export function messageEvent(request: AppendRequest, seq: number): OutboxRow {
  const data: WebhookMessageData = {
    conversationId: request.conversationId,
    seq,
    messageId: request.clientId,
    sender: request.sender,
    // A deletion has no text to tell.
    ...(request.kind === 'delete' ? {} : { text: request.text }),
    ...(request.kind === 'message' ? {} : { targetSeq: request.targetSeq }),
    at: request.at,
  };
  return outboxRow(request.tenantId, WEBHOOK_TYPE[request.kind], request.at, data);
}

export function participantAddedEvent(participant: ParticipantRecord, at: string): OutboxRow {
  const { tenantId, conversationId, userId, role, displayName, relationship, title, readSeq } =
    participant;
  return outboxRow(tenantId, 'participant.added', at, {
    conversationId,
    userId,
    participant: { userId, role, displayName, relationship, title, readSeq },
  });
}

export function participantRemovedEvent(
  tenantId: string,
  conversationId: string,
  userId: string,
  at: string,
): OutboxRow {
  return outboxRow(tenantId, 'participant.removed', at, { conversationId, userId });
}

const CONSENT_EVENT: Record<ConsentState, WebhookEventType> = {
  requested: 'consent.requested',
  viewed: 'consent.viewed',
  signed: 'consent.signed',
  declined: 'consent.declined',
  revoked: 'consent.revoked',
  expired: 'consent.expired',
  cancelled: 'consent.cancelled',
};

export function consentEvent(tenantId: string, request: ConsentRequestView): OutboxRow {
  return outboxRow(tenantId, CONSENT_EVENT[request.state], request.updatedAt, {
    requestId: request.requestId,
    conversationId: request.conversationId,
    patientId: request.patientId,
    state: request.state,
    request,
  });
}

/** The host is told of every break-glass opening, with the audit entry that records it. */
export function breakGlassEvent(
  tenantId: string,
  entry: Omit<AuditEventRecord, 'seq' | 'prevHash' | 'hash'>,
): OutboxRow | undefined {
  const { reason, until } = entry.detail;
  if (entry.action !== 'breakglass.opened' || !entry.conversationId || typeof until !== 'string')
    return undefined;
  return outboxRow(tenantId, 'breakglass.opened', entry.at, {
    conversationId: entry.conversationId,
    userId: entry.actorId,
    ...(typeof reason === 'string' ? { reason } : {}),
    until,
  });
}
