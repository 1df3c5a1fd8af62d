// A relay process killed with SIGKILL while a webhook delivery is in flight loses no event: after a
// restart on the same data folder, the event is delivered again (same id) and the rest follow.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import { loadOrCreateDevApiKey } from '../../src/api/keys.js';
import { waitFor } from '../helpers.js';
import { startReceiver, WEBHOOK_SECRET, type Receiver } from './receiver.js';

const relayBin = fileURLToPath(new URL('../../bin/carethread-relay.js', import.meta.url));
let dataDir: string | undefined;
let child: ChildProcess | undefined;
let receiver: Receiver | undefined;

afterEach(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  await receiver?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** Starts the relay as a developer would, and resolves with its port once it listens. */
async function startRelayProcess(configFile: string, folder: string): Promise<number> {
  const lines: string[] = [];
  child = spawn(process.execPath, [relayBin], {
    env: {
      ...process.env,
      // One node on its embedded SQLite, even when the test run has a DATABASE_URL / REDIS_URL.
      DATABASE_URL: '',
      REDIS_URL: '',
      CARETHREAD_CONFIG: configFile,
      CARETHREAD_DATA_DIR: folder,
      PORT: '0',
      HOST: '127.0.0.1',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  child.stdout?.on('data', (chunk: Buffer) =>
    lines.push(...chunk.toString().split('\n').filter(Boolean)),
  );
  await waitFor(() => lines.some((l) => l.includes('listening')), 10_000, 'relay to listen');
  return (JSON.parse(lines.find((l) => l.includes('listening')) ?? '{}') as { port: number }).port;
}

it('delivers an event again after the relay is killed mid-delivery, and loses none', async () => {
  receiver = await startReceiver();
  const folder = mkdtempSync(path.join(tmpdir(), 'carethread-webhook-restart-'));
  dataDir = folder;
  const configFile = path.join(folder, 'config.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      devTenantWebhooks: [{ id: 'ehr', url: receiver.url, secret: WEBHOOK_SECRET }],
      // The killed process's lease on the endpoint runs out after leaseMs; then the new one delivers.
      webhookDelivery: {
        timeoutMs: 30_000,
        retryBaseMs: 20,
        retryMaxMs: 100,
        pollMs: 20,
        leaseMs: 500,
      },
    }),
  );
  let port = await startRelayProcess(configFile, folder);
  const key = loadOrCreateDevApiKey(folder);
  const post = (url: string, body: unknown) =>
    fetch(`http://127.0.0.1:${String(port)}${url}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  const target = receiver;
  target.behaviour = 'hang';
  await post('/api/v1/conversations', {
    conversationId: 'c-1',
    title: 'Restart',
    participants: [{ userId: 'dr-rivera', role: 'provider', displayName: 'Dr. Rivera' }],
  });
  for (const userId of ['nurse-a', 'nurse-b', 'nurse-c'])
    expect(
      (
        await post('/api/v1/conversations/c-1/participants', {
          userId,
          role: 'staff',
          displayName: userId,
        })
      ).status,
    ).toBe(201);
  await waitFor(() => target.arrivals.length === 1, 10_000, 'the first delivery to be in flight');
  const inFlight = target.arrivals[0]?.id;

  const killed = child;
  const exited = new Promise((resolve) => killed?.once('exit', resolve));
  killed?.kill('SIGKILL');
  await exited;

  target.behaviour = 'ok';
  port = await startRelayProcess(configFile, folder);
  await waitFor(() => target.unique().length === 3, 10_000, 'every event after the restart');
  const events = target.unique();
  expect(events[0]?.id).toBe(inFlight);
  expect(events.map((e) => (e.type === 'participant.added' ? e.data.userId : e.type))).toEqual([
    'nurse-a',
    'nurse-b',
    'nurse-c',
  ]);
  expect(port).toBeGreaterThan(0);
});
