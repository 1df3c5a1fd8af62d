// A socket that stops reading its TCP connection in a busy conversation: the relay holds at most
// limits.maxQueuedBytesPerSocket (plus the message that crossed it) for it and then cuts it, while
// a reader in the same conversation keeps receiving everything. What the relay holds is read on
// the relay side: engine.io's write buffer plus the WebSocket's unsent bytes.
import type { Socket as NetSocket } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import type { MessageView } from '@carethread/shared';
import { queuedBytes } from '../../src/transport/outbound-bound.js';
import {
  call,
  connectAs,
  ok,
  seedConversation,
  startRelay,
  waitFor,
  type RawSocket,
  type TestRelay,
} from '../helpers.js';

let relay: TestRelay | undefined;
const sockets: RawSocket[] = [];
const paused: NetSocket[] = [];
afterEach(async () => {
  // A paused socket the relay did not cut would hold the relay's close for ws's closing timeout.
  for (const tcp of paused.splice(0)) tcp.destroy();
  for (const socket of sockets.splice(0)) socket.close();
  await relay?.close();
  relay = undefined;
});

/** The TCP socket under a socket.io-client WebSocket connection (engine.io-client -> ws). */
function tcpOf(socket: RawSocket): NetSocket {
  const engine = socket.io.engine as unknown as { transport: { ws?: { _socket?: NetSocket } } };
  const tcp = engine.transport.ws?._socket;
  if (!tcp) throw new Error('not a WebSocket connection');
  return tcp;
}

// Well above a burst a reader gets in one go (a batch of 10 messages of 16 KB, written while the
// readers, in this process, wait for their turn of the event loop).
const BOUND = 1024 * 1024;

it('cuts a socket that stops reading once what is queued for it passes the bound; a reader gets everything', async () => {
  const started = await startRelay({
    devTenantLimits: { maxMessageLength: 16_000, sendPerSecond: 100_000, sendBurst: 100_000 },
    limits: { packetsPerSecond: 100_000, maxQueuedBytesPerSocket: BOUND },
  });
  relay = started;
  await seedConversation(started, 'c-1', [
    { userId: 'slow', role: 'patient' },
    { userId: 'carol', role: 'staff' },
  ]);
  const connect = async (sub: string, role: 'provider' | 'patient' | 'staff') => {
    const socket = await connectAs(started, await started.token(sub, role));
    sockets.push(socket);
    await ok(socket, 'conversation.open', { conversationId: 'c-1' });
    return socket;
  };
  const sender = await connect('dr-rivera', 'provider');
  const reader = await connect('carol', 'staff');
  const slow = await connect('slow', 'patient');
  const received: number[] = [];
  reader.on('message', (m: MessageView) => received.push(m.seq));
  const slowId = (slow.io.engine as unknown as { id: string }).id;
  const engineClients = (
    started.relay.io.engine as unknown as { clients: Record<string, object | undefined> }
  ).clients;
  const slowTcp = tcpOf(slow);
  paused.push(slowTcp);
  slowTcp.pause(); // stops reading: the kernel buffers fill, then the relay's

  const text = 'x'.repeat(16_000);
  // One delivery of that message on the wire: the text and an envelope well under 1 KB.
  const oneMessage = text.length + 1024;
  let sent = 0;
  let mostHeld = 0;
  // Bounded traffic: at most 1,500 messages (24 MB), stopping as soon as the relay cuts the socket.
  const slowConnection = () => engineClients[slowId];
  for (let batch = 0; batch < 150 && slowConnection() !== undefined; batch++) {
    const acks = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        call(sender, 'message.send', {
          conversationId: 'c-1',
          id: `busy-${String(batch * 10 + i).padStart(5, '0')}`,
          text,
        }),
      ),
    );
    expect(acks.every((a) => a.ok)).toBe(true);
    sent += acks.length;
    const connection = slowConnection();
    if (connection !== undefined) mostHeld = Math.max(mostHeld, queuedBytes(connection));
  }

  expect(mostHeld).toBeLessThanOrEqual(BOUND + oneMessage);
  expect(slowConnection()).toBeUndefined();
  const drops = started
    .logs()
    .split('\n')
    .filter((line) => line.includes('stopped reading'))
    .map((line) => JSON.parse(line) as { queuedBytes: number; user: string });
  expect(drops).toHaveLength(1);
  expect(drops[0]?.user).toBe('slow');
  expect(drops[0]?.queuedBytes).toBeGreaterThan(BOUND);
  expect(drops[0]?.queuedBytes).toBeLessThanOrEqual(BOUND + oneMessage);
  const metrics = await (await fetch(`${started.url}/metrics`)).text();
  expect(metrics).toMatch(/^carethread_slow_consumer_drops_total 1$/m);

  await waitFor(() => received.length === sent, 10_000, 'the reader to receive every message');
  expect(received).toEqual(received.toSorted((a, b) => a - b));
  expect(new Set(received).size).toBe(sent);
});
