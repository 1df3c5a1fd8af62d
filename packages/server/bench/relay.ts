// `pnpm bench:relay`: the same load against a bare Socket.IO relay that only broadcasts and
// against the CareThread relay, in one run. For each: the highest steady send rate with p99
// delivery latency under 100 ms and at least 97% delivered, its latency, server CPU and memory per
// connection; then the ratios. `--against <git ref>` adds the relay as built at that commit, so a
// change is measured against the commit before it in the same run (`--against HEAD~1`).
// Method as in ../shared/TOOLCHAIN.md ("Benchmarking on 2 cores").
import {
  benchArgs,
  buildAtCommit,
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

/** A relay to measure: its kind, and the build of another commit when it is the baseline. */
interface Configuration {
  label: string;
  mode: Mode;
  childScript?: string;
}

async function run({ label, mode, childScript }: Configuration): Promise<RunResult> {
  const relay = await startChild(mode, { publicJwk }, childScript);
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
    const log = (r: StepResult) => process.stderr.write(formatStep(label, r));
    if (args.rate) {
      const result = await step(args.rate);
      log(result);
      process.stderr.write(
        `  ${label}: RSS per connection ${(rssPerConnection / 1024).toFixed(1)} KB\n`,
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
    if (!best) throw new Error(`${label}: not even ${START_RATE} messages/s was sustained`);
    return { best, rssPerConnection };
  } finally {
    await relay.stop();
  }
}

const baseline = args.against === undefined ? undefined : buildAtCommit(args.against);
const configurations: Configuration[] = [
  { label: 'bare', mode: 'bare' },
  ...(baseline
    ? [{ label: `at ${baseline.commit}`, mode: 'carethread' as const, ...baseline }]
    : []),
  { label: 'carethread', mode: 'carethread' },
];
const results = new Map<Configuration, RunResult[]>(configurations.map((c) => [c, []]));
try {
  for (let r = 0; r < RUNS; r++) {
    for (const configuration of configurations) {
      if (args.only && args.only !== configuration.label) continue;
      process.stderr.write(`run ${String(r + 1)}/${String(RUNS)}: ${configuration.label}\n`);
      results.get(configuration)?.push(await run(configuration));
    }
  }
} finally {
  baseline?.remove();
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
const [bare, ...relays] = configurations.map((c) => results.get(c) ?? []);
const [current] = relays.slice(-1);
const previous = relays.length > 1 ? relays[0] : undefined;
const ratio = (a: RunResult[] = [], b: RunResult[] = [], pick: (r: RunResult) => number) =>
  (median(a.map(pick)) / median(b.map(pick))).toFixed(2);
const lines = [
  `Relay benchmark: ${String(CLIENTS)} clients in conversations of ${String(ROOM)}, ${String(RUNS)} run(s) each, median [range]`,
  '',
  previous
    ? `| measure | bare Socket.IO | CareThread at ${baseline?.commit ?? ''} | CareThread | CareThread / bare | CareThread / at ${baseline?.commit ?? ''} |`
    : '| measure | bare Socket.IO | CareThread | CareThread / bare |',
  previous ? '| --- | --- | --- | --- | --- | --- |' : '| --- | --- | --- | --- |',
  ...rows.map(([name, pick, format]) => {
    const cells = [bare, ...relays].map((r = []) => summary(r.map(pick), format));
    const ratios = [
      ratio(current, bare, pick),
      ...(previous ? [ratio(current, previous, pick)] : []),
    ];
    return `| ${name} | ${[...cells, ...ratios].join(' | ')} |`;
  }),
  '',
  'Sustained = p99 delivery latency under 100 ms and at least 97% of deliveries made.',
  'CareThread acks each message only after its transaction commits (SQLite WAL, synchronous=FULL).',
];
process.stdout.write(`${lines.join('\n')}\n`);
