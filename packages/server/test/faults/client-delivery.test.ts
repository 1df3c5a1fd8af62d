// The headless client's outbox against a relay process that freezes (SIGSTOP), dies (SIGKILL) and
// restarts on the same data and port: what one person writes is stored once, in the order
// written, and nothing the relay lost or paced ends as failed (issue 15, items 8, 9 and 11).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '@carethread/shared';
import { createClient, type CareThreadClient } from '@carethread/widget/client';
import { ok, rawConnect, rawEntries, waitFor } from '../helpers.js';
import { devTokens, startRelayProcess, type RelayProcess } from './relay-process.js';

interface Setup {
  folder: string;
  configFile: string;
  relay: RelayProcess;
  /** Alice's headless client, on the conversation `c-order`. */
  alice: CareThreadClient;
  /** How many `message.send` requests Alice's client has emitted. */
  sends: () => number;
  restart(): Promise<void>;
}

let current: Setup | undefined;

afterEach(async () => {
  if (!current) return;
  current.alice.close();
  await current.relay.kill();
  rmSync(current.folder, { recursive: true, force: true });
  current = undefined;
});

/** A relay process with the development tenant held to `limits`, and Alice on `c-order`. */
async function setUp(
  limits: { sendPerSecond: number; sendBurst: number },
  ackTimeoutMs: number,
): Promise<Setup> {
  const folder = mkdtempSync(path.join(tmpdir(), 'carethread-delivery-'));
  const configFile = path.join(folder, 'config.json');
  writeFileSync(configFile, JSON.stringify({ devTenantLimits: limits }));
  const relay = await startRelayProcess(folder, configFile);
  const token = devTokens(folder);
  const provider = await rawConnect(relay.url, {
    token: await token('dr-rivera', 'provider', 'Dr. Rivera'),
    protocol: PROTOCOL_VERSION,
  });
  try {
    await ok(provider, 'conversation.create', {
      conversationId: 'c-order',
      title: 'Delivery order',
      participants: [{ userId: 'alice', role: 'patient', displayName: 'Alice' }],
    });
  } finally {
    provider.close();
  }
  const alice = createClient({
    url: relay.url,
    transports: ['websocket'],
    reconnectDelayMs: { min: 50, max: 200 },
    ackTimeoutMs,
    tokenProvider: () => token('alice', 'patient', 'Alice'),
  });
  let sends = 0;
  alice.socket.onAnyOutgoing((event) => {
    if (event === 'message.send') sends += 1;
  });
  const setup: Setup = {
    folder,
    configFile,
    relay,
    alice,
    sends: () => sends,
    async restart() {
      const port = Number(new URL(setup.relay.url).port);
      setup.relay = await startRelayProcess(folder, configFile, port);
    },
  };
  current = setup;
  return setup;
}

const texts = async (folder: string) =>
  (await rawEntries(folder, 'c-order')).map((entry) => entry.text);

describe('the headless client delivering through relay faults', () => {
  it("stores a sender's messages in the order written across a freeze, a kill and a restart", async () => {
    const setup = await setUp({ sendPerSecond: 1000, sendBurst: 1000 }, 1000);
    const chat = setup.alice.conversation('c-order');
    await chat.open();

    setup.relay.child.kill('SIGSTOP');
    const a = chat.send('A, written while the relay was frozen');
    // A has timed out and gone again twice: its next try waits out a longer back-off.
    await waitFor(() => setup.sends() >= 3, 15_000, 'A to be tried three times');
    await setup.relay.kill();
    await waitFor(() => setup.alice.state !== 'connected', 5000, 'the client to notice');
    const b = chat.send('B, written while the relay was down');
    await setup.restart();

    const [storedA, storedB] = await Promise.all([a, b]);
    expect(await texts(setup.folder)).toEqual([
      'A, written while the relay was frozen',
      'B, written while the relay was down',
    ]);
    expect(storedA.seq).toBeLessThan(storedB.seq);
  }, 45_000);

  it('settles a send with the stored entry when its ack was lost, and a retry of it does not fail', async () => {
    // One message per person at once, then one every 20 s: A's copies after the first are refused.
    const setup = await setUp({ sendPerSecond: 0.05, sendBurst: 1 }, 1000);
    const chat = setup.alice.conversation('c-order');
    await chat.open();

    setup.relay.child.kill('SIGSTOP');
    const a = chat.send('A, whose ack is lost');
    const id = chat.outbox[0]?.id ?? '';
    // The first copy timed out and a second is waiting for its ack when the relay wakes up: it
    // stores the first (its live copy reaches the client) and refuses the second for the rate.
    await waitFor(() => setup.sends() >= 2, 15_000, 'A to go a second time');
    setup.relay.child.kill('SIGCONT');

    await expect(a).resolves.toMatchObject({ id, text: 'A, whose ack is lost' });
    await expect(chat.retry(id)).resolves.toMatchObject({ id, text: 'A, whose ack is lost' });
    expect(chat.outbox).toEqual([]);
    expect(await texts(setup.folder)).toEqual(['A, whose ack is lost']);
  }, 45_000);

  it('sends a backlog written during an outage, larger than the send burst, in order and none failed', async () => {
    const setup = await setUp({ sendPerSecond: 1, sendBurst: 2 }, 5000);
    const chat = setup.alice.conversation('c-order');
    await chat.open();
    const failed = new Set<string>();
    chat.on('outbox', (items) => {
      for (const item of items) if (item.state === 'failed') failed.add(item.text);
    });

    await setup.relay.kill();
    await waitFor(() => setup.alice.state !== 'connected', 5000, 'the client to notice');
    // More than the burst plus what the rate refills over the old retry schedule (about 18 s).
    const written = Array.from({ length: 24 }, (_, i) => `Offline note ${String(i + 1)}`);
    const deliveries = written.map((text) => chat.send(text));
    await setup.restart();

    const outcomes = await Promise.allSettled(deliveries);
    expect(
      outcomes.flatMap((outcome, i) =>
        outcome.status === 'rejected' ? [`${written[i] ?? ''}: ${String(outcome.reason)}`] : [],
      ),
    ).toEqual([]);
    expect([...failed]).toEqual([]);
    expect(await texts(setup.folder)).toEqual(written);
  }, 90_000);
});
