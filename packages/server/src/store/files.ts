// The files part of the Store contract, with its records: uploads claimed, completed or abandoned,
// and what readers and the orphan sweep may see of them. Its SQL: sql/files.ts.

/** A file shared in a conversation (ADR 16): its metadata; the bytes are in FileStorage. */
export interface FileRecord {
  tenantId: string;
  fileId: string;
  conversationId: string;
  uploaderId: string;
  /** The name the uploader gave; shown, never used to decide anything. */
  name: string;
  /** 'uploading' until every byte is stored; only 'complete' files are attached or served. */
  state: 'uploading' | 'complete';
  /** The upload attempt whose bytes are (or are being) stored: names the stored object. */
  attempt: string;
  /** The file's own key (base64), opened from its seal under the tenant's data key. */
  key: string;
  /** Decided from the content; null while uploading. */
  contentType: string | null;
  /** Bytes as stored and served (after metadata removal). */
  size: number | null;
  /** SHA-256 (hex) of the bytes as served... */
  sha256: string | null;
  /** ...and of the bytes as uploaded: a retry with the same content matches it. */
  uploadSha256: string | null;
  createdAt: string;
  completedAt: string | null;
}

/** The outcome of starting an upload under a file id. */
export type FileClaim =
  | { state: 'claimed'; file: FileRecord }
  | { state: 'complete'; file: FileRecord }
  /** The id is taken by another person's upload or another conversation. */
  | { state: 'taken' };

export interface FileStore {
  /**
   * Starts (or takes over) an upload under `file.fileId` with a fresh attempt and file key: a new
   * id, or one whose earlier upload by the same person to the same conversation never finished.
   * A complete file is returned as it is; an id used by someone else or elsewhere is 'taken'.
   */
  claimFileUpload(file: {
    tenantId: string;
    fileId: string;
    conversationId: string;
    uploaderId: string;
    name: string;
    attempt: string;
    at: string;
  }): Promise<FileClaim>;
  /**
   * Marks the attempt's upload complete, with what the content turned out to be. False when
   * another attempt took the id over meanwhile (or completed it).
   */
  completeFileUpload(
    tenantId: string,
    fileId: string,
    attempt: string,
    facts: { contentType: string; size: number; sha256: string; uploadSha256: string; at: string },
  ): Promise<boolean>;
  /** Forgets an unfinished attempt (a refused upload keeps nothing). */
  abandonFileUpload(tenantId: string, fileId: string, attempt: string): Promise<void>;
  getFile(tenantId: string, fileId: string): Promise<FileRecord | undefined>;
  /**
   * Whether every message that shared the file was deleted by its sender (false when none shared
   * it): readers no longer get links to it, while the host API still serves it (ADR 16).
   */
  fileHiddenByDeletion(tenantId: string, conversationId: string, fileId: string): Promise<boolean>;
  /**
   * The attempt whose bytes each complete file of `fileIds` is (files not complete, or unknown,
   * are left out): what the orphan sweep keeps. Nothing is decrypted.
   */
  completedFileAttempts(
    tenantId: string,
    fileIds: readonly string[],
  ): Promise<{ fileId: string; attempt: string }[]>;
}
