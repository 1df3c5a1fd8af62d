// `pnpm bench:cluster`: the same load against a bare Socket.IO relay (one process, in-memory
// adapter), one CareThread node on PostgreSQL + Redis, and two CareThread nodes sharing one
// PostgreSQL schema and one Redis stream with every conversation split across both, in one run.
// For each: the highest steady send rate with p99 under 100 ms and at least 97% delivered, its
// latency (for two nodes also same-node against cross-node), and the CPU of relays, clients,
// PostgreSQL + Redis and the whole machine; then the ratios against bare.
// Everything it starts is its own: relay processes (stopped by pid), a schema (dropped), a Redis
// stream (deleted), a data folder (removed). Traffic stays on 127.0.0.1.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createClient } from 'redis';
import {
  benchArgs,
  benchTenant,
  createConversations,
  formatStep,
  int,
  Load,
  median,
  ms,
  pct,
  searchSustained,
  startChild,
  summary,
  type RelayChild,
  type StepResult,
} from './harness.js';

const CONFIGS = ['bare', 'one', 'two'] as const;
type Config = (typeof CONFIGS)[number];
const LABELS: Record<Config, string> = {
  bare: 'bare Socket.IO',
  one: 'CareThread, 1 node',
  two: 'CareThread, 2 nodes',
};

// `--only bare|one|two` with `BENCH_CPU_PROF=<dir>` profiles one configuration's relays.
const args = benchArgs(3);
const { clients: CLIENTS, room: ROOM, runs: RUNS, bisections: BISECTIONS } = args;
const START_RATE = 1500; // messages per second, all clients together; PostgreSQL starts low
const GROWTH = 1.5;
const DATABASE_URL = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
if (args.only && !CONFIGS.includes(args.only as Config))
  throw new Error(`--only must be one of ${CONFIGS.join(', ')}`);
for (const url of [DATABASE_URL, REDIS_URL]) {
  const host = new URL(url).hostname;
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(host))
    throw new Error(`the benchmark only talks to loopback services, not ${host}`);
}

const { publicJwk, auth } = await benchTenant();

/** What a configuration started, undone at the end or on Ctrl-C. */
const cleanups = new Set<() => Promise<void>>();
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    void Promise.allSettled([...cleanups].map((cleanup) => cleanup())).then(() =>
      process.exit(130),
    );
  });

async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: DATABASE_URL });
  await client.connect();
  try {
    await client.query(`drop schema if exists "${schema}" cascade`);
  } finally {
    await client.end();
  }
}

async function deleteStream(key: string): Promise<void> {
  const client = createClient({ url: REDIS_URL });
  await client.connect();
  try {
    await client.del(key);
  } finally {
    await client.close();
  }
}

/** Relays of one configuration: a cluster gets a fresh schema, stream and data folder. */
async function start(
  config: Config,
): Promise<{ relays: RelayChild[]; close: () => Promise<void> }> {
  if (config === 'bare') {
    const relay = await startChild('bare');
    return { relays: [relay], close: () => relay.stop() };
  }
  const suffix = randomBytes(6).toString('hex');
  const cluster = {
    databaseUrl: DATABASE_URL,
    schema: `ct_bench_${suffix}`,
    redisUrl: REDIS_URL,
    streamName: `carethread-bench-${suffix}`,
    dataDir: mkdtempSync(path.join(tmpdir(), 'carethread-bench-cluster-')),
  };
  const relays: RelayChild[] = [];
  const close = async () => {
    cleanups.delete(close);
    await Promise.allSettled(relays.map((relay) => relay.stop()));
    await dropSchema(cluster.schema);
    await deleteStream(cluster.streamName);
    rmSync(cluster.dataDir, { recursive: true, force: true });
  };
  cleanups.add(close);
  try {
    // One at a time: the first node creates the schema and the keys the second then reads.
    for (let n = 0; n < (config === 'two' ? 2 : 1); n++)
      relays.push(await startChild('carethread', { publicJwk, cluster }));
  } catch (error) {
    await close();
    throw error;
  }
  return { relays, close };
}

// CPU of processes outside the benchmark, from /proc (clock ticks of 10 ms). PostgreSQL and Redis
// are the machine's shared servers: their figure includes whatever else uses them meanwhile.
const TICK_MICROS = 10_000;
function processTicks(names: readonly string[]): Map<number, number> {
  const ticks = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      if (!names.some((name) => comm.startsWith(name))) continue;
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks.set(Number(entry), Number(fields[11]) + Number(fields[12]));
    } catch {
      // The process ended while we looked.
    }
  }
  return ticks;
}
/** A cumulative CPU counter over processes that come and go (each counted from when first seen). */
function servicesCpu(names: readonly string[]): () => number {
  let last = processTicks(names);
  let total = 0;
  return () => {
    const now = processTicks(names);
    for (const [pid, ticks] of now) total += ticks - (last.get(pid) ?? 0);
    last = now;
    return total * TICK_MICROS;
  };
}
function machineCpu(): number {
  const [, ...fields] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
  const [user, nice, system, , , irq, softirq, steal] = fields.map(Number);
  return (user! + nice! + system! + irq! + softirq! + steal!) * TICK_MICROS;
}
const counters = { services: servicesCpu(['postgres', 'redis-server']), machine: machineCpu };
/** What the machine spent beyond the relays, the clients, PostgreSQL and Redis: someone else. */
const othersCpu = (r: StepResult) =>
  Math.max(0, (r.counters.machine ?? 0) - r.serverCpu - r.clientCpu - (r.counters.services ?? 0));

/** The sustained (or fixed-rate) step; undefined when not even the lowest rate tried held. */
async function run(config: Config): Promise<StepResult | undefined> {
  const { relays, close } = await start(config);
  const mode = config === 'bare' ? 'bare' : 'carethread';
  try {
    if (mode === 'carethread')
      await createConversations(
        relays[0]!.url,
        await auth(mode, 'bench-provider', 'provider'),
        CLIENTS,
        ROOM,
      );
    // Client i on node i mod n: with two nodes every conversation has members on both.
    const load = new Load(ROOM, relays);
    for (let i = 0; i < CLIENTS; i++)
      await load.add(i, i % relays.length, await auth(mode, `user-${String(i)}`));
    const step = (rate: number) => load.step(rate, { ...args.step, counters });
    const log = (r: StepResult) => process.stderr.write(formatStep(config, r));
    // Unmeasured: JIT, PostgreSQL's plans and the Redis readers settle before the first step.
    await load.step(START_RATE / 2, { warmMs: args.step.warmMs, measureMs: 0 });
    let best: StepResult | undefined;
    if (args.rate) {
      best = await step(args.rate);
      log(best);
    } else
      best = await searchSustained(step, {
        start: START_RATE,
        growth: GROWTH,
        bisections: BISECTIONS,
        log,
      });
    load.close();
    return best;
  } finally {
    await close();
  }
}

const started = performance.now();
process.stderr.write(
  'Note: the clients, the relays, PostgreSQL and Redis all share this machine (2 cores here); ' +
    'read the CPU rows before the throughput rows.\n',
);
const results: Record<Config, StepResult[]> = { bare: [], one: [], two: [] };
const unsustained: string[] = [];
for (let r = 0; r < RUNS; r++) {
  for (const config of CONFIGS) {
    if (args.only && args.only !== config) continue;
    process.stderr.write(`run ${String(r + 1)}/${String(RUNS)}: ${LABELS[config]}\n`);
    const best = await run(config);
    if (best) results[config].push(best);
    else unsustained.push(`${LABELS[config]} in run ${String(r + 1)}`);
  }
}
if (args.only) process.exit(0); // profiling run: the step lines above are the result

const shown = (values: number[], format: (v: number) => string) =>
  values.length === 0 ? '—' : summary(values, format);
const ratio = (a: number[], b: number[]) =>
  a.length === 0 || b.length === 0 || median(b) === 0 ? '—' : (median(a) / median(b)).toFixed(2);
const cross = (pick: (r: StepResult) => number) => (r: StepResult) =>
  r.crossNode.count > 0 ? [pick(r)] : [];
const rows: [string, (r: StepResult) => number[], (v: number) => string][] = [
  [
    args.rate ? `deliveries/s at ${String(args.rate)} msg/s` : 'sustained deliveries/s',
    (r) => [r.deliveriesPerSecond],
    int,
  ],
  ['send rate (messages/s)', (r) => [r.rate], int],
  ['delivered (%)', (r) => [r.deliveredRatio], (v) => (v * 100).toFixed(1)],
  ['p50 latency (ms)', (r) => [r.p50], ms],
  ['p99 latency (ms)', (r) => [r.p99], ms],
  ['same-node p50 / p99 (ms)', cross((r) => r.sameNode.p50), ms],
  ['', cross((r) => r.sameNode.p99), ms],
  ['cross-node p50 / p99 (ms)', cross((r) => r.crossNode.p50), ms],
  ['', cross((r) => r.crossNode.p99), ms],
  ['relay CPU (all nodes)', (r) => [r.serverCpu], pct],
  ['client CPU', (r) => [r.clientCpu], pct],
  ['PostgreSQL + Redis CPU', (r) => [r.counters.services ?? 0], pct],
  ['machine CPU (of 200%)', (r) => [r.counters.machine ?? 0], pct],
  ['of which other processes', (r) => [othersCpu(r)], pct],
];
const tableRows: string[] = [];
for (let i = 0; i < rows.length; i++) {
  const [name, pick, format] = rows[i]!;
  if (name === '') continue; // the p99 half of a "p50 / p99" row, joined below
  const values = (config: Config) => results[config].flatMap(pick);
  const cell = (config: Config) => {
    const pair = rows[i + 1]?.[0] === '' ? rows[i + 1]![1] : undefined;
    const first = shown(values(config), format);
    if (!pair) return first;
    const second = results[config].flatMap(pair);
    return first === '—' ? first : `${first} / ${shown(second, format)}`;
  };
  tableRows.push(
    `| ${name} | ${cell('bare')} | ${cell('one')} | ${cell('two')} | ${ratio(values('one'), values('bare'))} | ${ratio(values('two'), values('bare'))} |`,
  );
}
const lines = [
  `Cluster benchmark: ${String(CLIENTS)} clients in conversations of ${String(ROOM)}, ${String(RUNS)} run(s) each, median [range], ${((performance.now() - started) / 60_000).toFixed(1)} min`,
  '',
  `| measure | ${LABELS.bare} | ${LABELS.one} | ${LABELS.two} | 1 node / bare | 2 nodes / bare |`,
  '| --- | --- | --- | --- | --- | --- |',
  ...tableRows,
  '',
  'Sustained = p99 delivery latency under 100 ms and at least 97% of deliveries made.',
  ...(unsustained.length > 0
    ? [`Nothing sustained (left out of the medians): ${unsustained.join(', ')}.`]
    : []),
  'CareThread nodes store on PostgreSQL (ack after commit) and fan out over one Redis stream;',
  'with two nodes each conversation has two members on each node, so half the deliveries cross nodes.',
  'CPU in cores x 100%: the clients, every relay, PostgreSQL and Redis share this machine',
  '(and others may use it), so more nodes on one box compete for the same cores.',
];
process.stdout.write(`${lines.join('\n')}\n`);
