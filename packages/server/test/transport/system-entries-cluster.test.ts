// System entries across two relay nodes on one PostgreSQL and one Redis (issue 17): a consent's
// steps reach the patient and the care team on either node, live, and a consented family member
// by no path at all (live on either node, catch-up, history, a new session); joins reach everyone.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Entry, EventView, MessageView } from '@carethread/shared';
import type { CareThreadClient } from '@carethread/widget/client';
import { startCluster, type TestCluster } from '../cluster-helpers.js';
import {
  clientFor,
  connectAs,
  ok,
  seedConversation,
  waitFor,
  type RawSocket,
  type TestRelay,
} from '../helpers.js';
import { describeWithServices } from '../needs-services.js';

const typesOf = (entries: readonly Entry[]) =>
  entries.flatMap((e) => (e.kind === 'event' ? [e.event.type] : []));

describeWithServices(
  'system entries on two relay nodes',
  ['DATABASE_URL', 'REDIS_URL'],
  ({ DATABASE_URL, REDIS_URL }) => {
    let cluster: TestCluster;
    const sockets: RawSocket[] = [];
    const clients: CareThreadClient[] = [];
    beforeAll(async () => {
      cluster = await startCluster(2, { databaseUrl: DATABASE_URL, redisUrl: REDIS_URL });
    });
    afterAll(async () => {
      for (const socket of sockets) socket.close();
      for (const client of clients) client.close();
      await cluster.close();
    });

    /** A socket of `sub` on `node` that has opened the conversation, and all it hears. */
    async function follower(
      node: TestRelay,
      sub: string,
      role: 'patient' | 'family' | 'provider',
      name = sub,
    ) {
      const socket = await connectAs(node, await node.token(sub, role, { name }));
      sockets.push(socket);
      const events: EventView[] = [];
      const messages: MessageView[] = [];
      socket.on('conversation.event', (entry) => events.push(entry));
      socket.on('message', (message) => messages.push(message));
      await ok(socket, 'conversation.open', { conversationId: 'c-nodes' });
      return { socket, events, messages };
    }

    it('never gives a consented family member a consent step, on either node, by any path', async () => {
      const [a, b] = cluster.nodes as [TestRelay, TestRelay];
      await seedConversation(a, 'c-nodes', [
        { userId: 'alice', role: 'patient', displayName: 'Alice Moreno' },
        { userId: 'bob', role: 'family', displayName: 'Bob Moreno', relationship: 'brother' },
      ]);
      const bobOnA = await follower(a, 'bob', 'family');
      const bobOnB = await follower(b, 'bob', 'family');
      // Her token's name is the one she types to sign.
      const alice = await follower(b, 'alice', 'patient', 'Alice Moreno');
      const dr = await follower(a, 'dr-rivera', 'provider');
      const bobClient = createFollowingClient(b, 'bob');
      await bobClient.open();

      // On node A: Carol joins, and the doctor asks Alice to share with her too.
      await ok(dr.socket, 'participant.add', {
        conversationId: 'c-nodes',
        participant: {
          userId: 'carol',
          role: 'family',
          displayName: 'Carol Moreno',
          relationship: 'mother',
        },
      });
      await ok(dr.socket, 'consent.request', {
        requestId: 'nodes-carol-01',
        templateId: 'family-disclosure',
        conversationId: 'c-nodes',
        patientId: 'alice',
        recipients: ['carol'],
        purpose: 'Family support',
        expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
      });
      // On node B: Alice signs it.
      const { template, disclosure } = await ok(alice.socket, 'consent.view', {
        requestId: 'nodes-carol-01',
      });
      await ok(alice.socket, 'consent.sign', {
        requestId: 'nodes-carol-01',
        disclosureHash: disclosure.hash,
        acknowledgements: template.blocks.flatMap((block) =>
          block.type === 'acknowledgement' ? [block.id] : [],
        ),
        answers: { capacity: 'The patient', 'ends-on': '2099-01-01' },
        signature: { method: 'typed', name: 'Alice Moreno' },
      });
      // Then a message, which every follower gets: after it, nothing of the steps is on its way.
      await ok(dr.socket, 'message.send', {
        conversationId: 'c-nodes',
        id: 'nodes-0001',
        text: 'hi',
      });
      const steps = ['participant.added', 'consent.requested', 'consent.signed'];
      await waitFor(
        () =>
          [bobOnA, bobOnB, alice, dr].every((f) => f.messages.length === 1) &&
          alice.events.length === 3 &&
          dr.events.length === 3 &&
          bobClient.messages.length === 1,
        5_000,
        'the message on both nodes',
      );
      // The patient (node B) and the doctor (node A) heard every step live, across the nodes.
      expect(alice.events.map((e) => e.event.type)).toEqual(steps);
      expect(dr.events.map((e) => e.event.type)).toEqual(steps);
      expect(alice.events[1]?.event).toMatchObject({
        by: { userId: 'dr-rivera' },
        recipients: [{ userId: 'carol', displayName: 'Carol Moreno', relationship: 'mother' }],
      });

      // Bob heard the join only: live on either node, and in his client.
      for (const bob of [bobOnA, bobOnB])
        expect(bob.events.map((e) => e.event.type)).toEqual([steps[0]]);
      expect(bobClient.events.map((e) => e.event.type)).toEqual([steps[0]]);
      // Nor by catch-up or history on either node, nor in a new session.
      const fresh = await follower(a, 'bob', 'family');
      for (const { socket } of [bobOnA, bobOnB, fresh]) {
        const synced = await ok(socket, 'sync', { conversationId: 'c-nodes', afterSeq: 0 });
        expect(typesOf(synced.entries)).toEqual([steps[0]]);
        const page = await ok(socket, 'history.page', { conversationId: 'c-nodes' });
        expect(typesOf(page.events)).toEqual([steps[0]]);
      }
      const reloaded = createFollowingClient(a, 'bob');
      await reloaded.open();
      expect(reloaded.events.map((e) => e.event.type)).toEqual([steps[0]]);
      expect(reloaded.messages.map((m) => m.text)).toEqual(['hi']);

      // The patient reads them all after a reload, on the other node.
      const aliceAgain = createFollowingClient(a, 'alice', 'patient');
      await aliceAgain.open();
      expect(aliceAgain.events.map((e) => e.event.type)).toEqual([
        'consent.requested',
        'consent.signed',
        ...steps,
      ]);
    });

    function createFollowingClient(
      node: TestRelay,
      sub: string,
      role: 'patient' | 'family' = 'family',
    ) {
      const client = clientFor(node, sub, role);
      clients.push(client);
      return client.conversation('c-nodes');
    }
  },
);
