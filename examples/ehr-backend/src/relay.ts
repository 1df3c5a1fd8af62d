// Running the relay for this EHR: the tenant's configuration (written from what the EHR owns: its
// URL, its JWKS, the hash of its API key, its webhook endpoint and secret) and the relay process.
// In production the relay is its own service and this file is its deployment's config.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateApiKey, hashApiKey, type RelayConfigInput } from '@carethread/server';
import { writeFileAtomic } from './chart.js';

export const TENANT_ID = 'riverside';
export const AUDIENCE = 'carethread';

const RELAY_BIN = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../packages/server/bin/carethread-relay.js',
);

/** What the EHR keeps secret: the API key it calls the relay with, the webhook HMAC key. */
export interface EhrSecrets {
  apiKey: string;
  webhookSecret: string;
}

/** Loads the EHR's secrets, making them on first start (readable by this user only). */
export function loadOrCreateSecrets(file: string): EhrSecrets {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as EhrSecrets;
  } catch {
    const secrets: EhrSecrets = {
      apiKey: generateApiKey(),
      webhookSecret: randomBytes(32).toString('base64url'),
    };
    writeFileAtomic(file, JSON.stringify(secrets, null, 2));
    return secrets;
  }
}

/**
 * The relay's configuration for this EHR's tenant. The relay keeps only the SHA-256 of the API
 * key; the webhook secret is shared by both sides, so this file is private too.
 */
export function tenantConfig(ehrUrl: string, secrets: EhrSecrets): RelayConfigInput {
  const { port } = new URL(ehrUrl);
  return {
    devTenant: false,
    tenants: [
      {
        id: TENANT_ID,
        issuer: ehrUrl,
        audience: AUDIENCE,
        algorithms: ['ES256'],
        jwksUrl: `${ehrUrl}/.well-known/jwks.json`,
        // The pages that embed the elements are this EHR's own.
        allowedOrigins: [`http://127.0.0.1:${port}`, `http://localhost:${port}`],
        maxTokenAgeSeconds: 3600,
        apiKeys: [{ id: 'riverside-ehr', sha256: hashApiKey(secrets.apiKey) }],
        webhooks: [
          {
            id: 'riverside-ehr',
            url: `${ehrUrl}/carethread/webhooks`,
            secret: secrets.webhookSecret,
            events: ['message.created', 'consent.signed', 'consent.revoked', 'consent.expired'],
            // Ids and states only: the EHR reads content through the API when it files it, so
            // no message text travels in (or is logged from) a webhook.
            payload: 'ids',
          },
        ],
      },
    ],
  };
}

/** A port nobody listens on right now, for RELAY_PORT=0. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port'));
      });
    });
  });
}

export interface RelayProcess {
  child: ChildProcess;
  url: string;
}

/** Writes the configuration and starts the relay on `port`; resolves once it is ready. */
export async function startRelay(options: {
  configFile: string;
  config: RelayConfigInput;
  dataDir: string;
  port: number;
}): Promise<RelayProcess> {
  writeFileAtomic(options.configFile, JSON.stringify(options.config, null, 2));
  const url = `http://127.0.0.1:${options.port}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CARETHREAD_CONFIG: options.configFile,
    CARETHREAD_DATA_DIR: options.dataDir,
    PORT: String(options.port),
    HOST: '127.0.0.1',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
  };
  delete env.CARETHREAD_TENANTS; // would replace the tenant written above
  const child = spawn(process.execPath, [RELAY_BIN], {
    env,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`The relay exited during start (code ${String(child.exitCode)}).`);
    try {
      if ((await fetch(`${url}/readyz`)).ok) return { child, url };
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill('SIGTERM');
  throw new Error(
    `The relay did not become ready on ${url}. Is port ${String(options.port)} taken?`,
  );
}
