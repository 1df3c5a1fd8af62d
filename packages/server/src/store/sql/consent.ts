// The SQL of the consent part of the Store contract (consent.ts), for both engines: templates,
// requests and their hash-chained events, signed records and PDFs, grants, revocation and expiry.
import {
  grantedScopes,
  type ConsentBlock,
  type ConsentRecipient,
  type ConsentRequestView,
  type ConsentScope,
  type ConsentState,
  type SignerCapacity,
  type TemplateKind,
  type TemplateText,
  type TemplateVersionView,
} from '@carethread/shared';
import type { Kysely, Selectable } from 'kysely';
import { canonicalHash } from '../../core/canonical.js';
import { GENESIS_HASH } from '../chain.js';
import type { ConsentEventInput, ConsentEventRecord, ConsentStore } from '../consent.js';
import { rowAad } from '../keyring.js';
import { consentEvent } from '../outbox.js';
import type {
  ConsentEventsTable,
  ConsentRequestsTable,
  ConsentTemplatesTable,
  Database,
} from '../schema.js';
import { narrowAccess, type SqlContext } from './shared.js';
import { appendConsentEntry, findConsentEntry } from './system-entries.js';

function toTemplateVersion(row: Selectable<ConsentTemplatesTable>): TemplateVersionView {
  return {
    templateId: row.template_id,
    version: row.version,
    kind: row.kind as TemplateKind,
    language: row.language,
    title: row.title,
    blocks: JSON.parse(row.blocks) as ConsentBlock[],
    ...(row.translations === null
      ? {}
      : { translations: JSON.parse(row.translations) as TemplateText[] }),
    hash: row.hash,
    publishedAt: row.published_at,
    publishedBy: row.published_by,
  };
}

function toConsentRequest(row: Selectable<ConsentRequestsTable>): ConsentRequestView {
  return {
    requestId: row.request_id,
    templateId: row.template_id,
    templateVersion: row.template_version,
    templateHash: row.template_hash,
    conversationId: row.conversation_id,
    patientId: row.patient_id,
    signerId: row.signer_id,
    capacity: row.capacity as SignerCapacity,
    recipients: JSON.parse(row.recipients) as ConsentRecipient[],
    purpose: row.purpose,
    expiresAt: row.expires_at,
    scopes: JSON.parse(row.scopes) as ConsentScope[],
    state: row.state as ConsentState,
    requestedBy: row.requested_by,
    requestedAt: row.requested_at,
    updatedAt: row.updated_at,
  };
}

function toConsentEvent(row: Selectable<ConsentEventsTable>): ConsentEventRecord {
  return {
    seq: row.seq,
    type: row.type as ConsentEventRecord['type'],
    at: row.at,
    actorId: row.actor_id,
    detail: JSON.parse(row.detail) as ConsentEventRecord['detail'],
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

export function createConsentStore(context: SqlContext): ConsentStore {
  const { db, engine, keyring, keysOf, recordEvents } = context;
  const recordAad = (column: string, tenantId: string, requestId: string) =>
    rowAad(`consent_records.${column}`, tenantId, requestId);

  /** A sealed column of a record that may be empty, opened; undefined when empty or no record. */
  async function sealedRecordColumn(
    tenantId: string,
    requestId: string,
    column: 'pdf' | 'revocation',
  ): Promise<string | undefined> {
    await keysOf(tenantId);
    const row = await db
      .selectFrom('consent_records')
      .select(['pdf', 'revocation'])
      .where('tenant_id', '=', tenantId)
      .where('request_id', '=', requestId)
      .executeTakeFirst();
    const sealed = row?.[column];
    return sealed
      ? keyring.open(tenantId, recordAad(column, tenantId, requestId), sealed)
      : undefined;
  }

  /** Appends an audit event chained to the request's previous one, inside `trx`. */
  async function appendConsentEvent(
    trx: Kysely<Database>,
    tenantId: string,
    requestId: string,
    event: ConsentEventInput,
  ): Promise<void> {
    const last = await trx
      .selectFrom('consent_events')
      .select(['seq', 'hash'])
      .where('tenant_id', '=', tenantId)
      .where('request_id', '=', requestId)
      .orderBy('seq', 'desc')
      .limit(1)
      .executeTakeFirst();
    const seq = (last?.seq ?? 0) + 1;
    const prevHash = last?.hash ?? GENESIS_HASH;
    const hash = canonicalHash({ tenantId, requestId, seq, ...event, prevHash });
    await trx
      .insertInto('consent_events')
      .values({
        tenant_id: tenantId,
        request_id: requestId,
        seq,
        type: event.type,
        at: event.at,
        actor_id: event.actorId,
        detail: JSON.stringify(event.detail),
        prev_hash: prevHash,
        hash,
      })
      .execute();
  }

  /** The request's row; inside a write transaction on PostgreSQL, locked until it ends. */
  function selectRequest(trx: Kysely<Database>, tenantId: string, requestId: string) {
    return trx
      .selectFrom('consent_requests')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('request_id', '=', requestId)
      .$if(engine.dialect === 'postgres' && trx !== db, (qb) => qb.forUpdate())
      .executeTakeFirst();
  }

  /** Moves the request's state inside `trx` when it is in one of `from`; the updated row or undefined. */
  async function moveRequest(
    trx: Kysely<Database>,
    tenantId: string,
    requestId: string,
    from: readonly ConsentState[],
    to: ConsentState,
    event: ConsentEventInput,
  ): Promise<ConsentRequestView | undefined> {
    const row = await selectRequest(trx, tenantId, requestId);
    if (!row || !from.includes(row.state as ConsentState)) return undefined;
    await trx
      .updateTable('consent_requests')
      .set({ state: to, updated_at: event.at })
      .where('tenant_id', '=', tenantId)
      .where('request_id', '=', requestId)
      .execute();
    const moved = toConsentRequest({ ...row, state: to, updated_at: event.at });
    // Told in the conversation's log, in this transaction (before the tenant's outbox lock).
    await appendConsentEntry(context, trx, tenantId, moved, row.state as ConsentState, event);
    await appendConsentEvent(trx, tenantId, requestId, event);
    await recordEvents(trx, [consentEvent(tenantId, moved)]);
    return moved;
  }

  return {
    publishTemplateVersion({ tenantId, content, hash, publishedAt, publishedBy }) {
      return engine.writeTransaction(async (trx) => {
        const newest = await trx
          .selectFrom('consent_templates')
          .selectAll()
          .where('tenant_id', '=', tenantId)
          .where('template_id', '=', content.templateId)
          .orderBy('version', 'desc')
          .limit(1)
          .executeTakeFirst();
        if (newest?.hash === hash) return { template: toTemplateVersion(newest), created: false };
        const row = {
          tenant_id: tenantId,
          template_id: content.templateId,
          version: (newest?.version ?? 0) + 1,
          kind: content.kind,
          language: content.language,
          title: content.title,
          blocks: JSON.stringify(content.blocks),
          translations: content.translations?.length ? JSON.stringify(content.translations) : null,
          hash,
          published_at: publishedAt,
          published_by: publishedBy,
        };
        await trx.insertInto('consent_templates').values(row).execute();
        return { template: toTemplateVersion(row), created: true };
      });
    },

    async listTemplateVersions(tenantId, templateId) {
      const rows = await db
        .selectFrom('consent_templates')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('template_id', '=', templateId)
        .orderBy('version', 'asc')
        .execute();
      return rows.map(toTemplateVersion);
    },

    async getTemplateVersion(tenantId, templateId, version) {
      let query = db
        .selectFrom('consent_templates')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('template_id', '=', templateId);
      if (version !== undefined) query = query.where('version', '=', version);
      const row = await query.orderBy('version', 'desc').limit(1).executeTakeFirst();
      return row && toTemplateVersion(row);
    },

    async createConsentRequest(tenantId, request, event) {
      await keysOf(tenantId);
      return engine.writeTransaction(async (trx) => {
        const existing = await selectRequest(trx, tenantId, request.requestId);
        if (existing) return { request: toConsentRequest(existing), created: false };
        const inserted = await trx
          .insertInto('consent_requests')
          .values({
            tenant_id: tenantId,
            request_id: request.requestId,
            template_id: request.templateId,
            template_version: request.templateVersion,
            template_hash: request.templateHash,
            conversation_id: request.conversationId,
            patient_id: request.patientId,
            signer_id: request.signerId,
            capacity: request.capacity,
            recipients: JSON.stringify(request.recipients),
            purpose: request.purpose,
            expires_at: request.expiresAt,
            scopes: JSON.stringify(request.scopes),
            state: request.state,
            requested_by: request.requestedBy,
            requested_at: request.requestedAt,
            updated_at: request.updatedAt,
          })
          .onConflict((oc) => oc.columns(['tenant_id', 'request_id']).doNothing())
          .executeTakeFirst();
        if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) === 0) {
          // Another node created it between our look and our insert: theirs stands.
          const theirs = await selectRequest(trx, tenantId, request.requestId);
          if (!theirs) throw new Error('A consent request vanished while it was created.');
          return { request: toConsentRequest(theirs), created: false };
        }
        await appendConsentEntry(context, trx, tenantId, request, 'requested', event);
        await appendConsentEvent(trx, tenantId, request.requestId, event);
        await recordEvents(trx, [consentEvent(tenantId, request)]);
        return { request, created: true };
      });
    },

    async getConsentRequest(tenantId, requestId) {
      const row = await selectRequest(db, tenantId, requestId);
      return row && toConsentRequest(row);
    },

    async listConsentRequests(tenantId, { conversationId, userId }) {
      let query = db.selectFrom('consent_requests').selectAll().where('tenant_id', '=', tenantId);
      if (conversationId !== undefined) query = query.where('conversation_id', '=', conversationId);
      if (userId !== undefined)
        query = query.where((eb) =>
          eb.or([eb('patient_id', '=', userId), eb('signer_id', '=', userId)]),
        );
      const rows = await query.orderBy('requested_at', 'asc').orderBy('request_id').execute();
      return rows.map(toConsentRequest);
    },

    async transitionConsentRequest(tenantId, requestId, from, to, event) {
      await keysOf(tenantId);
      return engine.writeTransaction((trx) =>
        moveRequest(trx, tenantId, requestId, from, to, event),
      );
    },

    async signConsentRequest(tenantId, requestId, from, record, event) {
      await keysOf(tenantId);
      return engine.writeTransaction(async (trx) => {
        const moved = await moveRequest(trx, tenantId, requestId, from, 'signed', event);
        if (!moved) return undefined;
        await trx
          .insertInto('consent_grants')
          .values(
            moved.recipients.map((recipient) => ({
              tenant_id: tenantId,
              request_id: requestId,
              recipient_id: recipient.userId,
              conversation_id: moved.conversationId,
              patient_id: moved.patientId,
              expires_at: moved.expiresAt,
              revoked_at: null,
              scopes: JSON.stringify(moved.scopes),
            })),
          )
          .execute();
        await trx
          .insertInto('consent_records')
          .values({
            tenant_id: tenantId,
            request_id: requestId,
            canonical: keyring.seal(
              tenantId,
              recordAad('canonical', tenantId, requestId),
              record.canonical,
            ),
            record_hash: record.recordHash,
            receipt: keyring.seal(
              tenantId,
              recordAad('receipt', tenantId, requestId),
              record.receipt,
            ),
            signature_image:
              record.signatureImage === null
                ? null
                : keyring.seal(
                    tenantId,
                    recordAad('signature_image', tenantId, requestId),
                    record.signatureImage,
                  ),
            pdf: null,
            revocation: null,
          })
          .execute();
        return moved;
      });
    },

    async getConsentRecord(tenantId, requestId) {
      await keysOf(tenantId);
      const row = await db
        .selectFrom('consent_records')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('request_id', '=', requestId)
        .executeTakeFirst();
      return (
        row && {
          canonical: keyring.open(
            tenantId,
            recordAad('canonical', tenantId, requestId),
            row.canonical,
          ),
          recordHash: row.record_hash,
          receipt: keyring.open(tenantId, recordAad('receipt', tenantId, requestId), row.receipt),
          signatureImage:
            row.signature_image === null
              ? null
              : keyring.open(
                  tenantId,
                  recordAad('signature_image', tenantId, requestId),
                  row.signature_image,
                ),
        }
      );
    },

    getConsentPdf: (tenantId, requestId) => sealedRecordColumn(tenantId, requestId, 'pdf'),

    async saveConsentPdf(tenantId, requestId, pdf) {
      await keysOf(tenantId);
      const aad = recordAad('pdf', tenantId, requestId);
      return engine.writeTransaction(async (trx) => {
        await trx
          .updateTable('consent_records')
          .set({ pdf: keyring.seal(tenantId, aad, pdf) })
          .where('tenant_id', '=', tenantId)
          .where('request_id', '=', requestId)
          .where('pdf', 'is', null)
          .execute();
        const row = await trx
          .selectFrom('consent_records')
          .select('pdf')
          .where('tenant_id', '=', tenantId)
          .where('request_id', '=', requestId)
          .executeTakeFirst();
        if (!row?.pdf) throw new Error('No consent record to keep a PDF for.');
        return keyring.open(tenantId, aad, row.pdf);
      });
    },

    async revokeConsent(tenantId, requestId, event, revocation) {
      await keysOf(tenantId);
      return engine.writeTransaction(async (trx) => {
        const moved = await moveRequest(trx, tenantId, requestId, ['signed'], 'revoked', event);
        if (!moved) return undefined;
        await narrowAccess(trx, tenantId, moved.conversationId);
        await trx
          .updateTable('consent_grants')
          .set({ revoked_at: event.at })
          .where('tenant_id', '=', tenantId)
          .where('request_id', '=', requestId)
          .execute();
        await trx
          .updateTable('consent_records')
          .set({
            revocation: keyring.seal(
              tenantId,
              recordAad('revocation', tenantId, requestId),
              revocation,
            ),
          })
          .where('tenant_id', '=', tenantId)
          .where('request_id', '=', requestId)
          .execute();
        return moved;
      });
    },

    getConsentRevocation: (tenantId, requestId) =>
      sealedRecordColumn(tenantId, requestId, 'revocation'),

    async expireDueConsents(at) {
      const due = await db
        .selectFrom('consent_requests')
        .select(['tenant_id', 'request_id'])
        .where('state', 'in', ['requested', 'viewed', 'signed'])
        .where('expires_at', '<=', at)
        .execute();
      const expired: { tenantId: string; request: ConsentRequestView }[] = [];
      for (const { tenant_id: tenantId, request_id: requestId } of due) {
        // One transaction each: a request revoked meanwhile is left as it is.
        await keysOf(tenantId);
        const request = await engine.writeTransaction((trx) =>
          moveRequest(trx, tenantId, requestId, ['requested', 'viewed', 'signed'], 'expired', {
            type: 'expired',
            at,
            actorId: 'relay',
            detail: {},
          }),
        );
        if (request) expired.push({ tenantId, request });
      }
      return expired;
    },

    async activeGrant(tenantId, conversationId, userId, at) {
      const rows = await db
        .selectFrom('consent_grants')
        .select(['request_id', 'expires_at', 'scopes'])
        .where('tenant_id', '=', tenantId)
        .where('conversation_id', '=', conversationId)
        .where('recipient_id', '=', userId)
        .where('revoked_at', 'is', null)
        .where('expires_at', '>', at)
        .orderBy('expires_at', 'desc')
        .execute();
      const [latest] = rows;
      if (!latest) return undefined;
      // Two consents in effect share what either shares.
      const scopes = rows.flatMap((row) => JSON.parse(row.scopes) as ConsentScope[]);
      return {
        requestId: latest.request_id,
        expiresAt: latest.expires_at,
        scopes: grantedScopes(scopes),
      };
    },

    async consentEntry(tenantId, requestId, state) {
      await keysOf(tenantId);
      return findConsentEntry(context, tenantId, requestId, state);
    },

    async listConsentEvents(tenantId, requestId) {
      const rows = await db
        .selectFrom('consent_events')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('request_id', '=', requestId)
        .orderBy('seq', 'asc')
        .execute();
      return rows.map(toConsentEvent);
    },
  };
}
