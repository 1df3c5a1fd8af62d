// Public entry of @carethread/widget/client: the headless client for browsers and Node.
export {
  createClient,
  CareThreadClient,
  CareThreadError,
  type ClientOptions,
  type ConnectionState,
} from './client.js';
export {
  Conversation,
  type ConversationEvents,
  type OutboxItem,
  type OutboxState,
} from './conversation.js';
export type * from '@carethread/shared';
