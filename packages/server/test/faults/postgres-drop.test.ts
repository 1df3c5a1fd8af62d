// PostgreSQL connections dropped during traffic: sends fail with UNAVAILABLE after retries, never
// an ack without a commit. A TCP proxy of the test's own sits between the relay and the shared
// PostgreSQL, so the test can cut the relay's connections and refuse new ones without touching
// the server (and terminate only backends it opened, by their application name).
import { randomBytes } from 'node:crypto';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRetryable, type MessageView } from '@carethread/shared';
import { RelayError } from '../../src/core/errors.js';
import { createPostgresStore } from '../../src/store/postgres.js';
import type { AppendRequest, Store } from '../../src/store/types.js';
import type { CareThreadClient } from '@carethread/widget/client';
import {
  TEST_MASTER_KEYS,
  call,
  clientFor,
  connectAs,
  ok,
  startRelay,
  waitFor,
  type RawSocket,
} from '../helpers.js';
import { describeWithServices } from '../needs-services.js';
import { expectNothingLost, printTally, tally } from './tally.js';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describeWithServices(
  'PostgreSQL connections dropped',
  ['DATABASE_URL'],
  ({ DATABASE_URL: url }) => {
    const admin = new Kysely<unknown>({
      dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 2 }) }),
    });
    const schemas: string[] = [];
    let proxy: TcpProxy;
    /** Only backends with this name are ever terminated: the ones this test's relay opened. */
    const appName = `carethread_faults_${randomBytes(5).toString('hex')}`;
    const freshSchema = () => {
      const schema = `ct_fault_${randomBytes(6).toString('hex')}`;
      schemas.push(schema);
      return schema;
    };
    const proxiedUrl = () => {
      const proxied = new URL(proxy.urlFor(url));
      proxied.searchParams.set('application_name', appName);
      return proxied.toString();
    };

    beforeAll(async () => {
      const target = new URL(url);
      proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    });
    afterAll(async () => {
      await proxy.close();
      for (const schema of schemas)
        await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(admin);
      await admin.destroy();
    });

    describe('the store', () => {
      let store: Store;
      let storeSchema: string;
      const at = new Date().toISOString();
      const message = (clientId: string): AppendRequest => ({
        kind: 'message',
        tenantId: 't1',
        conversationId: 'c1',
        clientId,
        sender: { userId: 'dr', role: 'provider', displayName: 'Dr' },
        text: `text of ${clientId}`,
        at,
      });
      beforeAll(async () => {
        storeSchema = freshSchema();
        store = await createPostgresStore({
          connectionString: proxiedUrl(),
          schema: storeSchema,
          poolSize: 2,
          masterKeys: TEST_MASTER_KEYS,
        });
        await store.createConversation(
          { tenantId: 't1', conversationId: 'c1', title: 'Cut', createdBy: 'dr', createdAt: at },
          [{ userId: 'dr', role: 'provider', displayName: 'Dr', relationship: null, title: null }],
        );
      });
      afterAll(() => store.close());

      it('runs a transaction again when its connection dropped before COMMIT', async () => {
        const cutBefore = proxy.stats.cut;
        proxy.cutOn('insert into "entries"', { forward: false, times: 1 });
        const [result] = await store.appendEntries([message('before-commit')]);
        expect(proxy.stats.cut - cutBefore).toBe(1);
        expect(result).toMatchObject({ ok: true, duplicate: false, entry: { seq: 1 } });
        const { entries } = await store.entriesAfter('t1', 'c1', 0, 10);
        expect(entries.map((e) => [e.seq, e.id])).toEqual([[1, 'before-commit']]);
      });

      it('stores and announces an append whose COMMIT answer was lost, once', async () => {
        proxy.cutOn('commit\0', { forward: true, times: 1 });
        const cutBefore = proxy.stats.cut;
        // The server ran that COMMIT; the store finds the row by its client id and says it is new
        // (this request stored it, so the transport acknowledges and announces it).
        const [result] = await store.appendEntries([message('commit-lost')]);
        expect(proxy.stats.cut - cutBefore).toBe(1);
        expect(result).toMatchObject({ ok: true, duplicate: false, entry: { seq: 2 } });
        const { entries } = await store.entriesAfter('t1', 'c1', 0, 10);
        expect(entries.map((e) => [e.seq, e.id])).toEqual([
          [1, 'before-commit'],
          [2, 'commit-lost'],
        ]);
      });

      it('answers UNAVAILABLE when a COMMIT outcome cannot be checked; the resend gets the original seq', async () => {
        proxy.cutOn('commit\0', { forward: true, times: 1, refuseMs: 1000 });
        const failure = await store.appendEntries([message('commit-unknown')]).then(
          () => undefined,
          (error: unknown) => error,
        );
        expect(failure).toBeInstanceOf(RelayError);
        expect(failure).toMatchObject({ code: 'UNAVAILABLE' });
        expect((failure as Error).message).toMatch(/may have been saved.*same id/);
        await sleep(1000);
        // The client resends (same id, a new time). On this node it is answered as new, since its
        // COMMIT went unanswered here; on any other node as a duplicate; both with the original seq.
        const otherNode = await createPostgresStore({
          connectionString: url,
          schema: storeSchema,
          masterKeys: TEST_MASTER_KEYS,
        });
        try {
          const resend = { ...message('commit-unknown'), at: new Date().toISOString() };
          const [elsewhere] = await otherNode.appendEntries([resend]);
          expect(elsewhere).toMatchObject({ ok: true, duplicate: true, entry: { seq: 3 } });
          const [here] = await store.appendEntries([resend]);
          expect(here).toMatchObject({ ok: true, duplicate: false, entry: { seq: 3 } });
          const [again] = await store.appendEntries([resend]);
          expect(again).toMatchObject({ ok: true, duplicate: true, entry: { seq: 3 } });
        } finally {
          await otherNode.close();
        }
        const { entries } = await store.entriesAfter('t1', 'c1', 0, 10);
        expect(entries.map((e) => e.id)).toEqual([
          'before-commit',
          'commit-lost',
          'commit-unknown',
        ]);
      });

      it('answers UNAVAILABLE (not a raw pg error) while no connection can be made, and recovers', async () => {
        proxy.refuse(true);
        proxy.cutAll();
        try {
          for (const attempt of [
            () => store.appendEntries([message('while-refused')]),
            () => store.entriesAfter('t1', 'c1', 0, 10),
            () => store.ping(),
          ])
            await expect(attempt()).rejects.toMatchObject({
              code: 'UNAVAILABLE',
              message: expect.stringMatching(/cannot be reached/) as string,
            });
        } finally {
          proxy.refuse(false);
        }
        // No poisoned client is left in the pool: every query of a row of them succeeds.
        for (let i = 0; i < 6; i++) await store.ping();
        const [result] = await store.appendEntries([message('after-refused')]);
        expect(result).toMatchObject({ ok: true, entry: { seq: 4 } });
      });
    });

    it('loses nothing, acks nothing uncommitted, and answers UNAVAILABLE while connections drop under traffic', async () => {
      const schema = freshSchema();
      const relay = await startRelay({
        databaseUrl: proxiedUrl(),
        postgres: { poolSize: 4, schema },
      });
      const sockets: RawSocket[] = [];
      const clients: CareThreadClient[] = [];
      const started = Date.now();
      const now = () => Date.now() - started;
      try {
        const conversations = ['c-0', 'c-1', 'c-2', 'c-3'];
        const sendersOf = (c: string) => [0, 1, 2, 3].map((i) => `${c}-staff-${String(i)}`);
        const doctor = await connectAs(relay, await relay.token('dr-rivera', 'provider'));
        sockets.push(doctor);
        for (const conversationId of conversations)
          await ok(doctor, 'conversation.create', {
            conversationId,
            title: conversationId,
            participants: [...sendersOf(conversationId), `${conversationId}-reader`].map(
              (userId) => ({
                userId,
                role: 'staff' as const,
                displayName: userId,
              }),
            ),
          });

        // A reader per conversation on the headless client (it orders by seq and fills gaps).
        const readers = await Promise.all(
          conversations.map(async (conversationId) => {
            const client = clientFor(relay, `${conversationId}-reader`, 'staff');
            clients.push(client);
            const conversation = client.conversation(conversationId);
            await conversation.open();
            return { conversationId, conversation };
          }),
        );
        // Sixteen senders, each also following its conversation live.
        const senders = await Promise.all(
          conversations.flatMap((conversationId) =>
            sendersOf(conversationId).map(async (userId) => {
              const socket = await connectAs(relay, await relay.token(userId, 'staff'));
              sockets.push(socket);
              const live: { id: string; seq: number }[] = [];
              socket.on('message', (m: MessageView) => {
                live.push({ id: m.id, seq: m.seq });
              });
              await ok(socket, 'conversation.open', { conversationId });
              return { userId, conversationId, socket, live };
            }),
          ),
        );

        const sent = new Set<string>();
        const acked = new Map<string, number>();
        const sentAtOfAck = new Map<string, string>();
        const lastFailureAt = new Map<string, number>();
        const codes = new Map<string, number>();
        const gaveUp: string[] = [];
        const count = (code: string) => codes.set(code, (codes.get(code) ?? 0) + 1);

        /** A client's outbox, bounded: the same id again until acknowledged or 20 s have passed. */
        async function sendWithRetry(socket: RawSocket, conversationId: string, id: string) {
          sent.add(id);
          const deadline = Date.now() + 20_000;
          for (;;) {
            const ack = await call(socket, 'message.send', {
              conversationId,
              id,
              text: `message ${id}`,
            }).catch(() => ({ ok: false as const, error: { code: 'NO_ACK' as const } }));
            if (ack.ok) {
              acked.set(id, ack.data.seq);
              sentAtOfAck.set(id, ack.data.sentAt);
              return;
            }
            count(ack.error.code);
            lastFailureAt.set(id, Date.now());
            const retryable = ack.error.code === 'NO_ACK' || isRetryable(ack.error.code);
            if (!retryable || Date.now() > deadline) {
              gaveUp.push(`${id}: ${ack.error.code}`);
              return;
            }
            await sleep(100);
          }
        }

        const readiness: { at: number; status: number }[] = [];
        const polling = { on: true };
        const poller = (async () => {
          while (polling.on) {
            const response = await fetch(`${relay.url}/readyz`).catch(() => undefined);
            readiness.push({ at: now(), status: response?.status ?? 0 });
            await sleep(100);
          }
        })();

        const outage = { from: 0, to: 0 };
        const readsDuringOutage: string[] = [];
        const chaos = (async () => {
          await sleep(600);
          // Phase 1: every connection cut, new ones refused for 2 s.
          outage.from = now();
          proxy.refuse(true);
          const cutInTraffic = proxy.cutAll();
          await sleep(400);
          const read = await call(doctor, 'sync', { conversationId: 'c-0', afterSeq: 0 });
          readsDuringOutage.push(read.ok ? 'ok' : read.error.code);
          await sleep(1600);
          proxy.refuse(false);
          outage.to = now();
          // Phase 2: COMMITs reach the server but their answers never come back; the first time
          // the database also stays unreachable for a while, so the relay cannot check.
          await sleep(700);
          proxy.cutOn('commit\0', { forward: true, times: 1, refuseMs: 800 });
          await sleep(1000);
          proxy.cutOn('commit\0', { forward: true, times: 4 });
          // Phase 3: the server terminates this relay's backends (57P01), as a restart would.
          await sleep(700);
          const terminated = await sql<{
            n: number;
          }>`select count(pg_terminate_backend(pid))::int as n
          from pg_stat_activity where application_name = ${appName}`.execute(admin);
          return { cutInTraffic, terminated: terminated.rows[0]?.n ?? 0 };
        })();

        await Promise.all(
          senders.map(async ({ socket, conversationId, userId }, s) => {
            await sleep(s * 7);
            for (let i = 0; i < 25; i++) {
              await sendWithRetry(
                socket,
                conversationId,
                `${userId}-${String(i).padStart(3, '0')}`,
              );
              await sleep(120);
            }
          }),
        );
        const { cutInTraffic, terminated } = await chaos;

        // Phase 4: quiet, so the pool holds idle clients; cut them (the pool's 'error' event).
        await sleep(300);
        const idleCut = proxy.cutAll();
        await sleep(100);
        const afterIdleCut = await call(doctor, 'sync', { conversationId: 'c-0', afterSeq: 0 });
        await waitFor(() => readiness.at(-1)?.status === 200, 5000, '/readyz to be 200 again');
        polling.on = false;
        await poller;

        const stored = (
          await sql<{ id: string; seq: number; conversationId: string }>`
          select client_id as id, seq, conversation_id as "conversationId"
          from ${sql.id(schema, 'entries')} where kind = 'message' order by conversation_id, seq`.execute(
            admin,
          )
        ).rows;
        // Every stored message reached every follower live (late, when its COMMIT answer was lost).
        const missing: string[] = [];
        for (const { conversationId, live } of senders) {
          const seen = new Set(live.map((m) => m.id));
          for (const row of stored)
            if (row.conversationId === conversationId && !seen.has(row.id))
              missing.push(`${conversationId}/${row.id}`);
        }
        // What a reader with the headless client shows, once it has everything the store holds.
        for (const { conversationId, conversation } of readers) {
          const newest = Math.max(
            0,
            ...stored.filter((r) => r.conversationId === conversationId).map((r) => r.seq),
          );
          await waitFor(() => conversation.lastSeq >= newest, 5000, `${conversationId} reader`);
        }
        const views = readers.map(({ conversation }) =>
          conversation.messages.map((m) => ({ id: m.id, seq: m.seq })),
        );

        const result = tally({ sent, acked, stored, views });
        printTally('PostgreSQL connections dropped during traffic', result);
        // The COMMITs that were cut off yet ran: the retry was answered with the original message.
        const committedBeforeFailure = [...acked.keys()].filter(
          (id) => Date.parse(sentAtOfAck.get(id) ?? '') < (lastFailureAt.get(id) ?? 0),
        );
        console.log(
          [
            `errors seen by senders: ${JSON.stringify(Object.fromEntries(codes))}`,
            `sync during the outage: ${readsDuringOutage.join(', ')}`,
            `connections cut in traffic ${String(cutInTraffic)}, idle ${String(idleCut)}, terminated by the server ${String(terminated)}; proxy ${JSON.stringify(proxy.stats)}`,
            `acked after an UNAVAILABLE for a COMMIT that had run: ${String(committedBeforeFailure.length)}`,
            `/readyz: ${readiness.filter((r) => r.status === 503).length} x 503 (outage ${String(outage.from)}-${String(outage.to)} ms), last ${String(readiness.at(-1)?.status)}`,
          ].join('\n'),
        );

        expectNothingLost(result);
        expect(gaveUp).toEqual([]);
        expect(result.acked).toBe(result.sent);
        expect(result.stored).toBe(result.sent);
        expect(missing).toEqual([]);
        // Failures were all the stable, retryable UNAVAILABLE; never INTERNAL, never a lost ack.
        expect([...codes.keys()]).toEqual(['UNAVAILABLE']);
        expect(codes.get('UNAVAILABLE')).toBeGreaterThan(0);
        expect(readsDuringOutage).toEqual(['UNAVAILABLE']);
        expect(committedBeforeFailure.length).toBeGreaterThan(0);
        expect(cutInTraffic).toBeGreaterThan(0);
        expect(terminated).toBeGreaterThan(0);
        expect(idleCut).toBeGreaterThan(0);
        expect(afterIdleCut.ok).toBe(true);
        const during = readiness.filter((r) => r.at > outage.from + 300 && r.at < outage.to);
        expect(during.length).toBeGreaterThan(0);
        expect(during.every((r) => r.status === 503)).toBe(true);
        expect(readiness.at(-1)?.status).toBe(200);
        // The pool recovered: a row of reads, each first time.
        for (let i = 0; i < 10; i++)
          await ok(doctor, 'sync', { conversationId: 'c-1', afterSeq: 0 });
      } finally {
        for (const socket of sockets) socket.close();
        await relay.close();
      }
    }, 30_000);
  },
);
