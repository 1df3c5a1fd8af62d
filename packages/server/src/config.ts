// Relay configuration: parsed once at boot from an optional JSON file (CARETHREAD_CONFIG) and the
// environment, validated by zod. A bad field stops the process with a message naming it. What
// the services are given per tenant is defined below them, in core/settings.ts.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import {
  IdleTimeoutSeconds,
  TenantConfig,
  TenantFiles,
  TenantLimits,
  WebhookDelivery,
  WebhookEndpoint,
} from './core/settings.js';

/**
 * Where file contents are kept (ADR 17): `<dataDir>/files` (every node must share that folder), or
 * an S3-compatible bucket. The bucket only ever holds sealed bytes (ADR 16).
 */
export const FileStorageConfig = z.discriminatedUnion(
  'kind',
  [
    z.object({ kind: z.literal('local') }),
    z
      .object({
        kind: z.literal('s3'),
        bucket: z
          .string({ error: 'give the bucket (CARETHREAD_S3_BUCKET)' })
          .regex(
            /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
            'must be a bucket name: 3 to 63 lowercase letters, digits, dots and dashes',
          ),
        /** Any name the server accepts for an S3-compatible one (MinIO: `us-east-1`). */
        region: z
          .string({ error: 'give the region (CARETHREAD_S3_REGION or AWS_REGION)' })
          .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be a region name such as "eu-west-1"'),
        /** Another S3-compatible server than AWS (MinIO, Ceph, …). */
        endpoint: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
        forcePathStyle: z.boolean().default(false),
        /** Keys start with it, so the bucket may hold other things: `carethread/`. */
        prefix: z
          .string()
          .regex(
            /^([A-Za-z0-9._-]+\/)*([A-Za-z0-9._-]+\/?)?$/,
            'must be folder names such as "carethread/" (letters, digits, ".", "_", "-")',
          )
          .transform((prefix) => (prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`))
          .default(''),
        /** Prefer the standard AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or an IAM role). */
        accessKeyId: z.string().min(1).optional(),
        secretAccessKey: z.string().min(1).optional(),
      })
      .refine((s3) => (s3.accessKeyId === undefined) === (s3.secretAccessKey === undefined), {
        message:
          'give both accessKeyId and secretAccessKey, or neither (the standard AWS credentials then apply)',
        path: ['accessKeyId'],
      }),
  ],
  { error: 'kind must be "local" or "s3" (CARETHREAD_FILE_STORAGE)' },
);
export type FileStorageConfig = z.infer<typeof FileStorageConfig>;

export const RelayConfig = z.object({
  port: z.coerce.number().int().min(0).max(65535).default(8080),
  host: z.string().default('0.0.0.0'),
  dataDir: z.string().default('./data'),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Enables the development tenant (own ES256 key in the data folder, localhost origins only). */
  devTenant: z.boolean().default(false),
  /** Webhook endpoints of the development tenant (the example EHR back end uses one). */
  devTenantWebhooks: z.array(WebhookEndpoint).default([]),
  /** Limits of the development tenant (defaults as for any tenant). */
  devTenantLimits: TenantLimits.default(TenantLimits.parse({})),
  /** What the development tenant accepts as files (as `files` for any tenant). */
  devTenantFiles: TenantFiles.default(TenantFiles.parse({})),
  fileStorage: FileStorageConfig.default({ kind: 'local' }),
  /** How long a signed download link of a file stays valid, in seconds. */
  fileUrlTtlSeconds: z.number().int().min(5).max(3600).default(300),
  /** The development tenant's idle timeout (as `idleTimeoutSeconds` for any tenant). */
  devTenantIdleTimeoutSeconds: IdleTimeoutSeconds,
  tenants: z.array(TenantConfig).default([]),
  /** Trust X-Forwarded-For for the client address (only behind your own proxy). */
  trustProxy: z.boolean().default(false),
  limits: z
    .object({
      /** Largest Socket.IO packet accepted; a bigger one closes the connection. */
      maxPacketBytes: z
        .number()
        .int()
        .min(1024)
        .max(1024 * 1024)
        .default(64 * 1024),
      /**
       * New connections accepted from one address per minute (refused with RATE_LIMITED); past
       * twice this, attempts are refused before the WebSocket handshake with a bare HTTP 400.
       */
      connectionsPerMinutePerAddress: z.number().int().positive().default(120),
      /**
       * Packets of any kind one connection may send per second (sustained, burst 4x). A
       * connection refused at ten times this within a second is disconnected.
       */
      packetsPerSecond: z.number().positive().default(50),
      /**
       * Bytes the relay may hold queued for one connection that does not read what it is sent
       * (engine.io's write buffer plus the WebSocket's unsent bytes). Past it the connection is
       * cut, and the client catches up by `sync` when it reconnects.
       */
      maxQueuedBytesPerSocket: z
        .number()
        .int()
        .min(64 * 1024)
        .default(4 * 1024 * 1024),
    })
    .default({
      maxPacketBytes: 64 * 1024,
      connectionsPerMinutePerAddress: 120,
      packetsPerSecond: 50,
      maxQueuedBytesPerSocket: 4 * 1024 * 1024,
    }),
  /** Messages are written in batches: one transaction (one fsync) per batch. */
  writeBatch: z
    .object({
      /** How long a message may wait for others to share its commit. */
      lingerMs: z.number().min(0).max(50).default(2),
      maxSize: z.number().int().min(1).max(5000).default(500),
    })
    .default({ lingerMs: 2, maxSize: 500 }),
  sqlite: z
    .object({
      synchronous: z.enum(['full', 'normal']).default('full'),
      /**
       * Bytes kept in `carethread.sqlite.reserve` beside the database. When the disk fills, the
       * relay deletes it so reads (each recorded in the audit trail) go on while sends are
       * refused, and makes it again once space is back. 0: no reserve (reads stop on a full disk).
       */
      diskReserveBytes: z
        .number()
        .int()
        .min(0)
        .default(16 * 1024 * 1024),
    })
    .default({ synchronous: 'full', diskReserveBytes: 16 * 1024 * 1024 }),
  /**
   * PostgreSQL instead of the embedded SQLite (DATABASE_URL): what several relay nodes share.
   * `postgres://user:password@host:5432/database`.
   */
  databaseUrl: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// connection string')
    .optional(),
  postgres: z
    .object({
      /** Connections each relay node keeps; nodes x poolSize must stay under max_connections. */
      poolSize: z.number().int().min(1).max(200).default(10),
      /** A schema of its own (created if missing) when the database is shared with other apps. */
      schema: z
        .string()
        .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lowercase SQL identifier')
        .optional(),
    })
    .default({ poolSize: 10 }),
  /**
   * Redis (REDIS_URL), shared by several relay nodes so that what one node sends reaches
   * sockets on the others: `redis://host:6379` or `rediss://` for TLS. Access is still decided
   * from the store on every node; Redis only carries deliveries (ADR 13).
   */
  redisUrl: z
    .string()
    .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')
    .optional(),
  redis: z
    .object({
      /** The stream the nodes share; deployments sharing one Redis each need their own. */
      streamName: z
        .string()
        .regex(/^[A-Za-z0-9:_-]{1,100}$/)
        .default('carethread'),
      /**
       * Deliveries kept in the stream for nodes that lost Redis for a while to catch up on;
       * beyond it, their clients fill the gap from the store at the next message.
       */
      maxLen: z.number().int().min(100).max(10_000_000).default(10_000),
    })
    .default({ streamName: 'carethread', maxLen: 10_000 }),
  /**
   * The certificate that seals consent PDFs: a PKCS#12 file and its passphrase. Without it the
   * relay makes a self-signed one in the data folder.
   */
  pdfSeal: z.optional(z.object({ p12File: z.string().min(1), passphrase: z.string() })),
  /** How webhooks are delivered; the defaults suit production. */
  webhookDelivery: WebhookDelivery,
  /**
   * Encryption at rest (ADR 14). The master keys wrap each tenant's data keys; every node needs
   * the same ones. Give `masterKeyFile` (one base64 key per line, the current one first) or, from
   * the environment, CARETHREAD_MASTER_KEY (base64 keys, comma-separated, current first). With
   * neither, the relay keeps a generated key in `<dataDir>/relay/master-key`.
   */
  encryption: z
    .object({
      /** Base64 keys of 32 bytes, comma-separated, the current one first (CARETHREAD_MASTER_KEY). */
      masterKey: z.string().min(1).optional(),
      masterKeyFile: z.string().min(1).optional(),
    })
    .refine((e) => e.masterKey === undefined || e.masterKeyFile === undefined, {
      message: 'give one of masterKey (CARETHREAD_MASTER_KEY) or masterKeyFile, not both',
      path: ['masterKeyFile'],
    })
    .default({}),
  /**
   * How often each node asks the store whether a token its sockets carry was revoked (by a host
   * API call another node answered); the node that answers the call ends its sockets at once.
   */
  revocationCheckMs: z.number().int().min(100).max(60_000).default(2_000),
  /** How often signed and pending consents past their expiry are marked expired. */
  consentSweepMs: z.number().int().min(100).max(3_600_000).default(30_000),
  /** How long shutdown waits for in-flight writes before giving up. */
  shutdownTimeoutMs: z.number().int().positive().default(10_000),
});
export type RelayConfig = z.infer<typeof RelayConfig>;
export type RelayConfigInput = z.input<typeof RelayConfig>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function formatIssues(error: z.ZodError, source: string): string {
  const lines = error.issues.map((issue) => {
    const field = issue.path.length > 0 ? issue.path.join('.') : '(root)';
    return `  - ${field}: ${issue.message}`;
  });
  return `Invalid CareThread configuration (${source}):\n${lines.join('\n')}`;
}

/** Validates a configuration object; throws ConfigError naming every bad field. */
export function parseConfig(input: unknown, source = 'configuration'): RelayConfig {
  const result = RelayConfig.safeParse(input);
  if (!result.success) throw new ConfigError(formatIssues(result.error, source));
  return result.data;
}

const nonEmpty = (value: string | undefined) => (value === '' ? undefined : value);

/**
 * The file storage the environment asks for, over the file's: CARETHREAD_FILE_STORAGE (`local` or
 * `s3`; any CARETHREAD_S3_* means `s3`), CARETHREAD_S3_BUCKET, CARETHREAD_S3_REGION (else
 * AWS_REGION), CARETHREAD_S3_ENDPOINT, CARETHREAD_S3_FORCE_PATH_STYLE and CARETHREAD_S3_PREFIX.
 * Credentials stay with the SDK's own AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.
 */
function fileStorageFromEnv(
  env: NodeJS.ProcessEnv,
  fromFile: unknown,
): Record<string, unknown> | undefined {
  const base = (typeof fromFile === 'object' && fromFile !== null ? fromFile : {}) as Record<
    string,
    unknown
  >;
  const fields: Record<string, unknown> = {};
  const bucket = nonEmpty(env.CARETHREAD_S3_BUCKET);
  const region = nonEmpty(env.CARETHREAD_S3_REGION);
  const endpoint = nonEmpty(env.CARETHREAD_S3_ENDPOINT);
  const pathStyle = nonEmpty(env.CARETHREAD_S3_FORCE_PATH_STYLE);
  const prefix = env.CARETHREAD_S3_PREFIX;
  if (bucket !== undefined) fields.bucket = bucket;
  if (region !== undefined) fields.region = region;
  if (endpoint !== undefined) fields.endpoint = endpoint;
  if (pathStyle !== undefined) fields.forcePathStyle = pathStyle === '1' || pathStyle === 'true';
  if (prefix !== undefined) fields.prefix = prefix;
  // Any S3 setting asks for S3, so that one without the others is named, not ignored.
  const kind =
    nonEmpty(env.CARETHREAD_FILE_STORAGE) ?? (Object.keys(fields).length > 0 ? 's3' : base.kind);
  if (kind === undefined) return undefined;
  if (kind !== 's3') return { ...base, kind };
  const s3: Record<string, unknown> = { ...base, ...fields, kind };
  const awsRegion = nonEmpty(env.AWS_REGION);
  if (s3.region === undefined && awsRegion !== undefined) s3.region = awsRegion;
  return s3;
}

/**
 * Reads CARETHREAD_CONFIG (a JSON file) if set, then applies PORT, HOST, CARETHREAD_DATA_DIR,
 * LOG_LEVEL, CARETHREAD_MASTER_KEY, CARETHREAD_FILE_STORAGE and CARETHREAD_S3_*, CARETHREAD_TENANTS
 * (a JSON array, for containers) and CARETHREAD_DEV_TENANT from the environment. Without any tenant configured the development tenant is switched on, so
 * `pnpm relay` works with zero configuration.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): RelayConfig {
  let fromFile: Record<string, unknown> = {};
  const file = env.CARETHREAD_CONFIG;
  if (file) {
    try {
      fromFile = JSON.parse(readFileSync(path.resolve(file), 'utf8')) as Record<string, unknown>;
    } catch (error) {
      throw new ConfigError(
        `Cannot read CARETHREAD_CONFIG file ${file}: ${(error as Error).message}`,
      );
    }
  }
  const merged: Record<string, unknown> = { ...fromFile };
  if (env.PORT !== undefined) merged.port = env.PORT;
  if (env.HOST !== undefined) merged.host = env.HOST;
  if (env.CARETHREAD_DATA_DIR !== undefined) merged.dataDir = env.CARETHREAD_DATA_DIR;
  if (env.DATABASE_URL !== undefined && env.DATABASE_URL !== '')
    merged.databaseUrl = env.DATABASE_URL;
  if (env.REDIS_URL !== undefined && env.REDIS_URL !== '') merged.redisUrl = env.REDIS_URL;
  if (env.LOG_LEVEL !== undefined) merged.logLevel = env.LOG_LEVEL;
  if (env.CARETHREAD_MASTER_KEY !== undefined && env.CARETHREAD_MASTER_KEY !== '')
    merged.encryption = {
      ...(merged.encryption as Record<string, unknown> | undefined),
      masterKey: env.CARETHREAD_MASTER_KEY,
    };
  if (env.CARETHREAD_PDF_P12 !== undefined)
    merged.pdfSeal = {
      p12File: env.CARETHREAD_PDF_P12,
      passphrase: env.CARETHREAD_PDF_P12_PASSPHRASE ?? '',
    };
  const storage = fileStorageFromEnv(env, merged.fileStorage);
  if (storage) merged.fileStorage = storage;
  if (env.CARETHREAD_TENANTS !== undefined) {
    try {
      merged.tenants = JSON.parse(env.CARETHREAD_TENANTS) as unknown;
    } catch (error) {
      throw new ConfigError(
        `CARETHREAD_TENANTS must be a JSON array of tenants: ${(error as Error).message}`,
      );
    }
  }
  if (env.CARETHREAD_DEV_TENANT !== undefined)
    merged.devTenant = env.CARETHREAD_DEV_TENANT === '1' || env.CARETHREAD_DEV_TENANT === 'true';
  const hasTenants = Array.isArray(merged.tenants) && merged.tenants.length > 0;
  if (merged.devTenant === undefined && !hasTenants) merged.devTenant = true;
  return parseConfig(merged, file ? `${file} and environment` : 'environment');
}
