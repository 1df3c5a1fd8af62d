// The PostgreSQL engine: the same Store, SQL and migrations as SQLite, through Kysely's pg
// dialect, for several relay nodes sharing one database. What SQLite gets from having one writer
// at a time, PostgreSQL gets from row locks on the conversations an append touches and a
// transaction-scoped advisory lock per tenant for its hash chain and outbox.
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.js';
import { createSqlStore, type SqlEngine } from './sql-store.js';
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
}

export async function createPostgresStore(options: PostgresOptions): Promise<Store> {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.poolSize ?? 10,
    // A dropped connection fails its query with an error the relay answers UNAVAILABLE; an idle
    // one that dies is replaced by the pool instead of crashing the process.
    ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
  });
  pool.on('error', () => {
    // Errors of idle clients (a restarted server) surface on the next query; nothing to do here.
  });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  if (options.schema) await sql`create schema if not exists ${sql.id(options.schema)}`.execute(db);

  const engine: SqlEngine = {
    db,
    dialect: 'postgres',
    ...(options.schema ? { schema: options.schema } : {}),
    writeTransaction: (work) => db.transaction().execute(work),
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
  const store = createSqlStore(engine, { outboxTenants: options.outboxTenants ?? [] });
  await store.migrate();
  return store;
}
