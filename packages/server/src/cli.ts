#!/usr/bin/env node
// The `carethread` command line: `carethread token ...` mints a development-tenant token and
// prints it alone on stdout, so scripts can do TOKEN=$(pnpm carethread token ...);
// `carethread verify <receipt>` checks a consent receipt against the relay's published keys.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { importJWK, type CryptoKey, type JSONWebKeySet, type JWK } from 'jose';
import { Role } from '@carethread/shared';
import { DEV_AUDIENCE, DEV_ISSUER, DEV_TENANT_ID, loadDevSigningKey } from './auth/dev-tenant.js';
import { mintToken } from './auth/tokens.js';
import { generateApiKey, hashApiKey, loadOrCreateDevApiKey } from './api/keys.js';
import { verifyReceipt } from './consent/receipts.js';
import { verifyTenantTrail } from './audit-verify.js';
import { loadConfig } from './config.js';
import { loadMasterKeys, newMasterKey } from './master-keys.js';
import { createPostgresStore } from './store/postgres.js';
import { createSqliteStore } from './store/sqlite.js';
import type { Store } from './store/types.js';

const USAGE = `Usage:
  carethread token --tenant dev --sub <user id> --role <patient|family|provider|staff> --name <display name>
                   [--relationship <e.g. mother>] [--title <e.g. Therapist>] [--ttl <seconds, default 3600>]

  carethread verify <receipt | -> [--jwks <file>] [--relay <url, default http://localhost:8080>]

  carethread token --key <private JWK file> --issuer <iss> [--audience <aud, default carethread>]
                   --sub ... --role ... --name ...

  carethread api-key [--id <key id, default host>]
  carethread api-key --tenant dev

  carethread templates publish <template.json> [--relay <url>]
  carethread dead-letters [--relay <url>]

  carethread audit verify [--tenant <id>]...
  carethread keys status | rotate | generate

token: mints a token for the development tenant, whose key lives in CARETHREAD_DATA_DIR (default
./data), or with --key for your own tenant (a private JWK with its kid, e.g. to test a deployment).
Production tokens are minted by your EHR back end with mintToken() from @carethread/server.
verify: checks a consent receipt (a compact JWS; - reads it from stdin) against the relay's keys,
from a saved JWKS file or the relay's /.well-known/jwks.json, and prints the signed record.
Exit code 0 when valid, 1 when not.
api-key: makes a new host API key and prints it (once) with the entry to add to the tenant's
"apiKeys" in the relay configuration, which keeps only its SHA-256. With --tenant dev, prints the
development tenant's key from CARETHREAD_DATA_DIR instead.
templates publish, dead-letters: call the host API of the relay (default http://localhost:8080)
with the API key in CARETHREAD_API_KEY. publish prints the version made (or the same version when
the content is unchanged); dead-letters prints one line per event an endpoint did not take.
audit verify: opens the relay's store (its configuration: CARETHREAD_CONFIG, CARETHREAD_DATA_DIR,
DATABASE_URL) and checks every configured tenant's hash-chained audit trail, or the --tenant ones.
Prints one line per tenant; for a broken trail, the first entry that does not check and why.
Exit code 0 when every trail verifies, 1 when one does not.
keys: with the relay's own configuration (CARETHREAD_CONFIG, CARETHREAD_MASTER_KEY, DATABASE_URL,
CARETHREAD_DATA_DIR), status shows which master key wraps each tenant's data keys; rotate re-wraps
them all under the current (first) master key while relays keep running; generate prints a new
master key to put first.`;

class UsageError extends Error {}

async function token(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      tenant: { type: 'string' },
      sub: { type: 'string' },
      role: { type: 'string' },
      name: { type: 'string' },
      relationship: { type: 'string' },
      title: { type: 'string' },
      ttl: { type: 'string', default: '3600' },
      key: { type: 'string' },
      issuer: { type: 'string' },
      audience: { type: 'string', default: DEV_AUDIENCE },
    },
    strict: true,
  });
  if (values.key === undefined && values.tenant !== DEV_TENANT_ID) {
    throw new UsageError(
      `Give --tenant ${DEV_TENANT_ID} (the relay holds that key), or --key and --issuer for your own tenant.`,
    );
  }
  if (values.key !== undefined && !values.issuer)
    throw new UsageError(
      '--issuer is required with --key: the iss your tenant is configured with.',
    );
  if (!values.sub) throw new UsageError('--sub (the user id) is required.');
  if (!values.name) throw new UsageError('--name (the display name) is required.');
  const role = Role.safeParse(values.role);
  if (!role.success) throw new UsageError(`--role must be one of: ${Role.options.join(', ')}.`);
  const ttlSeconds = Number(values.ttl);
  if (!Number.isInteger(ttlSeconds) || ttlSeconds <= 0 || ttlSeconds > 24 * 3600) {
    throw new UsageError('--ttl must be a whole number of seconds between 1 and 86400.');
  }
  const signer = values.key
    ? await importPrivateJwk(values.key)
    : await loadDevSigningKey(process.env.CARETHREAD_DATA_DIR ?? './data');
  const jwt = await mintToken({
    issuer: values.key ? (values.issuer ?? '') : DEV_ISSUER,
    audience: values.key ? values.audience : DEV_AUDIENCE,
    key: signer.privateKey,
    kid: signer.kid,
    sub: values.sub,
    name: values.name,
    role: role.data,
    ...(values.relationship ? { relationship: values.relationship } : {}),
    ...(values.title ? { title: values.title } : {}),
    ttlSeconds,
  });
  process.stdout.write(`${jwt}\n`);
}

async function verify(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      jwks: { type: 'string' },
      relay: { type: 'string', default: 'http://localhost:8080' },
    },
    allowPositionals: true,
    strict: true,
  });
  const [source] = positionals;
  if (!source) throw new UsageError('Give the receipt, or - to read it from stdin.');
  const receipt = source === '-' ? readFileSync(0, 'utf8') : source;
  let jwks: JSONWebKeySet;
  if (values.jwks) {
    jwks = JSON.parse(readFileSync(values.jwks, 'utf8')) as JSONWebKeySet;
  } else {
    const response = await fetch(new URL('/.well-known/jwks.json', values.relay));
    if (!response.ok)
      throw new Error(`${values.relay} answered ${String(response.status)} for its keys.`);
    jwks = (await response.json()) as JSONWebKeySet;
  }
  try {
    const { kid, record, recordHash } = await verifyReceipt(receipt, jwks);
    process.stdout.write(`${JSON.stringify({ valid: true, kid, recordHash, record }, null, 2)}\n`);
  } catch (error) {
    process.stdout.write(
      `${JSON.stringify({ valid: false, reason: error instanceof Error ? error.message : String(error) })}\n`,
    );
    process.exitCode = 1;
  }
}

function apiKey(args: string[]): void {
  const { values } = parseArgs({
    args,
    options: { tenant: { type: 'string' }, id: { type: 'string', default: 'host' } },
    strict: true,
  });
  if (values.tenant !== undefined) {
    if (values.tenant !== DEV_TENANT_ID)
      throw new UsageError(
        `--tenant can only be "${DEV_TENANT_ID}": other tenants' keys are shown once, when made.`,
      );
    process.stdout.write(`${loadOrCreateDevApiKey(process.env.CARETHREAD_DATA_DIR ?? './data')}\n`);
    return;
  }
  if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(values.id))
    throw new UsageError('--id must be lowercase letters, digits and dashes.');
  const key = generateApiKey();
  process.stdout.write(`${key}\n`);
  process.stderr.write(
    `Give the key above to the host's back end; it is not stored anywhere. Add this to the tenant's "apiKeys":\n${JSON.stringify({ id: values.id, sha256: hashApiKey(key) })}\n`,
  );
}

/** A private JWK file (with `kid` and `alg`), as a host keeps its token-signing key. */
async function importPrivateJwk(file: string): Promise<{ privateKey: CryptoKey; kid: string }> {
  const jwk = JSON.parse(readFileSync(file, 'utf8')) as JWK;
  if (!jwk.kid || !jwk.d) throw new UsageError(`${file} must hold a private JWK with a "kid".`);
  const privateKey = (await importJWK(jwk, jwk.alg ?? 'ES256')) as CryptoKey;
  return { privateKey, kid: jwk.kid };
}

/** Calls the host API with CARETHREAD_API_KEY; throws the API's own error sentence on failure. */
async function hostApi(
  relay: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<unknown> {
  const key = process.env.CARETHREAD_API_KEY;
  if (!key) throw new UsageError('Set CARETHREAD_API_KEY to a host API key of your tenant.');
  const response = await fetch(new URL(path, relay), {
    method,
    headers: {
      authorization: `Bearer ${key}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const answer = (await response.json()) as { error?: { code: string; message: string } };
  if (!response.ok)
    throw new Error(
      `${answer.error?.code ?? String(response.status)}: ${answer.error?.message ?? ''}`,
    );
  return answer;
}

async function templates(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    options: { relay: { type: 'string', default: 'http://localhost:8080' } },
    allowPositionals: true,
    strict: true,
  });
  const [action, file] = positionals;
  if (action !== 'publish' || !file)
    throw new UsageError('Usage: carethread templates publish <template.json>');
  const content = JSON.parse(readFileSync(file, 'utf8')) as unknown;
  const { template, created } = (await hostApi(
    values.relay,
    'POST',
    '/api/v1/consent-templates',
    content,
  )) as {
    template: { templateId: string; version: number; hash: string };
    created: boolean;
  };
  process.stdout.write(
    `${template.templateId} version ${String(template.version)} ${template.hash}${created ? '' : ' (unchanged: this version already holds this content)'}\n`,
  );
}

async function deadLetters(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { relay: { type: 'string', default: 'http://localhost:8080' } },
    strict: true,
  });
  let cursor: string | null = null;
  let count = 0;
  do {
    const query: string = cursor ? `?cursor=${encodeURIComponent(cursor)}` : '';
    const page = (await hostApi(values.relay, 'GET', `/api/v1/webhooks/dead-letters${query}`)) as {
      items: {
        endpointId: string;
        event: { id: string; type: string; time: string };
        attempts: number;
        lastError: string;
        redeliveredAt: string | null;
      }[];
      next: string | null;
    };
    for (const letter of page.items) {
      count++;
      process.stdout.write(
        `${letter.endpointId}\t${letter.event.id}\t${letter.event.type}\t${letter.event.time}\t${String(letter.attempts)} attempts\t${letter.lastError}${letter.redeliveredAt ? `\tredelivered ${letter.redeliveredAt}` : ''}\n`,
      );
    }
    cursor = page.next;
  } while (cursor);
  if (count === 0) process.stderr.write('No dead letters.\n');
}

async function audit(args: string[]): Promise<void> {
  const [action, ...rest] = args;
  if (action !== 'verify') throw new UsageError('Use: carethread audit verify [--tenant <id>]');
  const { values } = parseArgs({
    args: rest,
    options: { tenant: { type: 'string', multiple: true } },
    strict: true,
  });
  const config = loadConfig();
  const configured = [
    ...config.tenants.map((t) => t.id),
    ...(config.devTenant ? [DEV_TENANT_ID] : []),
  ];
  const tenantIds = values.tenant ?? configured;
  const { store } = await openConfiguredStore();
  let broken = 0;
  try {
    for (const tenantId of tenantIds) {
      const check = await verifyTenantTrail(store, tenantId);
      if (check.ok) {
        process.stdout.write(
          `${tenantId}	ok	${String(check.entries)} entries, up to #${String(check.lastSeq)}
`,
        );
      } else {
        broken += 1;
        process.stdout.write(
          `${tenantId}	BROKEN	entry #${String(check.seq)} ${check.problem} (${String(check.entries)} entries before it verify)
`,
        );
      }
    }
  } finally {
    await store.close();
  }
  if (broken > 0) process.exitCode = 1;
}

/** The relay's store, opened directly from its configuration (the relays may keep running). */
async function openConfiguredStore(): Promise<{ store: Store; current: string; all: string[] }> {
  const config = loadConfig();
  const { keys } = loadMasterKeys(config);
  const store = config.databaseUrl
    ? await createPostgresStore({
        connectionString: config.databaseUrl,
        poolSize: 1,
        masterKeys: keys,
        ...(config.postgres.schema ? { schema: config.postgres.schema } : {}),
      })
    : await createSqliteStore({
        filename: path.join(config.dataDir, 'carethread.sqlite'),
        masterKeys: keys,
      });
  return { store, current: keys[0].id, all: keys.map((k) => k.id) };
}

async function keys(args: string[]): Promise<void> {
  const { positionals } = parseArgs({ args, allowPositionals: true, strict: true });
  const [action] = positionals;
  if (action === 'generate') {
    process.stdout.write(`${newMasterKey()}\n`);
    process.stderr.write(
      'Put this key first in CARETHREAD_MASTER_KEY (or the first line of encryption.masterKeyFile) on every node, keeping the old one after it; restart the nodes, then run: carethread keys rotate\n',
    );
    return;
  }
  if (action !== 'status' && action !== 'rotate')
    throw new UsageError('Usage: carethread keys status | rotate | generate');
  // Opening fails with a clear message when a data key is wrapped by a key not configured here.
  const { store, current, all } = await openConfiguredStore();
  try {
    if (action === 'rotate') {
      const count = await store.rewrapDataKeys();
      process.stdout.write(`re-wrapped ${String(count)} data keys under ${current}\n`);
    }
    const dataKeys = await store.dataKeys();
    process.stdout.write(
      `master keys: ${all.map((id) => (id === current ? `${id} (current)` : id)).join(', ')}\n`,
    );
    for (const key of dataKeys)
      process.stdout.write(
        `${key.tenantId}\tversion ${String(key.version)}\twrapped by ${key.wrappedBy}${key.wrappedBy === current ? ' (current)' : ''}\n`,
      );
    const stale = all.filter((id) => id !== current && !dataKeys.some((k) => k.wrappedBy === id));
    if (stale.length > 0)
      process.stdout.write(`no data key is wrapped by ${stale.join(', ')}: it can be removed\n`);
  } finally {
    await store.close();
  }
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'token':
      return token(rest);
    case 'verify':
      return verify(rest);
    case 'api-key':
      apiKey(rest);
      return;
    case 'templates':
      return templates(rest);
    case 'dead-letters':
      return deadLetters(rest);
    case 'audit':
      return audit(rest);
    case 'keys':
      return keys(rest);
    case undefined:
    case 'help':
    case '--help':
      process.stdout.write(`${USAGE}\n`);
      return;
    default:
      throw new UsageError(`Unknown command "${command}".`);
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof UsageError || (error instanceof TypeError && 'code' in error)) {
    process.stderr.write(`${error.message}\n\n${USAGE}\n`);
    process.exit(64); // EX_USAGE
  }
  process.stderr.write(`carethread: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
