// What every CareThread element shares: the relay address and how to get a token (attribute or
// property), following the page's language, and the configuration check that reports problems in
// the element, the console and an event instead of leaving a blank box.
import { LitElement } from 'lit';
import { updateWhenLocaleChanges } from '@lit/localize';
import { activeLocale, languageOf, supportedLocale, useLocaleFor } from '../i18n/localization.js';

/** Fired when the element cannot start: a configuration mistake the host must fix. */
export type ConfigErrorEvent = CustomEvent<{ message: string }>;

export abstract class RelayElement extends LitElement {
  static override properties = {
    server: { type: String },
    tokenUrl: { type: String, attribute: 'token-url' },
    tokenProvider: { attribute: false },
    theme: { type: String, reflect: true },
  };

  /** Base URL of the CareThread relay, e.g. `https://relay.example.org`. */
  declare server: string;
  /**
   * The host's own endpoint that returns a CareThread token as text for the signed-in user. It is
   * fetched with the page's cookies whenever a token is needed; the token stays in memory only.
   */
  declare tokenUrl: string;
  /** For hosts that prefer code to `token-url`: returns a fresh token. Takes precedence. */
  declare tokenProvider: (() => Promise<string>) | undefined;
  /**
   * `light` or `dark` forces a theme; `system` follows the reader's system setting; unset follows
   * the page's `color-scheme`.
   */
  declare theme: 'light' | 'dark' | 'system' | undefined;

  /** The locale strings and dates are shown in. */
  protected locale = 'en';
  private reportedConfigError: string | undefined;
  private langObserver: MutationObserver | undefined;

  constructor() {
    super();
    updateWhenLocaleChanges(this);
    this.server = '';
    this.tokenUrl = '';
    this.tokenProvider = undefined;
    this.theme = undefined;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.followLanguage();
    // The page may change its language after load (a host language switcher).
    this.langObserver = new MutationObserver(() => {
      this.followLanguage();
    });
    this.langObserver.observe(document.documentElement, { attributeFilter: ['lang'] });
    this.langObserver.observe(this, { attributeFilter: ['lang'] });
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.langObserver?.disconnect();
  }

  /** The token source the element signs in with. */
  protected get tokenSource(): () => Promise<string> {
    return this.tokenProvider ?? (() => this.fetchToken());
  }

  /**
   * What is wrong with the configuration, for the site's developers (English, like the console;
   * readers see a translated title). `required` lists the element's own attributes after `server`.
   */
  protected configProblem(required: Record<string, string> = {}): string | undefined {
    const missing = !this.server
      ? 'server'
      : Object.entries(required).find(([, value]) => !value)?.[0];
    if (missing) return `Set the "${missing}" attribute.`;
    try {
      const url = new URL(this.server, document.baseURI);
      if (!url.protocol.startsWith('http')) throw new Error();
    } catch {
      return `"server" must be an http(s) address, not "${this.server}".`;
    }
    if (!this.tokenUrl && !this.tokenProvider)
      return 'Set "token-url" or the tokenProvider property.';
    return undefined;
  }

  /** Says what is wrong once per problem: console and `carethread-config-error`. */
  protected reportConfigError(problem: string | undefined): void {
    if (this.reportedConfigError === problem) return;
    this.reportedConfigError = problem;
    if (!problem) return;
    console.error(`<${this.localName}>: ${problem}`);
    this.dispatchEvent(
      new CustomEvent('carethread-config-error', {
        detail: { message: problem },
        bubbles: true,
        composed: true,
      }),
    );
  }

  private followLanguage(): void {
    const tag = languageOf(this);
    // While another language's strings load, the element is hidden (theme.styles.ts) rather
    // than showing, and announcing, English to a reader who does not read it.
    this.toggleAttribute('data-locale-loading', supportedLocale(tag) !== activeLocale());
    void useLocaleFor(tag).then((locale) => {
      this.locale = locale;
      this.removeAttribute('data-locale-loading');
      this.requestUpdate();
    });
  }

  private async fetchToken(): Promise<string> {
    const response = await fetch(this.tokenUrl, { credentials: 'same-origin', cache: 'no-store' });
    if (!response.ok) {
      throw new Error(`The token endpoint ${this.tokenUrl} answered ${String(response.status)}.`);
    }
    return (await response.text()).trim();
  }
}

declare global {
  interface GlobalEventHandlersEventMap {
    'carethread-config-error': ConfigErrorEvent;
  }
}
