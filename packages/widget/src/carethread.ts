// The script-tag bundle (dist/carethread.js): registers <carethread-chat>, loads
// <carethread-consent> when the page shows one, and exposes the headless client as
// `window.CareThread` for hosts that want code.
import './chat/chat.js';
import { loadConsentElement } from './consent/load-consent.js';
import { offerScriptTagModules } from './script-tag-modules.js';

export { CareThreadChat } from './chat/chat.component.js';
export { createClient, CareThreadClient, CareThreadError } from './client/index.js';

// Read while the file first runs: `document.currentScript` is only set then.
offerScriptTagModules(
  document.currentScript instanceof HTMLScriptElement ? document.currentScript.src : location.href,
);

const CONSENT_TAG = 'carethread-consent';
let consentLoading: Promise<void> | undefined;

/**
 * Loads <carethread-consent> now. It loads by itself when one appears in the document; a host that
 * puts it inside its own shadow roots, which the script cannot see, calls this first.
 */
export function loadConsent(): Promise<void> {
  consentLoading ??= loadConsentElement().then(
    () => undefined,
    (error: unknown) => {
      consentLoading = undefined;
      console.error(
        'CareThread: <carethread-consent> could not be loaded. Serve carethread-consent.js from the folder of carethread.js.',
        error,
      );
    },
  );
  return consentLoading;
}

// Watches the document until a consent element appears; the script may run before the body.
if (!customElements.get(CONSENT_TAG)) {
  const found = () => document.getElementsByTagName(CONSENT_TAG).length > 0;
  if (found()) void loadConsent();
  else {
    const watcher = new MutationObserver(() => {
      if (!found()) return;
      watcher.disconnect();
      void loadConsent();
    });
    watcher.observe(document.documentElement, { childList: true, subtree: true });
  }
}
