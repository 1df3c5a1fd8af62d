// The embedded engine: better-sqlite3 in WAL mode behind Kysely. One connection per process;
// write transactions start with BEGIN IMMEDIATE so another process (the CLI) waits instead of
// failing half-way through.
import Sqlite from 'better-sqlite3';
import { Kysely, SqliteDialect, sql, type SqliteDatabase } from 'kysely';
import { createKeyring, type MasterKeys } from './keyring.js';
import type { Database } from './schema.js';
import { createSqliteAppender } from './sqlite-append.js';
import { createSqlStore } from './sql-store.js';
import type { SqlEngine } from './sql/shared.js';
import type { Store } from './types.js';

export interface SqliteOptions {
  /** Database file, or ':memory:'. */
  filename: string;
  /** `full` (default) fsyncs every commit; `normal` survives a process crash but not a power cut. */
  synchronous?: 'full' | 'normal';
  /** Tenants with webhook endpoints, whose changes are recorded in the outbox. */
  outboxTenants?: string[];
  /** The master keys that wrap the tenants' data keys; the first wraps new ones (ADR 14). */
  masterKeys: MasterKeys;
}

/**
 * Kysely prepares every statement anew, and preparing costs more than running a small query.
 * The relay issues a few hundred distinct statements (batch shapes), so an LRU cache of prepared
 * statements by SQL text removes most of that cost. Kysely runs one statement at a time on the
 * connection, so sharing a statement object between calls is safe.
 */
function withStatementCache(database: Sqlite.Database, capacity = 512): SqliteDatabase {
  const cache = new Map<string, Sqlite.Statement>();
  return {
    close: () => {
      database.close();
    },
    prepare: (text: string) => {
      let statement = cache.get(text);
      if (statement) {
        cache.delete(text); // re-insert to mark as most recently used
      } else {
        statement = database.prepare(text);
        if (cache.size >= capacity) cache.delete(cache.keys().next().value as string);
      }
      cache.set(text, statement);
      return statement;
    },
  };
}

export interface SqliteOpenOptions extends SqliteOptions {
  /**
   * Append with the portable Kysely path (the one PostgreSQL uses) instead of SQLite's own; the
   * contract tests run both so the two paths keep answering alike.
   */
  portableAppends?: boolean;
}

export async function createSqliteStore(options: SqliteOpenOptions): Promise<Store> {
  const database = new Sqlite(options.filename);
  database.pragma('journal_mode = WAL');
  database.pragma(`synchronous = ${options.synchronous === 'normal' ? 'NORMAL' : 'FULL'}`);
  database.pragma('foreign_keys = ON');
  database.pragma('busy_timeout = 5000');
  const db = new Kysely<Database>({
    dialect: new SqliteDialect({ database: withStatementCache(database) }),
  });

  const engine: SqlEngine = {
    db,
    dialect: 'sqlite',
    writeTransaction: (work) =>
      db.connection().execute(async (connection) => {
        await sql`begin immediate`.execute(connection);
        try {
          const result = await work(connection);
          await sql`commit`.execute(connection);
          return result;
        } catch (error) {
          // SQLite rolls a transaction back by itself on some errors (SQLITE_FULL, SQLITE_IOERR);
          // a ROLLBACK then fails with "no transaction is active" and would hide the cause.
          if (database.inTransaction) await sql`rollback`.execute(connection);
          throw error;
        }
      }),
    close: () => db.destroy(),
  };
  const outboxTenants = options.outboxTenants ?? [];
  const keyring = createKeyring(db, options.masterKeys);
  const store = createSqlStore(engine, { outboxTenants, keyring });
  await store.migrate();
  // The fast path prepares its statements against the migrated schema.
  if (!options.portableAppends) {
    const append = createSqliteAppender(database, new Set(outboxTenants), keyring);
    // Holding Kysely's connection keeps the synchronous transaction from starting while one of
    // Kysely's own transactions is open on the same connection (it would nest as a savepoint).
    engine.appendEntries = (requests) =>
      db.connection().execute(() => Promise.resolve(append(requests)));
  }
  return store;
}
