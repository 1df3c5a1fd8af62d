// `pnpm demo`: starts the relay (embedded SQLite, development tenant) as a child process, seeds
// the demo conversation, and serves the example portal. Ctrl-C stops both.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadDevSigningKey } from '@carethread/server';
import { seedDemoConversation } from './seed.js';
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
      // The demo is one relay on its embedded SQLite, whatever DATABASE_URL / REDIS_URL the shell has.
      DATABASE_URL: '',
      REDIS_URL: '',
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

await seedDemoConversation(relayUrl, devKey);

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
      `  Portal  http://localhost:${portalPort}   a patient, a family member and a therapist side by side`,
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
