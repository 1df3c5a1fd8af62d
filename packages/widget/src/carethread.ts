// The script-tag bundle (dist/carethread.js): registers every CareThread element and exposes the
// headless client as `window.CareThread` for hosts that want code.
import './chat/chat.js';
import './consent/consent.js';
export { CareThreadChat } from './chat/chat.component.js';
export { CareThreadConsent } from './consent/consent.component.js';
export { createClient, CareThreadClient, CareThreadError } from './client/index.js';
