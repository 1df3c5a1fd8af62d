// A relay killed with SIGKILL in the middle of an upload: after the restart the half file is
// neither listed nor served, and a retry under the same file id completes.
import { request } from 'node:http';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '@carethread/shared';
import { filesUnder, get, link, put } from '../files/file-helpers.js';
import { ok, rawConnect, waitFor } from '../helpers.js';
import { devTokens, startRelayProcess, type RelayProcess } from './relay-process.js';

const folder = mkdtempSync(path.join(tmpdir(), 'carethread-file-kill-'));
let relay: RelayProcess | undefined;
afterAll(async () => {
  await relay?.kill();
  rmSync(folder, { recursive: true, force: true });
});

it('serves no half file after a SIGKILL mid-upload, and the retry with the same id completes', async () => {
  const configFile = path.join(folder, 'config.json');
  writeFileSync(configFile, JSON.stringify({ logLevel: 'info' }));
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
  const body = Buffer.concat([Buffer.from('%PDF-1.7\n'), randomBytes(4 * 1024 * 1024)]);
  const uploadUrl = (base: string) => `${base}/files/upload-0001?conversationId=c1&name=scan.pdf`;

  // Half of the body goes out, then the relay dies while it waits for the rest.
  const half = request(uploadUrl(relay.url), {
    method: 'PUT',
    headers: { authorization: `Bearer ${alice}`, 'content-length': String(body.length) },
  });
  half.on('error', () => undefined);
  half.write(body.subarray(0, body.length / 2));
  const partial = () =>
    filesUnder(path.join(folder, 'files')).filter((f) => f.endsWith('.partial'));
  await waitFor(() => partial().length > 0, 5000, 'the upload to reach storage');
  await relay.kill();
  half.destroy();
  expect(filesUnder(path.join(folder, 'files')).every((f) => f.endsWith('.partial'))).toBe(true);

  relay = await startRelayProcess(folder, configFile);
  // Not listed (no link, as for a file that does not exist) and not served.
  const refused = await link(relay.url, alice, 'upload-0001');
  expect(refused.status).toBe(404);
  expect(refused.body.error?.code).toBe('NOT_FOUND');

  const retried = await put(uploadUrl(relay.url), alice, body);
  expect(retried.status).toBe(201);
  const fresh = await link(relay.url, alice, 'upload-0001');
  const downloaded = await get(fresh.body.url ?? '');
  expect(downloaded.status).toBe(200);
  expect(downloaded.body.equals(body)).toBe(true);
});
