// An S3-compatible server on loopback for the storage tests: s3rver 3.7.1, on a port of its own
// over a temporary folder. It has no AbortMultipartUpload (405) and no ListMultipartUploads (501),
// so this adds both over s3rver's own upload folders (ADR 17 says what that does and does not
// prove). The folder is read directly to see what the server really holds.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import S3rver, { type S3rverContext } from 's3rver';
import type { S3FileStorageOptions } from '../../src/files/s3-storage.js';

const OBJECT_SUFFIX = '._S3rver_object';
const UPLOADS = '._S3rver_uploads';

export interface S3Server {
  endpoint: string;
  bucket: string;
  /** s3rver's folder: objects as files, multipart uploads in progress under `._S3rver_uploads`. */
  directory: string;
  /** What a storage needs to reach this server, its keys under `prefix`. */
  options(prefix: string): S3FileStorageOptions;
  /** Every object's key, read from the folder. */
  objectKeys(): string[];
  /** Multipart uploads begun and neither completed nor aborted: their keys. */
  pendingUploads(): string[];
  /** Makes an object (s3rver reports its file's mtime as Last-Modified) `ms` older. */
  backdateObject(key: string, ms: number): void;
  /** Makes a multipart upload of `key` (its Initiated time) `ms` older. */
  backdateUpload(key: string, ms: number): void;
  /** Stops answering: connections are refused until `start()`. */
  stop(): Promise<void>;
  /** Starts again on the same port and folder. */
  start(): Promise<void>;
  /** Stops and removes the folder. */
  close(): Promise<void>;
}

const xml = (text: string) => text.replace(/[<>&'"]/g, (c) => `&#${String(c.charCodeAt(0))};`);

function older(file: string, ms: number): void {
  const at = new Date(statSync(file).mtimeMs - ms);
  utimesSync(file, at, at);
}

export async function startS3Server(
  options: { bucket?: string; uploadsPerPage?: number } = {},
): Promise<S3Server> {
  const directory = mkdtempSync(path.join(tmpdir(), 'carethread-s3rver-'));
  const bucket = options.bucket ?? 'carethread-test';
  const uploadsPerPage = options.uploadsPerPage ?? 1000;
  const uploadsDir = path.join(directory, bucket, UPLOADS);

  function uploads(): { key: string; uploadId: string; initiated: Date }[] {
    let ids: string[];
    try {
      ids = readdirSync(uploadsDir);
    } catch {
      return [];
    }
    return ids
      .flatMap((uploadId) => {
        const keyFile = path.join(uploadsDir, uploadId, 'key');
        try {
          return [
            { key: readFileSync(keyFile, 'utf8'), uploadId, initiated: statSync(keyFile).mtime },
          ];
        } catch {
          return []; // s3rver makes the folder first and writes the key into it next
        }
      })
      .sort((a, b) =>
        a.key === b.key ? a.uploadId.localeCompare(b.uploadId) : a.key < b.key ? -1 : 1,
      );
  }

  /** ListMultipartUploads and AbortMultipartUpload as S3 documents them, over s3rver's folders. */
  async function multipartCalls(context: S3rverContext, next: () => Promise<void>) {
    const [, pathBucket, ...rest] = context.path.split('/');
    const key = rest.map(decodeURIComponent).join('/');
    const query = (name: string) => {
      const value = context.query[name];
      return typeof value === 'string' ? value : '';
    };
    if (pathBucket !== bucket) return next();
    if (context.method === 'DELETE' && key && 'uploadId' in context.query) {
      const folder = path.join(uploadsDir, path.basename(query('uploadId')));
      try {
        if (readFileSync(path.join(folder, 'key'), 'utf8') !== key) throw new Error('other key');
      } catch {
        context.status = 404;
        context.type = 'application/xml';
        context.body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchUpload</Code><Message>The specified upload does not exist.</Message></Error>`;
        return;
      }
      rmSync(folder, { recursive: true, force: true });
      context.status = 204;
      context.body = '';
      return;
    }
    if (context.method === 'GET' && !key && 'uploads' in context.query) {
      const prefix = query('prefix');
      const keyMarker = query('key-marker');
      const idMarker = query('upload-id-marker');
      const max = Math.min(Number(query('max-uploads') || 1000), uploadsPerPage);
      const after = uploads().filter(
        (u) =>
          u.key.startsWith(prefix) &&
          (u.key > keyMarker || (u.key === keyMarker && idMarker !== '' && u.uploadId > idMarker)),
      );
      const page = after.slice(0, max);
      const last = page.at(-1);
      const truncated = after.length > page.length;
      context.status = 200;
      context.type = 'application/xml';
      context.body = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">',
        `<Bucket>${bucket}</Bucket><KeyMarker>${xml(keyMarker)}</KeyMarker>`,
        `<UploadIdMarker>${xml(idMarker)}</UploadIdMarker><Prefix>${xml(prefix)}</Prefix>`,
        truncated && last
          ? `<NextKeyMarker>${xml(last.key)}</NextKeyMarker><NextUploadIdMarker>${last.uploadId}</NextUploadIdMarker>`
          : '',
        `<MaxUploads>${String(max)}</MaxUploads><IsTruncated>${String(truncated)}</IsTruncated>`,
        ...page.map(
          (u) =>
            `<Upload><Key>${xml(u.key)}</Key><UploadId>${u.uploadId}</UploadId><Initiated>${u.initiated.toISOString()}</Initiated><StorageClass>STANDARD</StorageClass></Upload>`,
        ),
        '</ListMultipartUploadsResult>',
      ].join('');
      return;
    }
    return next();
  }

  let server: S3rver | undefined;
  let port = 0;
  async function start() {
    server = new S3rver({
      address: '127.0.0.1',
      port,
      silent: true,
      directory,
      configureBuckets: [{ name: bucket }],
    });
    server.middleware.unshift(multipartCalls);
    ({ port } = await server.run());
  }
  async function stop() {
    await server?.close();
    server = undefined;
  }
  await start();
  const endpoint = `http://127.0.0.1:${String(port)}`;

  return {
    endpoint,
    bucket,
    directory,
    options: (prefix) => ({
      bucket,
      region: 'us-east-1',
      endpoint,
      forcePathStyle: true,
      prefix,
      // s3rver's fixed credentials.
      accessKeyId: 'S3RVER',
      secretAccessKey: 'S3RVER',
    }),
    objectKeys() {
      const root = path.join(directory, bucket);
      const entries = (dir: string) => {
        try {
          return readdirSync(dir, { withFileTypes: true });
        } catch {
          return []; // removed meanwhile (s3rver drops emptied folders)
        }
      };
      const walk = (dir: string): string[] =>
        entries(dir).flatMap((entry) => {
          const full = path.join(dir, entry.name);
          if (entry.isDirectory()) return entry.name === UPLOADS ? [] : walk(full);
          return entry.name.endsWith(OBJECT_SUFFIX)
            ? [path.relative(root, full).slice(0, -OBJECT_SUFFIX.length)]
            : [];
        });
      return walk(root).sort();
    },
    pendingUploads: () => uploads().map((u) => u.key),
    backdateObject(key, ms) {
      older(path.join(directory, bucket, `${key}${OBJECT_SUFFIX}`), ms);
    },
    backdateUpload(key, ms) {
      for (const u of uploads())
        if (u.key === key) older(path.join(uploadsDir, u.uploadId, 'key'), ms);
    },
    stop,
    start,
    async close() {
      await stop();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
