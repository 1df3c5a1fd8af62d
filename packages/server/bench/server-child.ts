// One relay under test, in its own process (its own core): either a bare Socket.IO server that
// only broadcasts (and writes uploads straight to disk), or the CareThread relay with auth, validation, membership and its store (SQLite
// in a data folder of its own, or, for the cluster benchmark, a node on PostgreSQL + Redis).
// Talks to the benchmark over IPC: sends { port }, answers 'stats' with RSS and CPU time.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Server } from 'socket.io';
import type { RelayConfigInput } from '../src/config.js';
import { createRelay, parseConfig } from '../src/index.js';
import { createSqliteStore } from '../src/store/sqlite.js';
import { masterKey } from '../src/store/keyring.js';

export type Mode = 'bare' | 'carethread';

/** What the benchmark passes to a CareThread child (as JSON in argv[3]). */
export interface ChildOptions {
  publicJwk: Record<string, unknown>;
  /** A cluster node: PostgreSQL schema, Redis stream and data folder shared with the other nodes. */
  cluster?: {
    databaseUrl: string;
    schema: string;
    redisUrl: string;
    streamName: string;
    dataDir: string;
  };
  /** Where uploads go (the data folder when omitted): `bench:files --s3` gives a bucket. */
  fileStorage?: RelayConfigInput['fileStorage'];
}

export interface ChildStats {
  rss: number;
  cpuMicros: number;
}

function stats(): ChildStats {
  (globalThis as { gc?: () => void }).gc?.();
  const cpu = process.cpuUsage();
  return { rss: process.memoryUsage().rss, cpuMicros: cpu.user + cpu.system };
}

async function startBare(): Promise<{ port: number; close: () => Promise<void> }> {
  // The file benchmark's baseline: each PUT streamed straight into a file and fsynced, nothing
  // else (no auth, sniffing, hashing, sealing or store). Socket.IO answers its own path.
  const uploads = mkdtempSync(path.join(tmpdir(), 'carethread-bench-bare-'));
  const http = createServer((req, res) => {
    if (req.method !== 'PUT' || !req.url?.startsWith('/files/')) return;
    const file = path.join(uploads, randomBytes(8).toString('hex'));
    pipeline(req, createWriteStream(file))
      .then(async () => {
        const handle = await open(file, 'r');
        await handle.sync();
        await handle.close();
        res.writeHead(201).end('{}');
      })
      .catch(() => res.writeHead(500).end());
  });
  const io = new Server(http, { serveClient: false, maxHttpBufferSize: 64 * 1024 });
  io.on('connection', (socket) => {
    socket.on(
      'conversation.open',
      (payload: { conversationId: string }, ack: (r: unknown) => void) => {
        void socket.join(payload.conversationId);
        ack({ ok: true, data: {} });
      },
    );
    socket.on(
      'message.send',
      (
        payload: { conversationId: string; id: string; text: string },
        ack: (r: unknown) => void,
      ) => {
        io.to(payload.conversationId).emit('message', payload);
        ack({ ok: true, data: { id: payload.id } });
      },
    );
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  return {
    port: (http.address() as AddressInfo).port,
    close: () =>
      new Promise(
        (resolve) =>
          void io.close(() => {
            rmSync(uploads, { recursive: true, force: true });
            resolve();
          }),
      ),
  };
}

async function startCareThread({
  publicJwk,
  cluster,
  fileStorage,
}: ChildOptions): Promise<{ port: number; close: () => Promise<void> }> {
  // A cluster's data folder belongs to the benchmark (the nodes share its keys); a lone relay's
  // is its own.
  const dataDir = cluster?.dataDir ?? mkdtempSync(path.join(tmpdir(), 'carethread-bench-'));
  const inline = process.env.BENCH_STORE === 'inline' && !cluster;
  const relay = await createRelay(
    parseConfig({
      port: 0,
      host: '127.0.0.1',
      dataDir,
      ...(cluster && {
        databaseUrl: cluster.databaseUrl,
        postgres: { poolSize: 10, schema: cluster.schema },
        redisUrl: cluster.redisUrl,
        redis: { streamName: cluster.streamName, maxLen: 10_000 },
      }),
      ...(fileStorage && { fileStorage }),
      devTenant: false,
      logLevel: 'warn',
      writeBatch: { lingerMs: Number(process.env.BENCH_LINGER_MS ?? 2), maxSize: 500 },
      sqlite: { synchronous: process.env.BENCH_SQLITE_SYNC === 'normal' ? 'normal' : 'full' },
      limits: {
        maxPacketBytes: 64 * 1024,
        connectionsPerMinutePerAddress: 1_000_000,
        packetsPerSecond: 1_000_000,
      },
      tenants: [
        {
          id: 'bench',
          issuer: 'https://bench.ehr.example',
          audience: 'carethread',
          jwks: { keys: [publicJwk] },
          limits: { maxMessageLength: 4000, sendPerSecond: 1_000_000, sendBurst: 1_000_000 },
        },
      ],
    }),
    inline
      ? {
          store: await createSqliteStore({
            filename: path.join(dataDir, 'inline.sqlite'),
            synchronous: process.env.BENCH_SQLITE_SYNC === 'normal' ? 'normal' : 'full',
            masterKeys: [masterKey(randomBytes(32))],
          }),
        }
      : {},
  );
  const port = await relay.listen();
  if (cluster) await untilRedisConnected(port);
  return {
    port,
    close: async () => {
      await relay.close();
      if (!cluster) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A node counts as started once its fan-out is connected (its gauge in /metrics says 1). */
async function untilRedisConnected(port: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const text = await (await fetch(`http://127.0.0.1:${String(port)}/metrics`)).text();
    if (/^carethread_redis_connected 1$/m.test(text)) return;
    if (Date.now() > deadline) throw new Error('the relay did not connect to Redis');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const mode = process.argv[2] as Mode;
const server =
  mode === 'bare'
    ? await startBare()
    : await startCareThread(JSON.parse(process.argv[3] ?? '{}') as ChildOptions);
process.on('message', (message: string) => {
  if (message === 'stats') process.send?.({ stats: stats() });
  if (message === 'stop') void server.close().then(() => process.exit(0));
});
process.send?.({ port: server.port });
