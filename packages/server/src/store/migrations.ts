// Numbered schema migrations, written with Kysely's schema builder so every engine runs the same
// ones. Never edit a migration that has shipped: add the next number.
import {
  sql,
  type ColumnDefinitionBuilder,
  type Kysely,
  type Migration,
  type MigrationProvider,
} from 'kysely';

/** The SQL engines the migrations run on; they differ only in how a table numbers its rows. */
export type SqlDialectName = 'sqlite' | 'postgres';

function migrationsFor(dialect: SqlDialectName): Record<string, Migration> {
  /** A row number assigned at insert: SQLite's rowid alias, PostgreSQL's serial. */
  const serial = (c: ColumnDefinitionBuilder) =>
    dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement();
  const serialType = dialect === 'postgres' ? 'serial' : 'integer';
  return {
    '0001_conversations_participants_entries': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('conversations')
          .addColumn('tenant_id', 'text', (c) => c.notNull())
          .addColumn('id', 'text', (c) => c.notNull())
          .addColumn('title', 'text', (c) => c.notNull())
          .addColumn('created_by', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('conversations_pk', ['tenant_id', 'id'])
          .execute();

        await db.schema
          .createTable('participants')
          .addColumn('tenant_id', 'text', (c) => c.notNull())
          .addColumn('conversation_id', 'text', (c) => c.notNull())
          .addColumn('user_id', 'text', (c) => c.notNull())
          .addColumn('role', 'text', (c) => c.notNull())
          .addColumn('display_name', 'text', (c) => c.notNull())
          .addColumn('relationship', 'text')
          .addColumn('title', 'text')
          .addColumn('read_seq', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('added_at', 'text', (c) => c.notNull())
          .addColumn('removed_at', 'text')
          .addPrimaryKeyConstraint('participants_pk', ['tenant_id', 'conversation_id', 'user_id'])
          .addForeignKeyConstraint(
            'participants_conversation_fk',
            ['tenant_id', 'conversation_id'],
            'conversations',
            ['tenant_id', 'id'],
          )
          .execute();
        await db.schema
          .createIndex('participants_by_user')
          .on('participants')
          .columns(['tenant_id', 'user_id'])
          .execute();

        await db.schema
          .createTable('entries')
          .addColumn('tenant_id', 'text', (c) => c.notNull())
          .addColumn('conversation_id', 'text', (c) => c.notNull())
          .addColumn('seq', 'integer', (c) => c.notNull())
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('client_id', 'text', (c) => c.notNull())
          .addColumn('sender_id', 'text', (c) => c.notNull())
          .addColumn('sender_role', 'text', (c) => c.notNull())
          .addColumn('sender_name', 'text', (c) => c.notNull())
          .addColumn('text', 'text', (c) => c.notNull())
          .addColumn('target_seq', 'integer')
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('entries_pk', ['tenant_id', 'conversation_id', 'seq'])
          .addUniqueConstraint('entries_client_id_unique', [
            'tenant_id',
            'conversation_id',
            'sender_id',
            'client_id',
          ])
          .addForeignKeyConstraint(
            'entries_conversation_fk',
            ['tenant_id', 'conversation_id'],
            'conversations',
            ['tenant_id', 'id'],
          )
          .execute();
        await db.schema
          .createIndex('entries_edits_by_target')
          .on('entries')
          .columns(['tenant_id', 'conversation_id', 'target_seq', 'seq'])
          .where('target_seq', 'is not', null)
          .execute();
      },
    },
    '0002_consent_templates': {
      async up(db: Kysely<unknown>) {
        // Published versions are never updated or deleted: a signed consent points at one.
        await db.schema
          .createTable('consent_templates')
          .addColumn('tenant_id', 'text', (c) => c.notNull())
          .addColumn('template_id', 'text', (c) => c.notNull())
          .addColumn('version', 'integer', (c) => c.notNull())
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('language', 'text', (c) => c.notNull())
          .addColumn('title', 'text', (c) => c.notNull())
          /** The blocks as JSON text; the hash is over the canonical form of the whole content. */
          .addColumn('blocks', 'text', (c) => c.notNull())
          .addColumn('hash', 'text', (c) => c.notNull())
          .addColumn('published_at', 'text', (c) => c.notNull())
          .addColumn('published_by', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('consent_templates_pk', ['tenant_id', 'template_id', 'version'])
          .execute();
      },
    },
    '0003_consent_requests_records_events': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('consent_requests')
          .addColumn('tenant_id', 'text', (c) => c.notNull())
          .addColumn('request_id', 'text', (c) => c.notNull())
          .addColumn('template_id', 'text', (c) => c.notNull())
          .addColumn('template_version', 'integer', (c) => c.notNull())
          .addColumn('template_hash', 'text', (c) => c.notNull())
          .addColumn('conversation_id', 'text', (c) => c.notNull())
          .addColumn('patient_id', 'text', (c) => c.notNull())
          .addColumn('signer_id', 'text', (c) => c.notNull())
          .addColumn('capacity', 'text', (c) => c.notNull())
          /** JSON array of { userId, displayName, relationship } as they were when requested. */
          .addColumn('recipients', 'text', (c) => c.notNull())
          .addColumn('purpose', 'text', (c) => c.notNull())
          .addColumn('expires_at', 'text', (c) => c.notNull())
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('requested_by', 'text', (c) => c.notNull())
          .addColumn('requested_at', 'text', (c) => c.notNull())
          .addColumn('updated_at', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('consent_requests_pk', ['tenant_id', 'request_id'])
          .execute();
        await db.schema
          .createIndex('consent_requests_by_conversation')
          .on('consent_requests')
          .columns(['tenant_id', 'conversation_id'])
          .execute();

        // One signed record per request, written in the same transaction as its audit event.
        await db.schema
          .createTable('consent_records')
          .addColumn('tenant_id', 'text', (c) => c.notNull())
          .addColumn('request_id', 'text', (c) => c.notNull())
          /** The record exactly as the receipt covers it: RFC 8785 canonical JSON. */
          .addColumn('canonical', 'text', (c) => c.notNull())
          .addColumn('record_hash', 'text', (c) => c.notNull())
          .addColumn('receipt', 'text', (c) => c.notNull())
          /** A drawn signature's PNG data URL, or null for a typed one. */
          .addColumn('signature_image', 'text')
          .addPrimaryKeyConstraint('consent_records_pk', ['tenant_id', 'request_id'])
          .execute();

        // Append-only; each event carries the hash of the one before it for the same request.
        await db.schema
          .createTable('consent_events')
          .addColumn('tenant_id', 'text', (c) => c.notNull())
          .addColumn('request_id', 'text', (c) => c.notNull())
          .addColumn('seq', 'integer', (c) => c.notNull())
          .addColumn('type', 'text', (c) => c.notNull())
          .addColumn('at', 'text', (c) => c.notNull())
          .addColumn('actor_id', 'text', (c) => c.notNull())
          .addColumn('detail', 'text', (c) => c.notNull())
          .addColumn('prev_hash', 'text', (c) => c.notNull())
          .addColumn('hash', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('consent_events_pk', ['tenant_id', 'request_id', 'seq'])
          .execute();
      },
    },
    '0004_consent_grants': {
      async up(db: Kysely<unknown>) {
        // The access rule a signed consent creates: recipient may take part in the conversation
        // until expires_at, unless revoked. Checked on every family read and write.
        await db.schema
          .createTable('consent_grants')
          .addColumn('tenant_id', 'text', (c) => c.notNull())
          .addColumn('request_id', 'text', (c) => c.notNull())
          .addColumn('recipient_id', 'text', (c) => c.notNull())
          .addColumn('conversation_id', 'text', (c) => c.notNull())
          .addColumn('patient_id', 'text', (c) => c.notNull())
          .addColumn('expires_at', 'text', (c) => c.notNull())
          .addColumn('revoked_at', 'text')
          .addPrimaryKeyConstraint('consent_grants_pk', ['tenant_id', 'request_id', 'recipient_id'])
          .execute();
        await db.schema
          .createIndex('consent_grants_by_recipient')
          .on('consent_grants')
          .columns(['tenant_id', 'conversation_id', 'recipient_id'])
          .execute();
      },
    },
    '0005_consent_record_pdf': {
      async up(db: Kysely<unknown>) {
        // The sealed PDF (base64), made once on first request and never changed after.
        await db.schema.alterTable('consent_records').addColumn('pdf', 'text').execute();
      },
    },
    '0006_api_idempotency': {
      async up(db: Kysely<unknown>) {
        // One row per Idempotency-Key of the host API: claimed (status null) while the first request
        // runs, then its answer, replayed to every retry with the same key and body.
        await db.schema
          .createTable('api_idempotency')
          .addColumn('tenant_id', 'text', (c) => c.notNull())
          .addColumn('key', 'text', (c) => c.notNull())
          .addColumn('fingerprint', 'text', (c) => c.notNull())
          .addColumn('status', 'integer')
          .addColumn('body', 'text')
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('api_idempotency_pk', ['tenant_id', 'key'])
          .execute();
        await db.schema
          .createIndex('api_idempotency_by_age')
          .on('api_idempotency')
          .column('created_at')
          .execute();
      },
    },
    '0007_webhook_outbox': {
      async up(db: Kysely<unknown>) {
        // Webhook events, written in the same transaction as the change they announce; `seq` orders
        // them per tenant as they committed.
        await db.schema
          .createTable('outbox_events')
          .addColumn('seq', serialType, serial)
          .addColumn('tenant_id', 'text', (c) => c.notNull())
          .addColumn('event_id', 'text', (c) => c.notNull().unique())
          .addColumn('type', 'text', (c) => c.notNull())
          .addColumn('occurred_at', 'text', (c) => c.notNull())
          .addColumn('data', 'text', (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex('outbox_events_by_tenant')
          .on('outbox_events')
          .columns(['tenant_id', 'seq'])
          .execute();
        // Where each endpoint is in its tenant's events, and the state of its head event's retries.
        await db.schema
          .createTable('webhook_cursors')
          .addColumn('tenant_id', 'text', (c) => c.notNull())
          .addColumn('endpoint_id', 'text', (c) => c.notNull())
          .addColumn('last_seq', 'integer', (c) => c.notNull())
          .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('next_attempt_at', 'text')
          .addColumn('first_failed_at', 'text')
          .addColumn('last_error', 'text')
          .addPrimaryKeyConstraint('webhook_cursors_pk', ['tenant_id', 'endpoint_id'])
          .execute();
        // Events an endpoint did not take within the retry window; listed and redelivered by the API.
        await db.schema
          .createTable('webhook_dead_letters')
          .addColumn('tenant_id', 'text', (c) => c.notNull())
          .addColumn('endpoint_id', 'text', (c) => c.notNull())
          .addColumn('event_seq', 'integer', (c) => c.notNull())
          .addColumn('event_id', 'text', (c) => c.notNull())
          .addColumn('attempts', 'integer', (c) => c.notNull())
          .addColumn('last_error', 'text', (c) => c.notNull())
          .addColumn('dead_at', 'text', (c) => c.notNull())
          .addColumn('redelivered_at', 'text')
          .addPrimaryKeyConstraint('webhook_dead_letters_pk', [
            'tenant_id',
            'endpoint_id',
            'event_seq',
          ])
          .execute();
      },
    },
    '0008_conversation_archive': {
      async up(db: Kysely<unknown>) {
        // Set when the host archives a conversation: it stays readable, and refuses new entries.
        await db.schema.alterTable('conversations').addColumn('archived_at', 'text').execute();
      },
    },
    '0009_audit_events': {
      async up(db: Kysely<unknown>) {
        // Who changed a conversation, and when: each tenant's entries chain by hash, so an altered,
        // removed or inserted row breaks every hash after it.
        await db.schema
          .createTable('audit_events')
          .addColumn('seq', serialType, serial)
          .addColumn('tenant_id', 'text', (c) => c.notNull())
          .addColumn('at', 'text', (c) => c.notNull())
          .addColumn('actor_id', 'text', (c) => c.notNull())
          .addColumn('action', 'text', (c) => c.notNull())
          .addColumn('conversation_id', 'text')
          .addColumn('subject_id', 'text')
          .addColumn('detail', 'text', (c) => c.notNull())
          .addColumn('prev_hash', 'text', (c) => c.notNull())
          .addColumn('hash', 'text', (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex('audit_events_by_conversation')
          .on('audit_events')
          .columns(['tenant_id', 'conversation_id', 'seq'])
          .execute();
        await db.schema
          .createIndex('audit_events_by_tenant')
          .on('audit_events')
          .columns(['tenant_id', 'seq'])
          .execute();
      },
    },
    '0010_conversation_access_version': {
      async up(db: Kysely<unknown>) {
        // Raised in the transaction of every change that narrows who may read a conversation
        // (revoked consent, removed participant); every append records the value it saw, so a
        // node can tell a delivery from after the change without asking Redis (ADR 13).
        await db.schema
          .alterTable('conversations')
          .addColumn('access_version', 'integer', (c) => c.notNull().defaultTo(0))
          .execute();
      },
    },
    '0011_webhook_leases': {
      async up(db: Kysely<unknown>) {
        // One relay node at a time delivers an endpoint's events (in order): the holder of an
        // unexpired lease. A node that dies stops renewing, and another takes over at expiry.
        await db.schema.alterTable('webhook_cursors').addColumn('lease_holder', 'text').execute();
        await db.schema.alterTable('webhook_cursors').addColumn('lease_until', 'text').execute();
      },
    },
    '0012_revoked_tokens': {
      async up(db: Kysely<unknown>) {
        // Token ids (`jti`) the host signed out: refused at connect and refresh until kept_until,
        // when the token would be refused as expired or too old anyway and the row is forgotten.
        await db.schema
          .createTable('revoked_tokens')
          .addColumn('tenant_id', 'text', (c) => c.notNull())
          .addColumn('token_id', 'text', (c) => c.notNull())
          .addColumn('revoked_at', 'text', (c) => c.notNull())
          .addColumn('kept_until', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('revoked_tokens_pk', ['tenant_id', 'token_id'])
          .execute();
        await db.schema
          .createIndex('revoked_tokens_by_expiry')
          .on('revoked_tokens')
          .column('kept_until')
          .execute();
      },
    },
    '0013_audit_by_person': {
      async up(db: Kysely<unknown>) {
        // A person's accounting of disclosures: what they did (actor) and what was done about them.
        await db.schema
          .createIndex('audit_events_by_actor')
          .on('audit_events')
          .columns(['tenant_id', 'actor_id', 'seq'])
          .execute();
        await db.schema
          .createIndex('audit_events_by_subject')
          .on('audit_events')
          .columns(['tenant_id', 'subject_id', 'seq'])
          .execute();
      },
    },
    '0014_data_keys': {
      async up(db: Kysely<unknown>) {
        // Each tenant's data keys (AES-256-GCM), wrapped by a master key from the environment or a
        // key file (ADR 14). Message text, consent records and webhook payloads are sealed under
        // them; `kek_id` says which master key opens each wrap, so keys can be rotated.
        await db.schema
          .createTable('data_keys')
          .addColumn('tenant_id', 'text', (c) => c.notNull())
          .addColumn('version', 'integer', (c) => c.notNull())
          .addColumn('kek_id', 'text', (c) => c.notNull())
          .addColumn('wrapped', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('rewrapped_at', 'text')
          .addPrimaryKeyConstraint('data_keys_pk', ['tenant_id', 'version'])
          .execute();
      },
    },
    '0015_files': {
      async up(db: Kysely<unknown>) {
        // Files shared in conversations (ADR 16). A row is 'uploading' until its bytes are stored
        // whole, then 'complete'; only complete files are attached or served. The bytes live in
        // the relay's file storage, sealed under `file_key`, itself sealed by the data key.
        await db.schema
          .createTable('files')
          .addColumn('tenant_id', 'text', (c) => c.notNull())
          .addColumn('id', 'text', (c) => c.notNull())
          .addColumn('conversation_id', 'text', (c) => c.notNull())
          .addColumn('uploader_id', 'text', (c) => c.notNull())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('attempt', 'text', (c) => c.notNull())
          .addColumn('file_key', 'text', (c) => c.notNull())
          .addColumn('content_type', 'text')
          .addColumn('size', 'integer')
          .addColumn('sha256', 'text')
          .addColumn('upload_sha256', 'text')
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('completed_at', 'text')
          .addPrimaryKeyConstraint('files_pk', ['tenant_id', 'id'])
          .addForeignKeyConstraint(
            'files_conversation_fk',
            ['tenant_id', 'conversation_id'],
            'conversations',
            ['tenant_id', 'id'],
          )
          .execute();
        // What a message carries: its attachments' views, sealed like its text.
        await db.schema.alterTable('entries').addColumn('attachments', 'text').execute();
        await db.schema
          .createIndex('files_by_conversation')
          .on('files')
          .columns(['tenant_id', 'conversation_id'])
          .execute();
      },
    },
    '0016_entry_audience': {
      async up(db: Kysely<unknown>) {
        // System entries (issue 17) a family member may not read (a consent's steps) say so here,
        // so that reads filter them in SQL; null for every other entry.
        await db.schema.alterTable('entries').addColumn('audience', 'text').execute();
      },
    },
    '0017_consent_revocation': {
      async up(db: Kysely<unknown>) {
        // The revocation of a signed consent (who, when, the typed name and what it was checked
        // against), canonical JSON sealed like the record; the `revoked` event holds its hash.
        await db.schema.alterTable('consent_records').addColumn('revocation', 'text').execute();
      },
    },
    '0018_consent_template_translations': {
      async up(db: Kysely<unknown>) {
        // A template's text in its other languages (JSON of [{ language, title, blocks }]), null
        // for a template in one language: versions published before keep their content and hash.
        await db.schema.alterTable('consent_templates').addColumn('translations', 'text').execute();
      },
    },
    '0019_consent_scopes': {
      async up(db: Kysely<unknown>) {
        // What a consent lets its recipients see (ADR 26), as a JSON array on the request and on
        // each grant signing made. Consents made before scopes shared the conversation, its files
        // included, and keep meaning exactly that.
        // Written out, not taken from the code's constant: a shipped migration never changes.
        const conversation = sql.lit('["messages","files"]');
        for (const table of ['consent_requests', 'consent_grants'])
          await db.schema
            .alterTable(table)
            .addColumn('scopes', 'text', (c) => c.notNull().defaultTo(conversation))
            .execute();
      },
    },
  };
}

/** The numbered migrations for one engine: the same steps, in the same order, on both. */
export function migrationProvider(dialect: SqlDialectName): MigrationProvider {
  return { getMigrations: () => Promise.resolve(migrationsFor(dialect)) };
}
