#!/usr/bin/env node
// `pnpm start`: the example EHR and the relay it uses, in one command. Starts the EHR's web
// server, writes the relay's tenant configuration, starts the relay, sets up the demo encounter
// through the host API, and redelivers webhooks the EHR missed while it was down for long.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ApiDeadLetter } from '@carethread/shared';
import { createHostApi } from './host-api.js';
import { log } from './log.js';
import {
  AUDIENCE,
  freePort,
  loadOrCreateSecrets,
  startRelay,
  tenantConfig,
  type RelayProcess,
} from './relay.js';
import { seed } from './seed.js';
import { createEhrApp } from './server.js';
import { loadOrCreateSigningKey } from './signing-key.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const dataDir = path.resolve(process.env.EHR_DATA_DIR ?? path.join(here, '../data'));
const ehrPort = Number(process.env.EHR_PORT ?? 5180);
const requestedRelayPort = Number(process.env.RELAY_PORT ?? 8080);

function fail(message: string): never {
  process.stderr.write(`\n${message}\n`);
  process.exit(1);
}

const key = await loadOrCreateSigningKey(path.join(dataDir, 'ehr', 'signing-key.json'));
const secrets = loadOrCreateSecrets(path.join(dataDir, 'ehr', 'secrets.json'));
const relayPort = requestedRelayPort === 0 ? await freePort() : requestedRelayPort;
const relayUrl = `http://127.0.0.1:${String(relayPort)}`;
const api = createHostApi(relayUrl, secrets.apiKey);

// The EHR listens first: the relay fetches its JWKS and posts webhooks to it from the start.
const server = createServer();
await new Promise<void>((resolve) => {
  server.once('error', (error: NodeJS.ErrnoException) => {
    fail(
      error.code === 'EADDRINUSE'
        ? `Port ${String(ehrPort)} is taken. Set EHR_PORT to use another.`
        : String(error),
    );
  });
  server.listen(ehrPort, '127.0.0.1', resolve);
});
const ehrUrl = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`;
server.on(
  'request',
  createEhrApp({
    publicUrl: ehrUrl,
    audience: AUDIENCE,
    relayUrl,
    key,
    api,
    webhookSecret: secrets.webhookSecret,
    seenFile: path.join(dataDir, 'ehr', 'webhook-events.json'),
    chartDir: path.join(dataDir, 'chart'),
  }),
);

let relay: RelayProcess;
try {
  relay = await startRelay({
    configFile: path.join(dataDir, 'relay-config.json'),
    config: tenantConfig(ehrUrl, secrets),
    dataDir: path.join(dataDir, 'relay'),
    port: relayPort,
  });
} catch (error) {
  fail(error instanceof Error ? error.message : String(error));
}
let stopping = false;
relay.child.on('exit', (code) => {
  if (!stopping) fail(`The relay stopped unexpectedly (exit code ${String(code)}).`);
});

await seed(api);

// Events the EHR did not take within the relay's retry window (a day) are dead letters: hand each
// back once. Those already handled are skipped by the receiver's dedupe.
for await (const letter of api.pages<ApiDeadLetter>('/api/v1/webhooks/dead-letters')) {
  if (letter.redeliveredAt) continue;
  const { endpointId, event } = letter;
  try {
    await api.post(
      `/api/v1/webhooks/dead-letters/${endpointId}/${event.id}/redeliver`,
      {},
      `redeliver:${endpointId}:${event.id}`,
    );
    log('dead letter redelivered', { event: event.id, type: event.type });
  } catch (error) {
    // Still failing (our receiver answered non-2xx): it stays listed; try again next start.
    log('dead letter not redelivered', {
      event: event.id,
      error: error instanceof Error ? error.message : String(error),
    });
  }
}

process.stdout.write(
  [
    '',
    'Riverside EHR (example) is running.',
    `  EHR     ${ehrUrl}   sign in as alice, bob or dr-rivera (passwords on the page)`,
    `  Relay   ${relayUrl}   tenant riverside, OpenAPI at ${relayUrl}/openapi.json`,
    `  Data    ${dataDir}   chart/ holds the filed FHIR resources`,
    'Press Ctrl-C to stop.',
    '',
  ].join('\n'),
);

function stop(): void {
  if (stopping) return;
  stopping = true;
  // The relay first, so no webhook arrives at a closing server; then the EHR.
  relay.child.once('exit', (code) => {
    server.closeAllConnections();
    server.close(() => process.exit(code ?? 0));
  });
  relay.child.kill('SIGTERM');
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
