// `pnpm bench:files`: upload throughput and relay memory with one 20 MB upload against ten at
// once (issue 8: memory must stay flat, not grow with file size), with the throughput of a bare
// server that only writes the bytes to disk as the baseline (`× bare`). Each scenario runs in a fresh
// relay child (its own process) so its peak RSS (VmHWM) is its own; three runs, median and range.
// `--s3` stores into an S3 bucket (s3rver on loopback, in this process) instead of the data folder.
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { startS3Server } from '../test/files/s3-server.js';
import { benchTenant, createConversations, median, startChild } from './harness.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    mb: { type: 'string', default: '20' },
    quick: { type: 'boolean', default: false },
    s3: { type: 'boolean', default: false },
  },
});
const RUNS = values.quick ? 1 : Number(values.runs);
const FILE_BYTES = Number(values.mb) * 1024 * 1024 - 1024; // just under the default limit
const PIECE = randomBytes(256 * 1024);

/** The relay child's resident and peak resident memory, from /proc (Linux), in bytes. */
function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${String(pid)}/status`, 'utf8');
  const field = (name: string) =>
    Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1]) * 1024;
  return { rss: field('VmRSS'), peak: field('VmHWM') };
}

/** Streams a PDF of FILE_BYTES to the relay, honouring backpressure; resolves with the status. */
function upload(url: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'PUT',
        headers: { authorization: `Bearer ${token}`, 'content-length': String(FILE_BYTES) },
      },
      (res) => {
        res.resume();
        res.on('end', () => {
          resolve(res.statusCode ?? 0);
        });
      },
    );
    req.on('error', reject);
    let sent = 0;
    const pump = () => {
      while (sent < FILE_BYTES) {
        const piece =
          sent === 0
            ? Buffer.concat([Buffer.from('%PDF-1.7\n'), PIECE]).subarray(0, PIECE.length)
            : PIECE.subarray(0, Math.min(PIECE.length, FILE_BYTES - sent));
        sent += piece.length;
        if (!req.write(piece)) {
          req.once('drain', pump);
          return;
        }
      }
      req.end();
    };
    pump();
  });
}

interface Result {
  seconds: number;
  mbPerSecond: number;
  idleRss: number;
  peakRss: number;
}

const { publicJwk, auth } = await benchTenant();
const bucket = values.s3 ? await startS3Server() : undefined;
const fileStorage = bucket && { kind: 's3' as const, ...bucket.options('bench/') };

/** `concurrent` uploads at once into a fresh child: the bare baseline or the CareThread relay. */
async function scenario(mode: 'bare' | 'carethread', concurrent: number): Promise<Result> {
  const relay = await startChild(mode, { publicJwk, ...(fileStorage && { fileStorage }) });
  try {
    if (mode === 'carethread')
      await createConversations(relay.url, await auth('carethread', 'dr', 'provider'), 10, 10);
    const pid = relay.child.pid ?? 0;
    const tokens = await Promise.all(
      Array.from({ length: concurrent }, async (_, i) => {
        if (mode === 'bare') return 'none';
        const { token } = (await auth('carethread', `user-${String(i)}`)) as { token: string };
        return token;
      }),
    );
    const idleRss = memoryOf(pid).rss;
    const started = performance.now();
    const statuses = await Promise.all(
      tokens.map((token, i) =>
        upload(
          `${relay.url}/files/bench-${String(i)}-${randomBytes(4).toString('hex')}?conversationId=bench-c-0&name=b.pdf`,
          token,
        ),
      ),
    );
    const seconds = (performance.now() - started) / 1000;
    if (statuses.some((s) => s !== 201)) throw new Error(`uploads answered ${statuses.join(',')}`);
    return {
      seconds,
      mbPerSecond: (concurrent * FILE_BYTES) / 1024 / 1024 / seconds,
      idleRss,
      peakRss: memoryOf(pid).peak,
    };
  } finally {
    await relay.stop();
  }
}

const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(0);
const range = (xs: number[], f: (v: number) => string) =>
  `${f(median(xs))} (${f(Math.min(...xs))}–${f(Math.max(...xs))})`;

const rows: string[] = [];
for (const concurrent of [1, 10]) {
  const runs = { bare: [] as Result[], carethread: [] as Result[] };
  // Interleaved, so both see the same machine.
  for (let run = 0; run < RUNS; run++)
    for (const mode of ['bare', 'carethread'] as const)
      runs[mode].push(await scenario(mode, concurrent));
  const bareSpeed = median(runs.bare.map((r) => r.mbPerSecond));
  for (const mode of ['bare', 'carethread'] as const) {
    const results = runs[mode];
    const speeds = results.map((r) => r.mbPerSecond);
    rows.push(
      `| ${String(concurrent).padStart(2)} × ${values.mb} MB | ${mode === 'bare' ? 'bare: write to disk' : 'CareThread relay'} | ${range(
        speeds,
        (v) => v.toFixed(0),
      )} | ${(median(speeds) / bareSpeed).toFixed(2)} | ${range(
        results.map((r) => r.idleRss),
        mb,
      )} | ${range(
        results.map((r) => r.peakRss),
        mb,
      )} | ${range(
        results.map((r) => r.peakRss - r.idleRss),
        mb,
      )} |`,
    );
  }
}
process.stdout.write(
  [
    `Uploads to one relay (SQLite, sealed, ${bucket ? 'S3 bucket on s3rver' : 'local folder'}) against a bare server that writes them to disk, ${String(RUNS)} run(s): median (range)`,
    '',
    '| uploads | server | MB/s (all together) | × bare | RSS idle, MB | peak RSS, MB | peak − idle, MB |',
    '| ------- | ------ | ------------------- | ------ | ------------ | ------------ | --------------- |',
    ...rows,
    '',
  ].join('\n'),
);
await bucket?.close();
