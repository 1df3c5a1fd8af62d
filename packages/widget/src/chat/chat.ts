// Registers <carethread-chat>. Importing this module defines the tag once, even when the script-tag
// bundle and an npm import both load on one page.
import { CareThreadChat } from './chat.component.js';

export { CareThreadChat };

if (!customElements.get('carethread-chat'))
  customElements.define('carethread-chat', CareThreadChat);
