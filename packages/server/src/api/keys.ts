// API keys of the host API. A key is a random secret shown once; the relay keeps only its
// SHA-256 (in the tenant's configuration), so a leaked configuration file or backup holds no key.
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { TenantConfig } from '../core/settings.js';
import { createFileOnce } from '../core/data-files.js';

/** Keys start with this, so secret scanners and people can tell what one is. */
export const API_KEY_PREFIX = 'ctk_';

/** A new key: the prefix and 32 random bytes, base64url. */
export function generateApiKey(): string {
  return `${API_KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
}

/** The hex SHA-256 that a tenant's configuration lists for a key. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

export interface ApiPrincipal {
  tenantId: string;
  /** The configured id of the key, recorded as the actor of what the host does. */
  keyId: string;
}

/**
 * Finds whose key an `Authorization: Bearer <key>` header carries. Keys have 256 bits of
 * entropy, so looking the hash up in a map leaks nothing a timing attack could use.
 */
export function createApiKeyLookup(tenants: readonly TenantConfig[]) {
  const byHash = new Map<string, ApiPrincipal>();
  for (const tenant of tenants) {
    for (const key of tenant.apiKeys) {
      if (byHash.has(key.sha256))
        throw new Error(`API key "${key.id}" of tenant ${tenant.id} is configured twice.`);
      byHash.set(key.sha256, { tenantId: tenant.id, keyId: key.id });
    }
  }
  return (authorization: string | undefined): ApiPrincipal | undefined => {
    const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
    if (!match?.[1]?.startsWith(API_KEY_PREFIX)) return undefined;
    return byHash.get(hashApiKey(match[1]));
  };
}

/** The development tenant's API key, kept in the data folder and created on first use. */
export function loadOrCreateDevApiKey(dataDir: string): string {
  const file = path.join(dataDir, 'dev-tenant', 'api-key');
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    createFileOnce(file, `${generateApiKey()}\n`);
    return readFileSync(file, 'utf8').trim();
  }
}
