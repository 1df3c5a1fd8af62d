// The relay's Prometheus metrics (prom-client), served at GET /metrics: connections, requests and
// their latency, errors by stable code, store latency by method, and the webhook backlog. Labels
// are event names, codes, methods and ids of tenants and endpoints: never people or text.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { TenantConfig } from '../core/settings.js';
import type { Store } from '../store/types.js';

export type RelayMetrics = ReturnType<typeof createMetrics>;

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'carethread_process_' });
  return {
    registry,
    connections: new Gauge({
      name: 'carethread_connections',
      help: 'Open Socket.IO connections on this node.',
      registers: [registry],
    }),
    requests: new Histogram({
      name: 'carethread_request_seconds',
      help: 'Time from receiving a client request to its ack (for message.send: after the commit).',
      labelNames: ['event'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    messages: new Counter({
      name: 'carethread_messages_total',
      help: 'Messages, corrections and deletions stored, by kind (repeats of an id not counted).',
      labelNames: ['kind'],
      registers: [registry],
    }),
    errors: new Counter({
      name: 'carethread_errors_total',
      help: 'Requests answered with an error, by stable code and surface (socket or api).',
      labelNames: ['code', 'surface'],
      registers: [registry],
    }),
    redisConnected: new Gauge({
      name: 'carethread_redis_connected',
      help: '1 while this node is connected to Redis for fan-out between nodes (0 without REDIS_URL).',
      registers: [registry],
    }),
    slowConsumerDrops: new Counter({
      name: 'carethread_slow_consumer_drops_total',
      help: 'Connections cut because what was queued for them passed limits.maxQueuedBytesPerSocket.',
      registers: [registry],
    }),
    storeDiskFull: new Gauge({
      name: 'carethread_store_disk_full',
      help: '1 while the disk under the store is full: sends are refused and /readyz answers 503.',
      registers: [registry],
    }),
    store: new Histogram({
      name: 'carethread_store_seconds',
      help: 'Store calls by method (appendEntries is one batch).',
      labelNames: ['method'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    }),
  };
}

/** The store with every call timed into `carethread_store_seconds`. */
export function timedStore(store: Store, metrics: RelayMetrics): Store {
  return new Proxy(store, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function' || typeof property !== 'string') return value;
      const method = value as (...args: unknown[]) => unknown;
      return (...args: unknown[]) => {
        const end = metrics.store.startTimer({ method: property });
        const result = method.apply(target, args);
        if (result instanceof Promise) return result.finally(end);
        end();
        return result;
      };
    },
  });
}

/** `carethread_webhook_backlog`: events each endpoint has yet to take, counted at scrape time. */
export function registerWebhookBacklog(
  metrics: RelayMetrics,
  store: Store,
  tenants: readonly TenantConfig[],
): void {
  new Gauge({
    name: 'carethread_webhook_backlog',
    help: 'Webhook events an endpoint has not taken yet (waiting or being retried).',
    labelNames: ['tenant', 'endpoint'],
    registers: [metrics.registry],
    async collect() {
      for (const tenant of tenants)
        for (const endpoint of tenant.webhooks) {
          const cursor = await store.webhookCursor(tenant.id, endpoint.id);
          const waiting = await store.countOutboxEventsAfter(tenant.id, cursor.lastSeq);
          this.set({ tenant: tenant.id, endpoint: endpoint.id }, waiting);
        }
    },
  });
}
