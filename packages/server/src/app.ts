// Builds a relay (HTTP + Socket.IO + store) that tests create and close; main.ts adds listening,
// signals and the process around it.
import { EventEmitter } from 'node:events';
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import Fastify from 'fastify';
import type { HealthResponse } from '@carethread/shared';
import type { Logger } from 'pino';
import { devTenantConfig, loadDevSigningKey, type DevSigningKey } from './auth/dev-tenant.js';
import { createTokenVerifier } from './auth/tokens.js';
import { mountHostApi } from './api/host-api.js';
import { createApiKeyLookup, hashApiKey, loadOrCreateDevApiKey } from './api/keys.js';
import { fhirRoutes } from './api/fhir-routes.js';
import { hostApiRoutes } from './api/routes.js';
import { createWebhookDispatcher } from './webhooks/dispatcher.js';
import type { RelayConfig } from './config.js';
import type { TenantConfig } from './core/settings.js';
import { createLogger } from './logger.js';
import { generatedKeyFile, loadMasterKeys, type LoadedMasterKeys } from './master-keys.js';
import { createMetrics, registerWebhookBacklog, timedStore } from './transport/metrics.js';
import { createConsentPdfSealer } from './consent/pdf.js';
import { loadReceiptSigner } from './consent/receipts.js';
import { createConsentService } from './consent/requests.js';
import { createTemplateService } from './consent/templates.js';
import { createAccessLog } from './services/audit.js';
import { createFileService, ORPHAN_MIN_AGE_MS, type FileService } from './services/files.js';
import { createLocalFileStorage, type FileStorage } from './files/storage.js';
import { loadFileLinkKey } from './files/link-key.js';
import { mountFileRoutes } from './transport/files-http.js';
import { createChatService, type ChatService } from './services/chat.js';
import { PresenceTracker } from './services/presence.js';
import { createRevocationService } from './services/revocations.js';
import { createPostgresStore } from './store/postgres.js';
import { createThreadedSqliteStore } from './store/threaded.js';
import { watchWrites } from './store/write-health.js';
import { createClusterFanOut } from './transport/cluster.js';
import type { Store } from './store/types.js';
import {
  attachSocketTransport,
  type ConsentChange,
  type SocketTransport,
} from './transport/socket.js';

/** How long the host API remembers an Idempotency-Key and its answer. */
const IDEMPOTENCY_KEY_TTL_MS = 24 * 3_600_000;

export interface Relay {
  config: RelayConfig;
  tenants: readonly TenantConfig[];
  store: Store;
  chat: ChatService;
  files: FileService;
  io: SocketTransport['io'];
  logger: Logger;
  /**
   * Domain events for the host integration, emitted after each commit: `consent` with a
   * ConsentChange (requested, viewed, signed, declined, revoked, expired).
   */
  events: EventEmitter<{ consent: [ConsentChange] }>;
  /** The development tenant's signing key, when that tenant is on. */
  devKey: DevSigningKey | undefined;
  /** Starts listening; resolves with the bound port (useful with port 0). */
  listen(): Promise<number>;
  /** Refuses new work, finishes in-flight writes, disconnects clients and closes the store. */
  close(): Promise<void>;
}

export interface RelayOptions {
  logger?: Logger;
  /** Called when the relay can no longer work (its store stopped); main.ts exits so a supervisor restarts it. */
  onFatal?: (error: Error) => void;
  /** Use this store instead of the embedded SQLite one in the data folder. */
  store?: Store;
}

/** The configured file storage; a bucket is not contacted until the first use. */
async function createFileStorage(config: RelayConfig, logger: Logger): Promise<FileStorage> {
  const settings = config.fileStorage;
  if (settings.kind === 'local') return createLocalFileStorage(path.join(config.dataDir, 'files'));
  // The AWS SDK (a quarter of a second and about 25 MB once loaded) only where a bucket is used.
  const { createS3FileStorage } = await import('./files/s3-storage.js');
  const { kind: _kind, ...bucket } = settings;
  return createS3FileStorage({ ...bucket, logger });
}

export async function createRelay(config: RelayConfig, options: RelayOptions = {}): Promise<Relay> {
  const logger = options.logger ?? createLogger(config.logLevel);
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });

  const devKey = config.devTenant ? await loadDevSigningKey(config.dataDir) : undefined;
  const tenants: TenantConfig[] = [
    ...config.tenants,
    ...(devKey
      ? [
          devTenantConfig(
            devKey,
            config.devTenantLimits,
            hashApiKey(loadOrCreateDevApiKey(config.dataDir)),
            config.devTenantWebhooks,
            config.devTenantIdleTimeoutSeconds,
            config.devTenantFiles,
          ),
        ]
      : []),
  ];
  if (tenants.length === 0)
    throw new Error('No tenant is configured and the development tenant is off.');
  const issuers = new Set(tenants.map((t) => t.issuer));
  if (issuers.size !== tenants.length)
    throw new Error('Two tenants share an issuer; each tenant needs its own.');

  const outboxTenants = tenants.filter((t) => t.webhooks.length > 0).map((t) => t.id);
  const metrics = createMetrics();
  const sqliteFile = path.join(config.dataDir, 'carethread.sqlite');
  /** The database in the configuration, its data keys opened by the configured master keys. */
  async function openStore(): Promise<{ store: Store; masterKeys: LoadedMasterKeys | undefined }> {
    const masterKeys = loadMasterKeys(config);
    if (masterKeys.generated && (config.tenants.length > 0 || config.databaseUrl))
      // Production-like (real tenants or a shared database) on a key that lies beside the data.
      logger.warn(
        { keyFile: generatedKeyFile(config.dataDir) },
        'ENCRYPTION AT REST USES A GENERATED MASTER KEY IN THE DATA FOLDER: anyone with a copy of the data folder can read the data. Set CARETHREAD_MASTER_KEY or encryption.masterKeyFile from your secret store (docs/deployment.md).',
      );
    const store = config.databaseUrl
      ? await createPostgresStore({
          connectionString: config.databaseUrl,
          poolSize: config.postgres.poolSize,
          outboxTenants,
          masterKeys: masterKeys.keys,
          ...(config.postgres.schema ? { schema: config.postgres.schema } : {}),
        })
      : await createThreadedSqliteStore(
          {
            filename: sqliteFile,
            synchronous: config.sqlite.synchronous,
            outboxTenants,
            masterKeys: masterKeys.keys,
          },
          {
            onFailure: (error) => {
              // Writes now fail with UNAVAILABLE (clients keep their outbox) and /readyz turns 503.
              logger.fatal({ err: error }, 'the store stopped; the relay cannot store messages');
              options.onFatal?.(error);
            },
          },
        );
    return { store, masterKeys };
  }
  const { store: untimedStore, masterKeys } = options.store
    ? { store: options.store, masterKeys: undefined }
    : await openStore();
  logger.info(
    {
      store: options.store ? 'given' : config.databaseUrl ? 'postgres' : 'sqlite',
      masterKeys: masterKeys && {
        current: masterKeys.keys[0].id,
        others: masterKeys.keys.slice(1).map((k) => k.id),
        source: masterKeys.source,
      },
    },
    'store ready',
  );
  const embedded = !options.store && !config.databaseUrl;
  const writeHealth = watchWrites(timedStore(untimedStore, metrics), {
    logger,
    disk: embedded
      ? `the disk holding ${sqliteFile}`
      : config.databaseUrl && !options.store
        ? 'the disk of the PostgreSQL server (SQLSTATE 53100 disk_full)'
        : 'the disk under the store',
    ...(embedded ? { folder: config.dataDir } : {}),
    ...(embedded && config.sqlite.diskReserveBytes > 0
      ? { reserve: { file: `${sqliteFile}.reserve`, bytes: config.sqlite.diskReserveBytes } }
      : {}),
    onChange: (full) => {
      metrics.storeDiskFull.set(full ? 1 : 0);
    },
  });
  const store = writeHealth.store;
  registerWebhookBacklog(metrics, store, tenants);
  const presence = new PresenceTracker();
  const accessLog = createAccessLog({
    store,
    batch: config.writeBatch,
    onError: (error) => {
      logger.error({ err: error }, 'an access could not be written to the audit trail');
    },
  });
  const limits = new Map(tenants.map((t) => [t.id, t.limits]));
  const chat = createChatService({
    store,
    accessLog,
    presence,
    writeBatch: config.writeBatch,
    limitsOf: (tenantId) => {
      const tenantLimits = limits.get(tenantId);
      if (!tenantLimits) throw new Error(`Unknown tenant ${tenantId}`);
      return tenantLimits;
    },
  });

  const receipts = await loadReceiptSigner(config.dataDir);
  const consents = createConsentService({
    store,
    chat,
    receipts,
    pdfs: createConsentPdfSealer(config.dataDir, config.pdfSeal),
  });
  const events = new EventEmitter<{ consent: [ConsentChange] }>();

  let shuttingDown = false;
  // Behind a proxy (trustProxy), request.protocol and request.ip come from X-Forwarded-*: the URLs
  // the host API and FHIR build say https when TLS ends at the proxy.
  const http = Fastify({ logger: false, bodyLimit: 1024 * 1024, trustProxy: config.trustProxy });
  http.get('/healthz', (): HealthResponse => ({ status: 'ok' }));
  // Prometheus scrapes this; it holds counts and latencies, never people or text. Keep it on the
  // internal network (docs: deployment).
  http.get('/metrics', async (_request, reply) =>
    reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );
  // The relay's receipt-signing public key: anyone can verify a consent receipt offline with it.
  http.get('/.well-known/jwks.json', () => receipts.jwks);
  http.get('/readyz', async (_request, reply) => {
    const unready = (status: HealthResponse['status']) => reply.code(503).send({ status });
    if (shuttingDown) return unready('shutting-down');
    // Answers a ping but cannot store a message: not a node to send people to.
    if (writeHealth.full) return unready('store-full');
    try {
      await store.ping();
      return { status: 'ready' } satisfies HealthResponse;
    } catch {
      return unready('store-unavailable');
    }
  });

  const storage = await createFileStorage(config, logger);
  const fileLimits = new Map(tenants.map((t) => [t.id, t.files]));
  const files = createFileService({
    store,
    storage,
    chat,
    accessLog,
    filesOf: (tenantId) => {
      const limitsOfTenant = fileLimits.get(tenantId);
      if (!limitsOfTenant) throw new Error(`Unknown tenant ${tenantId}`);
      return limitsOfTenant;
    },
    linkKey: loadFileLinkKey(config.dataDir),
    linkTtlSeconds: config.fileUrlTtlSeconds,
  });
  // What uploads cut off by a crash left behind: partial writes, then objects no complete file
  // stands for (older than an hour: another node may be writing the newer ones). A storage that
  // cannot be reached now is not a reason to stop the relay: uploads answer UNAVAILABLE meanwhile.
  async function sweepFileStorage(): Promise<void> {
    try {
      const partial = await storage.sweepPartial(ORPHAN_MIN_AGE_MS);
      const orphans = await files.sweepOrphans(ORPHAN_MIN_AGE_MS);
      if (partial + orphans > 0)
        logger.info({ partial, orphans }, 'removed what interrupted uploads left in file storage');
    } catch (error) {
      if (!shuttingDown)
        logger.warn({ err: error }, 'sweeping file storage failed; retrying at the next start');
    }
  }
  void sweepFileStorage();

  const templates = createTemplateService({ store });
  const revocations = createRevocationService({ store, tenants });
  const cluster = config.redisUrl
    ? createClusterFanOut(config.redisUrl, config.redis, logger, metrics)
    : undefined;
  const verifier = createTokenVerifier(tenants, {
    isRevoked: (tenantId, tokenId) => revocations.isRevoked(tenantId, tokenId),
  });
  const fileRoutes = mountFileRoutes({
    http,
    files,
    verifier,
    logger,
    tenants,
    isShuttingDown: () => shuttingDown,
  });
  const transport = attachSocketTransport({
    ...(cluster ? { adapter: cluster.adapter } : {}),
    httpServer: http.server,
    config,
    tenants,
    verifier,
    chat,
    templates,
    consents,
    onConsentChange: (change) => {
      events.emit('consent', change);
    },
    presence,
    accessLog,
    revocations,
    logger,
    metrics,
    isShuttingDown: () => shuttingDown,
  });
  const webhooks = createWebhookDispatcher({
    store,
    tenants,
    delivery: config.webhookDelivery,
    logger,
  });
  webhooks.start();

  mountHostApi({
    http,
    routes: [
      ...hostApiRoutes({
        store,
        tenants,
        webhooks,
        chat,
        files,
        consents,
        templates,
        revocations,
        transport,
      }),
      ...fhirRoutes({ store, chat, consents }),
    ],
    store,
    authenticate: createApiKeyLookup(tenants),
    logger,
    metrics,
    accessLog,
    isShuttingDown: () => shuttingDown,
  });
  await http.ready();

  // Consents that reach their expiry become `expired` (the access check already stops at the
  // expiry time; this records it and tells the followers and the host).
  async function sweepExpiredConsents(): Promise<void> {
    try {
      for (const { tenantId, request } of await consents.expireDue())
        transport.announceConsent(tenantId, request);
    } catch (error) {
      logger.warn({ err: error }, 'consent expiry sweep failed; retrying at the next one');
    }
  }
  const sweep = setInterval(() => void sweepExpiredConsents(), config.consentSweepMs);
  sweep.unref();
  void sweepExpiredConsents();

  // Idempotency keys answer retries for a day (as long as a host's retry queue may hold a write).
  const forgetOldKeys = setInterval(() => {
    store
      .expireIdempotencyKeys(new Date(Date.now() - IDEMPOTENCY_KEY_TTL_MS).toISOString())
      .catch((error: unknown) => {
        logger.warn({ err: error }, 'forgetting old idempotency keys failed; retrying later');
      });
  }, 3_600_000);
  forgetOldKeys.unref();
  // Revoked token ids are kept until their token would be refused anyway (see revocations.ts).
  const forgetRevocations = setInterval(() => {
    store.expireRevokedTokens(new Date().toISOString()).catch((error: unknown) => {
      logger.warn({ err: error }, 'forgetting expired revocations failed; retrying later');
    });
  }, 3_600_000);
  forgetRevocations.unref();

  return {
    config,
    tenants,
    store,
    chat,
    files,
    io: transport.io,
    logger,
    events,
    devKey,
    async listen() {
      await http.listen({ port: config.port, host: config.host });
      const { port } = http.server.address() as AddressInfo;
      logger.info({ port, tenants: tenants.map((t) => t.id) }, 'CareThread relay listening');
      return port;
    },
    async close() {
      if (shuttingDown) return;
      shuttingDown = true;
      clearInterval(sweep);
      clearInterval(forgetOldKeys);
      clearInterval(forgetRevocations);
      await chat.drain();
      files.close();
      await accessLog.drain();
      // Acks of the last batch are sent from promise continuations; let them all run first.
      await new Promise((resolve) => setImmediate(resolve));
      // An upload still arriving would hold the shutdown for as long as its link is slow (closing
      // Socket.IO closes the HTTP server, which waits for every request).
      fileRoutes.abortTransfers();
      await transport.close();
      await cluster?.close();
      await http.close();
      await webhooks.stop();
      storage.close();
      writeHealth.close();
      await store.close();
      logger.info('CareThread relay stopped');
    },
  };
}
