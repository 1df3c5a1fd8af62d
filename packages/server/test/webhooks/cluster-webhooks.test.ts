// Two relay nodes on one database deliver each webhook event once, in commit order: one node
// holds the endpoint's lease, and when it stops, the other takes over where it left off.
import { afterEach, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../cluster-helpers.js';
import { connectAs, ok, seedConversation, waitFor } from '../helpers.js';
import { describeWithServices } from '../needs-services.js';
import { startReceiver, WEBHOOK_SECRET, type Receiver } from './receiver.js';

describeWithServices(
  'webhooks from several relay nodes',
  ['DATABASE_URL', 'REDIS_URL'],
  ({ DATABASE_URL, REDIS_URL }) => {
    let cluster: TestCluster | undefined;
    let receiver: Receiver | undefined;
    afterEach(async () => {
      await cluster?.close();
      await receiver?.close();
    });

    it('delivers every event once and in order, and hands over when the delivering node stops', async () => {
      const target = await startReceiver();
      receiver = target;
      const nodes = await startCluster(
        2,
        { databaseUrl: DATABASE_URL, redisUrl: REDIS_URL },
        {
          devTenantWebhooks: [
            { id: 'ehr', url: target.url, secret: WEBHOOK_SECRET, payload: 'ids' },
          ],
          webhookDelivery: {
            timeoutMs: 2_000,
            retryBaseMs: 20,
            retryMaxMs: 100,
            giveUpAfterMs: 60_000,
            pollMs: 20,
            leaseMs: 600,
          },
        },
      );
      cluster = nodes;
      const [a, b] = nodes.nodes as [(typeof nodes.nodes)[0], (typeof nodes.nodes)[0]];
      await seedConversation(a, 'c-hooks', [{ userId: 'alice', role: 'patient' }]);
      const onA = await connectAs(a, await a.token('dr-rivera', 'provider'));
      const onB = await connectAs(b, await b.token('alice', 'patient'));
      const send = async (n: number) => {
        const socket = n % 2 === 0 ? onA : onB;
        await ok(socket, 'message.send', {
          conversationId: 'c-hooks',
          id: `hook-msg-${String(n).padStart(3, '0')}`,
          text: `message ${String(n)}`,
        });
      };
      for (let n = 0; n < 20; n++) await send(n);
      const messages = () => target.deliveries.filter((d) => d.event.type === 'message.created');
      await waitFor(() => messages().length >= 20, 10_000, 'the first 20 events');

      // The node delivering stops (handing its lease over); the other takes over from its cursor.
      onA.close();
      onB.close();
      const delivers = (node: (typeof nodes.nodes)[0]) =>
        node.logs().includes('now delivers the endpoint');
      expect(nodes.nodes.filter(delivers)).toHaveLength(1);
      const deliverer = nodes.nodes.findIndex(delivers);
      const [stopped] = nodes.nodes.splice(deliverer, 1);
      await stopped!.close();
      const survivor = nodes.nodes[0]!;
      const late = await connectAs(survivor, await survivor.token('dr-rivera', 'provider'));
      for (let n = 20; n < 30; n++)
        await ok(late, 'message.send', {
          conversationId: 'c-hooks',
          id: `hook-msg-${String(n).padStart(3, '0')}`,
          text: `message ${String(n)}`,
        });
      late.close();
      await waitFor(() => messages().length >= 30, 10_000, 'the last 10 events');
      await new Promise((resolve) => setTimeout(resolve, 300)); // room for a duplicate to show

      const ids = messages().map((d) => (d.event.data as { messageId: string }).messageId);
      expect(ids).toEqual(
        Array.from({ length: 30 }, (_, n) => `hook-msg-${String(n).padStart(3, '0')}`),
      );
      expect(delivers(survivor)).toBe(true);
    });
  },
);
