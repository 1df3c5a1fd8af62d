// Test helpers: a real relay on port 0 with a fresh data folder, tokens for its tenants, and raw
// Socket.IO clients for poking at the protocol below the headless client.
import Sqlite from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import { pino } from 'pino';
import { io as ioClient, type Socket } from 'socket.io-client';
import {
  PROTOCOL_VERSION,
  type Ack,
  type ConsentScope,
  type ClientEventName,
  type ClientToServerEvents,
  type Entry,
  type RequestOf,
  type ResponseOf,
  type Role,
  type ServerToClientEvents,
} from '@carethread/shared';
import { createClient, type CareThreadClient } from '@carethread/widget/client';
import { createRelay, type Relay, type RelayOptions } from '../src/app.js';
import { generateApiKey, hashApiKey, loadOrCreateDevApiKey } from '../src/api/keys.js';
import { DEV_AUDIENCE, DEV_ISSUER } from '../src/auth/dev-tenant.js';
import { mintToken } from '../src/auth/tokens.js';
import { REDACTED_PATHS } from '../src/logger.js';
import { parseConfig, type RelayConfigInput } from '../src/config.js';
import { TenantFiles, type TenantConfig } from '../src/core/settings.js';
import { loadMasterKeys } from '../src/master-keys.js';
import { createKeyring, masterKey, rowAad, type MasterKeys } from '../src/store/keyring.js';
import type { Database } from '../src/store/schema.js';

/** A fixed master key for stores that tests open on their own (never used by a relay). */
export const TEST_MASTER_KEYS: MasterKeys = [masterKey(Buffer.alloc(32, 7))];

/** The master key a relay on `dataDir` without configured keys generated: to open its store directly. */
export const dataFolderKeys = (dataDir: string): MasterKeys =>
  loadMasterKeys(parseConfig({ dataDir })).keys;

/**
 * The rows of a conversation's entries as the relay on `dataDir` stored them, read from its SQLite
 * file behind its back and opened with its master key (the text is sealed at rest).
 */
export async function rawEntries(
  dataDir: string,
  conversationId: string,
  tenantId = 'dev',
): Promise<{ kind: string; text: string }[]> {
  const database = new Sqlite(path.join(dataDir, 'carethread.sqlite'), { readonly: true });
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database }) });
  try {
    const keyring = createKeyring(db, dataFolderKeys(dataDir));
    await keyring.load();
    const rows = await db
      .selectFrom('entries')
      .select(['kind', 'seq', 'text'])
      .where('tenant_id', '=', tenantId)
      .where('conversation_id', '=', conversationId)
      .orderBy('seq')
      .execute();
    return rows.map((row) => ({
      kind: row.kind,
      text: keyring.open(
        tenantId,
        rowAad('entries.text', tenantId, conversationId, row.seq),
        row.text,
      ),
    }));
  } finally {
    await db.destroy();
  }
}
import { familyDisclosureTemplate } from './consent/fixtures.js';

export type RawSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

export interface TestTenant {
  config: TenantConfig;
  key: CryptoKey;
  kid: string;
  /** A host API key of this tenant (its hash is in `config.apiKeys`). */
  apiKey: string;
}

/** A second tenant with its own ES256 key, for cross-tenant tests. */
export async function makeTenant(
  id: string,
  overrides: Partial<TenantConfig> = {},
): Promise<TestTenant> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const kid = `${id}-key`;
  const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: 'ES256' };
  const apiKey = generateApiKey();
  const config: TenantConfig = {
    id,
    issuer: `https://${id}.ehr.example`,
    audience: 'carethread',
    algorithms: ['ES256'],
    jwks: { keys: [{ ...publicJwk, kty: 'EC' }] },
    allowedOrigins: [`https://${id}.portal.example`],
    maxTokenAgeSeconds: 3600,
    jwksTimeoutMs: 5000,
    clockToleranceSeconds: 5,
    requireJti: false,
    limits: { maxMessageLength: 4000, sendPerSecond: 1000, sendBurst: 1000 },
    files: TenantFiles.parse({}),
    idleTimeoutSeconds: 1800,
    apiKeys: [{ id: `${id}-ehr`, sha256: hashApiKey(apiKey) }],
    webhooks: [],
    breakGlass: { enabled: false, minutes: 60 },
    ...overrides,
  };
  return { config, key: privateKey, kid, apiKey };
}

export interface TestRelay {
  relay: Relay;
  url: string;
  port: number;
  dataDir: string;
  /** The development tenant's host API key. */
  apiKey: string;
  /** Everything the relay logged, as one string, for checks on what logs may contain. */
  logs: () => string;
  token(
    sub: string,
    role: Role,
    options?: {
      name?: string;
      ttlSeconds?: number;
      tenant?: TestTenant;
      relationship?: string;
      jti?: string;
      amr?: string[];
      acr?: string;
    },
  ): Promise<string>;
  close(): Promise<void>;
}

export async function startRelay(
  overrides: Partial<RelayConfigInput> = {},
  dataDir?: string,
  options: Omit<RelayOptions, 'logger'> = {},
): Promise<TestRelay> {
  const dir = dataDir ?? mkdtempSync(path.join(tmpdir(), 'carethread-test-'));
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const logger = pino(
    { level: 'debug', redact: { paths: REDACTED_PATHS, censor: '[redacted]' } },
    sink,
  );
  const config = parseConfig({
    port: 0,
    host: '127.0.0.1',
    dataDir: dir,
    devTenant: true,
    logLevel: 'debug',
    // No disk reserve: a test relay need not write 16 MB (test/faults/full-disk.test.ts sets one).
    sqlite: { synchronous: 'normal', diskReserveBytes: 0 },
    devTenantLimits: { maxMessageLength: 4000, sendPerSecond: 1000, sendBurst: 1000 },
    ...overrides,
  });
  const relay = await createRelay(config, { ...options, logger });
  const port = await relay.listen();
  const devKey = relay.devKey;
  return {
    relay,
    url: `http://127.0.0.1:${port}`,
    port,
    dataDir: dir,
    apiKey: loadOrCreateDevApiKey(dir),
    logs: () => chunks.join(''),
    async token(sub, role, options = {}) {
      const tenant = options.tenant;
      if (!tenant && !devKey) throw new Error('dev tenant is off');
      return mintToken({
        issuer: tenant ? tenant.config.issuer : DEV_ISSUER,
        audience: tenant ? tenant.config.audience : DEV_AUDIENCE,
        key: tenant ? tenant.key : devKey!.privateKey,
        kid: tenant ? tenant.kid : devKey!.kid,
        sub,
        name: options.name ?? sub,
        role,
        ...(options.relationship ? { relationship: options.relationship } : {}),
        ...(options.jti ? { jti: options.jti } : {}),
        ...(options.amr ? { amr: options.amr } : {}),
        ...(options.acr ? { acr: options.acr } : {}),
        ttlSeconds: options.ttlSeconds ?? 600,
      });
    },
    async close() {
      await relay.close();
      if (!dataDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A raw Socket.IO client that connects with the given auth; resolves once connected. */
export function rawConnect(
  url: string,
  auth: Record<string, unknown>,
  options: {
    transports?: ('websocket' | 'polling')[];
    extraHeaders?: Record<string, string>;
    query?: Record<string, string>;
  } = {},
): Promise<RawSocket> {
  const socket: RawSocket = ioClient(url, {
    auth,
    transports: options.transports ?? ['websocket'],
    reconnection: false,
    forceNew: true,
    ...(options.extraHeaders ? { extraHeaders: options.extraHeaders } : {}),
    ...(options.query ? { query: options.query } : {}),
  });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => {
      resolve(socket);
    });
    socket.once('connect_error', (error) => {
      socket.close();
      reject(error);
    });
  });
}

/**
 * Connects with raw auth and closes again: the refusal's code, `transport:…` when the engine
 * refused before Socket.IO ran (a foreign origin), or 'connected'.
 */
export async function connectOutcome(
  url: string,
  auth: Record<string, unknown>,
  options: Parameters<typeof rawConnect>[2] = {},
): Promise<string> {
  try {
    (await rawConnect(url, auth, options)).close();
    return 'connected';
  } catch (error) {
    const data = (error as { data?: { code: string } }).data;
    return data?.code ?? `transport:${(error as Error).message}`;
  }
}

export function connectAs(
  relay: TestRelay,
  token: string,
  options: Parameters<typeof rawConnect>[2] = {},
): Promise<RawSocket> {
  return rawConnect(relay.url, { token, protocol: PROTOCOL_VERSION }, options);
}

/** Emits one request and resolves with the raw ack. */
export function call<E extends ClientEventName>(
  socket: RawSocket,
  event: E,
  payload: RequestOf<E>,
): Promise<Ack<ResponseOf<E>>> {
  const untyped = socket as unknown as Socket;
  return untyped.timeout(5000).emitWithAck(event, payload) as Promise<Ack<ResponseOf<E>>>;
}

/** Like call, but fails the test unless the ack is ok. */
export async function ok<E extends ClientEventName>(
  socket: RawSocket,
  event: E,
  payload: RequestOf<E>,
): Promise<ResponseOf<E>> {
  const ack = await call(socket, event, payload);
  if (!ack.ok) throw new Error(`${event} failed: ${ack.error.code} ${ack.error.message}`);
  return ack.data;
}

/** What the relay answered `event`: 'ok', or the error code. */
export async function codeOf(
  socket: RawSocket,
  event: ClientEventName,
  payload: object,
): Promise<string> {
  const ack = await call(socket, event, payload as never);
  return ack.ok ? 'ok' : ack.error.code;
}

/** A headless client for a user of the test relay. */
export function clientFor(relay: TestRelay, sub: string, role: Role, name = sub): CareThreadClient {
  return createClient({
    url: relay.url,
    transports: ['websocket'],
    reconnectDelayMs: { min: 50, max: 200 },
    tokenProvider: () => relay.token(sub, role, { name }),
  });
}

/** Creates conversation `conversationId` as provider `dr` with the given others. */
export async function seedConversation(
  relay: TestRelay,
  conversationId: string,
  others: { userId: string; role: Role; displayName?: string; relationship?: string }[],
  provider = 'dr-rivera',
  options: { consent?: boolean } = {},
): Promise<void> {
  const socket = await connectAs(
    relay,
    await relay.token(provider, 'provider', { name: 'Dr. Rivera' }),
  );
  try {
    await ok(socket, 'conversation.create', {
      conversationId,
      title: `Care team ${conversationId}`,
      participants: others.map((o) => ({ ...o, displayName: o.displayName ?? o.userId })),
    });
  } finally {
    socket.close();
  }
  // Family members take part only under the patient's consent: sign one unless told not to.
  const patient = others.find((o) => o.role === 'patient');
  const family = others.filter((o) => o.role === 'family').map((o) => o.userId);
  if (options.consent !== false && patient && family.length > 0) {
    await grantConsent(relay, conversationId, patient.userId, family, { provider });
  }
}

/**
 * The patient consents, through the protocol like a person would: staff publish the family
 * disclosure form, the provider asks, the patient views and signs. Resolves with the request id.
 */
export async function grantConsent(
  relay: TestRelay,
  conversationId: string,
  patientId: string,
  recipients: string[],
  options: { provider?: string; expiresAt?: string; scopes?: ConsentScope[] } = {},
): Promise<string> {
  const staff = await connectAs(relay, await relay.token('consent-admin', 'staff'));
  const provider = await connectAs(
    relay,
    await relay.token(options.provider ?? 'dr-rivera', 'provider', { name: 'Dr. Rivera' }),
  );
  const patient = await connectAs(relay, await relay.token(patientId, 'patient'));
  try {
    await ok(staff, 'consent.template.publish', familyDisclosureTemplate());
    const request = await ok(provider, 'consent.request', {
      requestId: `consent-${conversationId}-${Math.random().toString(36).slice(2, 10)}`,
      templateId: 'family-disclosure',
      conversationId,
      patientId,
      recipients,
      purpose: 'Family support',
      expiresAt: options.expiresAt ?? new Date(Date.now() + 86_400_000).toISOString(),
      ...(options.scopes ? { scopes: options.scopes } : {}),
    });
    const { template, disclosure } = await ok(patient, 'consent.view', {
      requestId: request.requestId,
    });
    await ok(patient, 'consent.sign', {
      requestId: request.requestId,
      disclosureHash: disclosure.hash,
      acknowledgements: template.blocks.flatMap((b) =>
        b.type === 'acknowledgement' ? [b.id] : [],
      ),
      answers: { capacity: 'The patient', 'ends-on': '2099-01-01' },
      signature: { method: 'typed', name: patientId },
    });
    return request.requestId;
  } finally {
    for (const socket of [staff, provider, patient]) socket.close();
  }
}

/** The texts of a page's messages and corrections, leaving out its system entries. */
export const textsOf = (entries: readonly Entry[]): string[] =>
  entries.flatMap((entry) => (entry.kind === 'event' ? [] : [entry.text]));

/** Resolves when `predicate` holds, polling every 10 ms; rejects after `timeoutMs`. */
export async function waitFor(
  predicate: () => boolean,
  timeoutMs = 5000,
  what = 'condition',
): Promise<void> {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
