// Public entry of @carethread/widget/client: the headless client for browsers and Node.
export { createClient, CareThreadClient, type ClientOptions } from './client.js';
export type { ConnectionState, UploadOptions } from './connection.js';
export { CareThreadError } from './errors.js';
export { Conversation, type ConversationEvents } from './conversation.js';
export type { OutboxFile, OutboxItem, OutboxState } from './outbox.js';
export type * from '@carethread/shared';
