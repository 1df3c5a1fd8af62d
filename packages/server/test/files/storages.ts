// The two file storages as the tests see them: how a relay is configured for each, a second handle
// on the same place, and what is really stored there, read behind the storage's back.
import { randomBytes } from 'node:crypto';
import { mkdirSync, utimesSync, writeFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { CreateMultipartUploadCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { RelayConfigInput } from '../../src/config.js';
import { createS3FileStorage } from '../../src/files/s3-storage.js';
import { createLocalFileStorage, type FileStorage } from '../../src/files/storage.js';
import { filesUnder } from './file-helpers.js';
import { startS3Server, type S3Server } from './s3-server.js';

/** One storage's place for one test: a data folder's `files`, or a fresh prefix in the bucket. */
export interface StoragePlace {
  /** What the relay's configuration says about it (nothing for the default). */
  config: Partial<RelayConfigInput>;
  /** A storage on the same place, as the relay's own would be. */
  storage(): FileStorage;
  /** Keys of the complete objects, read from the disk behind the storage. */
  objects(): string[];
  /** Interrupted writes (local: `.partial` files; S3: multipart uploads not completed). */
  partials(): string[];
  /** Leaves an interrupted write of `key` behind, as a crash would. */
  leavePartial(key: string): Promise<void>;
  /** Makes an object look `ms` older. */
  backdate(key: string, ms: number): void;
  /** Makes the interrupted writes of `key` look `ms` older. */
  backdatePartial(key: string, ms: number): void;
  /** Puts things there that are not storage keys (another application's, a stray file). */
  putForeign(): Promise<void>;
  /** Folders whose raw bytes must never hold plaintext. */
  folders: string[];
}

export interface StorageKind {
  name: string;
  /** Starts what the storage needs (a server), once per test file. */
  setup(): Promise<void>;
  teardown(): Promise<void>;
  /** A place of its own for one test, on the relay data folder `dataDir`. */
  place(dataDir: string): StoragePlace;
  /** The S3 server, to take it down and up (undefined for the local folder). */
  server(): S3Server | undefined;
}

const PARTIAL = /\.[0-9a-f]{8}\.partial$/;

export const localKind: StorageKind = {
  name: 'a local folder',
  setup: () => Promise.resolve(),
  teardown: () => Promise.resolve(),
  server: () => undefined,
  place(dataDir) {
    const root = path.join(dataDir, 'files');
    const backdate = (file: string, ms: number) => {
      const at = new Date(statSync(file).mtimeMs - ms);
      utimesSync(file, at, at);
    };
    const partialFiles = () => filesUnder(root).filter((file) => PARTIAL.test(file));
    return {
      config: {},
      storage: () => createLocalFileStorage(root),
      objects: () =>
        filesUnder(root)
          .filter((file) => !file.endsWith('.partial'))
          .map((file) => path.relative(root, file))
          .sort(),
      partials: () => partialFiles().map((file) => path.relative(root, file).replace(PARTIAL, '')),
      leavePartial(key) {
        mkdirSync(path.dirname(path.join(root, key)), { recursive: true });
        writeFileSync(
          path.join(root, `${key}.${randomBytes(4).toString('hex')}.partial`),
          randomBytes(1000),
        );
        return Promise.resolve();
      },
      backdate: (key, ms) => {
        backdate(path.join(root, key), ms);
      },
      backdatePartial(key, ms) {
        for (const file of partialFiles())
          if (path.relative(root, file).replace(PARTIAL, '') === key) backdate(file, ms);
      },
      putForeign() {
        mkdirSync(path.join(root, 't1'), { recursive: true });
        writeFileSync(path.join(root, 't1', 'README.txt'), 'not a file of the relay');
        writeFileSync(path.join(root, 'notes.txt'), 'not a file of the relay');
        return Promise.resolve();
      },
      folders: [dataDir],
    };
  },
};

export function s3Kind(): StorageKind {
  let server: S3Server | undefined;
  const running = () => {
    if (!server) throw new Error('the S3 server is not started');
    return server;
  };
  return {
    name: 'an S3 bucket (s3rver)',
    async setup() {
      // Pages of two uploads, so that the sweep's paging is exercised too.
      server = await startS3Server({ uploadsPerPage: 2 });
    },
    async teardown() {
      await server?.close();
    },
    server: () => server,
    place(dataDir) {
      const s3 = running();
      const prefix = `test-${randomBytes(4).toString('hex')}/`;
      const options = s3.options(prefix);
      const client = new S3Client({
        region: options.region,
        endpoint: s3.endpoint,
        forcePathStyle: true,
        credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
      });
      const mine = (keys: string[]) =>
        keys.filter((key) => key.startsWith(prefix)).map((key) => key.slice(prefix.length));
      return {
        config: { fileStorage: { kind: 's3', ...options } },
        storage: () => createS3FileStorage(options),
        objects: () => mine(s3.objectKeys()),
        partials: () => mine(s3.pendingUploads()),
        async leavePartial(key) {
          await client.send(
            new CreateMultipartUploadCommand({ Bucket: s3.bucket, Key: `${prefix}${key}` }),
          );
        },
        backdate: (key, ms) => {
          s3.backdateObject(`${prefix}${key}`, ms);
        },
        backdatePartial: (key, ms) => {
          s3.backdateUpload(`${prefix}${key}`, ms);
        },
        async putForeign() {
          for (const Key of [
            `${prefix}t1/README.txt`,
            `other-${prefix}t1/file-0001.0123456789abcdef`,
          ])
            await client.send(new PutObjectCommand({ Bucket: s3.bucket, Key, Body: 'not ours' }));
          // Another application's upload, old and unfinished: not the sweep's to abort.
          const other = `other-${prefix}big.bin`;
          await client.send(new CreateMultipartUploadCommand({ Bucket: s3.bucket, Key: other }));
          s3.backdateUpload(other, 7_200_000);
        },
        folders: [dataDir, s3.directory],
      };
    },
  };
}
