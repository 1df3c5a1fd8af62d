// The development tenant: an ES256 key pair created in the data folder on first use, so that
// `pnpm relay` and `pnpm carethread token` work with zero configuration. Never for production.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import type { TenantConfig, TenantLimits } from '../config.js';

export const DEV_TENANT_ID = 'dev';
export const DEV_ISSUER = 'carethread-dev';
export const DEV_AUDIENCE = 'carethread';

interface StoredKey {
  kid: string;
  privateJwk: JWK;
  publicJwk: JWK;
}

export interface DevSigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

function keyFile(dataDir: string): string {
  return path.join(dataDir, 'dev-tenant', 'signing-key.json');
}

async function createKeyFile(file: string): Promise<void> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const kid = `dev-${new Date().toISOString().slice(0, 10)}-${Math.random().toString(36).slice(2, 8)}`;
  const stored: StoredKey = {
    kid,
    privateJwk: { ...(await exportJWK(privateKey)), kid, alg: 'ES256', use: 'sig' },
    publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' },
  };
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  try {
    // 'wx' fails if another process created the key first; then we use theirs.
    writeFileSync(file, JSON.stringify(stored, null, 2), { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
}

/** Loads the development tenant's signing key, creating it on first use. */
export async function loadDevSigningKey(dataDir: string): Promise<DevSigningKey> {
  const file = keyFile(dataDir);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    await createKeyFile(file);
    text = readFileSync(file, 'utf8');
  }
  const stored = JSON.parse(text) as StoredKey;
  const privateKey = (await importJWK(stored.privateJwk, 'ES256')) as CryptoKey;
  return { kid: stored.kid, privateKey, publicJwk: stored.publicJwk };
}

/** The development tenant's configuration: its own public key, localhost origins only. */
export function devTenantConfig(key: DevSigningKey, limits: TenantLimits): TenantConfig {
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
    limits,
  };
}
