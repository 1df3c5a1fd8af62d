// What the services are given per tenant (limits, files, webhooks, sign-in rules) and how webhooks
// are delivered: zod schemas with their types, below every layer that reads them. config.ts
// composes them into the relay's configuration, parsed once at boot.
import { z } from 'zod';
import { Role, WEBHOOK_EVENT_TYPES } from '@carethread/shared';
import { WEBHOOK_SECRET_MIN_LENGTH } from './webhook-secret.js';

const WebhookEventType = z.enum(WEBHOOK_EVENT_TYPES);

const Origin = z
  .string()
  .regex(
    /^https?:\/\/[^/\s*]+(:\*)?$/,
    'must be an origin such as "https://portal.example.org" or "http://localhost:*"',
  );

/** A JSON Web Key as published in a JWKS; jose checks the key material itself. */
const Jwk = z.looseObject({
  kty: z.string(),
  kid: z.string().optional(),
  alg: z.string().optional(),
});

export const AsymmetricAlgorithm = z.enum([
  'ES256',
  'ES384',
  'ES512',
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'EdDSA',
]);

export const TenantLimits = z.object({
  /** Longest message text accepted, in characters (UTF-16 code units). */
  maxMessageLength: z.number().int().min(1).max(16_000).default(4_000),
  /** Messages and corrections one user may send per second, sustained... */
  sendPerSecond: z.number().positive().default(5),
  /** ...and in a burst. */
  sendBurst: z.number().int().positive().default(20),
});
export type TenantLimits = z.infer<typeof TenantLimits>;

/** File types the relay can recognise from a file's first bytes (src/files/sniff.ts). */
export const FILE_TYPES = [
  'application/pdf',
  'image/png',
  'image/jpeg',
  'image/heic',
  'text/plain',
] as const;

/**
 * What may be shared in a tenant's conversations (issue 8): decided from content, never names.
 * The upload limits are per person and per relay node, like the socket's send limit; a refused
 * upload answers RATE_LIMITED (HTTP 429) with Retry-After, before any of its body is read.
 */
export const TenantFiles = z
  .object({
    allowedTypes: z.array(z.enum(FILE_TYPES)).default([...FILE_TYPES]),
    /** Largest file accepted, in bytes (20 MB by default). */
    maxBytes: z
      .number()
      .int()
      .min(1)
      .max(1024 * 1024 * 1024)
      .default(20 * 1024 * 1024),
    /**
     * Uploads one person may start per minute, sustained: 30, a photo every two seconds, more
     * than anyone sharing documents by hand needs, while a script looping on PUT is held off...
     */
    uploadsPerMinute: z.number().positive().max(6_000).default(30),
    /** ...and in a burst: 10, a handful of photos picked at once. */
    uploadBurst: z.number().int().min(1).max(1_000).default(10),
    /**
     * Uploads of one person in progress at once: 4. A browser opens six connections to a host
     * and the chat's socket holds one; each upload in progress holds a file's worth of pipeline.
     */
    concurrentUploads: z.number().int().min(1).max(100).default(4),
    /**
     * Bytes one person may upload per hour, refilled steadily: 500 MiB, 25 files of the default
     * largest size. An upload reserves its declared length (or `maxBytes` when it declares none)
     * when it starts and is charged what it sent, so no upload is cut off half-way by this limit.
     */
    uploadBytesPerHour: z
      .number()
      .int()
      .min(1)
      .max(1024 * 1024 * 1024 * 1024)
      .default(500 * 1024 * 1024),
  })
  .refine((files) => files.uploadBytesPerHour >= files.maxBytes, {
    message: 'must be at least maxBytes, or a file of the largest size could never be uploaded',
    path: ['uploadBytesPerHour'],
  });
export type TenantFiles = z.infer<typeof TenantFiles>;

/** A receiver of webhook events at the host. */
export const WebhookEndpoint = z.object({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be lowercase letters, digits and dashes'),
  url: z.url({ protocol: /^https?$/ }),
  /** The HMAC-SHA256 key; share it with the receiver only. */
  secret: z
    .string()
    .min(
      WEBHOOK_SECRET_MIN_LENGTH,
      `must be at least ${String(WEBHOOK_SECRET_MIN_LENGTH)} characters`,
    ),
  /** Event types to send; all when omitted. */
  events: z.array(WebhookEventType).min(1).optional(),
  /** `ids`: notification-only payloads, with ids and no message text or form answers. */
  payload: z.enum(['full', 'ids']).default('full'),
});
export type WebhookEndpoint = z.infer<typeof WebhookEndpoint>;

/**
 * How long a connection may go without a request of the person's own (sending, typing, opening,
 * paging back) before the relay ends it with SESSION_IDLE: 30 minutes by default, 0 turns it off.
 * Pings, deliveries and what the client does by itself (token refresh, catch-up, read receipts)
 * do not count.
 */
export const IdleTimeoutSeconds = z
  .number()
  .int()
  .min(0)
  .max(7 * 86_400)
  .default(30 * 60);

/**
 * Roles that must prove a multi-factor sign-in: the token's `acr` is one of `acr`, or its `amr`
 * (RFC 8176 method names) holds one of `amr`. Checked at connect and at every token refresh.
 */
export const MfaRequirement = z
  .object({
    roles: z.array(Role).min(1).default(['provider']),
    amr: z.array(z.string().min(1).max(64)).default(['mfa', 'otp', 'hwk']),
    acr: z.array(z.string().min(1).max(255)).default([]),
  })
  .refine((m) => m.amr.length + m.acr.length > 0, {
    message: 'name at least one accepted amr or acr value',
    path: ['amr'],
  });
export type MfaRequirement = z.infer<typeof MfaRequirement>;

export const TenantConfig = z
  .object({
    /** Short id used in the store and in logs, e.g. "st-marys". */
    id: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be lowercase letters, digits and dashes'),
    /** The `iss` the host EHR puts in its tokens; tokens are routed to a tenant by it. */
    issuer: z.string().min(1),
    /** The `aud` the host EHR puts in tokens meant for this relay. */
    audience: z.string().min(1),
    algorithms: z.array(AsymmetricAlgorithm).min(1).default(['ES256']),
    /** Where the host publishes its public keys... */
    jwksUrl: z.url().optional(),
    /** How long a JWKS fetch may take before the connection is refused as UNAVAILABLE. */
    jwksTimeoutMs: z.number().int().min(100).max(30_000).default(5_000),
    /** ...or the keys themselves. */
    jwks: z.object({ keys: z.array(Jwk).min(1) }).optional(),
    /** Browser origins allowed to connect; `:*` accepts any port. */
    allowedOrigins: z.array(Origin).default([]),
    /** Oldest `iat` accepted, in seconds. */
    maxTokenAgeSeconds: z
      .number()
      .int()
      .positive()
      .default(24 * 3600),
    clockToleranceSeconds: z.number().int().min(0).max(300).default(30),
    /** Refuse tokens without a `jti`, so that every session can be signed out (host API). */
    requireJti: z.boolean().default(false),
    requireMfa: MfaRequirement.optional(),
    limits: TenantLimits.default(TenantLimits.parse({})),
    files: TenantFiles.default(TenantFiles.parse({})),
    /** A session with no request of the person's own for this long is ended (0: never). */
    idleTimeoutSeconds: IdleTimeoutSeconds,
    /**
     * Keys the host's back end calls the host API with, by the hex SHA-256 of each key
     * (`carethread api-key` makes one). The id is recorded as the actor of what the host does.
     */
    apiKeys: z
      .array(
        z.object({
          id: z
            .string()
            .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be lowercase letters, digits and dashes'),
          sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be the hex SHA-256 of the key'),
        }),
      )
      .default([]),
    /** Where the relay tells the host's back end what happened (signed, at-least-once, in order). */
    webhooks: z.array(WebhookEndpoint).default([]),
    /**
     * Break-glass: a provider token with a `break_glass` claim (the reason) may read a
     * conversation the provider is not a member of, for `minutes` after the token was issued.
     * Every read is flagged in the audit trail and the host is told (webhook breakglass.opened).
     */
    breakGlass: z
      .object({
        enabled: z.boolean().default(false),
        minutes: z
          .number()
          .int()
          .min(1)
          .max(24 * 60)
          .default(60),
      })
      .default({ enabled: false, minutes: 60 }),
  })
  .refine((t) => (t.jwksUrl === undefined) !== (t.jwks === undefined), {
    message: 'give exactly one of jwksUrl or jwks',
    path: ['jwksUrl'],
  });
export type TenantConfig = z.infer<typeof TenantConfig>;

/** How webhooks are delivered; the defaults suit production. */
export const WebhookDelivery = z
  .object({
    /** How long a receiver may take to answer one delivery. */
    timeoutMs: z.number().int().min(100).max(60_000).default(10_000),
    /** First retry delay; each retry doubles it, with full jitter, up to `retryMaxMs`. */
    retryBaseMs: z.number().int().min(10).default(1_000),
    retryMaxMs: z.number().int().min(10).default(3_600_000),
    /** After this long failing, an event becomes a dead letter and the endpoint moves on. */
    giveUpAfterMs: z.number().int().min(100).default(86_400_000),
    /** How often an idle endpoint looks for new events (a commit also wakes it). */
    pollMs: z.number().int().min(10).max(60_000).default(1_000),
    /**
     * With several nodes, one delivers each endpoint under a lease it renews; when that node
     * dies, another takes over once this much time has passed without a renewal.
     */
    leaseMs: z.number().int().min(300).max(600_000).default(15_000),
  })
  .default({
    timeoutMs: 10_000,
    retryBaseMs: 1_000,
    retryMaxMs: 3_600_000,
    giveUpAfterMs: 86_400_000,
    pollMs: 1_000,
    leaseMs: 15_000,
  });
export type WebhookDelivery = z.infer<typeof WebhookDelivery>;
