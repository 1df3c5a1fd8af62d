// The rules of files in conversations (ADR 16): who may upload where, what is accepted (decided
// from content, within the tenant's limits, while the bytes stream), and who may download, by
// short-lived signed links. Every upload and download is an entry of the audit trail.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { Transform, pipeline, type Readable, type TransformCallback } from 'node:stream';
import type { ErrorCode } from '@carethread/shared';
import type { Identity } from '../auth/tokens.js';
import type { TenantFiles } from '../core/settings.js';
import { MetadataError } from '../files/heic.js';
import { openStream, sealStream, fileBinding } from '../files/seal.js';
import { sniff, SNIFF_BYTES } from '../files/sniff.js';
import type { FileStorage } from '../files/storage.js';
import { metadataFilter, type ByteFilter } from '../files/strip.js';
import type { FileType } from '../files/types.js';
import type { FileRecord, Store } from '../store/types.js';
import type { AccessLog } from './audit.js';
import type { ChatService } from './chat.js';
import { RelayError } from '../core/errors.js';
import { createUploadLimits } from './upload-limits.js';

/** A file as its uploader and its readers see it. */
export interface FileView {
  fileId: string;
  conversationId: string;
  name: string;
  contentType: string;
  size: number;
  sha256: string;
  uploadedBy: string;
  uploadedAt: string;
}

export interface FileUpload {
  fileId: string;
  conversationId: string;
  name: string;
  /** The length the client declared, when it did: refused up front when over the limit. */
  declaredBytes: number | undefined;
  /** The media type the client declared (`type/subtype` only), for the audit of a refusal. */
  declaredType: string | undefined;
  body: Readable;
}

/** A signed download link's parts, as they come back in its query. */
export interface FileLinkQuery {
  tenant: string;
  user: string;
  exp: string;
  sig: string;
}

export interface FileServiceDeps {
  store: Store;
  storage: FileStorage;
  chat: Pick<ChatService, 'requireMember'>;
  accessLog: AccessLog;
  filesOf: (tenantId: string) => TenantFiles;
  /** HMAC-SHA256 key of download links, the same on every node (data folder). */
  linkKey: Buffer;
  linkTtlSeconds: number;
  now?: () => Date;
}

const objectKey = (file: Pick<FileRecord, 'tenantId' | 'fileId' | 'attempt'>) =>
  `${file.tenantId}/${file.fileId}.${file.attempt}`;

/** The parts of a storage key (`<tenant>/<file id>.<attempt>`, checked by the storage). */
function parseObjectKey(key: string): { tenantId: string; fileId: string; attempt: string } {
  const slash = key.indexOf('/');
  const dot = key.lastIndexOf('.');
  return {
    tenantId: key.slice(0, slash),
    fileId: key.slice(slash + 1, dot),
    attempt: key.slice(dot + 1),
  };
}

/** Objects younger than this may be another node's upload that is about to complete. */
export const ORPHAN_MIN_AGE_MS = 3_600_000;
/** Keys looked up in the store at once by the orphan sweep. */
const SWEEP_BATCH = 500;

/** The storage failed (an outage, a refused request): the upload kept nothing and may be retried. */
const storageUnavailable = (cause: unknown) =>
  new RelayError(
    'UNAVAILABLE',
    'File storage is unavailable just now, so the file was not kept. Retry in a moment.',
    { cause },
  );

export function toFileView(file: FileRecord): FileView {
  return {
    fileId: file.fileId,
    conversationId: file.conversationId,
    name: file.name,
    contentType: file.contentType ?? 'application/octet-stream',
    size: file.size ?? 0,
    sha256: file.sha256 ?? '',
    uploadedBy: file.uploaderId,
    uploadedAt: file.completedAt ?? file.createdAt,
  };
}

/**
 * The headers a file is served with: its sniffed type, `attachment` for anything but images, and
 * nothing a browser could run or sniff into something else.
 */
export function fileHeaders(file: FileView): Record<string, string> {
  const disposition = file.contentType.startsWith('image/') ? 'inline' : 'attachment';
  return {
    'content-length': String(file.size),
    'content-disposition': `${disposition}; filename*=UTF-8''${encodeURIComponent(file.name)}`,
    'x-content-type-options': 'nosniff',
    'content-security-policy': "default-src 'none'; sandbox",
    'cache-control': 'private, no-store',
    'referrer-policy': 'no-referrer',
  };
}

/**
 * Refusals of an upload made after its token was verified, recorded as `file.refused`: a wrong
 * type, too large, too many (up to a bound, see `recordsRefusal`), not a writer there (not a
 * member, no consent, archived), an id clash. Outages (UNAVAILABLE, INTERNAL) and dropped
 * connections are not the uploader's doing.
 */
const AUDITED_REFUSALS: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'UNSUPPORTED_FILE_TYPE',
  'TOO_LARGE',
  'RATE_LIMITED',
  'FORBIDDEN',
  'CONSENT_REQUIRED',
  'NOT_FOUND',
  'ARCHIVED',
  'CONFLICT',
]);

const fileNotFound = () => new RelayError('NOT_FOUND', 'This file does not exist.');
const fileIdInUse = () =>
  new RelayError('CONFLICT', 'This file id is already in use. Use a new id for a new file.');

const tooLarge = (maxBytes: number) =>
  new RelayError(
    'TOO_LARGE',
    `That file is too large: at most ${String(maxBytes)} bytes (${(maxBytes / 1024 / 1024).toFixed(1)} MB) are allowed.`,
  );

/** What an upload's bytes turned out to be, filled in as they stream. */
interface Inspection {
  /** Bytes of the body read so far, kept or not. */
  received: number;
  /** The type recognised from the first bytes, allowed or not. */
  type: FileType | undefined;
  uploadSha256: string;
  sha256: string;
  size: number;
}

/** A picture whose metadata cannot be removed safely is refused, rather than kept with it. */
const unstrippable = (error: unknown) =>
  error instanceof MetadataError
    ? new RelayError(
        'UNSUPPORTED_FILE_TYPE',
        `This picture cannot be shared as it is: ${error.message}, so its location and camera details cannot be removed safely. Save it as a JPEG or PNG and share that instead.`,
      )
    : error;

/** Counts a piece of the body, and stops at the first byte over the limit. */
function count(result: Inspection, chunk: Buffer, maxBytes: number): void {
  result.received += chunk.length;
  if (result.received > maxBytes) throw tooLarge(maxBytes);
}

/**
 * Counts and hashes the bytes as uploaded, refuses them past `maxBytes` or when the first bytes
 * are not an allowed type, and passes on the bytes to keep (image metadata removed), hashed.
 */
function inspect(files: TenantFiles, result: Inspection): Transform {
  const uploaded = createHash('sha256');
  const stored = createHash('sha256');
  let head: Buffer[] = [];
  let headBytes = 0;
  let filter: ByteFilter | undefined;
  const emit = (stream: Transform, pieces: Buffer[]) => {
    for (const piece of pieces) {
      stored.update(piece);
      result.size += piece.length;
      stream.push(piece);
    }
  };
  const decide = (stream: Transform, complete: boolean) => {
    const sample = Buffer.concat(head);
    const type = sniff(sample.subarray(0, SNIFF_BYTES), complete);
    result.type = type;
    if (!type || !(files.allowedTypes as readonly string[]).includes(type))
      throw new RelayError(
        'UNSUPPORTED_FILE_TYPE',
        `This kind of file cannot be shared here (it was recognised from its content${type ? ` as ${type}` : ''}). Allowed: ${files.allowedTypes.join(', ')}.`,
      );
    filter = metadataFilter(type);
    head = [];
    emit(stream, filter.write(sample));
  };
  return new Transform({
    transform(chunk: Buffer, _encoding, done: TransformCallback) {
      try {
        // Stop at the first byte over the limit: the partial object is removed by the storage.
        count(result, chunk, files.maxBytes);
        uploaded.update(chunk);
        if (filter) emit(this, filter.write(chunk));
        else {
          head.push(chunk);
          headBytes += chunk.length;
          if (headBytes >= SNIFF_BYTES) decide(this, false);
        }
        done();
      } catch (error) {
        done(unstrippable(error) as Error);
      }
    },
    flush(done: TransformCallback) {
      try {
        if (!filter) decide(this, true);
        emit(this, filter ? filter.end() : []);
        result.uploadSha256 = uploaded.digest('hex');
        result.sha256 = stored.digest('hex');
        done();
      } catch (error) {
        done(unstrippable(error) as Error);
      }
    },
  });
}

/** The SHA-256 of a body (bounded by the limit), for comparing a retry with a stored file. */
async function hashBody(body: Readable, result: Inspection, maxBytes: number): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of body as AsyncIterable<Buffer>) {
    count(result, chunk, maxBytes);
    hash.update(chunk);
  }
  return hash.digest('hex');
}

/** The identity a download link stands for: the person it was handed to, re-checked at use. */
function linkHolder(tenantId: string, userId: string, at: Date): Identity {
  return {
    tenantId,
    userId,
    role: 'patient',
    displayName: userId,
    relationship: null,
    title: null,
    issuedAt: at,
    expiresAt: at,
    authTime: null,
    tokenId: null,
    breakGlass: null,
  };
}

export function createFileService(deps: FileServiceDeps) {
  const { store, storage, chat, accessLog } = deps;

  /** Deleting a message hides its files from readers; the record (host API, export) keeps them. */
  async function requireShown(file: FileRecord): Promise<void> {
    if (await store.fileHiddenByDeletion(file.tenantId, file.conversationId, file.fileId))
      throw fileNotFound();
  }
  const now = deps.now ?? (() => new Date());
  const limits = createUploadLimits(deps.filesOf);

  const signature = (tenantId: string, fileId: string, userId: string, exp: number) =>
    createHmac('sha256', deps.linkKey)
      .update(`carethread:file-link:v1\n${tenantId}\n${fileId}\n${userId}\n${String(exp)}`)
      .digest();

  /** A file whose upload completed; an unfinished or unknown one does not exist for anyone. */
  async function completeFile(tenantId: string, fileId: string): Promise<FileRecord> {
    const file = await store.getFile(tenantId, fileId);
    if (file?.state !== 'complete') throw fileNotFound();
    return file;
  }

  /**
   * The member check of a file's reader. A file of a conversation that is not theirs answers
   * exactly like a file that does not exist: no answer tells an outsider a file id is in use.
   */
  async function requireFileReader(identity: Identity, file: FileRecord): Promise<void> {
    try {
      await chat.requireMember(identity, file.conversationId, 'files');
    } catch (error) {
      if (error instanceof RelayError && error.code === 'NOT_FOUND') throw fileNotFound();
      throw error;
    }
  }

  /** The decrypted bytes of a complete file, once its download by `actorId` is recorded. */
  async function open(file: FileRecord, actorId: string) {
    const stored = await storage.get(objectKey(file)).catch((error: unknown) => {
      throw new RelayError(
        'UNAVAILABLE',
        'File storage is unavailable just now. Retry the download in a moment.',
        { cause: error },
      );
    });
    if (!stored) throw fileNotFound();
    try {
      await accessLog.record(file.tenantId, {
        actorId,
        action: 'file.downloaded',
        conversationId: file.conversationId,
        subjectId: file.fileId,
        detail: { type: file.contentType, size: file.size },
      });
    } catch (error) {
      stored.destroy();
      throw error;
    }
    const body = stored.pipe(
      openStream(
        Buffer.from(file.key, 'base64'),
        fileBinding(file.tenantId, file.fileId, file.attempt),
      ),
    );
    stored.on('error', (error) => body.destroy(error));
    return { file: toFileView(file), body };
  }

  /**
   * The same rules as sending a message: a member (family under a consent that shares files), not
   * archived.
   */
  async function requireWriter(identity: Identity, conversationId: string): Promise<void> {
    await chat.requireMember(identity, conversationId, 'files');
    const conversation = await store.getConversation(identity.tenantId, conversationId);
    if (conversation?.archivedAt)
      throw new RelayError(
        'ARCHIVED',
        'This conversation has been closed by the care team. You can still read it, but new files cannot be shared.',
      );
  }

  /** A retry of a complete file: the same bytes return it, other bytes are a conflict. */
  async function sameAsStored(
    file: FileRecord,
    body: Readable,
    seen: Inspection,
    maxBytes: number,
  ) {
    const sha = await hashBody(body, seen, maxBytes);
    if (sha !== file.uploadSha256) throw fileIdInUse();
    return { file: toFileView(file), created: false };
  }

  /** An admitted upload, from the writer check to the audited commit. */
  async function storeAdmitted(
    identity: Identity,
    upload: FileUpload,
    files: TenantFiles,
    inspection: Inspection,
  ): Promise<{ file: FileView; created: boolean }> {
    await requireWriter(identity, upload.conversationId);
    const claim = await store.claimFileUpload({
      tenantId: identity.tenantId,
      fileId: upload.fileId,
      conversationId: upload.conversationId,
      uploaderId: identity.userId,
      name: upload.name,
      attempt: randomBytes(8).toString('hex'),
      at: now().toISOString(),
    });
    // Someone else's id answers like one's own id reused for other bytes (ADR 19).
    if (claim.state === 'taken') throw fileIdInUse();
    if (claim.state === 'complete')
      return sameAsStored(claim.file, upload.body, inspection, files.maxBytes);

    const { file } = claim;
    // pipeline() destroys every stage with the first error, so the storage sees it and
    // removes the partial object: a refused type, one byte too many, a dropped connection.
    const source = pipeline(
      upload.body,
      inspect(files, inspection),
      sealStream(
        Buffer.from(file.key, 'base64'),
        fileBinding(file.tenantId, file.fileId, file.attempt),
      ),
      () => undefined,
    );
    try {
      await storage.put(objectKey(file), source);
    } catch (error) {
      await store.abandonFileUpload(file.tenantId, file.fileId, file.attempt).catch(() => {});
      // What the upload's own checks refused keeps its code; anything else was the storage.
      throw error instanceof RelayError ? error : storageUnavailable(error);
    }
    const completed = await store.completeFileUpload(file.tenantId, file.fileId, file.attempt, {
      contentType: inspection.type ?? 'application/octet-stream',
      size: inspection.size,
      sha256: inspection.sha256,
      uploadSha256: inspection.uploadSha256,
      at: now().toISOString(),
    });
    if (!completed) {
      // Another attempt under the same id took over or finished first: theirs is the file.
      await storage.remove(objectKey(file));
      const stored = await store.getFile(file.tenantId, file.fileId);
      if (stored?.state !== 'complete' || stored.uploadSha256 !== inspection.uploadSha256)
        throw new RelayError(
          'CONFLICT',
          'Another upload of this file id is in progress. Retry in a moment.',
        );
      return { file: toFileView(stored), created: false };
    }
    const stored = await store.getFile(file.tenantId, file.fileId);
    if (!stored) throw new RelayError('INTERNAL');
    await accessLog.record(identity.tenantId, {
      actorId: identity.userId,
      action: 'file.uploaded',
      conversationId: stored.conversationId,
      subjectId: stored.fileId,
      detail: { type: stored.contentType, size: stored.size, sha256: stored.sha256 },
    });
    return { file: toFileView(stored), created: true };
  }

  return {
    /**
     * Stores an upload under its client-chosen id. Idempotent: the same id with the same bytes
     * returns the stored file (`created: false`); an id whose upload never finished is taken over.
     * A refusal is an entry of the audit trail (`file.refused`), with ids, codes and numbers only.
     */
    async upload(
      identity: Identity,
      upload: FileUpload,
    ): Promise<{ file: FileView; created: boolean }> {
      const files = deps.filesOf(identity.tenantId);
      const inspection: Inspection = {
        received: 0,
        type: undefined,
        uploadSha256: '',
        sha256: '',
        size: 0,
      };
      try {
        if (upload.declaredBytes !== undefined && upload.declaredBytes > files.maxBytes)
          throw tooLarge(files.maxBytes);
        // Before any store lookup: a flood of uploads costs the relay no more than its refusals.
        const ticket = limits.admit(identity.tenantId, identity.userId, upload.declaredBytes);
        try {
          return await storeAdmitted(identity, upload, files, inspection);
        } finally {
          ticket.release(inspection.received);
        }
      } catch (error) {
        if (
          error instanceof RelayError &&
          AUDITED_REFUSALS.has(error.code) &&
          (error.code !== 'RATE_LIMITED' ||
            limits.recordsRefusal(identity.tenantId, identity.userId))
        )
          accessLog.note(identity.tenantId, {
            actorId: identity.userId,
            action: 'file.refused',
            conversationId: upload.conversationId,
            subjectId: upload.fileId,
            detail: {
              code: error.code,
              type: inspection.type ?? null,
              declaredType: upload.declaredType ?? null,
              declaredBytes: upload.declaredBytes ?? null,
              bytes: inspection.received,
            },
          });
        throw error;
      }
    },

    /**
     * Removes stored objects that no complete file stands for: the bytes of an attempt that was
     * refused, taken over, or cut off by a crash between storing and completing. Only objects
     * older than `olderThanMs` (an hour by default), since a younger one may be an upload on another
     * node that is about to complete. Returns how many it removed.
     */
    async sweepOrphans(olderThanMs = ORPHAN_MIN_AGE_MS): Promise<number> {
      let removed = 0;
      let batch: string[] = [];
      const sweep = async (keys: string[]) => {
        const byTenant = new Map<string, string[]>();
        for (const key of keys) {
          const { tenantId } = parseObjectKey(key);
          const tenantKeys = byTenant.get(tenantId);
          if (tenantKeys) tenantKeys.push(key);
          else byTenant.set(tenantId, [key]);
        }
        for (const [tenantId, tenantKeys] of byTenant) {
          const ids = [...new Set(tenantKeys.map((key) => parseObjectKey(key).fileId))];
          const kept = new Set(
            (await store.completedFileAttempts(tenantId, ids)).map((file) =>
              objectKey({ tenantId, ...file }),
            ),
          );
          for (const key of tenantKeys)
            if (!kept.has(key)) {
              await storage.remove(key);
              removed += 1;
            }
        }
      };
      for await (const { key } of storage.list(olderThanMs)) {
        batch.push(key);
        if (batch.length >= SWEEP_BATCH) {
          await sweep(batch);
          batch = [];
        }
      }
      await sweep(batch);
      return removed;
    },

    /** A short-lived signed download link for a current member (family under consent). */
    async link(
      identity: Identity,
      fileId: string,
      baseUrl: string,
    ): Promise<{ url: string; expiresAt: string }> {
      const file = await completeFile(identity.tenantId, fileId);
      await requireFileReader(identity, file);
      await requireShown(file);
      const exp = Math.floor(now().getTime() / 1000) + deps.linkTtlSeconds;
      const query = new URLSearchParams({
        tenant: identity.tenantId,
        user: identity.userId,
        exp: String(exp),
        sig: signature(identity.tenantId, fileId, identity.userId, exp).toString('base64url'),
      });
      return {
        url: `${baseUrl}/files/${encodeURIComponent(fileId)}?${query.toString()}`,
        expiresAt: new Date(exp * 1000).toISOString(),
      };
    },

    /**
     * Opens a file for a signed link: the signature, the expiry and the holder's membership (now,
     * not when the link was made) are checked, and the download is recorded before a byte leaves.
     */
    async download(
      fileId: string,
      query: FileLinkQuery,
    ): Promise<{ file: FileView; body: Readable }> {
      const exp = Number(query.exp);
      const given = Buffer.from(query.sig, 'base64url');
      const expected = signature(query.tenant, fileId, query.user, exp);
      if (
        !Number.isSafeInteger(exp) ||
        given.length !== expected.length ||
        !timingSafeEqual(given, expected)
      )
        throw new RelayError('FORBIDDEN', 'This download link is not valid.');
      if (exp * 1000 <= now().getTime())
        throw new RelayError('FORBIDDEN', 'This download link has expired. Ask for a new one.');
      const file = await completeFile(query.tenant, fileId);
      await requireFileReader(linkHolder(query.tenant, query.user, now()), file);
      // A link made before the message was deleted stops working too.
      await requireShown(file);
      return open(file, query.user);
    },

    /** The host's back end reads any file of its tenant (the record, the FHIR export's links). */
    async openForHost(
      identity: Identity,
      fileId: string,
    ): Promise<{ file: FileView; body: Readable }> {
      const file = await completeFile(identity.tenantId, fileId);
      await chat.requireMember(identity, file.conversationId);
      return open(file, identity.userId);
    },

    /** Stops the upload limiters' timers. */
    close(): void {
      limits.close();
    },
  };
}

export type FileService = ReturnType<typeof createFileService>;
