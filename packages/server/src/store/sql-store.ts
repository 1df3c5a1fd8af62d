// The Store contract written once in Kysely, for both engines: each domain's SQL
// (store/sql/<domain>.ts) over one shared context (store/sql/shared.ts), composed into one Store.
import { createAuditStore } from './sql/audit.js';
import { createConsentStore } from './sql/consent.js';
import { createConversationStore } from './sql/conversations.js';
import { createFileStore } from './sql/files.js';
import { createIdempotencyStore } from './sql/idempotency.js';
import { createLifecycleStore } from './sql/lifecycle.js';
import { createSessionStore } from './sql/sessions.js';
import { createSqlContext, type SqlEngine, type SqlStoreOptions } from './sql/shared.js';
import { createWebhookStore } from './sql/webhooks.js';
import type { Store } from './types.js';

export function createSqlStore(engine: SqlEngine, options: SqlStoreOptions): Store {
  const context = createSqlContext(engine, options);
  return {
    ...createLifecycleStore(context),
    ...createConversationStore(context),
    ...createConsentStore(context),
    ...createFileStore(context),
    ...createWebhookStore(context),
    ...createIdempotencyStore(context),
    ...createAuditStore(context),
    ...createSessionStore(context),
  };
}
