// How much one person may upload (issue 8): uploads per minute, in progress at once and bytes per
// hour, refused with RATE_LIMITED and Retry-After before the body is read, and audited.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiAuditEventPage } from '@carethread/shared';
import { ConfigError, parseConfig, type RelayConfigInput } from '../../src/config.js';
import { seedConversation, startRelay, type TestRelay } from '../helpers.js';
import { filesUnder, openUpload, put, refusedUploads, type HttpAnswer } from './file-helpers.js';

const cliBin = fileURLToPath(new URL('../../bin/carethread.js', import.meta.url));
let relay: TestRelay | undefined;
afterEach(async () => {
  await relay?.close();
  relay = undefined;
});

const pdf = (bytes: number) => Buffer.concat([Buffer.from('%PDF-1.7\n'), randomBytes(bytes - 9)]);
const fileId = () => `f-${randomBytes(8).toString('hex')}`;

async function start(files: NonNullable<RelayConfigInput['devTenantFiles']>) {
  relay = await startRelay({ devTenantFiles: { maxBytes: 40_000, ...files } });
  await seedConversation(relay, 'c1', [
    { userId: 'alice', role: 'patient' },
    { userId: 'bob', role: 'family', relationship: 'brother' },
  ]);
  const node = relay;
  return {
    node,
    upload: async (sub: string, body: Buffer, options: { chunked?: boolean } = {}) =>
      put(
        `${node.url}/files/${fileId()}?conversationId=c1&name=scan.pdf`,
        await node.token(sub, sub === 'bob' ? 'family' : 'patient'),
        body,
        options,
      ),
  };
}

/** A RATE_LIMITED answer: 429, a Retry-After of whole seconds, and the same wait in words. */
function expectLimited(answer: HttpAnswer, seconds: { min: number; max: number }) {
  expect(answer.status).toBe(429);
  expect(answer.headers.connection).toBe('close');
  const retryAfter = Number(answer.headers['retry-after']);
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThanOrEqual(seconds.min);
  expect(retryAfter).toBeLessThanOrEqual(seconds.max);
  const { error } = answer.json() as { error: { code: string; message: string } };
  expect(error.code).toBe('RATE_LIMITED');
  expect(error.message).toMatch(/Try again in (about )?\d+ (seconds?|minutes)\.$/);
  return error.message;
}

describe('upload limits per person', () => {
  it('refuses uploads past the burst with Retry-After, reads none of the body and keeps nothing', async () => {
    const { node, upload } = await start({ uploadsPerMinute: 2, uploadBurst: 2 });
    expect((await upload('alice', pdf(1000))).status).toBe(201);
    expect((await upload('alice', pdf(1000))).status).toBe(201);
    const stored = filesUnder(path.join(node.dataDir, 'files')).length;
    // Two a minute: the next token is at most 30 seconds away.
    const refused = await upload('alice', pdf(30_000));
    const message = expectLimited(refused, { min: 1, max: 30 });
    expect(message).toMatch(/at most 2 a minute/);
    expect(message).toContain(`Try again in ${String(refused.headers['retry-after'])} second`);
    expect(filesUnder(path.join(node.dataDir, 'files'))).toHaveLength(stored);
    // Another person is not held up by Alice's uploads.
    expect((await upload('bob', pdf(1000))).status).toBe(201);

    const [entry] = await refusedUploads(node, 1);
    expect(entry).toMatchObject({
      actorId: 'alice',
      conversationId: 'c1',
      detail: { code: 'RATE_LIMITED', declaredBytes: 30_000, bytes: 0, type: null },
    });
    expect(await node.relay.store.getFile('dev', entry?.subjectId ?? '')).toBeUndefined();

    // A flood of refused uploads is recorded only up to the rate uploads may start (burst 2).
    for (let i = 0; i < 5; i++) expect((await upload('alice', pdf(1000))).status).toBe(429);
    // Bob's upload answers after its own entry committed, behind the refusals noted before it.
    expect((await upload('bob', pdf(1000))).status).toBe(201);
    const limited = (await refusedUploads(node, 2)).filter((e) => e.detail.code === 'RATE_LIMITED');
    expect(limited).toHaveLength(2);
  });

  it('allows a number of uploads in progress at once, and frees the place when one ends', async () => {
    const { node, upload } = await start({ concurrentUploads: 2 });
    const alice = await node.token('alice', 'patient');
    const body = pdf(20_000);
    // The first declares no length (it will turn out too large), the second does.
    const open = [undefined, body.length].map((declaredBytes) =>
      openUpload(
        `${node.url}/files/${fileId()}?conversationId=c1&name=a.pdf`,
        alice,
        declaredBytes === undefined ? {} : { declaredBytes },
      ),
    );
    for (const { request } of open) request.write(body.subarray(0, 5000));
    // Wait until both are in progress (their first bytes reached storage).
    for (let tries = 0; filesUnder(path.join(node.dataDir, 'files')).length < 2; tries++) {
      if (tries > 200) throw new Error('the uploads never started');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const third = await upload('alice', pdf(1000));
    expect(expectLimited(third, { min: 1, max: 1 })).toMatch(/2 uploads in progress/);
    expect((await upload('bob', pdf(1000))).status).toBe(201);

    // One ends (refused as too large, which also frees its place), the other completes.
    const [first, second] = open;
    first?.request.end(randomBytes(40_000));
    first?.request.on('error', () => undefined);
    expect((await first?.answer)?.status).toBe(413);
    second?.request.end(body.subarray(5000));
    expect((await second?.answer)?.status).toBe(201);
    expect((await upload('alice', pdf(1000))).status).toBe(201);
  });

  it('holds each person to bytes per hour: a declared length is reserved, unsent bytes come back', async () => {
    const { upload } = await start({ uploadBytesPerHour: 100_000 });
    // Without a declared length the largest file is reserved, and what was not sent returned.
    expect((await upload('alice', pdf(1000), { chunked: true })).status).toBe(201);
    expect((await upload('alice', pdf(40_000))).status).toBe(201);
    expect((await upload('alice', pdf(40_000))).status).toBe(201);
    expect((await upload('alice', pdf(18_000))).status).toBe(201);
    // 99,000 of 100,000 bytes are used; the allowance refills at about 28 bytes a second.
    const refused = await upload('alice', pdf(5000));
    expect(expectLimited(refused, { min: 100, max: 200 })).toMatch(
      /98 KB an hour\. Try again in about [23] minutes\.$/,
    );
    // Not sending a length reserves the largest file: also refused now.
    expectLimited(await upload('alice', pdf(1000), { chunked: true }), {
      min: 1000,
      max: 1500,
    });
    expect((await upload('bob', pdf(40_000))).status).toBe(201);
  });

  it('refuses a setting under which the largest file could never be uploaded', () => {
    expect(() =>
      parseConfig({ devTenantFiles: { maxBytes: 50_000_000, uploadBytesPerHour: 10_000_000 } }),
    ).toThrow(ConfigError);
    expect(() =>
      parseConfig({ devTenantFiles: { maxBytes: 50_000_000, uploadBytesPerHour: 10_000_000 } }),
    ).toThrow(/devTenantFiles\.uploadBytesPerHour: must be at least maxBytes/);
    expect(parseConfig({}).devTenantFiles).toMatchObject({
      uploadsPerMinute: 30,
      uploadBurst: 10,
      concurrentUploads: 4,
      uploadBytesPerHour: 500 * 1024 * 1024,
    });
  });
});

it('keeps refused uploads in the audit trail that the host reads and `audit verify` checks', async () => {
  const { node, upload } = await start({ uploadsPerMinute: 1, uploadBurst: 1 });
  expect((await upload('alice', pdf(1000))).status).toBe(201);
  expect((await upload('alice', pdf(1000))).status).toBe(429);
  await refusedUploads(node, 1);
  const page = ApiAuditEventPage.parse(
    await (
      await fetch(`${node.url}/api/v1/audit?userId=alice&limit=200`, {
        headers: { authorization: `Bearer ${node.apiKey}` },
      })
    ).json(),
  );
  expect(page.items.map((e) => e.action)).toEqual(
    expect.arrayContaining(['file.uploaded', 'file.refused']),
  );
  await node.relay.close();
  const verified = spawnSync(process.execPath, [cliBin, 'audit', 'verify'], {
    env: { ...process.env, DATABASE_URL: '', CARETHREAD_DATA_DIR: node.dataDir },
    encoding: 'utf8',
  });
  expect(verified.status, verified.stderr).toBe(0);
  expect(verified.stdout).toMatch(/dev/);
});
