// Delivers the webhook outbox: one loop per endpoint walks its tenant's events in commit order,
// posts each (signed) and moves its cursor only after a 2xx, so a relay restart or a receiver
// outage loses nothing (at least once; receivers deduplicate by event id). A failing event is
// retried with exponential backoff and jitter, and after `giveUpAfterMs` becomes a dead letter so
// the endpoint can move on. With several relay nodes on one database, the node holding an
// endpoint's lease delivers it and the others stand by, so the order holds across the cluster.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { WebhookEvent } from '@carethread/shared';
import type { TenantConfig, WebhookDelivery, WebhookEndpoint } from '../core/settings.js';
import type { OutboxEvent, Store } from '../store/types.js';
import { signWebhook } from './signature.js';

export interface WebhookDispatcherDeps {
  store: Store;
  tenants: readonly TenantConfig[];
  delivery: WebhookDelivery;
  logger: Logger;
  now?: () => Date;
  random?: () => number;
}

export type DeliveryResult = { ok: true; status: number } | { ok: false; error: string };

/** The event as an endpoint receives it: notification-only endpoints get ids, no content. */
export function webhookBody(event: OutboxEvent, payload: WebhookEndpoint['payload']): WebhookEvent {
  const data = { ...event.data };
  if (payload === 'ids') {
    delete data.text;
    delete data.participant;
    delete data.request;
    delete data.reason;
  }
  return {
    id: event.id,
    type: event.type,
    tenantId: event.tenantId,
    time: event.time,
    version: 1,
    data,
  } as WebhookEvent;
}

const subscribed = (endpoint: WebhookEndpoint, event: OutboxEvent) =>
  endpoint.events === undefined || endpoint.events.includes(event.type);

export function createWebhookDispatcher(deps: WebhookDispatcherDeps) {
  const { store, delivery, logger } = deps;
  const now = deps.now ?? (() => new Date());
  const random = deps.random ?? Math.random;
  /** This node, as a lease holder; a restarted node is a new holder. */
  const holder = randomUUID();
  const stopping = new AbortController();
  const stopped = () => stopping.signal.aborted;
  const sleepers = new Set<() => void>();
  const loops: Promise<void>[] = [];

  /** Waits `ms`, or less when stopping. */
  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      sleepers.add(wake);
    });
  }

  async function deliver(
    tenantId: string,
    endpoint: WebhookEndpoint,
    event: OutboxEvent,
  ): Promise<DeliveryResult> {
    const body = JSON.stringify(webhookBody(event, endpoint.payload));
    try {
      const response = await fetch(endpoint.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'CareThread-Webhooks/1',
          'carethread-event-id': event.id,
          'carethread-event-type': event.type,
          'carethread-signature': signWebhook(
            endpoint.secret,
            body,
            Math.floor(now().getTime() / 1000),
          ),
        },
        body,
        redirect: 'manual',
        signal: AbortSignal.any([stopping.signal, AbortSignal.timeout(delivery.timeoutMs)]),
      });
      await response.body?.cancel();
      if (response.status >= 200 && response.status < 300)
        return { ok: true, status: response.status };
      return { ok: false, error: `HTTP ${String(response.status)}` };
    } catch (error) {
      const reason =
        error instanceof Error && error.name === 'TimeoutError'
          ? `no answer within ${String(delivery.timeoutMs)} ms`
          : error instanceof Error
            ? error.cause instanceof Error
              ? error.cause.message
              : error.message
            : String(error);
      logger.debug(
        { tenant: tenantId, endpoint: endpoint.id, event: event.id, reason },
        'webhook delivery failed',
      );
      return { ok: false, error: reason };
    }
  }

  /** Exponential backoff with equal jitter: half the delay fixed, half random. */
  function retryDelay(attempts: number): number {
    const delay = Math.min(delivery.retryMaxMs, delivery.retryBaseMs * 2 ** (attempts - 1));
    return delay / 2 + random() * (delay / 2);
  }

  async function step(tenantId: string, endpoint: WebhookEndpoint): Promise<number> {
    const cursor = await store.webhookCursor(tenantId, endpoint.id);
    const waitFor = cursor.nextAttemptAt ? Date.parse(cursor.nextAttemptAt) - now().getTime() : 0;
    if (waitFor > 0) return Math.min(waitFor, delivery.pollMs);
    const events = await store.outboxEventsAfter(tenantId, cursor.lastSeq, 100);
    const headIndex = events.findIndex((event) => subscribed(endpoint, event));
    const head = events[headIndex];
    if (!head) {
      const last = events.at(-1);
      if (last) await store.advanceWebhookCursor(tenantId, endpoint.id, last.seq);
      return last ? 0 : delivery.pollMs;
    }
    const skipped = events[headIndex - 1];
    if (skipped) await store.advanceWebhookCursor(tenantId, endpoint.id, skipped.seq);

    const result = await deliver(tenantId, endpoint, head);
    if (stopped()) return 0; // the event stays at the head for the next start
    if (result.ok) {
      await store.advanceWebhookCursor(tenantId, endpoint.id, head.seq);
      return 0;
    }
    const attempts = cursor.attempts + 1;
    const at = now();
    const firstFailedAt = cursor.firstFailedAt ?? at.toISOString();
    if (at.getTime() - Date.parse(firstFailedAt) >= delivery.giveUpAfterMs) {
      await store.deadLetterWebhook(
        tenantId,
        endpoint.id,
        head,
        attempts,
        result.error,
        at.toISOString(),
      );
      logger.warn(
        {
          tenant: tenantId,
          endpoint: endpoint.id,
          event: head.id,
          type: head.type,
          attempts,
          reason: result.error,
        },
        'webhook event dead-lettered after its retry window; redeliver it through the host API',
      );
      return 0;
    }
    await store.recordWebhookFailure(tenantId, endpoint.id, {
      attempts,
      nextAttemptAt: new Date(at.getTime() + retryDelay(attempts)).toISOString(),
      firstFailedAt,
      error: result.error,
    });
    return 0;
  }

  /** Takes or renews this node's lease on the endpoint; false while another node holds it. */
  async function lease(tenantId: string, endpointId: string): Promise<boolean> {
    await store.webhookCursor(tenantId, endpointId);
    const at = now();
    return store.leaseWebhookEndpoint(
      tenantId,
      endpointId,
      holder,
      at.toISOString(),
      new Date(at.getTime() + delivery.leaseMs).toISOString(),
    );
  }

  async function run(tenantId: string, endpoint: WebhookEndpoint): Promise<void> {
    let held = false;
    // Renewed a third of the way into the lease, also while a slow delivery is in flight. If a
    // renewal is missed long enough for another node to take over, both may post one event: at
    // least once, as always, and receivers deduplicate by id.
    const renewer = setInterval(() => {
      if (!held) return;
      lease(tenantId, endpoint.id).then(
        (stillHeld) => {
          held = stillHeld;
        },
        () => undefined, // the loop's next lease call reports a store that is down
      );
    }, delivery.leaseMs / 3);
    try {
      while (!stopped()) {
        let pause: number;
        try {
          if (!held) {
            held = await lease(tenantId, endpoint.id);
            if (held)
              logger.info(
                { tenant: tenantId, endpoint: endpoint.id },
                'this node now delivers the endpoint’s webhooks',
              );
          }
          pause = held ? await step(tenantId, endpoint) : delivery.pollMs;
        } catch (error) {
          if (stopped()) break;
          logger.warn(
            { err: error, tenant: tenantId, endpoint: endpoint.id },
            'webhook delivery loop failed; retrying',
          );
          pause = delivery.pollMs;
        }
        if (pause > 0 && !stopped()) await sleep(pause);
      }
    } finally {
      clearInterval(renewer);
    }
    // Hand over at once rather than at expiry; a store already closed just lets it expire.
    if (held) await store.releaseWebhookLease(tenantId, endpoint.id, holder).catch(() => undefined);
  }

  function endpointOf(tenantId: string, endpointId: string): WebhookEndpoint | undefined {
    return deps.tenants.find((t) => t.id === tenantId)?.webhooks.find((e) => e.id === endpointId);
  }

  return {
    start(): void {
      for (const tenant of deps.tenants)
        for (const endpoint of tenant.webhooks) loops.push(run(tenant.id, endpoint));
    },
    /** One immediate delivery of `event` to an endpoint, outside its queue (redelivery). */
    async deliverNow(
      tenantId: string,
      endpointId: string,
      event: OutboxEvent,
    ): Promise<DeliveryResult> {
      const endpoint = endpointOf(tenantId, endpointId);
      if (!endpoint) return { ok: false, error: 'This endpoint is no longer configured.' };
      return deliver(tenantId, endpoint, event);
    },
    /** Stops the loops; an in-flight delivery is abandoned and its event delivered after restart. */
    async stop(): Promise<void> {
      stopping.abort();
      for (const wake of [...sleepers]) wake();
      await Promise.all(loops);
    },
  };
}

export type WebhookDispatcher = ReturnType<typeof createWebhookDispatcher>;
