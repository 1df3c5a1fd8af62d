// `pnpm bench:relay`: the same load against a bare Socket.IO relay that only broadcasts and
// against the CareThread relay, in one run. For each: the highest steady send rate with p99
// delivery latency under 100 ms and at least 97% delivered, its latency, server CPU and memory per
// connection; then the ratios. Method as in ../shared/TOOLCHAIN.md ("Benchmarking on 2 cores").
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { exportJWK, generateKeyPair } from 'jose';
import { io, type Socket } from 'socket.io-client';
import { PROTOCOL_VERSION } from '@carethread/shared';
import { mintToken } from '../src/index.js';
import type { ChildStats } from './server-child.js';

type Mode = 'bare' | 'carethread';

const { values: args } = parseArgs({
  options: {
    clients: { type: 'string', default: '200' },
    room: { type: 'string', default: '4' },
    runs: { type: 'string', default: '3' },
    quick: { type: 'boolean', default: false },
    // For profiling: measure one relay at one fixed rate instead of searching.
    only: { type: 'string' },
    rate: { type: 'string' },
  },
});
const CLIENTS = Number(args.clients);
const ROOM = Number(args.room);
const RUNS = args.quick ? 1 : Number(args.runs);
const WARM_MS = args.quick ? 1000 : 2000;
const MEASURE_MS = args.quick ? 2000 : 3000;
const START_RATE = 4000; // messages per second, all clients together
const GROWTH = args.quick ? 1.5 : 1.3;
const BISECTIONS = args.quick ? 1 : 3;
const P99_LIMIT_MS = 100;
const MIN_DELIVERED = 0.97;

interface StepResult {
  rate: number;
  deliveredRatio: number;
  deliveriesPerSecond: number;
  p50: number;
  p99: number;
  serverCpu: number;
  /** CPU of this process (the clients): on two cores it competes with the relay's threads. */
  clientCpu: number;
}

interface RunResult {
  best: StepResult;
  rssPerConnection: number;
}

const key = await generateKeyPair('ES256', { extractable: true });
const publicJwk = { ...(await exportJWK(key.publicKey)), kid: 'bench', alg: 'ES256' };
const token = (sub: string, role: 'patient' | 'provider') =>
  mintToken({
    issuer: 'https://bench.ehr.example',
    audience: 'carethread',
    key: key.privateKey,
    kid: 'bench',
    sub,
    name: sub,
    role,
    ttlSeconds: 3600,
  });

function startChild(mode: Mode): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(
    fileURLToPath(new URL('./server-child.js', import.meta.url)),
    [mode, JSON.stringify(publicJwk)],
    {
      // BENCH_CPU_PROF=<dir> writes a V8 CPU profile of each relay child, for finding where time goes.
      execArgv: [
        '--expose-gc',
        ...(process.env.BENCH_CPU_PROF
          ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`]
          : []),
      ],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  return new Promise((resolve, reject) => {
    child.once('message', (message: { port: number }) => {
      resolve({ child, port: message.port });
    });
    child.once('exit', (code) => {
      reject(new Error(`relay child exited with ${String(code)}`));
    });
  });
}

function childStats(child: ChildProcess): Promise<ChildStats> {
  return new Promise((resolve) => {
    child.once('message', (message: { stats: ChildStats }) => {
      resolve(message.stats);
    });
    child.send('stats');
  });
}

function connect(url: string, auth: Record<string, unknown>): Promise<Socket> {
  const socket = io(url, { transports: ['websocket'], auth, reconnection: false, forceNew: true });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => {
      resolve(socket);
    });
    socket.once('connect_error', reject);
  });
}

function emit(
  socket: Socket,
  event: string,
  payload: unknown,
): Promise<{ ok: boolean; error?: { code: string } }> {
  return socket.timeout(30_000).emitWithAck(event, payload) as Promise<{
    ok: boolean;
    error?: { code: string };
  }>;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.POSITIVE_INFINITY;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function run(mode: Mode): Promise<RunResult> {
  const { child, port } = await startChild(mode);
  const url = `http://127.0.0.1:${port}`;
  try {
    const conversations = Math.ceil(CLIENTS / ROOM);
    const roomOf = (i: number) => `bench-c-${String(Math.floor(i / ROOM))}`;
    if (mode === 'carethread') {
      const provider = await connect(url, {
        token: await token('bench-provider', 'provider'),
        protocol: PROTOCOL_VERSION,
      });
      for (let c = 0; c < conversations; c++) {
        const members = Array.from({ length: ROOM }, (_, k) => c * ROOM + k).filter(
          (i) => i < CLIENTS,
        );
        const ack = await emit(provider, 'conversation.create', {
          conversationId: `bench-c-${String(c)}`,
          title: 'Benchmark',
          participants: members.map((i) => ({
            userId: `user-${String(i)}`,
            role: 'patient',
            displayName: `User ${String(i)}`,
          })),
        });
        if (!ack.ok) throw new Error(`conversation.create failed: ${ack.error?.code ?? ''}`);
      }
      provider.close();
    }

    // Memory per connection is measured from here: the store is warm and one connection has
    // already paid for lazy initialisation (module loading, JIT, first key import).
    const warmAuth =
      mode === 'carethread'
        ? { token: await token('user-0', 'patient'), protocol: PROTOCOL_VERSION }
        : {};
    const warm = await connect(url, warmAuth);
    await emit(warm, 'conversation.open', { conversationId: roomOf(0) });
    warm.close();
    await sleep(200);
    const before = await childStats(child);

    const sentAt = new Map<string, number>();
    let window: Set<string> | undefined;
    let latencies: number[] = [];
    let windowDeliveries = 0;
    let lastDeliveryAt = performance.now();
    const sockets: Socket[] = [];
    for (let i = 0; i < CLIENTS; i++) {
      const auth =
        mode === 'carethread'
          ? { token: await token(`user-${String(i)}`, 'patient'), protocol: PROTOCOL_VERSION }
          : {};
      const socket = await connect(url, auth);
      socket.on('message', (message: { id: string }) => {
        const now = performance.now();
        lastDeliveryAt = now;
        if (window?.has(message.id)) {
          windowDeliveries++;
          latencies.push(now - sentAt.get(message.id)!);
        }
      });
      const ack = await emit(socket, 'conversation.open', { conversationId: roomOf(i) });
      if (!ack.ok) throw new Error(`conversation.open failed: ${ack.error?.code ?? ''}`);
      sockets.push(socket);
    }
    const connected = await childStats(child);
    const rssPerConnection = (connected.rss - before.rss) / CLIENTS;

    let counter = 0;
    async function step(rate: number): Promise<StepResult> {
      // Let the previous step's backlog drain so it does not count against this one.
      const quietSince = performance.now();
      while (performance.now() - lastDeliveryAt < 300 && performance.now() - quietSince < 10_000)
        await sleep(50);
      sentAt.clear();
      window = undefined;
      latencies = [];
      windowDeliveries = 0;
      let windowSent = 0;
      const started = performance.now();
      let cpuStart: ChildStats | undefined;
      let clientCpuStart: NodeJS.CpuUsage | undefined;
      let owed = 0;
      let next = 0;
      await new Promise<void>((resolve) => {
        let last = performance.now();
        const timer = setInterval(() => {
          const now = performance.now();
          owed += ((now - last) / 1000) * rate;
          last = now;
          if (!window && now - started >= WARM_MS) {
            window = new Set();
            clientCpuStart = process.cpuUsage();
            void childStats(child).then((s) => (cpuStart = s));
          }
          if (now - started >= WARM_MS + MEASURE_MS) {
            clearInterval(timer);
            resolve();
            return;
          }
          while (owed >= 1) {
            owed--;
            const socket = sockets[next]!;
            const i = next;
            next = (next + 1) % sockets.length;
            const id = `m-${String(counter++).padStart(9, '0')}`;
            sentAt.set(id, performance.now());
            if (window) {
              window.add(id);
              windowSent++;
            }
            socket.emit(
              'message.send',
              {
                conversationId: roomOf(i),
                id,
                text: 'Benchmark message of ordinary length, about one sentence.',
              },
              () => undefined,
            );
          }
        }, 1);
      });
      const clientCpu = process.cpuUsage(clientCpuStart);
      const cpuEnd = await childStats(child);
      await sleep(500); // stragglers of the window still count, if they make it
      const expected = windowSent * Math.min(ROOM, CLIENTS);
      latencies.sort((a, b) => a - b);
      const elapsedMicros = MEASURE_MS * 1000;
      return {
        rate,
        deliveredRatio: expected === 0 ? 0 : windowDeliveries / expected,
        deliveriesPerSecond: windowDeliveries / (MEASURE_MS / 1000),
        p50: percentile(latencies, 50),
        p99: percentile(latencies, 99),
        serverCpu: cpuStart ? (cpuEnd.cpuMicros - cpuStart.cpuMicros) / elapsedMicros : 0,
        clientCpu: (clientCpu.user + clientCpu.system) / elapsedMicros,
      };
    }
    const sustained = (r: StepResult) => r.p99 < P99_LIMIT_MS && r.deliveredRatio >= MIN_DELIVERED;

    if (args.rate) {
      const result = await step(Number(args.rate));
      log(mode, result);
      process.stderr.write(
        `  ${mode}: RSS per connection ${(rssPerConnection / 1024).toFixed(1)} KB\n`,
      );
      for (const socket of sockets) socket.close();
      return { best: result, rssPerConnection };
    }
    let best: StepResult | undefined;
    let failedRate: number | undefined;
    for (let rate = START_RATE; failedRate === undefined; rate = Math.round(rate * GROWTH)) {
      const result = await step(rate);
      log(mode, result);
      if (sustained(result)) best = result;
      else failedRate = rate;
    }
    let low = best?.rate ?? 0;
    let high = failedRate;
    for (let i = 0; i < BISECTIONS && high - low > 200; i++) {
      const result = await step(Math.round((low + high) / 2));
      log(mode, result);
      if (sustained(result)) {
        best = result;
        low = result.rate;
      } else high = result.rate;
    }
    for (const socket of sockets) socket.close();
    if (!best) throw new Error(`${mode}: not even ${START_RATE} messages/s was sustained`);
    return { best, rssPerConnection };
  } finally {
    child.send('stop');
    await new Promise((resolve) => child.once('exit', resolve));
  }
}

function log(mode: Mode, r: StepResult): void {
  process.stderr.write(
    `  ${mode.padEnd(10)} ${String(r.rate).padStart(6)} msg/s -> ${Math.round(r.deliveriesPerSecond).toLocaleString('en-US').padStart(9)} deliveries/s, ` +
      `${(r.deliveredRatio * 100).toFixed(1)}% delivered, p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms, server CPU ${(r.serverCpu * 100).toFixed(0)}%, client CPU ${(r.clientCpu * 100).toFixed(0)}%\n`,
  );
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
function summary(values: number[], format: (v: number) => string): string {
  if (values.length === 1) return format(values[0]!);
  return `${format(median(values))} [${format(Math.min(...values))}–${format(Math.max(...values))}]`;
}

const results: Record<Mode, RunResult[]> = { bare: [], carethread: [] };
for (let r = 0; r < RUNS; r++) {
  for (const mode of ['bare', 'carethread'] as const) {
    if (args.only && args.only !== mode) continue;
    process.stderr.write(`run ${String(r + 1)}/${String(RUNS)}: ${mode}\n`);
    results[mode].push(await run(mode));
  }
}

if (args.only) process.exit(0); // profiling run: the step lines above are the result

const int = (v: number) => Math.round(v).toLocaleString('en-US');
const ms = (v: number) => v.toFixed(1);
const kb = (v: number) => (v / 1024).toFixed(1);
const pct = (v: number) => `${(v * 100).toFixed(0)}%`;
const rows: [string, (r: RunResult) => number, (v: number) => string][] = [
  ['sustained deliveries/s', (r) => r.best.deliveriesPerSecond, int],
  ['send rate (messages/s)', (r) => r.best.rate, int],
  ['p50 latency (ms)', (r) => r.best.p50, ms],
  ['p99 latency (ms)', (r) => r.best.p99, ms],
  ['server CPU at that rate', (r) => r.best.serverCpu, pct],
  ['client CPU at that rate', (r) => r.best.clientCpu, pct],
  ['RSS per connection (KB)', (r) => r.rssPerConnection, kb],
];
const lines = [
  `Relay benchmark: ${String(CLIENTS)} clients in conversations of ${String(ROOM)}, ${String(RUNS)} run(s) each, median [range]`,
  '',
  '| measure | bare Socket.IO | CareThread | CareThread / bare |',
  '| --- | --- | --- | --- |',
  ...rows.map(([name, pick, format]) => {
    const bare = results.bare.map(pick);
    const care = results.carethread.map(pick);
    return `| ${name} | ${summary(bare, format)} | ${summary(care, format)} | ${(median(care) / median(bare)).toFixed(2)} |`;
  }),
  '',
  'Sustained = p99 delivery latency under 100 ms and at least 97% of deliveries made.',
  'CareThread acks each message only after its transaction commits (SQLite WAL, synchronous=FULL).',
];
process.stdout.write(`${lines.join('\n')}\n`);
