// Several relay nodes in one test, as a deployment runs them: one PostgreSQL schema, one Redis
// stream (of this test's own, so parallel test files never hear each other), one data folder
// (so every node holds the same development-tenant and receipt keys).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import type { RelayConfigInput } from '../src/config.js';
import { startRelay, waitFor, type TestRelay } from './helpers.js';

export interface TestCluster {
  nodes: TestRelay[];
  schema: string;
  streamName: string;
  dataDir: string;
  /** Starts one more node on the same database, Redis stream and keys. */
  addNode(overrides?: Partial<RelayConfigInput>): Promise<TestRelay>;
  close(): Promise<void>;
}

export async function startCluster(
  size: number,
  urls: { databaseUrl: string; redisUrl: string },
  overrides: Partial<RelayConfigInput> = {},
): Promise<TestCluster> {
  const suffix = randomBytes(6).toString('hex');
  const schema = `ct_cluster_${suffix}`;
  const streamName = `carethread-test-${suffix}`;
  const dataDir = mkdtempSync(path.join(tmpdir(), 'carethread-cluster-'));
  const config: Partial<RelayConfigInput> = {
    databaseUrl: urls.databaseUrl,
    postgres: { poolSize: 4, schema },
    redisUrl: urls.redisUrl,
    redis: { streamName, maxLen: 10_000 },
    ...overrides,
  };
  const nodes: TestRelay[] = [];
  const addNode = async (more: Partial<RelayConfigInput> = {}) => {
    const node = await startRelay({ ...config, ...more }, dataDir);
    nodes.push(node);
    return node;
  };
  // One at a time: the first creates the schema and the keys the others then read.
  for (let i = 0; i < size; i++) await addNode();
  await Promise.all(nodes.map((node) => untilRedisConnected(node)));
  return {
    nodes,
    schema,
    streamName,
    dataDir,
    addNode,
    async close() {
      await Promise.allSettled(nodes.map((node) => node.close()));
      await dropSchema(urls.databaseUrl, schema);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Resolves once the node's Redis connection is up (its gauge in /metrics says 1). */
export async function untilRedisConnected(node: TestRelay, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = await (await fetch(`${node.url}/metrics`)).text();
    if (/^carethread_redis_connected 1$/m.test(text)) return;
    if (Date.now() > deadline) throw new Error('the relay did not connect to Redis');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

export async function dropSchema(databaseUrl: string, schema: string): Promise<void> {
  const admin = new Kysely<unknown>({
    dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: databaseUrl, max: 1 }) }),
  });
  try {
    await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(admin);
  } finally {
    await admin.destroy();
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        resolve(typeof address === 'object' && address ? address.port : 0);
      });
    });
  });
}

/**
 * A Redis server of the test's own on a free loopback port, so the test can stop, pause and
 * restart it without touching the machine's shared one.
 */
export interface OwnRedis {
  url: string;
  /** SIGSTOP: connections stay open, nothing is answered (a hung or partitioned Redis). */
  pause(): void;
  resume(): void;
  /** Stops the server (SIGKILL); `start()` brings up a new one on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startOwnRedis(): Promise<OwnRedis> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const start = async () => {
    const server = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    child = server;
    let out = '';
    server.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    await waitFor(() => out.includes('Ready to accept connections'), 5_000, 'redis-server');
  };
  const stop = async () => {
    const server = child;
    child = undefined;
    if (!server || server.exitCode !== null) return;
    const exited = new Promise((resolve) => server.once('exit', resolve));
    server.kill('SIGCONT'); // a paused server must run to die
    server.kill('SIGKILL');
    await exited;
  };
  await start();
  return {
    url: `redis://127.0.0.1:${String(port)}`,
    pause: () => child?.kill('SIGSTOP'),
    resume: () => child?.kill('SIGCONT'),
    stop,
    start,
    close: stop,
  };
}

/**
 * A TCP load balancer on loopback for WebSocket-only clients (one connection per session, so
 * every session sticks to its node): new connections go round-robin to the nodes, skipping a
 * node that refuses, as a balancer's health check would.
 */
export interface TestBalancer {
  url: string;
  /** How many connections each upstream port took. */
  counts: Map<number, number>;
  close(): Promise<void>;
}

export async function startBalancer(upstreamPorts: readonly number[]): Promise<TestBalancer> {
  const counts = new Map(upstreamPorts.map((port) => [port, 0]));
  const open = new Set<Socket>();
  let next = 0;
  const server = createServer((downstream) => {
    open.add(downstream);
    downstream.on('close', () => open.delete(downstream));
    downstream.on('error', () => downstream.destroy());
    const tryUpstream = (attemptsLeft: number) => {
      if (attemptsLeft === 0 || downstream.destroyed) {
        downstream.destroy();
        return;
      }
      const port = upstreamPorts[next++ % upstreamPorts.length]!;
      const upstream = connect(port, '127.0.0.1');
      const refused = () => {
        upstream.destroy();
        tryUpstream(attemptsLeft - 1);
      };
      upstream.once('error', refused);
      upstream.once('connect', () => {
        upstream.off('error', refused);
        counts.set(port, (counts.get(port) ?? 0) + 1);
        open.add(upstream);
        upstream.on('error', () => upstream.destroy());
        upstream.on('close', () => {
          open.delete(upstream);
          downstream.destroy();
        });
        downstream.on('close', () => upstream.destroy());
        downstream.pipe(upstream);
        upstream.pipe(downstream);
      });
    };
    tryUpstream(upstreamPorts.length);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${String(port)}`,
    counts,
    async close() {
      for (const socket of open) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** A relay node as its own process (so a test can SIGKILL it), started as a deployment would. */
export interface NodeProcess {
  child: ChildProcess;
  port: number;
  url: string;
  kill(): Promise<void>;
}

const relayBin = fileURLToPath(new URL('../bin/carethread-relay.js', import.meta.url));

export async function spawnNode(env: Record<string, string>, port = 0): Promise<NodeProcess> {
  const child = spawn(process.execPath, [relayBin], {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  await waitFor(
    () => out.includes('CareThread relay listening') || child.exitCode !== null,
    15_000,
    'the relay process to listen',
  );
  const line = out.split('\n').find((l) => l.includes('CareThread relay listening'));
  if (!line) throw new Error(`the relay process exited: ${out}`);
  const listening = (JSON.parse(line) as { port: number }).port;
  return {
    child,
    port: listening,
    url: `http://127.0.0.1:${String(listening)}`,
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    },
  };
}
