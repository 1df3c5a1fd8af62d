// The webhooks part of the Store contract, with its records: outbox events, each endpoint's
// cursor, lease and failures, and dead letters. Its SQL: sql/webhooks.ts.
import type { WebhookEventType } from '@carethread/shared';

/** A committed webhook event, in its tenant's order. */
export interface OutboxEvent {
  seq: number;
  id: string;
  tenantId: string;
  type: WebhookEventType;
  time: string;
  /** The full payload (with message text); endpoints on notification-only payloads get less. */
  data: Record<string, unknown>;
}

export interface WebhookCursor {
  lastSeq: number;
  attempts: number;
  nextAttemptAt: string | null;
  firstFailedAt: string | null;
}

export interface DeadLetter {
  endpointId: string;
  event: OutboxEvent;
  attempts: number;
  lastError: string;
  deadAt: string;
  redeliveredAt: string | null;
}

export interface WebhookStore {
  /** How many of a tenant's webhook events come after `afterSeq` (an endpoint's backlog). */
  countOutboxEventsAfter(tenantId: string, afterSeq: number): Promise<number>;
  /** A tenant's webhook events after `afterSeq`, in commit order. */
  outboxEventsAfter(tenantId: string, afterSeq: number, limit: number): Promise<OutboxEvent[]>;
  /**
   * An endpoint's place in its tenant's events. A new endpoint starts after the newest event, so
   * adding one does not replay history.
   */
  webhookCursor(tenantId: string, endpointId: string): Promise<WebhookCursor>;
  /**
   * Takes or renews the lease on delivering an endpoint's events for `holder` (a relay node),
   * until `until`; true when `holder` has it, false while another node's lease runs. The
   * endpoint's cursor must exist (`webhookCursor` creates it).
   */
  leaseWebhookEndpoint(
    tenantId: string,
    endpointId: string,
    holder: string,
    now: string,
    until: string,
  ): Promise<boolean>;
  /** Gives the lease up (at shutdown), so another node takes over at once. */
  releaseWebhookLease(tenantId: string, endpointId: string, holder: string): Promise<void>;
  /** Moves an endpoint past `seq` (delivered or not subscribed) and clears its retry state. */
  advanceWebhookCursor(tenantId: string, endpointId: string, seq: number): Promise<void>;
  /** Records a failed attempt at the endpoint's next event. */
  recordWebhookFailure(
    tenantId: string,
    endpointId: string,
    failure: { attempts: number; nextAttemptAt: string; firstFailedAt: string; error: string },
  ): Promise<void>;
  /** Gives up on `event` for the endpoint: a dead letter, and the cursor moves past it, at once. */
  deadLetterWebhook(
    tenantId: string,
    endpointId: string,
    event: OutboxEvent,
    attempts: number,
    error: string,
    at: string,
  ): Promise<void>;
  /** A tenant's dead letters, oldest first, after the given (endpoint, seq) position. */
  listDeadLetters(
    tenantId: string,
    after: { endpointId: string; seq: number } | undefined,
    limit: number,
  ): Promise<DeadLetter[]>;
  getDeadLetter(
    tenantId: string,
    endpointId: string,
    eventId: string,
  ): Promise<DeadLetter | undefined>;
  markDeadLetterRedelivered(
    tenantId: string,
    endpointId: string,
    eventSeq: number,
    at: string,
  ): Promise<void>;
}
