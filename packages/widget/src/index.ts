// ESM entry of @carethread/widget: element classes without registering them (import
// "@carethread/widget/chat" to register <carethread-chat>), and the headless client.
export {
  CareThreadChat,
  type ChatConfigErrorEvent,
  type ChatEndedEvent,
} from './chat/chat.component.js';
export * from './client/index.js';
