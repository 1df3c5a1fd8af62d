// The SQL of the files part of the Store contract (files.ts), for both engines: each upload's
// sealed name and key, its attempts, and whether a deletion hides it from readers.
import { randomBytes } from 'node:crypto';
import type { AttachmentView } from '@carethread/shared';
import type { Selectable } from 'kysely';
import type { FileRecord, FileStore } from '../files.js';
import { rowAad } from '../keyring.js';
import type { FilesTable } from '../schema.js';
import { isDeleted, openEntryRow, type SqlContext } from './shared.js';

export function createFileStore(context: SqlContext): FileStore {
  const { db, engine, keyring, keysOf } = context;
  const fileKeyAad = (tenantId: string, fileId: string, attempt: string) =>
    rowAad('files.file_key', tenantId, fileId, attempt);
  const fileNameAad = (tenantId: string, fileId: string) => rowAad('files.name', tenantId, fileId);
  function toFileRecord(row: Selectable<FilesTable>): FileRecord {
    return {
      tenantId: row.tenant_id,
      fileId: row.id,
      conversationId: row.conversation_id,
      uploaderId: row.uploader_id,
      name: keyring.open(row.tenant_id, fileNameAad(row.tenant_id, row.id), row.name),
      state: row.state,
      attempt: row.attempt,
      key: keyring.open(
        row.tenant_id,
        fileKeyAad(row.tenant_id, row.id, row.attempt),
        row.file_key,
      ),
      contentType: row.content_type,
      size: row.size,
      sha256: row.sha256,
      uploadSha256: row.upload_sha256,
      createdAt: row.created_at,
      completedAt: row.completed_at,
    };
  }

  return {
    async claimFileUpload(file) {
      await keysOf(file.tenantId);
      return engine.writeTransaction(async (trx) => {
        // The conversation's row lock (PostgreSQL) also serialises two nodes claiming one id.
        await engine.lockConversations?.(trx, file.tenantId, [file.conversationId]);
        const existing = await trx
          .selectFrom('files')
          .selectAll()
          .where('tenant_id', '=', file.tenantId)
          .where('id', '=', file.fileId)
          .executeTakeFirst();
        if (
          existing &&
          (existing.uploader_id !== file.uploaderId ||
            existing.conversation_id !== file.conversationId)
        )
          return { state: 'taken' } as const;
        if (existing?.state === 'complete')
          return { state: 'complete', file: toFileRecord(existing) } as const;
        const sealed = {
          attempt: file.attempt,
          file_key: keyring.seal(
            file.tenantId,
            fileKeyAad(file.tenantId, file.fileId, file.attempt),
            randomBytes(32).toString('base64'),
          ),
          name: keyring.seal(file.tenantId, fileNameAad(file.tenantId, file.fileId), file.name),
        };
        if (existing)
          // An earlier attempt that never finished (a crash, a dropped connection): this one takes over.
          await trx
            .updateTable('files')
            .set(sealed)
            .where('tenant_id', '=', file.tenantId)
            .where('id', '=', file.fileId)
            .where('state', '=', 'uploading')
            .execute();
        else
          await trx
            .insertInto('files')
            .values({
              tenant_id: file.tenantId,
              id: file.fileId,
              conversation_id: file.conversationId,
              uploader_id: file.uploaderId,
              state: 'uploading',
              content_type: null,
              size: null,
              sha256: null,
              upload_sha256: null,
              created_at: file.at,
              completed_at: null,
              ...sealed,
            })
            .execute();
        const row = await trx
          .selectFrom('files')
          .selectAll()
          .where('tenant_id', '=', file.tenantId)
          .where('id', '=', file.fileId)
          .executeTakeFirstOrThrow();
        return { state: 'claimed', file: toFileRecord(row) } as const;
      });
    },

    async completeFileUpload(tenantId, fileId, attempt, facts) {
      const result = await engine.writeTransaction((trx) =>
        trx
          .updateTable('files')
          .set({
            state: 'complete',
            content_type: facts.contentType,
            size: facts.size,
            sha256: facts.sha256,
            upload_sha256: facts.uploadSha256,
            completed_at: facts.at,
          })
          .where('tenant_id', '=', tenantId)
          .where('id', '=', fileId)
          .where('attempt', '=', attempt)
          .where('state', '=', 'uploading')
          .executeTakeFirst(),
      );
      return Number(result.numUpdatedRows) === 1;
    },

    async abandonFileUpload(tenantId, fileId, attempt) {
      await engine.writeTransaction((trx) =>
        trx
          .deleteFrom('files')
          .where('tenant_id', '=', tenantId)
          .where('id', '=', fileId)
          .where('attempt', '=', attempt)
          .where('state', '=', 'uploading')
          .execute(),
      );
    },

    async getFile(tenantId, fileId) {
      await keysOf(tenantId);
      const row = await db
        .selectFrom('files')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('id', '=', fileId)
        .executeTakeFirst();
      return row && toFileRecord(row);
    },

    async fileHiddenByDeletion(tenantId, conversationId, fileId) {
      await keysOf(tenantId);
      // Messages that carry files, each with whether its sender deleted it. Attachments are sealed,
      // so the file is looked for after opening; only conversations with a deleted message that
      // carried files pay for it.
      const carriers = () =>
        db
          .selectFrom('entries as e')
          .where('e.tenant_id', '=', tenantId)
          .where('e.conversation_id', '=', conversationId)
          .where('e.kind', '=', 'message')
          .where('e.attachments', 'is not', null);
      const anyDeleted = await carriers()
        .select('e.seq')
        .where(isDeleted)
        .limit(1)
        .executeTakeFirst();
      if (!anyDeleted) return false;
      const rows = await carriers()
        .selectAll('e')
        .select((eb) => isDeleted(eb).as('deleted'))
        .execute();
      let inDeleted = false;
      for (const { deleted: isDeleted, ...row } of rows) {
        const { attachments } = openEntryRow(keyring, row);
        const files = JSON.parse(attachments ?? '[]') as AttachmentView[];
        if (!files.some((file) => file.fileId === fileId)) continue;
        if (!isDeleted) return false;
        inDeleted = true;
      }
      return inDeleted;
    },

    async completedFileAttempts(tenantId, fileIds) {
      if (fileIds.length === 0) return [];
      const rows = await db
        .selectFrom('files')
        .select(['id', 'attempt'])
        .where('tenant_id', '=', tenantId)
        .where('id', 'in', [...fileIds])
        .where('state', '=', 'complete')
        .execute();
      return rows.map((row) => ({ fileId: row.id, attempt: row.attempt }));
    },
  };
}
