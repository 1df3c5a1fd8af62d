// Hostile and broken input: odd event names, bad payloads, oversized packets, floods. Each gets a
// stable code, nothing is written, the relay stays up and other clients are unaffected.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Socket } from 'socket.io-client';
import type { RelayErrorEvent } from '@carethread/shared';
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

let relay: TestRelay;
let alice: RawSocket;
let bob: RawSocket;

beforeEach(async () => {
  relay = await startRelay({
    limits: {
      maxPacketBytes: 32 * 1024,
      connectionsPerMinutePerAddress: 1000,
      packetsPerSecond: 20,
    },
    devTenantLimits: { maxMessageLength: 1000, sendPerSecond: 2, sendBurst: 5 },
  });
  await seedConversation(relay, 'c-1', [
    { userId: 'alice', role: 'patient' },
    { userId: 'bob', role: 'family' },
  ]);
  alice = await connectAs(relay, await relay.token('alice', 'patient'));
  bob = await connectAs(relay, await relay.token('bob', 'family'));
  await ok(alice, 'conversation.open', { conversationId: 'c-1' });
});
afterEach(async () => {
  alice.close();
  bob.close();
  await relay.close();
});

const untyped = (socket: RawSocket) => socket as unknown as Socket;
/** Writes a Socket.IO packet as text straight onto the engine.io connection. */
const rawPacket = (socket: RawSocket, packet: string) => {
  (socket.io.engine as unknown as { write(data: string): void }).write(packet);
};
const rows = async () =>
  (await relay.relay.store.entriesAfter('dev', 'c-1', 0, 1000)).entries.length;

/** Bob still works: his message reaches Alice. */
async function bobStillWorks(id: string): Promise<void> {
  const seen: string[] = [];
  alice.on('message', (m) => seen.push(m.id));
  await ok(bob, 'message.send', { conversationId: 'c-1', id, text: 'still here' });
  await waitFor(() => seen.includes(id), 5000, 'delivery to alice');
}

describe('malformed packets', () => {
  it('answers unknown and numeric event names with UNKNOWN_EVENT', async () => {
    expect(await untyped(bob).timeout(2000).emitWithAck('drop.tables', {})).toMatchObject({
      ok: false,
      error: { code: 'UNKNOWN_EVENT' },
    });
    const errors: RelayErrorEvent[] = [];
    bob.on('relay.error', (e) => errors.push(e));
    // socket.io-parser hands a numeric event name through as a number (engine.io adds the "4").
    rawPacket(bob, '2[123,{"x":1}]');
    untyped(bob).emit('__proto__', { polluted: true });
    await waitFor(() => errors.length === 2, 3000, 'relay.error events');
    expect(errors.map((e) => e.error.code)).toEqual(['UNKNOWN_EVENT', 'UNKNOWN_EVENT']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    await bobStillWorks('after-unknown');
  });

  it('answers invalid payloads with VALIDATION naming the field, writing nothing', async () => {
    const cases: unknown[] = [
      undefined,
      'a string',
      [],
      { conversationId: 'c-1', id: 'short', text: 'x' },
      { conversationId: 'c-1', id: 'valid-id-01', text: 42 },
      { conversationId: 'c 1 with spaces', id: 'valid-id-02', text: 'x' },
      { conversationId: 'c-1', id: 'valid-id-03', text: '' },
      { conversationId: 'c-1', id: 'valid-id-04', text: '   ' },
    ];
    for (const payload of cases) {
      const ack = (await untyped(bob).timeout(2000).emitWithAck('message.send', payload)) as {
        ok: boolean;
        error?: { code: string; message: string };
      };
      expect(ack.ok, JSON.stringify(payload)).toBe(false);
      expect(['VALIDATION', 'TOO_LARGE']).toContain(ack.error?.code);
    }
    const named = (await untyped(bob)
      .timeout(2000)
      .emitWithAck('message.send', { conversationId: 'c-1', id: 'valid-id-06', text: 7 })) as {
      error: { message: string };
    };
    expect(named.error.message).toMatch(/text/);
    expect(await rows()).toBe(0);
  });

  it('strips a "__proto__" key from a payload without polluting any prototype', async () => {
    const stored: string[] = [];
    alice.on('message', (m) => stored.push(m.id));
    rawPacket(
      bob,
      '2["message.send",{"conversationId":"c-1","id":"proto-key-01","text":"x","__proto__":{"admin":true}}]',
    );
    await waitFor(() => stored.length === 1, 3000, 'the otherwise valid message');
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('admin');
  });

  it('answers text over the tenant limit with TOO_LARGE and writes nothing', async () => {
    const ack = await call(bob, 'message.send', {
      conversationId: 'c-1',
      id: 'too-large-01',
      text: 'x'.repeat(1001),
    });
    expect(ack).toMatchObject({ ok: false, error: { code: 'TOO_LARGE' } });
    expect(ack.ok ? '' : ack.error.message).toMatch(/1000 characters/);
    const overHard = await call(bob, 'message.send', {
      conversationId: 'c-1',
      id: 'too-large-02',
      text: 'x'.repeat(16_001),
    });
    expect(overHard).toMatchObject({ ok: false, error: { code: 'TOO_LARGE' } });
    expect(await rows()).toBe(0);
  });

  it('closes a connection that sends a packet over maxHttpBufferSize, and nobody else notices', async () => {
    const mallory = await connectAs(relay, await relay.token('bob', 'family'));
    const closed = new Promise<string>((resolve) => mallory.on('disconnect', resolve));
    mallory.emit(
      'message.send',
      { conversationId: 'c-1', id: 'huge-packet-1', text: 'x'.repeat(40_000) },
      () => undefined,
    );
    expect(await closed).toMatch(/transport (close|error)/);
    expect(await rows()).toBe(0);
    await bobStillWorks('after-huge');
  });

  it('answers a flood with RATE_LIMITED, stores what was allowed, and keeps others unaffected', async () => {
    const acks = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        call(bob, 'message.send', {
          conversationId: 'c-1',
          id: `flood-${String(i).padStart(4, '0')}`,
          text: 'spam',
        }),
      ),
    );
    const codes = acks.map((a) => (a.ok ? 'ok' : a.error.code));
    const stored = codes.filter((c) => c === 'ok').length;
    expect(stored).toBeGreaterThanOrEqual(5);
    expect(stored).toBeLessThan(10);
    expect(codes.filter((c) => c === 'RATE_LIMITED').length).toBe(40 - stored);
    expect(await rows()).toBe(stored);
    // Alice's own budget is untouched by Bob's flood.
    await ok(alice, 'message.send', {
      conversationId: 'c-1',
      id: 'alice-after-flood',
      text: 'hello',
    });
  });
});
