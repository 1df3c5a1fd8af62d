// Two relay nodes on one PostgreSQL and one Redis: what is sent on one node reaches sockets on
// the other, and access that narrows on one node holds on the other.
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { MessageView, ServerToClientEvents } from '@carethread/shared';
import { startCluster, type TestCluster } from '../cluster-helpers.js';
import { clientFor, connectAs, ok, seedConversation, waitFor, type RawSocket } from '../helpers.js';
import { describeWithServices } from '../needs-services.js';

describeWithServices(
  'relay nodes sharing Redis',
  ['DATABASE_URL', 'REDIS_URL'],
  ({ DATABASE_URL, REDIS_URL }) => {
    let cluster: TestCluster;
    const sockets: RawSocket[] = [];
    beforeEach(async () => {
      cluster = await startCluster(2, { databaseUrl: DATABASE_URL, redisUrl: REDIS_URL });
    });
    afterEach(async () => {
      for (const socket of sockets.splice(0)) socket.close();
      await cluster.close();
    });

    async function connect(node: number, sub: string, role: 'patient' | 'provider' | 'family') {
      const relay = cluster.nodes[node]!;
      const socket = await connectAs(relay, await relay.token(sub, role, { name: sub }));
      sockets.push(socket);
      return socket;
    }

    function collect<E extends keyof ServerToClientEvents>(socket: RawSocket, event: E) {
      const seen: Parameters<ServerToClientEvents[E]>[0][] = [];
      (socket as unknown as { on: (e: string, f: (p: never) => void) => void }).on(event, (p) => {
        seen.push(p);
      });
      return seen;
    }

    it('delivers messages, corrections, receipts and typing from one node to the other', async () => {
      const [a, b] = cluster.nodes as [(typeof cluster.nodes)[0], (typeof cluster.nodes)[0]];
      await seedConversation(a, 'c-x', [{ userId: 'alice', role: 'patient' }]);
      const doctor = await connect(0, 'dr-rivera', 'provider');
      const alice = await connect(1, 'alice', 'patient');
      await ok(doctor, 'conversation.open', { conversationId: 'c-x' });
      await ok(alice, 'conversation.open', { conversationId: 'c-x' });
      const messages = collect(alice, 'message');
      const edits = collect(alice, 'message.edited');
      const receipts = collect(doctor, 'receipt');
      const typing = collect(alice, 'typing');

      await ok(doctor, 'typing', { conversationId: 'c-x', typing: true });
      const sent = await ok(doctor, 'message.send', {
        conversationId: 'c-x',
        id: 'cross-node-01',
        text: 'From node A',
      });
      await ok(doctor, 'message.edit', {
        conversationId: 'c-x',
        id: 'cross-node-02',
        targetSeq: sent.seq,
        text: 'From node A, corrected',
      });
      await waitFor(() => messages.length === 1 && edits.length === 1, 5_000, 'delivery on B');
      await ok(alice, 'receipt.read', { conversationId: 'c-x', seq: sent.seq });
      await waitFor(() => receipts.length === 1, 5_000, 'receipt on A');
      expect(messages[0]).toMatchObject({ id: 'cross-node-01', seq: 1, text: 'From node A' });
      expect(edits[0]).toMatchObject({ targetSeq: 1, text: 'From node A, corrected' });
      expect(receipts[0]).toMatchObject({ userId: 'alice', readSeq: 1 });
      expect(typing).toEqual([{ conversationId: 'c-x', userId: 'dr-rivera', typing: true }]);

      // And a message posted through the host API on node B reaches the doctor on node A.
      const doctorMessages = collect(doctor, 'message');
      const posted = await fetch(`${b.url}/api/v1/conversations/c-x/messages`, {
        method: 'POST',
        headers: { authorization: `Bearer ${b.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ id: 'host-note-001', text: 'Appointment moved to 3 pm.' }),
      });
      expect(posted.status).toBe(201);
      await waitFor(() => doctorMessages.length === 1, 5_000, 'host post on A');
      expect(doctorMessages[0]).toMatchObject({ id: 'host-note-001', seq: 3 });
    });

    it('shows who is online across nodes, and forgets the people of a node that stops', async () => {
      const [a] = cluster.nodes as [(typeof cluster.nodes)[0]];
      await seedConversation(a, 'c-here', [{ userId: 'alice', role: 'patient' }]);
      const doctor = await connect(0, 'dr-rivera', 'provider');
      await ok(doctor, 'conversation.open', { conversationId: 'c-here' });
      const presence = collect(doctor, 'presence');
      const online = async (socket: RawSocket) =>
        (await ok(socket, 'conversation.open', { conversationId: 'c-here' })).participants
          .filter((p) => p.online)
          .map((p) => p.userId)
          .sort();

      // Alice on node B, on two devices: one "online" for the doctor on node A.
      const phone = await connect(1, 'alice', 'patient');
      const laptop = await connect(1, 'alice', 'patient');
      expect(await online(phone)).toEqual(['alice', 'dr-rivera']);
      await ok(laptop, 'conversation.open', { conversationId: 'c-here' });
      await waitFor(() => presence.length === 1, 5_000, 'alice online on node A');
      expect(await online(doctor)).toEqual(['alice', 'dr-rivera']);
      phone.close(); // still on the laptop
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(presence).toEqual([{ conversationId: 'c-here', userId: 'alice', online: true }]);

      // Node B stops: its people go offline for node A's followers.
      await cluster.nodes[1]!.close();
      await waitFor(() => presence.length === 2, 5_000, 'alice offline on node A');
      expect(presence[1]).toEqual({ conversationId: 'c-here', userId: 'alice', online: false });
      expect(await online(doctor)).toEqual(['dr-rivera']);
    });

    it('stops delivering to a family member on node B once the patient revokes on node A', async () => {
      const [a] = cluster.nodes as [(typeof cluster.nodes)[0]];
      await seedConversation(a, 'c-fam', [
        { userId: 'alice', role: 'patient' },
        { userId: 'bob', role: 'family', relationship: 'father' },
      ]);
      const requests = await ok(await connect(0, 'alice', 'patient'), 'consent.list', {
        conversationId: 'c-fam',
      });
      const requestId = requests.requests[0]!.requestId;
      const bob = await connect(1, 'bob', 'family');
      await ok(bob, 'conversation.open', { conversationId: 'c-fam' });
      const bobSees = collect(bob, 'message');
      const bobRemoved = collect(bob, 'participant.removed');
      // The provider follows on node B through the headless client, which opens again when
      // access changes, so it keeps receiving after the revocation.
      const provider = clientFor(cluster.nodes[1]!, 'dr-rivera', 'provider', 'Dr. Rivera');
      const thread = provider.conversation('c-fam');
      await thread.open();
      const providerSees: MessageView[] = [];
      thread.on('message', (m) => providerSees.push(m));
      const doctor = await connect(0, 'dr-rivera', 'provider');

      await ok(doctor, 'message.send', { conversationId: 'c-fam', id: 'before-rev-1', text: 'x' });
      await waitFor(() => bobSees.length === 1, 5_000, 'bob to see the first message');
      const alice = await connect(0, 'alice', 'patient');
      await ok(alice, 'consent.revoke', {
        requestId,
        signature: { method: 'typed', name: 'alice' },
      });
      for (let i = 0; i < 5; i++)
        await ok(doctor, 'message.send', {
          conversationId: 'c-fam',
          id: `after-rev-${i}`,
          text: 'y',
        });
      await waitFor(() => providerSees.length === 6, 5_000, 'the provider to see all six');
      await waitFor(() => bobRemoved.length === 1, 5_000, 'bob to be told');
      expect(bobRemoved[0]).toMatchObject({
        conversationId: 'c-fam',
        userId: 'bob',
        reason: { code: 'CONSENT_REQUIRED' },
      });
      expect(bobSees.map((m) => m.id)).toEqual(['before-rev-1']);
      provider.close();
    });
  },
);
