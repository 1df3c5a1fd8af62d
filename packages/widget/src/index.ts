// ESM entry of @carethread/widget: element classes without registering them (import
// "@carethread/widget/chat" or "/consent" to register a tag), and the headless client.
export {
  CareThreadChat,
  type ChatConfigErrorEvent,
  type ChatEndedEvent,
} from './chat/chat.component.js';
export { CareThreadConsent, type ConsentSignedEvent } from './consent/consent.component.js';
export * from './client/index.js';
