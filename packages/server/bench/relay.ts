// `pnpm bench:relay`: the same load against a bare Socket.IO relay that only broadcasts and
// against the CareThread relay, in one run. For each: the highest steady send rate with p99
// delivery latency under 100 ms and at least 97% delivered, its latency, server CPU and memory per
// connection; then the ratios. Method as in ../shared/TOOLCHAIN.md ("Benchmarking on 2 cores").
import {
  benchArgs,
  benchTenant,
  connect,
  createConversations,
  emit,
  formatStep,
  int,
  Load,
  median,
  ms,
  pct,
  roomOf,
  searchSustained,
  sleep,
  startChild,
  summary,
  type StepResult,
} from './harness.js';
import type { Mode } from './server-child.js';

const args = benchArgs(3);
const { clients: CLIENTS, room: ROOM, runs: RUNS, bisections: BISECTIONS } = args;
const START_RATE = 4000; // messages per second, all clients together
const GROWTH = args.quick ? 1.5 : 1.3;

interface RunResult {
  best: StepResult;
  rssPerConnection: number;
}

const { publicJwk, auth } = await benchTenant();

async function run(mode: Mode): Promise<RunResult> {
  const relay = await startChild(mode, { publicJwk });
  try {
    if (mode === 'carethread')
      await createConversations(
        relay.url,
        await auth(mode, 'bench-provider', 'provider'),
        CLIENTS,
        ROOM,
      );

    // Memory per connection is measured from here: the store is warm and one connection has
    // already paid for lazy initialisation (module loading, JIT, first key import).
    const warm = await connect(relay.url, await auth(mode, 'user-0'));
    await emit(warm, 'conversation.open', { conversationId: roomOf(0, ROOM) });
    warm.close();
    await sleep(200);
    const before = await relay.stats();

    const load = new Load(ROOM, [relay]);
    for (let i = 0; i < CLIENTS; i++) await load.add(i, 0, await auth(mode, `user-${String(i)}`));
    const connected = await relay.stats();
    const rssPerConnection = (connected.rss - before.rss) / CLIENTS;

    const step = (rate: number) => load.step(rate, args.step);
    const log = (r: StepResult) => process.stderr.write(formatStep(mode, r));
    if (args.rate) {
      const result = await step(args.rate);
      log(result);
      process.stderr.write(
        `  ${mode}: RSS per connection ${(rssPerConnection / 1024).toFixed(1)} KB\n`,
      );
      load.close();
      return { best: result, rssPerConnection };
    }
    const best = await searchSustained(step, {
      start: START_RATE,
      growth: GROWTH,
      bisections: BISECTIONS,
      log,
    });
    load.close();
    if (!best) throw new Error(`${mode}: not even ${START_RATE} messages/s was sustained`);
    return { best, rssPerConnection };
  } finally {
    await relay.stop();
  }
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

const kb = (v: number) => (v / 1024).toFixed(1);
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
