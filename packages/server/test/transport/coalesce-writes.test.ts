// The frames a committed batch releases for one socket leave in few system calls, in order.
import type { Socket as TcpSocket } from 'node:net';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { MessageView } from '@carethread/shared';
import {
  connectAs,
  ok,
  seedConversation,
  startRelay,
  waitFor,
  type RawSocket,
  type TestRelay,
} from '../helpers.js';

let relay: TestRelay;
const sockets: RawSocket[] = [];

beforeEach(async () => {
  // A long linger puts every message of the burst below into one batch, so one commit releases
  // all of their deliveries to the reader at once.
  relay = await startRelay({ writeBatch: { lingerMs: 50, maxSize: 500 } });
  await seedConversation(relay, 'c-1', [
    { userId: 'alice', role: 'patient', displayName: 'Alice' },
    { userId: 'nurse', role: 'staff', displayName: 'Nurse Kim' },
  ]);
});
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.close();
  await relay.close();
});

/** The relay's TCP socket for a connected user, found through engine.io's WebSocket transport. */
function serverTcpSocketOf(userId: string): TcpSocket {
  for (const socket of relay.relay.io.sockets.sockets.values()) {
    if (socket.data.identity.userId !== userId) continue;
    const transport = (socket.conn as unknown as { transport: { socket: { _socket: TcpSocket } } })
      .transport;
    return transport.socket._socket;
  }
  throw new Error(`${userId} is not connected`);
}

it('writes a burst of deliveries to one socket in a few writes, in sequence order', async () => {
  const alice = await connectAs(relay, await relay.token('alice', 'patient'));
  const nurse = await connectAs(relay, await relay.token('nurse', 'staff'));
  sockets.push(alice, nurse);
  await ok(alice, 'conversation.open', { conversationId: 'c-1' });
  await ok(nurse, 'conversation.open', { conversationId: 'c-1' });

  const received: MessageView[] = [];
  nurse.on('message', (message) => received.push(message));

  // Count the kernel writes the relay makes to the nurse's connection (one per `_write` or
  // `_writev` call of Node's stream: each is one system call).
  const tcp = serverTcpSocketOf('nurse') as TcpSocket & {
    _write: (...args: unknown[]) => void;
    _writev: (...args: unknown[]) => void;
  };
  let writes = 0;
  for (const method of ['_write', '_writev'] as const) {
    const original = tcp[method].bind(tcp);
    tcp[method] = (...args: unknown[]) => {
      writes++;
      original(...args);
    };
  }

  const burst = 12;
  await Promise.all(
    Array.from({ length: burst }, (_, i) =>
      ok(alice, 'message.send', {
        conversationId: 'c-1',
        id: `burst-${String(i).padStart(4, '0')}`,
        text: `message ${String(i)}`,
      }),
    ),
  );
  await waitFor(() => received.length === burst, 5000, 'every delivery');

  expect(received.map((m) => m.seq)).toEqual(Array.from({ length: burst }, (_, i) => i + 1));
  expect(received.map((m) => m.text)).toEqual(
    Array.from({ length: burst }, (_, i) => `message ${String(i)}`),
  );
  // Frame by frame this is 12 writes; coalesced, the first frame goes alone and the rest of the
  // flush together.
  expect(writes).toBeLessThanOrEqual(3);
});
