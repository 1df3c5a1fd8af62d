// Files at rest (ADR 16): AES-256-GCM over 64 KiB records, each with its own IV and tag, under a
// key of the file's own that the store keeps sealed by the tenant's data key (ADR 14). Each
// record's AAD names the tenant, file, attempt, its index and whether it is the last, so records
// cannot be reordered, moved to another file, or cut off at the end without failing.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

const RECORD_PLAIN = 64 * 1024;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const RECORD_SEALED = IV_BYTES + RECORD_PLAIN + TAG_BYTES;

export class FileDecryptionError extends Error {
  override name = 'FileDecryptionError';
}

const recordAad = (binding: string, index: number, last: boolean) =>
  Buffer.from(`carethread:file|${binding}|${String(index)}|${last ? 'last' : 'more'}`, 'utf8');

/** What a file's records are bound to: `rowAad`-like, tenant, file id and upload attempt. */
export const fileBinding = (tenantId: string, fileId: string, attempt: string) =>
  `${tenantId}|${fileId}|${attempt}`;

/**
 * Encrypts a stream into records; the last record (possibly empty) is marked as last.
 * @example await pipeline(plain, sealStream(key, fileBinding('dev', id, attempt)), storageSink)
 */
export function sealStream(key: Buffer, binding: string): Transform {
  let held: Buffer[] = [];
  let heldBytes = 0;
  let index = 0;
  const seal = (plain: Buffer, last: boolean): Buffer => {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(recordAad(binding, index++, last));
    return Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
  };
  return new Transform({
    transform(chunk: Buffer, _encoding, done: TransformCallback) {
      held.push(chunk);
      heldBytes += chunk.length;
      // Keep at least one byte back: only the flush knows which record is the last.
      if (heldBytes > RECORD_PLAIN) {
        let all = Buffer.concat(held);
        while (all.length > RECORD_PLAIN) {
          this.push(seal(all.subarray(0, RECORD_PLAIN), false));
          all = all.subarray(RECORD_PLAIN);
        }
        held = [all];
        heldBytes = all.length;
      }
      done();
    },
    flush(done: TransformCallback) {
      this.push(seal(Buffer.concat(held), true));
      done();
    },
  });
}

/** Decrypts what sealStream made, record by record: nothing unauthenticated is passed on. */
export function openStream(key: Buffer, binding: string): Transform {
  let held: Buffer = Buffer.alloc(0);
  let index = 0;
  const open = (record: Buffer, last: boolean): Buffer => {
    if (record.length < IV_BYTES + TAG_BYTES)
      throw new FileDecryptionError('A record is cut short.');
    const decipher = createDecipheriv('aes-256-gcm', key, record.subarray(0, IV_BYTES), {
      authTagLength: TAG_BYTES,
    });
    decipher.setAAD(recordAad(binding, index++, last));
    decipher.setAuthTag(record.subarray(record.length - TAG_BYTES));
    try {
      return Buffer.concat([
        decipher.update(record.subarray(IV_BYTES, record.length - TAG_BYTES)),
        decipher.final(),
      ]);
    } catch {
      throw new FileDecryptionError('A stored file does not decrypt: it was altered or moved.');
    }
  };
  return new Transform({
    transform(chunk: Buffer, _encoding, done: TransformCallback) {
      held = held.length > 0 ? Buffer.concat([held, chunk]) : chunk;
      try {
        while (held.length > RECORD_SEALED) {
          this.push(open(held.subarray(0, RECORD_SEALED), false));
          held = held.subarray(RECORD_SEALED);
        }
        done();
      } catch (error) {
        done(error as Error);
      }
    },
    flush(done: TransformCallback) {
      try {
        this.push(open(held, true));
        done();
      } catch (error) {
        done(error as Error);
      }
    },
  });
}
