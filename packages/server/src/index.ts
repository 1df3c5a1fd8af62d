// Public entry of @carethread/server: build a relay in code, load its configuration, mint tokens.
export { createRelay, type Relay, type RelayOptions } from './app.js';
export type { ConsentChange } from './transport/socket.js';
export { verifyReceipt, type VerifiedReceipt } from './consent/receipts.js';
export {
  verifyAuditChain,
  verifyConsentEventChain,
  GENESIS_HASH,
  type ChainCheck,
} from './store/chain.js';
export {
  loadConfig,
  parseConfig,
  ConfigError,
  type RelayConfig,
  type RelayConfigInput,
} from './config.js';
export type { TenantConfig } from './core/settings.js';
export { mintToken, type MintOptions, type Identity } from './auth/tokens.js';
export { generateApiKey, hashApiKey } from './api/keys.js';
export {
  DEV_AUDIENCE,
  DEV_ISSUER,
  DEV_TENANT_ID,
  loadDevSigningKey,
  type DevSigningKey,
} from './auth/dev-tenant.js';
export type { Store } from './store/types.js';
export { createSqliteStore } from './store/sqlite.js';
export { createThreadedSqliteStore } from './store/threaded.js';
export {
  DecryptionError,
  MasterKeyError,
  masterKey,
  type MasterKey,
  type MasterKeys,
} from './store/keyring.js';
export { loadMasterKeys, parseMasterKeys } from './master-keys.js';
export {
  signWebhook,
  WEBHOOK_SECRET_MIN_LENGTH,
  verifyWebhook,
  WebhookVerificationError,
  UnknownWebhookEventError,
  type VerifyWebhookOptions,
} from './webhooks/signature.js';
export type { WebhookEvent, WebhookEventType } from '@carethread/shared';
