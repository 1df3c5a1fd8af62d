// Conversations end to end: real relay, real Socket.IO clients, the headless client on top.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MessageView, SyncResult, ackSchema } from '@carethread/shared';
import type { CareThreadClient } from '@carethread/widget/client';
import {
  call,
  clientFor,
  connectAs,
  ok,
  rawEntries,
  seedConversation,
  startRelay,
  waitFor,
  type TestRelay,
} from '../helpers.js';

let relay: TestRelay;
const clients: CareThreadClient[] = [];
/** Bob's consent, given while seeding c-1, is its first two entries (system entries, issue 17). */
const SEEDED = 2;
function client(
  sub: string,
  role: Parameters<typeof clientFor>[2],
  name?: string,
): CareThreadClient {
  const c = clientFor(relay, sub, role, name);
  clients.push(c);
  return c;
}

beforeEach(async () => {
  relay = await startRelay();
  await seedConversation(relay, 'c-1', [
    { userId: 'alice', role: 'patient', displayName: 'Alice' },
    { userId: 'bob', role: 'family', displayName: 'Bob', relationship: 'brother' },
  ]);
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await relay.close();
});

describe('two participants', () => {
  it("converse: each sees the other's messages in order, with server sequence numbers", async () => {
    const alice = client('alice', 'patient', 'Alice');
    const bob = client('bob', 'family', 'Bob');
    const aliceChat = alice.conversation('c-1');
    const bobChat = bob.conversation('c-1');
    const snapshot = await aliceChat.open();
    await bobChat.open();
    expect(snapshot.participants.map((p) => [p.userId, p.role])).toEqual([
      ['alice', 'patient'],
      ['bob', 'family'],
      ['dr-rivera', 'provider'],
    ]);
    expect(snapshot.participants.find((p) => p.userId === 'bob')?.relationship).toBe('brother');

    const stored = await aliceChat.send('Hi Bob, the family session is on Thursday.');
    expect(stored).toMatchObject({
      seq: SEEDED + 1,
      sender: { userId: 'alice', displayName: 'Alice', role: 'patient' },
    });
    await bobChat.send('Thanks, I will be there.');
    await waitFor(
      () => aliceChat.messages.length === 2 && bobChat.messages.length === 2,
      5000,
      'both messages on both sides',
    );
    for (const chat of [aliceChat, bobChat]) {
      expect(chat.messages.map((m) => [m.seq, m.sender.userId, m.text])).toEqual([
        [SEEDED + 1, 'alice', 'Hi Bob, the family session is on Thursday.'],
        [SEEDED + 2, 'bob', 'Thanks, I will be there.'],
      ]);
      expect(chat.outbox).toEqual([]);
    }
  });

  it('shows corrections to others while the original stays in the record', async () => {
    const alice = client('alice', 'patient');
    const bob = client('bob', 'family');
    const aliceChat = alice.conversation('c-1');
    const bobChat = bob.conversation('c-1');
    await aliceChat.open();
    await bobChat.open();
    const sent = await aliceChat.send('See you at 3pm');
    await aliceChat.edit(sent.seq, 'See you at 4pm');
    await waitFor(() => bobChat.messages[0]?.editedAt != null, 5000, 'edit to arrive');
    expect(bobChat.messages[0]).toMatchObject({ seq: SEEDED + 1, text: 'See you at 4pm' });
    expect((await rawEntries(relay.dataDir, 'c-1')).filter((e) => e.kind !== 'event')).toEqual([
      { kind: 'message', text: 'See you at 3pm' },
      { kind: 'edit', text: 'See you at 4pm' },
    ]);
    // Only the sender may correct.
    await expect(bobChat.edit(sent.seq, 'hijacked')).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });

  it('shows each as online to the other when both open at the same moment', async () => {
    // The snapshot is read before the socket joins the room; a change in between must not be lost.
    for (let round = 0; round < 10; round++) {
      const alice = await connectAs(relay, await relay.token('alice', 'patient'));
      const doctor = await connectAs(relay, await relay.token('dr-rivera', 'provider'));
      const seenBy = (socket: typeof alice, userId: string) => {
        let online = false;
        socket.on('presence', (p) => {
          if (p.userId === userId) online = p.online;
        });
        return () => online;
      };
      const aliceSeesDoctor = seenBy(alice, 'dr-rivera');
      const doctorSeesAlice = seenBy(doctor, 'alice');
      const [forAlice, forDoctor] = await Promise.all([
        ok(alice, 'conversation.open', { conversationId: 'c-1' }),
        ok(doctor, 'conversation.open', { conversationId: 'c-1' }),
      ]);
      const online = (snapshot: typeof forAlice, userId: string) =>
        snapshot.participants.find((p) => p.userId === userId)?.online ?? false;
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(online(forAlice, 'dr-rivera') || aliceSeesDoctor(), `round ${String(round)}`).toBe(
        true,
      );
      expect(online(forDoctor, 'alice') || doctorSeesAlice(), `round ${String(round)}`).toBe(true);
      alice.close();
      doctor.close();
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });

  it('keeps presence heard while opening: the headless clients of two people opening at once', async () => {
    for (let round = 0; round < 10; round++) {
      const alice = client('alice', 'patient');
      const doctor = client('dr-rivera', 'provider');
      const [aliceChat, doctorChat] = [alice.conversation('c-1'), doctor.conversation('c-1')];
      await Promise.all([aliceChat.open(), doctorChat.open()]);
      const sees = (chat: typeof aliceChat, userId: string) =>
        chat.snapshot?.participants.find((p) => p.userId === userId)?.online === true;
      await waitFor(
        () => sees(aliceChat, 'dr-rivera') && sees(doctorChat, 'alice'),
        2_000,
        `round ${String(round)}: both online for each other`,
      );
      alice.close();
      doctor.close();
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });

  it('relays typing, read receipts and presence', async () => {
    const alice = client('alice', 'patient');
    const bob = client('bob', 'family');
    const aliceChat = alice.conversation('c-1');
    const bobChat = bob.conversation('c-1');
    await aliceChat.open();
    const presence: [string, boolean][] = [];
    aliceChat.on('presence', (p) => presence.push([p.userId, p.online]));
    await bobChat.open();
    await waitFor(() => presence.length > 0, 5000, 'presence');
    expect(presence).toEqual([['bob', true]]);
    expect(aliceChat.snapshot?.participants.find((p) => p.userId === 'bob')?.online).toBe(true);

    const typing: boolean[] = [];
    aliceChat.on('typing', (t) => typing.push(t.typing));
    bobChat.setTyping(true);
    await waitFor(() => typing.length === 1, 5000, 'typing');

    await aliceChat.send('one');
    await aliceChat.send('two');
    await waitFor(() => bobChat.lastSeq === SEEDED + 2, 5000, 'bob to catch up');
    expect(await bobChat.markRead()).toBe(SEEDED + 2);
    await waitFor(
      () =>
        aliceChat.snapshot?.participants.find((p) => p.userId === 'bob')?.readSeq === SEEDED + 2,
      5000,
      'receipt',
    );
    // A read mark cannot run ahead of the conversation.
    expect(await bobChat.markRead(1000)).toBe(SEEDED + 2);

    await bobChat.close();
    await waitFor(() => presence.length === 2, 5000, 'offline presence');
    expect(presence[1]).toEqual(['bob', false]);
  });

  it('pages history backwards from the newest messages', async () => {
    const alice = client('alice', 'patient');
    const aliceChat = alice.conversation('c-1');
    await aliceChat.open();
    for (let i = 1; i <= 30; i++) await aliceChat.send(`message ${i}`);
    const bob = client('bob', 'family');
    const bobChat = bob.conversation('c-1');
    await bobChat.open({ historyPage: 10 });
    const seqs = (from: number, to: number) =>
      Array.from({ length: to - from + 1 }, (_, i) => SEEDED + from + i);
    expect(bobChat.messages.map((m) => m.seq)).toEqual(seqs(21, 30));
    const older = await bobChat.loadOlder(15);
    expect(older.map((m) => m.seq)).toEqual(seqs(6, 20));
    // The oldest page: the rest, without the consent's entries, which a family member never sees.
    await bobChat.loadOlder(15);
    expect(bobChat.hasMoreHistory).toBe(false);
    expect(bobChat.messages.map((m) => m.seq)).toEqual(seqs(1, 30));
    expect(bobChat.events).toEqual([]);
  });
});

describe('delivery guarantees', () => {
  it('a client offline while 200 messages are sent receives exactly those 200, in order, on reconnect', async () => {
    const alice = client('alice', 'patient');
    const aliceChat = alice.conversation('c-1');
    await aliceChat.open();
    const bob = client('bob', 'family');
    const bobChat = bob.conversation('c-1');
    await bobChat.open();
    await aliceChat.send('before the outage');
    await waitFor(() => bobChat.lastSeq === SEEDED + 1, 5000, 'first message');

    const received: number[] = [];
    bobChat.on('message', (m) => received.push(m.seq));
    bob.socket.disconnect(); // the network drops; the handle stays wanted
    await waitFor(() => bob.state === 'offline', 5000, 'bob offline');
    for (let i = 1; i <= 200; i++) await aliceChat.send(`missed ${i}`);
    bob.socket.connect();
    await waitFor(() => bobChat.lastSeq === SEEDED + 201, 10_000, 'catch-up to 201');
    expect(received).toEqual(Array.from({ length: 200 }, (_, i) => SEEDED + i + 2));
    expect(bobChat.messages.map((m) => m.text).slice(1)).toEqual(
      Array.from({ length: 200 }, (_, i) => `missed ${i + 1}`),
    );
  });

  it('fills a gap in live delivery from the store, delivering in sequence order', async () => {
    const alice = client('alice', 'patient');
    const aliceChat = alice.conversation('c-1');
    await aliceChat.open();
    const bob = client('bob', 'family');
    const bobChat = bob.conversation('c-1');
    await bobChat.open();
    const order: number[] = [];
    bobChat.on('message', (m) => order.push(m.seq));
    await aliceChat.send('one');
    await waitFor(() => bobChat.lastSeq === SEEDED + 1, 5000, 'first');
    // Lose one live delivery, as a lagging or restarting adapter would.
    const room = 't:dev:c:c-1';
    relay.relay.io.in(bob.socket.id!).socketsLeave(room);
    await aliceChat.send('two (lost live)');
    relay.relay.io.in(bob.socket.id!).socketsJoin(room);
    await aliceChat.send('three');
    await waitFor(() => bobChat.lastSeq === SEEDED + 3, 5000, 'gap filled');
    expect(order).toEqual([1, 2, 3].map((n) => SEEDED + n));
    expect(bobChat.messages.map((m) => m.text)).toEqual(['one', 'two (lost live)', 'three']);
  });

  it('a message resent 5 times is stored once and every resend gets the original ack', async () => {
    const socket = await connectAs(relay, await relay.token('alice', 'patient'));
    const acks = [];
    for (let i = 0; i < 5; i++)
      acks.push(
        await call(socket, 'message.send', {
          conversationId: 'c-1',
          id: 'resend-0001',
          text: 'only once',
        }),
      );
    socket.close();
    expect(new Set(acks.map((a) => JSON.stringify(a))).size).toBe(1);
    expect(acks[0]).toMatchObject({ ok: true, data: { id: 'resend-0001', seq: SEEDED + 1 } });
    const { entries } = await relay.relay.store.entriesAfter('dev', 'c-1', 0, 100);
    expect(entries).toHaveLength(1);
  });

  it('a resend of a stored message gets its first ack even when its sender is over the send rate', async () => {
    // A relay whose send rate is one message and then one every 100 s: the resends below find
    // the sender's allowance empty, as a client catching up after a lost ack can.
    const slow = await startRelay({
      devTenantLimits: { maxMessageLength: 4000, sendPerSecond: 0.01, sendBurst: 1 },
    });
    try {
      await seedConversation(slow, 'c-slow', [{ userId: 'alice', role: 'patient' }]);
      const socket = await connectAs(slow, await slow.token('alice', 'patient'));
      try {
        const first = await call(socket, 'message.send', {
          conversationId: 'c-slow',
          id: 'slow-0001',
          text: 'once',
        });
        expect(first).toMatchObject({ ok: true, data: { seq: 1 } });
        const edit = await call(socket, 'message.edit', {
          conversationId: 'c-slow',
          id: 'slow-0002',
          targetSeq: 1,
          text: 'twice',
        });
        expect(edit).toMatchObject({ ok: false, error: { code: 'RATE_LIMITED' } });
        for (let i = 0; i < 3; i++)
          expect(
            await call(socket, 'message.send', {
              conversationId: 'c-slow',
              id: 'slow-0001',
              text: 'once',
            }),
          ).toEqual(first);
        // A new message is still held to the rate, and a resend with other text is no resend.
        for (const [id, text] of [
          ['slow-0003', 'new'],
          ['slow-0001', 'other text'],
        ] as const)
          expect(
            await call(socket, 'message.send', { conversationId: 'c-slow', id, text }),
          ).toMatchObject({ ok: false, error: { code: 'RATE_LIMITED' } });
      } finally {
        socket.close();
      }
    } finally {
      await slow.close();
    }
  });

  it('messages written while offline wait in the outbox and go out by themselves on reconnect', async () => {
    const alice = client('alice', 'patient');
    const aliceChat = alice.conversation('c-1');
    await aliceChat.open();
    alice.socket.disconnect();
    await waitFor(() => alice.state === 'offline', 5000, 'offline');
    const pending = [aliceChat.send('queued 1'), aliceChat.send('queued 2')];
    expect(aliceChat.outbox.map((o) => [o.text, o.state])).toEqual([
      ['queued 1', 'queued'],
      ['queued 2', 'queued'],
    ]);
    alice.socket.connect();
    const stored = await Promise.all(pending);
    expect(stored.map((m) => [m.seq, m.text])).toEqual([
      [SEEDED + 1, 'queued 1'],
      [SEEDED + 2, 'queued 2'],
    ]);
    expect(aliceChat.outbox).toEqual([]);
  });

  it('a send on a conversation never opened opens it, with one catch-up, past a page of entries', async () => {
    // More entries than one sync page (500): catch-up from 0 on an unopened handle never ended.
    // A socket per 40 of them, to stay under the relay's packet rate per socket.
    for (let batch = 0; batch < 13; batch++) {
      const dr = await connectAs(relay, await relay.token('dr-rivera', 'provider'));
      for (let i = batch * 40 + 1; i <= (batch + 1) * 40; i++)
        await ok(dr, 'message.send', {
          conversationId: 'c-1',
          id: `dr-note-${String(i).padStart(4, '0')}`,
          text: `note ${String(i)}`,
        });
      dr.close();
    }
    const alice = client('alice', 'patient', 'Alice');
    let syncs = 0;
    alice.socket.onAnyOutgoing((event) => {
      if (event === 'sync') syncs += 1;
    });
    const aliceChat = alice.conversation('c-1');

    const stored = await aliceChat.send('Sent without opening first');
    expect(syncs).toBeLessThanOrEqual(2);
    expect(stored).toMatchObject({
      seq: SEEDED + 521,
      text: 'Sent without opening first',
      sender: { userId: 'alice', displayName: 'Alice', role: 'patient' },
    });
    // Opened by the send: it follows the conversation from here on.
    expect(aliceChat.snapshot?.lastSeq).toBeGreaterThanOrEqual(SEEDED + 520);
    expect(aliceChat.messages.at(-1)).toEqual(stored);
    expect(aliceChat.outbox).toEqual([]);
  }, 30_000);

  it('every ack and event the relay sends matches the shared schemas', async () => {
    const socket = await connectAs(relay, await relay.token('alice', 'patient'));
    const events: unknown[] = [];
    socket.on('message', (m) => events.push(m));
    await ok(socket, 'conversation.open', { conversationId: 'c-1' });
    const ack = await call(socket, 'message.send', {
      conversationId: 'c-1',
      id: 'schema-0001',
      text: 'hello',
    });
    await waitFor(() => events.length === 1, 5000, 'echo');
    expect(MessageView.safeParse(events[0]).success).toBe(true);
    expect(
      ackSchema(SyncResult).safeParse(
        await call(socket, 'sync', { conversationId: 'c-1', afterSeq: 0 }),
      ).success,
    ).toBe(true);
    expect(ack.ok).toBe(true);
    socket.close();
  });
});

describe('access', () => {
  it('a non-member can neither read nor write, and receives nothing', async () => {
    const alice = await connectAs(relay, await relay.token('alice', 'patient'));
    const mallory = await connectAs(relay, await relay.token('mallory', 'family'));
    const seen: unknown[] = [];
    mallory.on('message', (m) => seen.push(m));
    for (const [event, payload] of [
      ['conversation.open', { conversationId: 'c-1' }],
      ['history.page', { conversationId: 'c-1' }],
      ['sync', { conversationId: 'c-1', afterSeq: 0 }],
      ['message.send', { conversationId: 'c-1', id: 'mallory-001', text: 'let me in' }],
      ['typing', { conversationId: 'c-1', typing: true }],
      ['receipt.read', { conversationId: 'c-1', seq: 1 }],
    ] as const) {
      const ack = await call(mallory, event, payload as never);
      expect(ack, event).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    }
    await ok(alice, 'message.send', { conversationId: 'c-1', id: 'alice-0001', text: 'private' });
    expect(await call(mallory, 'sync', { conversationId: 'c-2', afterSeq: 0 })).toMatchObject({
      ok: false,
      error: { code: 'NOT_FOUND' },
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(seen).toEqual([]);
    const { entries } = await relay.relay.store.entriesAfter('dev', 'c-1', 0, 10);
    expect(entries.map((e) => e.id)).toEqual(['alice-0001']);
    alice.close();
    mallory.close();
  });

  it('only the care team starts conversations and changes who is in them', async () => {
    const alice = await connectAs(relay, await relay.token('alice', 'patient'));
    expect(
      await call(alice, 'conversation.create', {
        conversationId: 'c-x',
        title: 'Mine',
        participants: [],
      }),
    ).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    expect(
      await call(alice, 'participant.add', {
        conversationId: 'c-1',
        participant: { userId: 'eve', role: 'family', displayName: 'Eve' },
      }),
    ).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    alice.close();
  });

  it('a removed participant stops receiving at once and can no longer read', async () => {
    const dr = await connectAs(relay, await relay.token('dr-rivera', 'provider'));
    const bob = client('bob', 'family');
    const bobChat = bob.conversation('c-1');
    await bobChat.open();
    const closed: string[] = [];
    bobChat.on('closed', (e) => closed.push(e.code));
    await ok(dr, 'participant.remove', { conversationId: 'c-1', userId: 'bob' });
    await waitFor(() => closed.length === 1, 5000, 'bob told');
    await ok(dr, 'message.send', {
      conversationId: 'c-1',
      id: 'after-remove',
      text: 'not for bob',
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(bobChat.messages.map((m) => m.text)).not.toContain('not for bob');
    await expect(bob.request('sync', { conversationId: 'c-1', afterSeq: 0 })).rejects.toMatchObject(
      { code: 'NOT_FOUND' },
    );
    dr.close();
  });
});
