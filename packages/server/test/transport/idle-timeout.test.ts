// The idle timeout against a real relay: a session with no request of the person's own for the
// tenant's idleTimeoutSeconds ends with `session.ended` SESSION_IDLE and a disconnect; what the
// client does by itself and what the relay pushes do not count; 0 turns it off.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  clientFor,
  connectAs,
  makeTenant,
  ok,
  seedConversation,
  startRelay,
  waitFor,
  type RawSocket,
  type TestRelay,
  type TestTenant,
} from '../helpers.js';

const IDLE_SECONDS = 2;
const IDLE_MS = IDLE_SECONDS * 1000;
const conversationId = 'c-idle';

let relay: TestRelay;
let quiet: TestTenant;

beforeAll(async () => {
  quiet = await makeTenant('quiet', { idleTimeoutSeconds: 0 });
  relay = await startRelay({ devTenantIdleTimeoutSeconds: IDLE_SECONDS, tenants: [quiet.config] });
  await seedConversation(relay, conversationId, [{ userId: 'alice', role: 'patient' }]);
});
afterAll(async () => {
  await relay.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What the relay tells `socket` about its end, in order. */
function watch(socket: RawSocket): string[] {
  const events: string[] = [];
  socket.on('session.ended', (error) => events.push(error.code));
  socket.on('disconnect', (reason) => events.push(reason));
  return events;
}

async function aliceOpen(): Promise<{ socket: RawSocket; events: string[] }> {
  const socket = await connectAs(relay, await relay.token('alice', 'patient'));
  const events = watch(socket);
  await ok(socket, 'conversation.open', { conversationId });
  return { socket, events };
}

describe('idle timeout', () => {
  it('ends a session that makes no request for the idle timeout, and says why', async () => {
    const { events } = await aliceOpen();
    const lastRequest = Date.now();
    await waitFor(() => events.length === 2, IDLE_MS + 3000, 'the idle end');
    expect(events).toEqual(['SESSION_IDLE', 'io server disconnect']);
    expect(Date.now() - lastRequest).toBeGreaterThanOrEqual(IDLE_MS - 50);
    expect(relay.logs()).toContain('idle session ended');
  });

  it('keeps the session while the person types and sends, and ends it once they stop', async () => {
    const { socket, events } = await aliceOpen();
    const until = Date.now() + IDLE_MS * 1.5;
    while (Date.now() < until) {
      await ok(socket, 'typing', { conversationId, typing: true });
      await sleep(300);
    }
    await ok(socket, 'message.send', {
      conversationId,
      id: crypto.randomUUID(),
      text: 'Still here',
    });
    const lastRequest = Date.now();
    expect(events).toEqual([]);
    await waitFor(() => events.length === 2, IDLE_MS + 3000, 'the idle end');
    expect(events).toEqual(['SESSION_IDLE', 'io server disconnect']);
    expect(Date.now() - lastRequest).toBeGreaterThanOrEqual(IDLE_MS - 50);
  });

  it('does not count token refreshes, catch-up, read receipts or deliveries as activity', async () => {
    const { socket, events } = await aliceOpen();
    const provider = await connectAs(
      relay,
      await relay.token('dr-rivera', 'provider', { name: 'Dr. Rivera' }),
    );
    await ok(provider, 'conversation.open', { conversationId });
    const started = Date.now();
    // The care team keeps writing; Alice's client reads, catches up and refreshes by itself.
    while (events.length === 0 && Date.now() - started < IDLE_MS + 3000) {
      const { seq } = await ok(provider, 'message.send', {
        conversationId,
        id: crypto.randomUUID(),
        text: 'Are you there?',
      });
      if (!socket.connected) break;
      await Promise.all([
        ok(socket, 'receipt.read', { conversationId, seq }),
        ok(socket, 'sync', { conversationId, afterSeq: seq - 1 }),
        ok(socket, 'auth.refresh', { token: await relay.token('alice', 'patient') }),
      ]).catch(() => undefined); // the last round may meet the disconnect
      await sleep(300);
    }
    await waitFor(() => events.length === 2, 3000, 'the idle end');
    expect(events).toEqual(['SESSION_IDLE', 'io server disconnect']);
    expect(Date.now() - started).toBeLessThan(IDLE_MS + 2000);
    // The provider sent all along, so the provider's session is still open.
    expect(provider.connected).toBe(true);
    provider.close();
  });

  it('never ends a session for idleness in a tenant whose timeout is 0', async () => {
    const socket = await connectAs(relay, await relay.token('zoe', 'patient', { tenant: quiet }));
    const events = watch(socket);
    await sleep(IDLE_MS * 1.5);
    expect(events).toEqual([]);
    expect(socket.connected).toBe(true);
    socket.close();
  });

  it('ends the headless client for good: no reconnection, the conversation forgotten', async () => {
    const client = clientFor(relay, 'alice', 'patient', 'Alice Moreno');
    const conversation = client.conversation(conversationId);
    await conversation.open();
    expect(conversation.messages.length).toBeGreaterThan(0);
    const closed = await new Promise((resolve) => conversation.on('closed', resolve));
    expect(closed).toMatchObject({ code: 'SESSION_IDLE' });
    expect(client.state).toBe('ended');
    expect(client.error?.code).toBe('SESSION_IDLE');
    expect(conversation.messages).toEqual([]);
    expect(conversation.snapshot).toBeUndefined();
    // It would have reconnected within its 50-200 ms back-off by now.
    await sleep(1000);
    expect(client.socket.connected).toBe(false);
    client.close();
  });
});
