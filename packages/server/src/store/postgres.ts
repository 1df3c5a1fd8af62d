// The PostgreSQL engine: the same Store, SQL and migrations as SQLite, through Kysely's pg
// dialect, for several relay nodes sharing one database. What SQLite gets from having one writer
// at a time, PostgreSQL gets from row locks on the conversations an append touches and a
// transaction-scoped advisory lock per tenant for its hash chain and outbox.
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { createKeyring, type MasterKeys } from './keyring.js';
import type { Database } from './schema.js';
import {
  announceUnknownCommits,
  answerConnectionFailures,
  withConnectionRetry,
} from './pg-faults.js';
import { createSqlStore } from './sql-store.js';
import type { SqlEngine } from './sql/shared.js';
import type { Store } from './types.js';

export interface PostgresOptions {
  /** A libpq connection string: `postgres://user@host:5432/database`. */
  connectionString: string;
  /** Connections this node keeps open (pg's pool). */
  poolSize?: number;
  /** Tenants with webhook endpoints, whose changes are recorded in the outbox. */
  outboxTenants?: string[];
  /** A schema to use instead of `public` (created if missing); the tests give each run its own. */
  schema?: string;
  /** How long getting a connection may take before the request is answered UNAVAILABLE. */
  connectTimeoutMs?: number;
  /** The master keys that wrap the tenants' data keys; the first wraps new ones (ADR 14). */
  masterKeys: MasterKeys;
}

export async function createPostgresStore(options: PostgresOptions): Promise<Store> {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.poolSize ?? 10,
    // Without a bound, a request waits for ever on a database that accepts no connections.
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
    // Notices a silently dead peer (a partition) on idle connections.
    keepAlive: true,
    ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
  });
  // A dropped connection fails its query with an error the relay answers UNAVAILABLE, and the pool
  // discards the client on release. The pool listens for errors only while a client is idle (and
  // re-emits them here); a client in use whose connection dies emits 'error' with nobody
  // listening, which would end the process, so each client gets a listener of its own.
  pool.on('connect', (client) => {
    client.on('error', () => {
      // The query in flight (or the next one) fails with this error; nothing more to do.
    });
  });
  pool.on('error', () => {
    // An idle client died (a restarted server, a cut connection); the pool already dropped it.
  });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });

  const engine: SqlEngine = {
    db,
    dialect: 'postgres',
    ...(options.schema ? { schema: options.schema } : {}),
    // Run again when the connection failed before COMMIT; see withConnectionRetry.
    writeTransaction: (work) =>
      withConnectionRetry((markCommitting) =>
        db.transaction().execute(async (trx) => {
          const result = await work(trx);
          markCommitting();
          return result;
        }),
      ),
    async lockConversations(trx, tenantId, conversationIds) {
      await trx
        .selectFrom('conversations')
        .select('id')
        .where('tenant_id', '=', tenantId)
        .where('id', 'in', conversationIds)
        .orderBy('id')
        .forUpdate()
        .execute();
    },
    async lockTenant(trx, tenantId) {
      await sql`select pg_advisory_xact_lock(hashtext(${`carethread:${tenantId}`}))`.execute(trx);
    },
    close: () => db.destroy(),
  };
  const guarded = answerConnectionFailures(
    createSqlStore(engine, {
      outboxTenants: options.outboxTenants ?? [],
      keyring: createKeyring(db, options.masterKeys),
    }),
  );
  const store: Store = {
    ...guarded,
    appendEntries: announceUnknownCommits((requests) => guarded.appendEntries(requests)),
  };
  // Nodes starting together on an empty database would race to create the schema and the
  // migration tables (`if not exists` is not safe against a concurrent create): one at a time,
  // under a session lock held on a connection of its own (the pool may have only one).
  const lock = new pg.Client({ connectionString: options.connectionString });
  lock.on('error', () => {
    // A lost lock connection fails the query below or ends the session (and the lock) anyway.
  });
  await lock.connect();
  try {
    await lock.query('select pg_advisory_lock(hashtext($1))', [
      `carethread:migrate:${options.schema ?? 'public'}`,
    ]);
    if (options.schema)
      await sql`create schema if not exists ${sql.id(options.schema)}`.execute(db);
    await store.migrate();
  } finally {
    await lock.end(); // the session ends, and its lock with it
  }
  return store;
}
