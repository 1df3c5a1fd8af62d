// A relay killed with SIGKILL in the middle of an upload: after the restart the half file is
// neither listed nor served, and a retry under the same file id completes. In the data folder the
// half file is a `.partial`; in an S3 bucket (s3rver) an unfinished multipart upload, which a
// later start aborts once it is an hour old.
import { request } from 'node:http';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeEach, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '@carethread/shared';
import { filesUnder, get, link, put } from '../files/file-helpers.js';
import { startS3Server } from '../files/s3-server.js';
import { ok, rawConnect, waitFor } from '../helpers.js';
import { devTokens, startRelayProcess, type RelayProcess } from './relay-process.js';

let folder: string;
let relay: RelayProcess | undefined;
beforeEach(() => {
  folder = mkdtempSync(path.join(tmpdir(), 'carethread-file-kill-'));
});
afterEach(async () => {
  await relay?.kill();
  rmSync(folder, { recursive: true, force: true });
});
const s3 = await startS3Server();
afterAll(() => s3.close());

const uploadUrl = (base: string) => `${base}/files/upload-0001?conversationId=c1&name=scan.pdf`;

/**
 * Starts a relay on `config`, sends the first half of `body` and kills the relay once the upload
 * has reached storage (`reached`); returns the config file and the uploader's token.
 */
async function killMidUpload(config: object, body: Buffer, reached: () => boolean) {
  const configFile = path.join(folder, 'config.json');
  writeFileSync(configFile, JSON.stringify({ logLevel: 'info', ...config }));
  relay = await startRelayProcess(folder, configFile);
  const token = devTokens(folder);
  const provider = await rawConnect(relay.url, {
    token: await token('dr-rivera', 'provider'),
    protocol: PROTOCOL_VERSION,
  });
  await ok(provider, 'conversation.create', {
    conversationId: 'c1',
    title: 'Care team',
    participants: [{ userId: 'alice', role: 'patient', displayName: 'Alice' }],
  });
  provider.close();
  const alice = await token('alice', 'patient');
  // Half of the body goes out, then the relay dies while it waits for the rest.
  const half = request(uploadUrl(relay.url), {
    method: 'PUT',
    headers: { authorization: `Bearer ${alice}`, 'content-length': String(body.length) },
  });
  half.on('error', () => undefined);
  half.write(body.subarray(0, body.length / 2));
  await waitFor(reached, 5000, 'the upload to reach storage');
  await relay.kill();
  half.destroy();
  return { configFile, alice };
}

/** After a restart: not listed (no link, as for a file that does not exist); the retry completes. */
async function retryAfterRestart(configFile: string, alice: string, body: Buffer) {
  relay = await startRelayProcess(folder, configFile);
  const refused = await link(relay.url, alice, 'upload-0001');
  expect(refused.status).toBe(404);
  expect(refused.body.error?.code).toBe('NOT_FOUND');
  const retried = await put(uploadUrl(relay.url), alice, body);
  expect(retried.status).toBe(201);
  const fresh = await link(relay.url, alice, 'upload-0001');
  const downloaded = await get(fresh.body.url ?? '');
  expect(downloaded.status).toBe(200);
  expect(downloaded.body.equals(body)).toBe(true);
}

const pdf = (bytes: number) => Buffer.concat([Buffer.from('%PDF-1.7\n'), randomBytes(bytes)]);

it('serves no half file after a SIGKILL mid-upload, and the retry with the same id completes', async () => {
  const body = pdf(4 * 1024 * 1024);
  const stored = () => filesUnder(path.join(folder, 'files'));
  const { configFile, alice } = await killMidUpload({}, body, () =>
    stored().some((f) => f.endsWith('.partial')),
  );
  expect(stored().every((f) => f.endsWith('.partial'))).toBe(true);
  await retryAfterRestart(configFile, alice, body);
});

it('leaves only an unfinished multipart upload in S3 after a SIGKILL; the retry completes and a later start aborts it', async () => {
  const prefix = `kill-${randomBytes(4).toString('hex')}/`;
  const mine = (keys: string[]) => keys.filter((key) => key.startsWith(prefix));
  // Over two parts, so that the half sent is past the first part.
  const body = pdf(12 * 1024 * 1024);
  const { configFile, alice } = await killMidUpload(
    { fileStorage: { kind: 's3', ...s3.options(prefix) } },
    body,
    () => mine(s3.pendingUploads()).length > 0,
  );
  expect(mine(s3.objectKeys())).toEqual([]);
  const [leftover] = mine(s3.pendingUploads());
  await retryAfterRestart(configFile, alice, body);
  expect(mine(s3.objectKeys())).toHaveLength(1);
  // Young, it may be another node's upload: kept. An hour old, the next start aborts it.
  expect(mine(s3.pendingUploads())).toEqual([leftover]);
  await relay?.kill();
  s3.backdateUpload(leftover ?? '', 2 * 3_600_000);
  relay = await startRelayProcess(folder, configFile);
  await waitFor(() => mine(s3.pendingUploads()).length === 0, 10_000, 'the sweep at start');
  expect(mine(s3.objectKeys())).toHaveLength(1);
});
