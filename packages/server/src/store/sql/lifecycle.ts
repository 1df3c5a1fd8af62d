// The SQL of the lifecycle part of the Store contract (lifecycle.ts), for both engines: migrating,
// the readiness ping, closing, and the tenants' data keys.
import { Migrator, sql } from 'kysely';
import type { LifecycleStore } from '../lifecycle.js';
import { migrationProvider } from '../migrations.js';
import type { SqlContext } from './shared.js';

export function createLifecycleStore(context: SqlContext): LifecycleStore {
  const { db, engine, keyring } = context;
  return {
    async migrate() {
      const migrator = new Migrator({
        db,
        provider: migrationProvider(engine.dialect),
        // Kysely looks for its own bookkeeping tables in any schema unless told which one.
        ...(engine.schema ? { migrationTableSchema: engine.schema } : {}),
        // Numbers are reserved per branch (0012 and 0013 land after 0014), so a database may
        // meet a lower number after a higher one ran; each still runs once.
        allowUnorderedMigrations: true,
      });
      const { error, results } = await migrator.migrateToLatest();
      const failed = results?.find((r) => r.status === 'Error');
      if (error !== undefined || failed) {
        throw new Error(`Database migration ${failed?.migrationName ?? ''} failed`, {
          cause: error,
        });
      }
      // Fails here, at startup, when the configured master keys cannot open the data keys.
      await keyring.load();
    },

    async ping() {
      await sql`select 1`.execute(db);
    },

    close: () => engine.close(),

    dataKeys: () => keyring.status(),
    rewrapDataKeys: () => keyring.rewrap(),
  };
}
