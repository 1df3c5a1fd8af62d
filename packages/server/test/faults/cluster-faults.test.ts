// Faults of a two-node deployment, with real processes: a node killed with SIGKILL mid-traffic,
// Redis stopped and restarted mid-traffic, and a revocation on one node while Redis is paused
// and the family member is on the other node. Each prints the fault scorecard.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterEach, expect, it } from 'vitest';
import type { MessageView, Role } from '@carethread/shared';
import {
  CareThreadError,
  createClient,
  type CareThreadClient,
  type Conversation,
} from '@carethread/widget/client';
import {
  DEV_AUDIENCE,
  DEV_ISSUER,
  DEV_TENANT_ID,
  loadDevSigningKey,
} from '../../src/auth/dev-tenant.js';
import { loadOrCreateDevApiKey } from '../../src/api/keys.js';
import { mintToken } from '../../src/auth/tokens.js';
import { createPostgresStore } from '../../src/store/postgres.js';
import type { Store } from '../../src/store/types.js';
import {
  dropSchema,
  spawnNode,
  startBalancer,
  startCluster,
  startOwnRedis,
  type NodeProcess,
  type OwnRedis,
  type TestCluster,
} from '../cluster-helpers.js';
import {
  call,
  dataFolderKeys,
  connectAs,
  ok,
  seedConversation,
  waitFor,
  type RawSocket,
  type TestRelay,
} from '../helpers.js';
import { describeWithServices } from '../needs-services.js';
import { expectNothingLost, printTally, tally } from './tally.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type Member = { userId: string; role: Role; displayName: string };

/** One person's headless client following one conversation. */
interface Follower {
  userId: string;
  client: CareThreadClient;
  thread: Conversation;
}

/**
 * Every follower sends `each` messages, one per `intervalMs`, through its client's outbox (which
 * resends with the same id until stored). Resolves once every send has settled.
 */
async function sendTraffic(followers: readonly Follower[], each: number, intervalMs: number) {
  const sent = new Set<string>();
  const acked = new Map<string, number>();
  const failures: string[] = [];
  await Promise.all(
    followers.map(async ({ userId, thread }) => {
      const settled: Promise<void>[] = [];
      for (let i = 0; i < each; i++) {
        const delivery = thread.send(`${userId} #${String(i)}`);
        sent.add(thread.outbox.at(-1)!.id);
        settled.push(
          delivery.then(
            (message) => {
              acked.set(message.id, message.seq);
            },
            (error: unknown) => {
              failures.push(error instanceof CareThreadError ? error.code : String(error));
            },
          ),
        );
        await sleep(intervalMs);
      }
      await Promise.all(settled);
    }),
  );
  return { sent, acked, failures };
}

async function storedMessages(store: Store, conversationIds: readonly string[]) {
  const rows: { id: string; seq: number; conversationId: string }[] = [];
  for (const conversationId of conversationIds) {
    const { entries } = await store.entriesAfter(DEV_TENANT_ID, conversationId, 0, 10_000);
    rows.push(...entries.map((e) => ({ id: e.id, seq: e.seq, conversationId })));
  }
  return rows;
}

/** Resolves once every follower shows every stored message of its conversation. */
async function untilCaughtUp(followers: readonly Follower[], store: Store, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let behind = 0;
    for (const { thread } of followers) {
      const { entries } = await store.entriesAfter(DEV_TENANT_ID, thread.id, 0, 10_000);
      if (thread.lastSeq < (entries.at(-1)?.seq ?? 0)) behind += 1;
    }
    if (behind === 0) return;
    if (Date.now() > deadline) throw new Error(`${String(behind)} followers never caught up`);
    await sleep(50);
  }
}

const views = (followers: readonly Follower[]) =>
  followers.map(({ thread }) => thread.messages.map((m) => ({ id: m.id, seq: m.seq })));

describeWithServices(
  'faults of a two-node deployment',
  ['DATABASE_URL', 'REDIS_URL'],
  ({ DATABASE_URL, REDIS_URL }) => {
    const cleanups: (() => unknown)[] = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });

    it('loses nothing when a node is killed with SIGKILL mid-traffic: its clients move and catch up', async () => {
      const suffix = randomBytes(6).toString('hex');
      const schema = `ct_kill_${suffix}`;
      const dataDir = mkdtempSync(path.join(tmpdir(), 'carethread-kill-'));
      const configFile = path.join(dataDir, 'config.json');
      writeFileSync(
        configFile,
        JSON.stringify({
          postgres: { poolSize: 4, schema },
          redis: { streamName: `carethread-kill-${suffix}` },
          devTenantLimits: { maxMessageLength: 4000, sendPerSecond: 1000, sendBurst: 1000 },
        }),
      );
      const env = {
        DATABASE_URL,
        REDIS_URL,
        CARETHREAD_CONFIG: configFile,
        CARETHREAD_DATA_DIR: dataDir,
      };
      const nodes: NodeProcess[] = [];
      cleanups.push(async () => {
        for (const node of nodes) await node.kill();
        await dropSchema(DATABASE_URL, schema);
        rmSync(dataDir, { recursive: true, force: true });
      });
      nodes.push(await spawnNode(env)); // creates the schema and the keys
      nodes.push(await spawnNode(env));
      const balancer = await startBalancer(nodes.map((n) => n.port));
      cleanups.push(() => balancer.close());
      const store = await createPostgresStore({
        connectionString: DATABASE_URL,
        schema,
        masterKeys: dataFolderKeys(dataDir),
      });
      cleanups.push(() => store.close());
      const devKey = await loadDevSigningKey(dataDir);
      const token = (sub: string, role: Role) =>
        mintToken({
          issuer: DEV_ISSUER,
          audience: DEV_AUDIENCE,
          key: devKey.privateKey,
          kid: devKey.kid,
          sub,
          name: sub,
          role,
          ttlSeconds: 600,
        });

      // Ten conversations of five: a provider, the patient and three staff; 50 clients in all.
      const conversationIds = Array.from({ length: 10 }, (_, i) => `c-kill-${String(i)}`);
      const followers: Follower[] = [];
      for (const conversationId of conversationIds) {
        const members = ['patient', 'staff-1', 'staff-2', 'staff-3'].map((who): Member => ({
          userId: `${conversationId}-${who}`,
          role: who === 'patient' ? 'patient' : 'staff',
          displayName: who,
        }));
        const response = await fetch(`${balancer.url}/api/v1/conversations`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${loadOrCreateDevApiKey(dataDir)}`,
            'content-type': 'application/json',
          },
          body: JSON.stringify({
            conversationId,
            title: conversationId,
            participants: [
              { userId: `${conversationId}-dr`, role: 'provider', displayName: 'Dr' },
              ...members,
            ],
          }),
        });
        expect(response.status).toBe(201);
        for (const { userId, role } of [
          { userId: `${conversationId}-dr`, role: 'provider' as const },
          ...members,
        ]) {
          const client = createClient({
            url: balancer.url,
            transports: ['websocket'],
            reconnectDelayMs: { min: 50, max: 300 },
            ackTimeoutMs: 3_000,
            tokenProvider: () => token(userId, role),
          });
          cleanups.push(() => {
            client.close();
          });
          const thread = client.conversation(conversationId);
          await thread.open();
          followers.push({ userId, client, thread });
        }
      }
      const onVictim = balancer.counts.get(nodes[0]!.port) ?? 0;
      expect(onVictim).toBeGreaterThan(10); // round-robin put about half on the node to kill

      const traffic = sendTraffic(followers, 12, 200);
      await sleep(1_000);
      await nodes[0]!.kill();
      const result = await traffic;
      await untilCaughtUp(followers, store);

      const scorecard = tally({
        sent: result.sent,
        acked: result.acked,
        stored: await storedMessages(store, conversationIds),
        views: views(followers),
      });
      printTally(`node SIGKILL mid-traffic (${String(onVictim)} of 50 clients on it)`, scorecard);
      expectNothingLost(scorecard);
      // Every client moved to the surviving node and every message got through in the end.
      expect(result.failures).toEqual([]);
      expect(scorecard.acked).toBe(scorecard.sent);
      expect(scorecard.stored).toBe(scorecard.sent);
    }, 60_000);

    async function clusterOnOwnRedis(): Promise<{ redis: OwnRedis; cluster: TestCluster }> {
      const redis = await startOwnRedis();
      cleanups.push(() => redis.close());
      const cluster = await startCluster(2, { databaseUrl: DATABASE_URL, redisUrl: redis.url });
      cleanups.push(() => cluster.close());
      return { redis, cluster };
    }

    function follower(node: TestRelay, userId: string, role: Role, conversationId: string) {
      const client = createClient({
        url: node.url,
        transports: ['websocket'],
        reconnectDelayMs: { min: 50, max: 200 },
        tokenProvider: () => node.token(userId, role, { name: userId }),
      });
      cleanups.push(() => {
        client.close();
      });
      return { userId, client, thread: client.conversation(conversationId) };
    }

    it('loses nothing when Redis is stopped for seconds and restarted during traffic', async () => {
      const { redis, cluster } = await clusterOnOwnRedis();
      const conversationIds = ['c-redis-0', 'c-redis-1', 'c-redis-2', 'c-redis-3'];
      const followers: Follower[] = [];
      for (const conversationId of conversationIds) {
        await seedConversation(cluster.nodes[0]!, conversationId, [
          { userId: `${conversationId}-alice`, role: 'patient' },
          { userId: `${conversationId}-nurse`, role: 'staff' },
        ]);
        // Each conversation has followers on both nodes, so its traffic must cross.
        followers.push(
          follower(cluster.nodes[0]!, 'dr-rivera', 'provider', conversationId),
          follower(cluster.nodes[1]!, `${conversationId}-alice`, 'patient', conversationId),
          follower(cluster.nodes[1]!, `${conversationId}-nurse`, 'staff', conversationId),
        );
      }
      for (const { thread } of followers) await thread.open();

      const traffic = sendTraffic(followers, 40, 150);
      await sleep(700);
      await redis.stop();
      await sleep(4_000);
      await redis.start();
      const result = await traffic;
      // What crossed nodes while Redis was away never arrived live; the next message shows each
      // follower the gap, and it catches up from the store.
      for (const conversationId of conversationIds)
        await followers
          .find((f) => f.thread.id === conversationId)!
          .thread.send('after the outage');
      await untilCaughtUp(followers, cluster.nodes[0]!.relay.store);

      const scorecard = tally({
        sent: result.sent,
        acked: result.acked,
        stored: (await storedMessages(cluster.nodes[0]!.relay.store, conversationIds)).filter(
          (row) => result.sent.has(row.id),
        ),
        views: views(followers).map((view) => view.filter((m) => result.sent.has(m.id))),
      });
      printTally('Redis stopped for 4 s and restarted during traffic', scorecard);
      expectNothingLost(scorecard);
      expect(result.failures).toEqual([]);
      expect(scorecard.stored).toBe(scorecard.sent);
    }, 60_000);

    it('keeps delivering between the sockets of one node while Redis is paused', async () => {
      const { redis, cluster } = await clusterOnOwnRedis();
      const [a] = cluster.nodes as [TestRelay];
      await seedConversation(a, 'c-local', [{ userId: 'alice', role: 'patient' }]);
      const doctor = await connectAs(a, await a.token('dr-rivera', 'provider'));
      const alice = await connectAs(a, await a.token('alice', 'patient'));
      cleanups.push(() => {
        doctor.close();
        alice.close();
      });
      await ok(alice, 'conversation.open', { conversationId: 'c-local' });
      const aliceSaw: MessageView[] = [];
      alice.on('message', (message) => aliceSaw.push(message));
      redis.pause();
      cleanups.push(() => {
        redis.resume();
      });
      for (let i = 0; i < 3; i++)
        await ok(doctor, 'message.send', {
          conversationId: 'c-local',
          id: `paused-local-${String(i)}`,
          text: 'Redis is paused',
        });
      // Long before Redis answers again: this node does not wait for it to deliver its own.
      await waitFor(() => aliceSaw.length === 3, 2_000, 'local delivery with Redis paused');
    });

    it('delivers nothing written after a revocation on node A to the family member on node B, with Redis paused', async () => {
      const { redis, cluster } = await clusterOnOwnRedis();
      const [a, b] = cluster.nodes as [TestRelay, TestRelay];
      await seedConversation(a, 'c-paused', [
        { userId: 'alice', role: 'patient' },
        { userId: 'bob', role: 'family', relationship: 'father' },
      ]);
      const patient = await connectAs(a, await a.token('alice', 'patient'));
      cleanups.push(() => patient.close());
      const requestId = (await ok(patient, 'consent.list', { conversationId: 'c-paused' }))
        .requests[0]!.requestId;

      // Bob, the family member, on node B, on a raw socket: whatever reaches it is counted.
      const bob: RawSocket = await connectAs(b, await b.token('bob', 'family'));
      cleanups.push(() => bob.close());
      await ok(bob, 'conversation.open', { conversationId: 'c-paused' });
      const bobSaw: MessageView[] = [];
      bob.on('message', (message) => bobSaw.push(message));
      // The care team writes from both nodes.
      const writers = [
        follower(a, 'dr-rivera', 'provider', 'c-paused'),
        follower(b, 'nurse-kim', 'staff', 'c-paused'),
      ];
      const staffJoin = await connectAs(a, await a.token('dr-rivera', 'provider'));
      await ok(staffJoin, 'participant.add', {
        conversationId: 'c-paused',
        participant: { userId: 'nurse-kim', role: 'staff', displayName: 'Nurse Kim' },
      });
      staffJoin.close();
      for (const { thread } of writers) await thread.open();

      const before = await sendTraffic(writers, 3, 20);
      await waitFor(() => bobSaw.length === 6, 5_000, 'bob to see the messages before');

      redis.pause();
      await ok(patient, 'consent.revoke', {
        requestId,
        signature: { method: 'typed', name: 'alice' },
      });
      const revokedAt = (await a.relay.store.getConversation(DEV_TENANT_ID, 'c-paused'))!.lastSeq;
      const after = await sendTraffic(writers, 5, 30);
      await sleep(500);
      redis.resume();
      await sleep(1_500); // everything queued for Redis is now delivered
      await untilCaughtUp(writers, a.relay.store);

      const unauthorised = bobSaw.filter((m) => m.seq > revokedAt).length;
      const conversationIds = ['c-paused'];
      const sent = new Set([...before.sent, ...after.sent]);
      const scorecard = tally({
        sent,
        acked: new Map([...before.acked, ...after.acked]),
        stored: await storedMessages(a.relay.store, conversationIds),
        views: views(writers),
        unauthorised,
      });
      printTally('revocation on node A, family member on node B, Redis paused', scorecard);
      expectNothingLost(scorecard);
      expect(bobSaw).toHaveLength(6);
      // And bob's own reads are refused, on the node that never heard of the revocation live.
      const sync = await call(bob, 'sync', { conversationId: 'c-paused', afterSeq: 0 });
      expect(sync).toMatchObject({ ok: false, error: { code: 'CONSENT_REQUIRED' } });
    }, 60_000);
  },
);
