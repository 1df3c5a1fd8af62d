// `pnpm demo`: starts the relay (embedded SQLite, development tenant) as a child process, seeds
// the demo conversation, and serves the example portal. Ctrl-C stops both.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEV_AUDIENCE, DEV_ISSUER, loadDevSigningKey, mintToken } from '@carethread/server';
import { CareThreadError, createClient } from '@carethread/widget/client';
import { DEMO_CONVERSATION, personaById } from './personas.js';
import { createPortalServer } from './server.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../../..');
const relayPort = Number(process.env.RELAY_PORT ?? 8080);
const portalPort = Number(process.env.PORTAL_PORT ?? 5173);
const dataDir = path.resolve(process.env.CARETHREAD_DATA_DIR ?? path.join(repoRoot, 'data'));
const relayUrl = `http://localhost:${relayPort}`;

function fail(message: string): never {
  process.stderr.write(`\n${message}\n`);
  process.exit(1);
}

async function waitForRelay(deadline: number): Promise<void> {
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`${relayUrl}/readyz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  fail(
    `The relay did not become ready on ${relayUrl}. Is port ${relayPort} taken? Set RELAY_PORT to use another.`,
  );
}

const devKey = await loadDevSigningKey(dataDir);

const relay = spawn(
  process.execPath,
  [path.join(repoRoot, 'packages/server/bin/carethread-relay.js')],
  {
    env: {
      ...process.env,
      PORT: String(relayPort),
      CARETHREAD_DATA_DIR: dataDir,
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  },
);
let stopping = false;
relay.on('exit', (code) => {
  if (!stopping) fail(`The relay stopped unexpectedly (exit code ${String(code)}).`);
});
await waitForRelay(Date.now() + 15_000);

// The care team opens the conversation the portal shows; on later runs it already exists.
const provider = personaById('dr-rivera');
if (!provider) fail('The demo has no care-team persona.');
const seeder = createClient({
  url: relayUrl,
  transports: ['websocket'],
  tokenProvider: () =>
    mintToken({
      issuer: DEV_ISSUER,
      audience: DEV_AUDIENCE,
      key: devKey.privateKey,
      kid: devKey.kid,
      sub: provider.sub,
      name: provider.name,
      role: provider.role,
      title: 'Therapist',
    }),
});
try {
  await seeder.ready();
  await seeder.createConversation({
    conversationId: DEMO_CONVERSATION.id,
    title: DEMO_CONVERSATION.title,
    participants: [
      { userId: 'alice', role: 'patient', displayName: 'Alice Moreno' },
      { userId: 'bob', role: 'family', displayName: 'Bob Moreno', relationship: 'brother' },
    ],
  });
} catch (error) {
  if (!(error instanceof CareThreadError && error.code === 'CONFLICT')) throw error;
} finally {
  seeder.close();
}

const portal = createPortalServer({ webRoot: path.resolve(here, '../dist'), relayUrl, devKey });
portal.on('error', (error: NodeJS.ErrnoException) => {
  relay.kill('SIGTERM');
  fail(
    error.code === 'EADDRINUSE'
      ? `Port ${portalPort} is taken. Set PORTAL_PORT to use another.`
      : String(error),
  );
});
portal.listen(portalPort, () => {
  process.stdout.write(
    [
      '',
      'CareThread demo is running.',
      `  Portal  http://localhost:${portalPort}   open it in two windows and sign in as two people`,
      `  Relay   ${relayUrl}   (health: ${relayUrl}/healthz, data: ${dataDir})`,
      'Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  );
});

function stop(): void {
  if (stopping) return;
  stopping = true;
  portal.closeAllConnections();
  portal.close();
  relay.once('exit', (code) => process.exit(code ?? 0));
  relay.kill('SIGTERM');
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
