// Public entry of @carethread/widget/client: the headless client for browsers and Node.
export {
  createClient,
  CareThreadClient,
  CareThreadError,
  type ClientOptions,
  type ConnectionState,
  type UploadOptions,
} from './client.js';
export {
  Conversation,
  type ConversationEvents,
  type OutboxFile,
  type OutboxItem,
  type OutboxState,
} from './conversation.js';
export type * from '@carethread/shared';
