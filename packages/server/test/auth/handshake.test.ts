// The handshake beyond tokens and origins (those are in ../attacks/tokens.test.ts): the protocol
// version, and sessions that outlive their token.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '@carethread/widget/client';
import {
  call,
  connectAs,
  connectOutcome,
  seedConversation,
  startRelay,
  waitFor,
  type TestRelay,
} from '../helpers.js';

let relay: TestRelay;
beforeAll(async () => {
  relay = await startRelay();
  await seedConversation(relay, 'c-1', [{ userId: 'alice', role: 'patient' }]);
});
afterAll(async () => {
  await relay.close();
});

describe('protocol version', () => {
  it('refuses a client that speaks another version, and one that does not say', async () => {
    const token = await relay.token('alice', 'patient');
    expect(await connectOutcome(relay.url, { token, protocol: 99 })).toBe('UNSUPPORTED_VERSION');
    expect(await connectOutcome(relay.url, { token })).toBe('UNSUPPORTED_VERSION');
  });
});

describe('session expiry', () => {
  it('warns before expiry, takes a fresh token, and keeps the session', async () => {
    let minted = 0;
    const client = createClient({
      url: relay.url,
      transports: ['websocket'],
      tokenProvider: () => {
        minted++;
        return relay.token('alice', 'patient', { ttlSeconds: 3 });
      },
    });
    await client.ready();
    const socketId = client.socket.id;
    await new Promise((resolve) => setTimeout(resolve, 4500));
    expect(minted).toBeGreaterThanOrEqual(2);
    expect(client.state).toBe('connected');
    expect(client.socket.id).toBe(socketId);
    client.close();
  });

  it('ends the session at expiry when no fresh token comes', async () => {
    const socket = await connectAs(relay, await relay.token('alice', 'patient', { ttlSeconds: 2 }));
    const events: string[] = [];
    socket.on('session.expiring', () => events.push('expiring'));
    socket.on('session.ended', (e) => events.push(e.code));
    socket.on('disconnect', (reason) => events.push(reason));
    await waitFor(() => events.length === 3, 6000, 'expiry');
    expect(events).toEqual(['expiring', 'TOKEN_EXPIRED', 'io server disconnect']);
  });

  it('refuses a refreshed token for someone else', async () => {
    const socket = await connectAs(relay, await relay.token('alice', 'patient'));
    const bobs = await relay.token('bob', 'patient');
    expect(await call(socket, 'auth.refresh', { token: bobs })).toMatchObject({
      ok: false,
      error: { code: 'FORBIDDEN' },
    });
    socket.close();
  });

  it('ends the headless client with a clear reason when the host has no fresh token', async () => {
    let first = true;
    const client = createClient({
      url: relay.url,
      transports: ['websocket'],
      reconnectDelayMs: { min: 50, max: 100 },
      tokenProvider: async () => {
        if (first) {
          first = false;
          return relay.token('alice', 'patient', { ttlSeconds: 2 });
        }
        throw new Error('host session over');
      },
    });
    await client.ready();
    await waitFor(() => client.state === 'ended', 8000, 'session end');
    expect(client.error?.code).toBe('UNAUTHENTICATED');
    client.close();
  });
});
