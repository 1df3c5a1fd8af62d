// `pnpm bench:store`: the cost of the store's write path per message, by batch size, against the
// least a durable write can cost (a raw better-sqlite3 INSERT per message in one transaction) run in
// the same process. Prints wall and CPU time per message and the ratio; never fails.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Sqlite from 'better-sqlite3';
import pg from 'pg';
import { createSqliteStore } from '../src/store/sqlite.js';
import { createPostgresStore } from '../src/store/postgres.js';
import { masterKey, type MasterKeys } from '../src/store/keyring.js';
import type { AppendRequest, Store } from '../src/store/types.js';

const MESSAGES = 20_000;
const CONVERSATIONS = 50;
const ROOM = 4;
const text = 'Benchmark message of ordinary length, about one sentence.';
const masterKeys: MasterKeys = [masterKey(randomBytes(32))];

interface Cost {
  wallUs: number;
  cpuUs: number;
}

async function measure(run: () => Promise<void>): Promise<Cost> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  await run();
  const used = process.cpuUsage(cpu);
  return {
    wallUs: ((performance.now() - start) * 1000) / MESSAGES,
    cpuUs: (used.user + used.system) / MESSAGES,
  };
}

async function storeCost(
  dir: string,
  batch: number,
  synchronous: 'full' | 'normal',
  label = 'store',
): Promise<Cost> {
  return appendCost(
    await createSqliteStore({
      // A fresh file each time: appends into an old one would only find duplicates.
      filename: path.join(dir, `${label}-${batch}-${synchronous}.sqlite`),
      synchronous,
      masterKeys,
    }),
    batch,
  );
}

/** The cost per message of appending MESSAGES in batches of `batch` to a fresh store. */
async function appendCost(store: Store, batch: number): Promise<Cost> {
  for (let c = 0; c < CONVERSATIONS; c++) {
    await store.createConversation(
      {
        tenantId: 't',
        conversationId: `c${c}`,
        title: 'bench',
        createdBy: 'p',
        createdAt: new Date().toISOString(),
      },
      Array.from({ length: ROOM }, (_, k) => ({
        userId: `u${c * ROOM + k}`,
        role: 'patient' as const,
        displayName: 'U',
        relationship: null,
        title: null,
      })),
    );
  }
  let n = 0;
  const cost = await measure(async () => {
    for (let i = 0; i < MESSAGES / batch; i++) {
      const requests: AppendRequest[] = Array.from({ length: batch }, () => {
        const user = n % (CONVERSATIONS * ROOM);
        n++;
        return {
          kind: 'message',
          tenantId: 't',
          conversationId: `c${Math.floor(user / ROOM)}`,
          clientId: `id-${String(n).padStart(9, '0')}`,
          sender: { userId: `u${user}`, role: 'patient', displayName: 'U' },
          text,
          at: new Date().toISOString(),
        };
      });
      await store.appendEntries(requests);
    }
  });
  await store.close();
  return cost;
}

async function rawCost(dir: string, batch: number, synchronous: 'full' | 'normal'): Promise<Cost> {
  const db = new Sqlite(path.join(dir, `raw-${batch}-${synchronous}.sqlite`));
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous}`);
  db.exec(
    'create table entries (conversation_id text, seq integer, client_id text, sender_id text, text text, created_at text, primary key (conversation_id, seq))',
  );
  const insert = db.prepare('insert into entries values (?, ?, ?, ?, ?, ?)');
  const writeBatch = db.transaction((start: number) => {
    for (let k = 0; k < batch; k++)
      insert.run(
        `c${(start + k) % CONVERSATIONS}`,
        start + k,
        `id-${start + k}`,
        'u',
        text,
        new Date().toISOString(),
      );
  });
  const cost = await measure(() => {
    for (let i = 0; i < MESSAGES / batch; i++) writeBatch(i * batch);
    return Promise.resolve();
  });
  db.close();
  return cost;
}

const dir = mkdtempSync(path.join(tmpdir(), 'carethread-bench-store-'));
const rows: string[] = [];
const pgRows: string[] = [];

async function dropSchema(url: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(`drop schema if exists "${schema}" cascade`);
  await client.end();
}
try {
  for (const synchronous of ['full', 'normal'] as const) {
    for (const batch of [1, 10, 50, 200]) {
      const raw = await rawCost(dir, batch, synchronous);
      const store = await storeCost(dir, batch, synchronous);
      rows.push(
        `| ${synchronous} | ${batch} | ${raw.wallUs.toFixed(1)} / ${raw.cpuUs.toFixed(1)} | ${store.wallUs.toFixed(1)} / ${store.cpuUs.toFixed(1)} | ${(store.cpuUs / raw.cpuUs).toFixed(1)}× |`,
      );
      process.stderr.write(`synchronous=${synchronous} batch=${batch} done\n`);
    }
  }

  // The same appends on PostgreSQL (DATABASE_URL), each batch size in a schema of its own, against
  // the SQLite store measured here too. Wall time is what counts: PostgreSQL's own CPU is spent in
  // its server processes, not in this one.
  const url = process.env.DATABASE_URL;
  if (url) {
    for (const batch of [1, 10, 50, 200]) {
      const schema = `ct_bench_${String(batch)}_${String(process.pid)}`;
      const sqlite = await storeCost(dir, batch, 'full', 'beside-postgres');
      const postgres = await appendCost(
        await createPostgresStore({ connectionString: url, schema, poolSize: 2, masterKeys }),
        batch,
      );
      await dropSchema(url, schema);
      pgRows.push(
        `| ${batch} | ${sqlite.wallUs.toFixed(1)} / ${sqlite.cpuUs.toFixed(1)} | ${postgres.wallUs.toFixed(1)} / ${postgres.cpuUs.toFixed(1)} | ${(postgres.wallUs / sqlite.wallUs).toFixed(1)}× |`,
      );
      process.stderr.write(`postgres batch=${batch} done\n`);
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.stdout.write(
  [
    `Store write path, ${MESSAGES.toLocaleString('en-US')} messages in ${CONVERSATIONS} conversations, in-process (µs per message)`,
    '',
    '| synchronous | batch | raw INSERT wall / CPU | appendEntries wall / CPU | CPU ratio |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
    '',
    'appendEntries also checks membership, deduplicates client ids and assigns sequence numbers.',
    ...(pgRows.length > 0
      ? [
          '',
          'PostgreSQL (DATABASE_URL) against the SQLite store, synchronous=full (µs per message)',
          '',
          '| batch | SQLite store wall / CPU | PostgreSQL store wall / CPU | wall ratio |',
          '| --- | --- | --- | --- |',
          ...pgRows,
        ]
      : ['', 'PostgreSQL: not measured (set DATABASE_URL).']),
  ].join('\n') + '\n',
);
