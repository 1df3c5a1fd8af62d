// Connection and packet rate limits: answered with RATE_LIMITED, never a crash.
import { afterEach, describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '@carethread/shared';
import {
  call,
  connectAs,
  ok,
  rawConnect,
  seedConversation,
  startRelay,
  type TestRelay,
} from '../helpers.js';

let relay: TestRelay | undefined;
afterEach(async () => {
  await relay?.close();
  relay = undefined;
});

describe('limits', () => {
  it('refuses connections from one address beyond its per-minute allowance', async () => {
    relay = await startRelay({
      limits: { maxPacketBytes: 65536, connectionsPerMinutePerAddress: 3, packetsPerSecond: 50 },
    });
    const token = await relay.token('alice', 'patient');
    const outcomes: string[] = [];
    for (let i = 0; i < 5; i++) {
      try {
        (await rawConnect(relay.url, { token, protocol: PROTOCOL_VERSION })).close();
        outcomes.push('connected');
      } catch (error) {
        outcomes.push((error as { data?: { code: string } }).data?.code ?? 'transport');
      }
    }
    expect(outcomes).toEqual([
      'connected',
      'connected',
      'connected',
      'RATE_LIMITED',
      'RATE_LIMITED',
    ]);
  });

  it('answers a packet flood on one socket with RATE_LIMITED and keeps serving it afterwards', async () => {
    relay = await startRelay({
      limits: { maxPacketBytes: 65536, connectionsPerMinutePerAddress: 100, packetsPerSecond: 10 },
    });
    await seedConversation(relay, 'c-1', [{ userId: 'alice', role: 'patient' }]);
    const socket = await connectAs(relay, await relay.token('alice', 'patient'));
    const acks = await Promise.all(
      Array.from({ length: 60 }, () =>
        call(socket, 'typing', { conversationId: 'c-1', typing: true }),
      ),
    );
    const limited = acks.filter((a) => !a.ok && a.error.code === 'RATE_LIMITED').length;
    expect(limited).toBeGreaterThanOrEqual(60 - 41);
    expect(limited).toBeLessThan(60);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await ok(socket, 'conversation.list', {});
    socket.close();
  });
});
