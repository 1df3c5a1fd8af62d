// The store contract: everything the relay persists goes through this interface, so an engine
// (SQLite, PostgreSQL) is one implementation of it and one run of the contract tests.
import type { AuditStore } from './audit.js';
import type { ConsentStore } from './consent.js';
import type { ConversationStore } from './conversations.js';
import type { FileStore } from './files.js';
import type { IdempotencyStore } from './idempotency.js';
import type { LifecycleStore } from './lifecycle.js';
import type { SessionStore } from './sessions.js';
import type { WebhookStore } from './webhooks.js';

/** One part per domain: methods and records in store/<domain>.ts, the SQL in sql/<domain>.ts. */
export interface Store
  extends
    LifecycleStore,
    ConversationStore,
    ConsentStore,
    FileStore,
    WebhookStore,
    IdempotencyStore,
    AuditStore,
    SessionStore {}

export type { AuditEventRecord, AuditStore, NewAuditEvent } from './audit.js';
export type {
  ConsentEventInput,
  ConsentEventRecord,
  ConsentStore,
  NewTemplateVersion,
  SignedConsentRecord,
} from './consent.js';
export {
  entryFromRequest,
  type AppendRequest,
  type AppendResult,
  type ConversationRecord,
  type ConversationStore,
  type EntryView,
  type LogView,
  type NewParticipant,
  type ParticipantRecord,
  type StoredEntry,
  type WrittenEvent,
} from './conversations.js';
export type { FileClaim, FileRecord, FileStore } from './files.js';
export type { IdempotencyClaim, IdempotencyStore } from './idempotency.js';
export type { DataKeyInfo } from './keyring.js';
export type { LifecycleStore } from './lifecycle.js';
export type { SessionStore } from './sessions.js';
export type { DeadLetter, OutboxEvent, WebhookCursor, WebhookStore } from './webhooks.js';
