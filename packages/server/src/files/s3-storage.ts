// File contents in an S3-compatible bucket (ADR 17): AWS S3, MinIO or any server that speaks the
// S3 API. Objects appear whole or not at all, as with the local folder, because S3 publishes an
// object only when its single PUT or its multipart upload completes.
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  S3Client,
  paginateListObjectsV2,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { isStorageKey, type FileStorage } from './storage.js';

/**
 * Parts of 5 MiB (S3's smallest part), two in flight at a time: an upload holds about
 * PART_SIZE x (QUEUE_SIZE + 1) bytes (the parts being sent and the one being filled), about
 * 15 MiB, whatever the file's size. Two, not one, so that the next part fills from the client while
 * the last one is sent to the bucket (with one, the client's upload would stall at every part);
 * more would only add memory, since one client's bytes arrive no faster than one part is sent.
 * A file under 5 MiB is one PUT, never a multipart upload.
 */
export const PART_SIZE = 5 * 1024 * 1024;
export const QUEUE_SIZE = 2;

export interface S3FileStorageOptions {
  bucket: string;
  region: string;
  /** Another S3-compatible server (MinIO, Ceph, …): `https://minio.internal:9000`. */
  endpoint?: string;
  /** `https://host/bucket/key` instead of `https://bucket.host/key` (MinIO usually needs it). */
  forcePathStyle?: boolean;
  /** Prepended to every key, e.g. `carethread/`, so the bucket may hold other things too. */
  prefix?: string;
  /** Without these, the SDK's standard chain: AWS_ACCESS_KEY_ID…, shared files, SSO, IAM roles. */
  accessKeyId?: string;
  secretAccessKey?: string;
  /** More client settings (tests give an emulator's checksum modes here). */
  client?: Omit<S3ClientConfig, 'region' | 'endpoint' | 'forcePathStyle' | 'credentials'>;
  logger?: Pick<Logger, 'warn'>;
}

const isNotFound = (error: unknown) => {
  const failure = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return failure.name === 'NoSuchKey' || failure.$metadata?.httpStatusCode === 404;
};

/**
 * @example
 * const storage = createS3FileStorage({ bucket: 'carethread-files', region: 'eu-west-1', prefix: 'prod/' });
 */
export function createS3FileStorage(options: S3FileStorageOptions): FileStorage {
  const Bucket = options.bucket;
  const prefix = options.prefix ?? '';
  const client = new S3Client({
    ...options.client,
    region: options.region,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    forcePathStyle: options.forcePathStyle ?? false,
    ...(options.accessKeyId && options.secretAccessKey
      ? {
          credentials: {
            accessKeyId: options.accessKeyId,
            secretAccessKey: options.secretAccessKey,
          },
        }
      : {}),
    // A bucket that stops answering fails the request instead of holding the upload open.
    requestHandler: options.client?.requestHandler ?? {
      connectionTimeout: 5_000,
      requestTimeout: 60_000,
    },
  });

  function objectOf(key: string): string {
    if (!isStorageKey(key)) throw new Error(`Invalid storage key ${JSON.stringify(key)}.`);
    return `${prefix}${key}`;
  }
  /** The storage key of a bucket key under the prefix, or undefined when it is not one of ours. */
  function keyOf(objectKey: string | undefined): string | undefined {
    if (!objectKey?.startsWith(prefix)) return undefined;
    const key = objectKey.slice(prefix.length);
    return isStorageKey(key) ? key : undefined;
  }
  async function abort(Key: string, UploadId: string): Promise<void> {
    await client.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId }));
  }

  return {
    async put(key, source) {
      const Key = objectOf(key);
      const read = { bytes: 0, failed: false };
      async function* counted() {
        try {
          for await (const chunk of source as AsyncIterable<Buffer>) {
            read.bytes += chunk.length;
            yield chunk;
          }
        } catch (error) {
          read.failed = true;
          throw error;
        }
      }
      // leavePartsOnError: the SDK's own abort would replace the error that caused it (a refused
      // type, one byte too many) with its own when it fails; ours keeps the first and goes on.
      const upload = new Upload({
        client,
        params: {
          Bucket,
          Key,
          Body: Readable.from(counted()),
          ContentType: 'application/octet-stream',
        },
        partSize: PART_SIZE,
        queueSize: QUEUE_SIZE,
        leavePartsOnError: true,
      });
      try {
        await upload.done();
        return read.bytes;
      } catch (error) {
        if (!read.failed) source.destroy();
        const cleanup: Promise<unknown>[] = [];
        if (upload.uploadId) cleanup.push(abort(Key, upload.uploadId));
        // Only a failure on the bucket's side can come after a completion that was lost on the
        // way back; the key is this attempt's alone, so removing it cannot touch another file.
        if (!read.failed) cleanup.push(client.send(new DeleteObjectCommand({ Bucket, Key })));
        for (const result of await Promise.allSettled(cleanup))
          if (result.status === 'rejected')
            options.logger?.warn(
              { err: result.reason as unknown, key },
              'cleaning up a failed upload failed; the sweep at the next start removes what is left',
            );
        throw error;
      }
    },

    async get(key) {
      try {
        const { Body } = await client.send(new GetObjectCommand({ Bucket, Key: objectOf(key) }));
        if (!(Body instanceof Readable)) throw new Error('The bucket answered without a body.');
        return Body;
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
    },

    async remove(key) {
      await client.send(new DeleteObjectCommand({ Bucket, Key: objectOf(key) }));
    },

    async sweepPartial(olderThanMs) {
      const before = Date.now() - olderThanMs;
      let removed = 0;
      let KeyMarker: string | undefined;
      let UploadIdMarker: string | undefined;
      for (;;) {
        const page = await client.send(
          new ListMultipartUploadsCommand({
            Bucket,
            ...(prefix ? { Prefix: prefix } : {}),
            ...(KeyMarker ? { KeyMarker } : {}),
            ...(UploadIdMarker ? { UploadIdMarker } : {}),
          }),
        );
        for (const { Key, UploadId, Initiated } of page.Uploads ?? [])
          if (Key && keyOf(Key) && UploadId && Initiated && Initiated.getTime() <= before) {
            await abort(Key, UploadId);
            removed += 1;
          }
        if (!page.IsTruncated || !page.NextKeyMarker) return removed;
        KeyMarker = page.NextKeyMarker;
        UploadIdMarker = page.NextUploadIdMarker;
      }
    },

    async *list(olderThanMs) {
      const before = Date.now() - olderThanMs;
      for await (const page of paginateListObjectsV2(
        { client },
        { Bucket, ...(prefix ? { Prefix: prefix } : {}) },
      ))
        for (const object of page.Contents ?? []) {
          const key = keyOf(object.Key);
          if (key && object.LastModified && object.LastModified.getTime() <= before)
            yield { key, modifiedAt: object.LastModified };
        }
    },

    close() {
      client.destroy();
    },
  };
}
