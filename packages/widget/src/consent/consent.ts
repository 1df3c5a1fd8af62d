// Registers <carethread-consent>, once, even when the script-tag bundle and an npm import both load.
import { CareThreadConsent } from './consent.component.js';

export { CareThreadConsent };

if (!customElements.get('carethread-consent'))
  customElements.define('carethread-consent', CareThreadConsent);
