// The development tenant: an ES256 key pair created in the data folder on first use, so that
// `pnpm relay` and `pnpm carethread token` work with zero configuration. Never for production.
import path from 'node:path';
import type { TenantConfig, TenantFiles, TenantLimits, WebhookEndpoint } from '../core/settings.js';
import { loadOrCreateSigningKey, type SigningKey } from '../core/signing-key.js';

export const DEV_TENANT_ID = 'dev';
export const DEV_ISSUER = 'carethread-dev';
export const DEV_AUDIENCE = 'carethread';

export type DevSigningKey = SigningKey;

/** Loads the development tenant's signing key, creating it on first use. */
export function loadDevSigningKey(dataDir: string): Promise<DevSigningKey> {
  return loadOrCreateSigningKey(path.join(dataDir, 'dev-tenant', 'signing-key.json'), 'dev');
}

/**
 * The development tenant's configuration: its own public key, localhost origins only, and the API
 * key kept in the data folder (`carethread api-key --tenant dev` prints it).
 */
export function devTenantConfig(
  key: DevSigningKey,
  limits: TenantLimits,
  apiKeySha256: string,
  webhooks: WebhookEndpoint[],
  idleTimeoutSeconds: number,
  files: TenantFiles,
): TenantConfig {
  return {
    id: DEV_TENANT_ID,
    issuer: DEV_ISSUER,
    audience: DEV_AUDIENCE,
    algorithms: ['ES256'],
    jwks: { keys: [{ ...key.publicJwk, kty: key.publicJwk.kty ?? 'EC' }] },
    allowedOrigins: ['http://localhost:*', 'http://127.0.0.1:*'],
    maxTokenAgeSeconds: 24 * 3600,
    jwksTimeoutMs: 5_000,
    clockToleranceSeconds: 30,
    requireJti: false,
    limits,
    files,
    idleTimeoutSeconds,
    apiKeys: [{ id: 'dev', sha256: apiKeySha256 }],
    webhooks,
    // On in development so the flow can be tried; a production tenant turns it on explicitly.
    breakGlass: { enabled: true, minutes: 60 },
  };
}
