// Table shapes as Kysely sees them; the numbered migrations in migrations.ts create them.
import type { Generated } from 'kysely';

export interface ConversationsTable {
  tenant_id: string;
  id: string;
  title: string;
  created_by: string;
  created_at: string;
  /** Set when archived: readable, no new entries. */
  archived_at: string | null;
  /** Raised by every change that narrows access (revocation, removal); see ADR 13. */
  access_version: Generated<number>;
}

export interface ParticipantsTable {
  tenant_id: string;
  conversation_id: string;
  user_id: string;
  role: string;
  display_name: string;
  relationship: string | null;
  title: string | null;
  read_seq: Generated<number>;
  added_at: string;
  /** Set when removed; the row stays so the record shows who had access when. */
  removed_at: string | null;
}

export interface EntriesTable {
  tenant_id: string;
  conversation_id: string;
  seq: number;
  /**
   * A deletion is a correction whose text is empty; the message row it targets is kept. An event
   * is a system entry (issue 17): no sender (empty id, role and name), its event as JSON in `text`.
   */
  kind: 'message' | 'edit' | 'delete' | 'event';
  client_id: string;
  sender_id: string;
  /** Role and name as they were when the entry was written. */
  sender_role: string;
  sender_name: string;
  /** Sealed under the tenant's data key (ADR 14), bound to (tenant, conversation, seq). */
  text: string;
  /** For an edit or a deletion: the sequence of the message it corrects or deletes. */
  target_seq: number | null;
  created_at: string;
  /** JSON of the message's AttachmentViews, sealed like `text` (ADR 16); null without files. */
  attachments: string | null;
  /** Who reads the entry: null, every reader; 'patient-and-care-team', not family members. */
  audience: string | null;
}

export interface ConsentTemplatesTable {
  tenant_id: string;
  template_id: string;
  version: number;
  kind: string;
  language: string;
  title: string;
  /** JSON of the template's blocks. */
  blocks: string;
  /** JSON of the template's translations, null when it has none. */
  translations: string | null;
  /** `sha256:` + hex of SHA-256 over the RFC 8785 canonical JSON of the content. */
  hash: string;
  published_at: string;
  published_by: string;
}

export interface ConsentRequestsTable {
  tenant_id: string;
  request_id: string;
  template_id: string;
  template_version: number;
  template_hash: string;
  conversation_id: string;
  patient_id: string;
  signer_id: string;
  capacity: string;
  recipients: string;
  purpose: string;
  expires_at: string;
  /** JSON array of what the recipients may see once signed (ADR 26). */
  scopes: string;
  state: string;
  requested_by: string;
  requested_at: string;
  updated_at: string;
}

/** Every column but the ids and the hash is sealed (ADR 14): the record holds the answers. */
export interface ConsentRecordsTable {
  tenant_id: string;
  request_id: string;
  canonical: string;
  record_hash: string;
  receipt: string;
  signature_image: string | null;
  pdf: string | null;
  /** The revocation's canonical JSON, once revoked. */
  revocation: string | null;
}

export interface ConsentEventsTable {
  tenant_id: string;
  request_id: string;
  seq: number;
  type: string;
  at: string;
  actor_id: string;
  /** JSON of ids and codes, never free text a person wrote. */
  detail: string;
  prev_hash: string;
  hash: string;
}

export interface ConsentGrantsTable {
  tenant_id: string;
  request_id: string;
  recipient_id: string;
  conversation_id: string;
  patient_id: string;
  expires_at: string;
  revoked_at: string | null;
  /** JSON array of what the recipient may see, copied from the request when it was signed. */
  scopes: string;
}

export interface ApiIdempotencyTable {
  tenant_id: string;
  key: string;
  /** sha256 of method, path and body: the same key with another request is refused. */
  fingerprint: string;
  /** Null while the first request with this key is still running. */
  status: number | null;
  /** JSON of the answer's body. */
  body: string | null;
  created_at: string;
}

/** A token id the host signed out (host API), refused until `kept_until`. */
export interface RevokedTokensTable {
  tenant_id: string;
  token_id: string;
  revoked_at: string;
  kept_until: string;
}

export interface OutboxEventsTable {
  seq: Generated<number>;
  tenant_id: string;
  event_id: string;
  type: string;
  occurred_at: string;
  /**
   * JSON of the event's full payload, sealed (ADR 14); endpoints on notification-only payloads
   * get its ids.
   */
  data: string;
}

export interface WebhookCursorsTable {
  tenant_id: string;
  endpoint_id: string;
  /** The newest event this endpoint has taken (or skipped, or dead-lettered). */
  last_seq: number;
  /** Failed attempts at the event after `last_seq`. */
  attempts: Generated<number>;
  next_attempt_at: string | null;
  first_failed_at: string | null;
  last_error: string | null;
  /** The relay node delivering this endpoint, until `lease_until` (UTC ISO). */
  lease_holder: string | null;
  lease_until: string | null;
}

export interface WebhookDeadLettersTable {
  tenant_id: string;
  endpoint_id: string;
  event_seq: number;
  event_id: string;
  attempts: number;
  last_error: string;
  dead_at: string;
  redelivered_at: string | null;
}

export interface AuditEventsTable {
  seq: Generated<number>;
  tenant_id: string;
  at: string;
  actor_id: string;
  action: string;
  conversation_id: string | null;
  /** Whom or what the action was about: a participant's user id, a consent request id. */
  subject_id: string | null;
  /** JSON of ids and codes, never message text. */
  detail: string;
  prev_hash: string;
  hash: string;
}

/** Per-tenant data keys, each wrapped (AES-256-GCM) by a master key the database never holds. */
export interface DataKeysTable {
  tenant_id: string;
  version: number;
  /** The id (fingerprint) of the master key that wraps it. */
  kek_id: string;
  /** base64 of iv, wrapped key and tag. */
  wrapped: string;
  created_at: string;
  rewrapped_at: string | null;
}

/** Files shared in conversations (ADR 16); their bytes are in FileStorage, sealed. */
export interface FilesTable {
  tenant_id: string;
  id: string;
  conversation_id: string;
  uploader_id: string;
  /** Sealed under the tenant's data key, bound to (tenant, file). */
  name: string;
  state: 'uploading' | 'complete';
  attempt: string;
  /** The file's own AES-256 key, sealed under the tenant's data key, bound to (tenant, file, attempt). */
  file_key: string;
  content_type: string | null;
  size: number | null;
  sha256: string | null;
  upload_sha256: string | null;
  created_at: string;
  completed_at: string | null;
}

export interface Database {
  files: FilesTable;
  data_keys: DataKeysTable;
  api_idempotency: ApiIdempotencyTable;
  audit_events: AuditEventsTable;
  outbox_events: OutboxEventsTable;
  revoked_tokens: RevokedTokensTable;
  webhook_cursors: WebhookCursorsTable;
  webhook_dead_letters: WebhookDeadLettersTable;
  consent_events: ConsentEventsTable;
  consent_grants: ConsentGrantsTable;
  consent_records: ConsentRecordsTable;
  consent_requests: ConsentRequestsTable;
  consent_templates: ConsentTemplatesTable;
  conversations: ConversationsTable;
  participants: ParticipantsTable;
  entries: EntriesTable;
}
