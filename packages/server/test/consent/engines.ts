// Consent suites that run on both engines: the relay's own SQLite in its data folder, and
// PostgreSQL (DATABASE_URL) in a schema of its own, dropped after the suite.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { describe } from 'vitest';
import { startRelay, type TestRelay } from '../helpers.js';
import { describeWithServices } from '../needs-services.js';

/** Starts a relay on the suite's engine; the suite closes it. */
export type StartRelay = () => Promise<TestRelay>;

/** `body` once as `name (SQLite)` and once as `name (PostgreSQL)`. */
export function describeOnEachEngine(name: string, body: (start: StartRelay) => void): void {
  describe(`${name} (SQLite)`, () => {
    body(() => startRelay());
  });
  describeWithServices(`${name} (PostgreSQL)`, ['DATABASE_URL'], ({ DATABASE_URL: url }) => {
    body(async () => {
      const schema = `ct_consent_${randomBytes(6).toString('hex')}`;
      const relay = await startRelay({ databaseUrl: url, postgres: { poolSize: 4, schema } });
      return {
        ...relay,
        async close() {
          await relay.close();
          const client = new pg.Client({ connectionString: url });
          await client.connect();
          try {
            await client.query(`drop schema if exists "${schema}" cascade`);
          } finally {
            await client.end();
          }
        },
      };
    });
  });
}
