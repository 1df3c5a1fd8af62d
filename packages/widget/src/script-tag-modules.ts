// The modules carethread-consent.js takes from carethread.js instead of carrying its own copies
// (vite.consent.config.ts maps its imports of them to this object). One copy matters, not only
// for size: Lit's templates go through a Trusted Types policy named "lit-html" that a page's
// strict policy allows once, so a second Lit cannot render; and both elements must share one
// locale and one client. Keys are the consent build's names for the modules.
import * as lit from 'lit';
import * as localize from '@lit/localize';
import * as relayElement from './base/relay-element.js';
import * as themeStyles from './base/theme.styles.js';
import * as messages from './chat/messages.js';
import * as ids from './client/ids.js';
import * as client from './client/index.js';
import * as localization from './i18n/localization.js';
import * as vocabulary from './i18n/vocabulary.js';

/** Where carethread-consent.js finds the shared modules: one global, out of the page's names. */
export const SCRIPT_TAG_MODULES_KEY = 'carethread.script-tag-modules';

/** Offers the modules to carethread-consent.js; `folder` is the URL carethread.js came from. */
export function offerScriptTagModules(folder: string): void {
  const modules = {
    folder,
    lit,
    localize,
    relayElement,
    themeStyles,
    messages,
    ids,
    client,
    localization,
    vocabulary,
  };
  Object.defineProperty(globalThis, Symbol.for(SCRIPT_TAG_MODULES_KEY), { value: modules });
}
