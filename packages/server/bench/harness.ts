// What the relay benchmarks share: relay children (one process each), tokens, clients, the
// steady-rate load of one step, the search for the highest sustained rate, and table helpers.
// Method as in ../shared/TOOLCHAIN.md ("Benchmarking on 2 cores").
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { exportJWK, generateKeyPair } from 'jose';
import { io, type Socket } from 'socket.io-client';
import { PROTOCOL_VERSION } from '@carethread/shared';
import { mintToken } from '../src/index.js';
import type { ChildOptions, ChildStats, Mode } from './server-child.js';

/**
 * The flags both benchmarks take: `--clients N --room N --runs N --quick`, and `--rate N` (one
 * fixed rate instead of the search) and `--only <name>` (one configuration) for profiling.
 * `--against <git ref>` (bench:relay) also runs the relay as built at that commit, in the same run.
 */
export function benchArgs(defaultRuns: number) {
  // `pnpm bench:relay -- --quick` passes the `--` on; it only separates pnpm's flags from ours.
  const argv = process.argv.slice(2);
  const { values } = parseArgs({
    args: argv[0] === '--' ? argv.slice(1) : argv,
    options: {
      clients: { type: 'string', default: '200' },
      room: { type: 'string', default: '4' },
      runs: { type: 'string', default: String(defaultRuns) },
      quick: { type: 'boolean', default: false },
      rate: { type: 'string' },
      only: { type: 'string' },
      against: { type: 'string' },
    },
  });
  return {
    clients: Number(values.clients),
    room: Number(values.room),
    runs: values.quick ? 1 : Number(values.runs),
    quick: values.quick,
    rate: values.rate === undefined ? undefined : Number(values.rate),
    only: values.only,
    against: values.against,
    step: {
      warmMs: values.quick ? 1000 : 2000,
      measureMs: values.quick ? 2000 : 3000,
    },
    bisections: values.quick ? 1 : 3,
  };
}

export const P99_LIMIT_MS = 100;
export const MIN_DELIVERED = 0.97;

export interface Latency {
  /** Deliveries measured. */
  count: number;
  p50: number;
  p99: number;
}

export interface StepResult {
  rate: number;
  deliveredRatio: number;
  deliveriesPerSecond: number;
  p50: number;
  p99: number;
  /** Deliveries to a socket on the sender's node, and to a socket on another node. */
  sameNode: Latency;
  crossNode: Latency;
  /** CPU of the relay processes together, in cores (1 = one core busy all the time). */
  serverCpu: number;
  /** CPU of this process (the clients): on two cores it competes with the relay's threads. */
  clientCpu: number;
  /** Further CPU counters the caller asked for (see `StepOptions.counters`), in cores. */
  counters: Record<string, number>;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A key pair for the benchmark's tenant, and tokens signed with it. */
export async function benchTenant() {
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
  const auth = async (mode: Mode, sub: string, role: 'patient' | 'provider' = 'patient') =>
    mode === 'carethread' ? { token: await token(sub, role), protocol: PROTOCOL_VERSION } : {};
  return { publicJwk, auth };
}

export interface RelayChild {
  child: ChildProcess;
  port: number;
  url: string;
  stats(): Promise<ChildStats>;
  /** Asks the relay to close, and kills it (by its pid) if it has not exited within 10 s. */
  stop(): Promise<void>;
}

/**
 * The benchmark's relay child as built at another commit, for measuring a change against the
 * commit before it in one run: a detached worktree in a temporary folder, installed from the pnpm
 * store (no network) and compiled. `remove` deletes the worktree.
 */
export function buildAtCommit(ref: string): {
  commit: string;
  childScript: string;
  remove(): void;
} {
  const git = (args: string[]) => execFileSync('git', args, { encoding: 'utf8' }).trim();
  const repo = git(['rev-parse', '--show-toplevel']);
  const commit = git(['rev-parse', '--short', `${ref}^{commit}`]);
  const folder = mkdtempSync(path.join(tmpdir(), 'carethread-bench-'));
  const run = (command: string, args: string[], cwd: string) =>
    execFileSync(command, args, { cwd, stdio: ['ignore', 'ignore', 'inherit'] });
  const remove = () => {
    run('git', ['worktree', 'remove', '--force', folder], repo);
    rmSync(folder, { recursive: true, force: true });
  };
  try {
    process.stderr.write(`building the relay at ${commit} in ${folder}\n`);
    run('git', ['worktree', 'add', '--detach', folder, commit], repo);
    run('pnpm', ['install', '--frozen-lockfile', '--offline'], folder);
    run('pnpm', ['exec', 'tsc', '--build', 'packages/server'], folder);
  } catch (error) {
    remove();
    throw error;
  }
  return {
    commit,
    childScript: path.join(folder, 'packages/server/dist/bench/server-child.js'),
    remove,
  };
}

export function startChild(
  mode: Mode,
  options: ChildOptions = { publicJwk: {} },
  childScript = fileURLToPath(new URL('./server-child.js', import.meta.url)),
): Promise<RelayChild> {
  const child = fork(childScript, [mode, JSON.stringify(options)], {
    // BENCH_CPU_PROF=<dir> writes a V8 CPU profile of each relay child, for finding where time goes.
    execArgv: [
      '--expose-gc',
      ...(process.env.BENCH_CPU_PROF
        ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`]
        : []),
    ],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const stats = () =>
    new Promise<ChildStats>((resolve) => {
      child.once('message', (message: { stats: ChildStats }) => {
        resolve(message.stats);
      });
      child.send('stats');
    });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.send('stop');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  return new Promise((resolve, reject) => {
    child.once('message', (message: { port: number }) => {
      const url = `http://127.0.0.1:${String(message.port)}`;
      resolve({ child, port: message.port, url, stats, stop });
    });
    child.once('exit', (code) => {
      reject(new Error(`relay child exited with ${String(code)}`));
    });
  });
}

export function connect(url: string, auth: Record<string, unknown>): Promise<Socket> {
  const socket = io(url, { transports: ['websocket'], auth, reconnection: false, forceNew: true });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => {
      resolve(socket);
    });
    socket.once('connect_error', reject);
  });
}

export function emit(
  socket: Socket,
  event: string,
  payload: unknown,
): Promise<{ ok: boolean; error?: { code: string } }> {
  return socket.timeout(30_000).emitWithAck(event, payload) as Promise<{
    ok: boolean;
    error?: { code: string };
  }>;
}

export const roomOf = (client: number, room: number) =>
  `bench-c-${String(Math.floor(client / room))}`;

/** Creates the conversations of `clients` patients in groups of `room`, as one provider. */
export async function createConversations(
  url: string,
  auth: Record<string, unknown>,
  clients: number,
  room: number,
): Promise<void> {
  const provider = await connect(url, auth);
  for (let c = 0; c < Math.ceil(clients / room); c++) {
    const members = Array.from({ length: room }, (_, k) => c * room + k).filter((i) => i < clients);
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

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.POSITIVE_INFINITY;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function latency(values: number[]): Latency {
  values.sort((a, b) => a - b);
  return { count: values.length, p50: percentile(values, 50), p99: percentile(values, 99) };
}

interface Sent {
  at: number;
  node: number;
  measured: boolean;
}

export interface StepOptions {
  warmMs: number;
  measureMs: number;
  /** Cumulative CPU microseconds of other processes to report per step, by name. */
  counters?: Record<string, () => number>;
}

/**
 * The benchmark's clients: each sends to and receives from its conversation on one relay node,
 * and every delivery is timed from the sender's `performance.now()` stamp.
 */
export class Load {
  readonly #sockets: { socket: Socket; node: number; room: string }[] = [];
  readonly #sent = new Map<string, Sent>();
  #same: number[] = [];
  #cross: number[] = [];
  #lastDeliveryAt = performance.now();
  #counter = 0;

  constructor(
    private readonly room: number,
    private readonly relays: RelayChild[],
  ) {}

  /** Connects client `index` to relay `node` and opens its conversation. */
  async add(index: number, node: number, auth: Record<string, unknown>): Promise<void> {
    const socket = await connect(this.relays[node]!.url, auth);
    socket.on('message', (message: { id: string }) => {
      const now = performance.now();
      this.#lastDeliveryAt = now;
      const sent = this.#sent.get(message.id);
      if (sent?.measured) (sent.node === node ? this.#same : this.#cross).push(now - sent.at);
    });
    const conversationId = roomOf(index, this.room);
    const ack = await emit(socket, 'conversation.open', { conversationId });
    if (!ack.ok) throw new Error(`conversation.open failed: ${ack.error?.code ?? ''}`);
    this.#sockets.push({ socket, node, room: conversationId });
  }

  get size(): number {
    return this.#sockets.length;
  }

  close(): void {
    for (const { socket } of this.#sockets) socket.close();
  }

  /** Sends `rate` messages/s in total, round robin over the clients; warms, then measures. */
  async step(rate: number, { warmMs, measureMs, counters = {} }: StepOptions): Promise<StepResult> {
    // Let the previous step's backlog drain so it does not count against this one.
    const quietSince = performance.now();
    while (
      performance.now() - this.#lastDeliveryAt < 300 &&
      performance.now() - quietSince < 10_000
    )
      await sleep(50);
    this.#sent.clear();
    this.#same = [];
    this.#cross = [];
    let measuring = false;
    let windowSent = 0;
    const started = performance.now();
    let cpuStart: Promise<number> | undefined;
    let clientCpuStart: NodeJS.CpuUsage | undefined;
    let countersStart: Record<string, number> = {};
    const serverCpu = async () =>
      (await Promise.all(this.relays.map((r) => r.stats()))).reduce((a, s) => a + s.cpuMicros, 0);
    const readCounters = () =>
      Object.fromEntries(Object.entries(counters).map(([name, read]) => [name, read()]));
    let owed = 0;
    let next = 0;
    await new Promise<void>((resolve) => {
      let last = performance.now();
      const timer = setInterval(() => {
        const now = performance.now();
        owed += ((now - last) / 1000) * rate;
        last = now;
        if (!measuring && now - started >= warmMs) {
          measuring = true;
          clientCpuStart = process.cpuUsage();
          countersStart = readCounters();
          cpuStart = serverCpu();
        }
        if (now - started >= warmMs + measureMs) {
          clearInterval(timer);
          resolve();
          return;
        }
        while (owed >= 1) {
          owed--;
          const { socket, node, room } = this.#sockets[next]!;
          next = (next + 1) % this.#sockets.length;
          const id = `m-${String(this.#counter++).padStart(9, '0')}`;
          this.#sent.set(id, { at: performance.now(), node, measured: measuring });
          if (measuring) windowSent++;
          socket.emit(
            'message.send',
            {
              conversationId: room,
              id,
              text: 'Benchmark message of ordinary length, about one sentence.',
            },
            () => undefined,
          );
        }
      }, 1);
    });
    const clientCpu = process.cpuUsage(clientCpuStart);
    const countersEnd = readCounters();
    const cpuEnd = await serverCpu();
    await sleep(500); // stragglers of the window still count, if they make it
    const expected = windowSent * Math.min(this.room, this.#sockets.length);
    const delivered = this.#same.length + this.#cross.length;
    const all = latency([...this.#same, ...this.#cross]);
    const micros = measureMs * 1000;
    return {
      rate,
      deliveredRatio: expected === 0 ? 0 : delivered / expected,
      deliveriesPerSecond: delivered / (measureMs / 1000),
      p50: all.p50,
      p99: all.p99,
      sameNode: latency(this.#same),
      crossNode: latency(this.#cross),
      serverCpu: cpuStart ? (cpuEnd - (await cpuStart)) / micros : 0,
      clientCpu: (clientCpu.user + clientCpu.system) / micros,
      counters: Object.fromEntries(
        Object.entries(countersEnd).map(([name, end]) => [
          name,
          (end - (countersStart[name] ?? end)) / micros,
        ]),
      ),
    };
  }
}

export const sustained = (r: StepResult) =>
  r.p99 < P99_LIMIT_MS && r.deliveredRatio >= MIN_DELIVERED;

export interface SearchOptions {
  start: number;
  growth: number;
  bisections: number;
  log: (result: StepResult) => void;
}

/**
 * The highest sustained rate: raise it by `growth` until a step fails, then bisect between the
 * last good rate and the first bad one.
 */
export async function searchSustained(
  step: (rate: number) => Promise<StepResult>,
  { start, growth, bisections, log }: SearchOptions,
): Promise<StepResult | undefined> {
  let best: StepResult | undefined;
  let failedRate: number | undefined;
  for (let rate = start; failedRate === undefined; rate = Math.round(rate * growth)) {
    const result = await step(rate);
    log(result);
    if (sustained(result)) best = result;
    else failedRate = rate;
  }
  let low = best?.rate ?? 0;
  let high = failedRate;
  for (let i = 0; i < bisections && high - low > 200; i++) {
    const result = await step(Math.round((low + high) / 2));
    log(result);
    if (sustained(result)) {
      best = result;
      low = result.rate;
    } else high = result.rate;
  }
  return best;
}

export function formatStep(name: string, r: StepResult): string {
  const cross =
    r.crossNode.count > 0
      ? ` (same node p50 ${r.sameNode.p50.toFixed(1)}/p99 ${r.sameNode.p99.toFixed(1)}, cross-node p50 ${r.crossNode.p50.toFixed(1)}/p99 ${r.crossNode.p99.toFixed(1)})`
      : '';
  const counters = Object.entries(r.counters)
    .map(([counter, value]) => `, ${counter} CPU ${(value * 100).toFixed(0)}%`)
    .join('');
  return (
    `  ${name.padEnd(10)} ${String(r.rate).padStart(6)} msg/s -> ${Math.round(r.deliveriesPerSecond).toLocaleString('en-US').padStart(9)} deliveries/s, ` +
    `${(r.deliveredRatio * 100).toFixed(1)}% delivered, p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms${cross}, server CPU ${(r.serverCpu * 100).toFixed(0)}%, client CPU ${(r.clientCpu * 100).toFixed(0)}%${counters}\n`
  );
}

export const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** `median [min–max]`, or the one value. */
export function summary(values: number[], format: (v: number) => string): string {
  if (values.length === 1) return format(values[0]!);
  return `${format(median(values))} [${format(Math.min(...values))}–${format(Math.max(...values))}]`;
}

export const int = (v: number) => Math.round(v).toLocaleString('en-US');
export const ms = (v: number) => v.toFixed(1);
export const pct = (v: number) => `${(v * 100).toFixed(0)}%`;
