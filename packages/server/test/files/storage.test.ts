// The FileStorage contract, run unchanged against the local folder and an S3 bucket (s3rver on
// loopback): objects appear whole or not at all, a source that fails part-way leaves nothing (no
// object, no partial write, no unfinished multipart upload), and the sweeps see only what is old.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PART_SIZE } from '../../src/files/s3-storage.js';
import type { FileStorage } from '../../src/files/storage.js';
import { localKind, s3Kind, type StoragePlace } from './storages.js';

const HOUR = 3_600_000;
const key = (n: number) => `t1/file-${String(n).padStart(4, '0')}.0123456789abcdef`;

/** `bytes` in pieces of 64 KiB, then `failure` instead of the end. */
function failingAfter(bytes: number, failure: Error): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= bytes) {
        this.destroy(failure);
        return;
      }
      const piece = Math.min(64 * 1024, bytes - sent);
      sent += piece;
      this.push(randomBytes(piece));
    },
  });
}

async function bytesOf(stream: Readable | undefined): Promise<Buffer | undefined> {
  if (!stream) return undefined;
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

async function listed(storage: FileStorage, olderThanMs: number): Promise<string[]> {
  const keys: string[] = [];
  for await (const object of storage.list(olderThanMs)) keys.push(object.key);
  return keys.sort();
}

describe.each([localKind, s3Kind()])('file storage in $name', (kind) => {
  let dataDir: string;
  let place: StoragePlace;
  let storage: FileStorage;
  beforeAll(() => kind.setup());
  afterAll(() => kind.teardown());
  beforeEach(() => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'carethread-storage-'));
    place = kind.place(dataDir);
    storage = place.storage();
  });
  afterEach(() => {
    storage.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('stores, serves and removes objects, small and larger than a part, byte for byte', async () => {
    const small = randomBytes(3000);
    // Over two parts, arriving in uneven pieces.
    const large = randomBytes(2 * PART_SIZE + 12_345);
    const pieces = [
      large.subarray(0, 1000),
      large.subarray(1000, PART_SIZE + 7),
      large.subarray(PART_SIZE + 7),
    ];
    expect(await storage.put(key(1), Readable.from([small]))).toBe(small.length);
    expect(await storage.put(key(2), Readable.from(pieces))).toBe(large.length);
    expect(place.objects()).toEqual([key(1), key(2)]);
    expect((await bytesOf(await storage.get(key(1))))?.equals(small)).toBe(true);
    expect((await bytesOf(await storage.get(key(2))))?.equals(large)).toBe(true);
    expect(place.partials()).toEqual([]);

    await storage.remove(key(1));
    expect(await storage.get(key(1))).toBeUndefined();
    await storage.remove(key(1)); // removing what is gone is fine
    expect(await storage.get(key(3))).toBeUndefined();
    expect(place.objects()).toEqual([key(2)]);
  });

  it.each([
    ['before the first part is full (one PUT on S3)', 100_000],
    ['after a part was sent (a multipart upload on S3)', PART_SIZE + 2 * 1024 * 1024],
  ])('keeps nothing when the source fails %s, and rejects with its error', async (_when, bytes) => {
    const failure = new Error('the client went away');
    await expect(storage.put(key(4), failingAfter(bytes, failure))).rejects.toBe(failure);
    expect(await storage.get(key(4))).toBeUndefined();
    expect(place.objects()).toEqual([]);
    expect(place.partials()).toEqual([]);
    expect(await listed(storage, 0)).toEqual([]);
  });

  it('refuses keys that are not storage keys', async () => {
    for (const bad of ['../etc/passwd', 't1/file-0001', 'T1/file-0001.0123456789abcdef'])
      await expect(storage.put(bad, Readable.from([Buffer.from('x')]))).rejects.toThrow(
        /Invalid storage key/,
      );
    await expect(storage.get('../x')).rejects.toThrow(/Invalid storage key/);
  });

  it('lists complete objects older than the cutoff, and nothing that is not a storage key', async () => {
    for (const n of [1, 2]) await storage.put(key(n), Readable.from([randomBytes(100)]));
    await place.leavePartial(key(3));
    await place.putForeign();
    place.backdate(key(1), 2 * HOUR);
    expect(await listed(storage, HOUR)).toEqual([key(1)]);
    expect(await listed(storage, 0)).toEqual([key(1), key(2)]);
    for await (const { modifiedAt } of storage.list(HOUR))
      expect(Math.abs(Date.now() - 2 * HOUR - modifiedAt.getTime())).toBeLessThan(5_000);
  });

  it('sweeps interrupted writes older than the cutoff, page after page, and no others', async () => {
    for (const n of [1, 2, 3, 4]) await place.leavePartial(key(n));
    for (const n of [1, 2, 3]) place.backdatePartial(key(n), 2 * HOUR);
    await storage.put(key(5), Readable.from([randomBytes(100)]));
    place.backdate(key(5), 2 * HOUR);
    await place.putForeign();
    const othersUnfinished = () =>
      (kind.server()?.pendingUploads() ?? []).filter((k) => k.endsWith('big.bin'));
    const others = othersUnfinished();
    expect(await storage.sweepPartial(HOUR)).toBe(3);
    expect(place.partials()).toEqual([key(4)]);
    expect(place.objects()).toContain(key(5));
    expect(await storage.sweepPartial(0)).toBe(1);
    expect(place.partials()).toEqual([]);
    // Another application's unfinished upload in the same bucket is left alone.
    expect(othersUnfinished()).toEqual(others);
  });
});
