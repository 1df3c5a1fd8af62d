// The store contract against a real PostgreSQL (DATABASE_URL), each store in a schema of its own,
// and two stores on one database writing at once, as two relay nodes would.
import { randomBytes } from 'node:crypto';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { describeWithServices } from '../needs-services.js';
import { createPostgresStore } from '../../src/store/postgres.js';
import type { AppendRequest } from '../../src/store/types.js';
import {
  TEST_MASTER_KEYS as masterKeys,
  connectAs,
  ok,
  seedConversation,
  startRelay,
  textsOf,
} from '../helpers.js';
import { describeStoreContract } from './contract.js';

describeWithServices('PostgreSQL store', ['DATABASE_URL'], ({ DATABASE_URL: url }) => {
  const admin = new Kysely<unknown>({
    dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 2 }) }),
  });
  const schemas: string[] = [];
  const freshSchema = () => {
    const schema = `ct_test_${randomBytes(6).toString('hex')}`;
    schemas.push(schema);
    return schema;
  };
  const dropSchema = (schema: string) =>
    sql`drop schema if exists ${sql.id(schema)} cascade`.execute(admin);
  afterAll(async () => {
    for (const schema of schemas) await dropSchema(schema);
    await admin.destroy();
  });

  describeStoreContract('PostgreSQL', async () => {
    const schema = freshSchema();
    const store = await createPostgresStore({
      connectionString: url,
      schema,
      outboxTenants: ['t1'],
      masterKeys,
    });
    return {
      store,
      cleanup: async () => {
        await store.close();
        await dropSchema(schema);
      },
    };
  });

  describe('a relay on PostgreSQL', () => {
    it('stores, acknowledges and serves messages from the database, across a restart', async () => {
      const schema = freshSchema();
      // Two relays on one database share its master key, as every node of a deployment must.
      const config = {
        databaseUrl: url,
        postgres: { poolSize: 4, schema },
        encryption: { masterKey: randomBytes(32).toString('base64') },
      };
      const first = await startRelay(config);
      try {
        await seedConversation(first, 'c-pg', [
          { userId: 'alice', role: 'patient', displayName: 'Alice' },
        ]);
        const doctor = await connectAs(first, await first.token('dr-rivera', 'provider'));
        for (let i = 1; i <= 3; i++)
          await ok(doctor, 'message.send', {
            conversationId: 'c-pg',
            id: `pg-msg-${String(i).padStart(3, '0')}`,
            text: `Stored in PostgreSQL ${String(i)}`,
          });
        doctor.close();
      } finally {
        await first.close();
      }
      const second = await startRelay(config);
      try {
        const alice = await connectAs(second, await second.token('alice', 'patient'));
        const synced = await ok(alice, 'sync', { conversationId: 'c-pg', afterSeq: 0 });
        expect(textsOf(synced.entries)).toEqual([
          'Stored in PostgreSQL 1',
          'Stored in PostgreSQL 2',
          'Stored in PostgreSQL 3',
        ]);
        alice.close();
        const ready = await fetch(`${second.url}/readyz`);
        expect(ready.status).toBe(200);
      } finally {
        await second.close();
      }
    });
  });

  describe('PostgreSQL with two relay nodes', () => {
    it('lets four nodes start at once on an empty database: one creates the schema, all work', async () => {
      const schema = freshSchema();
      const nodes = await Promise.all(
        Array.from({ length: 4 }, () =>
          createPostgresStore({ connectionString: url, schema, poolSize: 1, masterKeys }),
        ),
      );
      try {
        for (const [i, node] of nodes.entries())
          expect(
            await node.createConversation(
              {
                tenantId: 't1',
                conversationId: `c-${String(i)}`,
                title: 'Started together',
                createdBy: 'dr',
                createdAt: new Date().toISOString(),
              },
              [],
            ),
          ).toBe(true);
      } finally {
        await Promise.all(nodes.map((node) => node.close()));
      }
    });

    it('keeps sequence numbers gap-free and unique while two nodes append to one conversation', async () => {
      const schema = freshSchema();
      const nodeA = await createPostgresStore({
        connectionString: url,
        schema,
        outboxTenants: ['t1'],
        masterKeys,
      });
      // The second node finds the schema migrated and only checks it.
      const nodeB = await createPostgresStore({
        connectionString: url,
        schema,
        outboxTenants: ['t1'],
        masterKeys,
      });
      try {
        const at = new Date().toISOString();
        await nodeA.createConversation(
          { tenantId: 't1', conversationId: 'c1', title: 'Busy', createdBy: 'dr', createdAt: at },
          [{ userId: 'dr', role: 'provider', displayName: 'Dr', relationship: null, title: null }],
        );
        const batch = (node: string, b: number): AppendRequest[] =>
          Array.from({ length: 5 }, (_, i) => ({
            kind: 'message',
            tenantId: 't1',
            conversationId: 'c1',
            clientId: `${node}-${String(b).padStart(3, '0')}-${String(i)}`,
            sender: { userId: 'dr', role: 'provider', displayName: 'Dr' },
            text: `${node} ${String(b)} ${String(i)}`,
            at,
          }));
        const results = (
          await Promise.all(
            Array.from({ length: 40 }, (_, b) =>
              (b % 2 === 0 ? nodeA : nodeB).appendEntries(batch(b % 2 === 0 ? 'a' : 'b', b)),
            ),
          )
        ).flat();
        expect(results.every((r) => r.ok)).toBe(true);
        const seqs = results.map((r) => (r.ok ? r.entry.seq : 0)).sort((x, y) => x - y);
        expect(seqs).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
        const { entries } = await nodeB.entriesAfter('t1', 'c1', 0, 500);
        expect(entries.map((e) => e.seq)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
        // Outbox events commit in the order of their numbers, per tenant.
        const events = await nodeA.outboxEventsAfter('t1', 0, 500);
        expect(events.map((e) => e.data.seq)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
      } finally {
        await Promise.all([nodeA.close(), nodeB.close()]);
      }
    });
  });
});
