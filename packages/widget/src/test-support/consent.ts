// Shared by the consent element's browser tests: the element as a signer, a reader of their
// consents and the care team finds it, its shadow root, a filled-in form, and the English left in
// a Spanish rendering.
import { fixture, html, waitUntil } from '@open-wc/testing';
import { relay, tokenUrl } from './chat.js';
import type { CareThreadConsent } from '../consent/consent.component.js';
import '../consent/consent.js';

export const root = (element: CareThreadConsent) => element.shadowRoot as ShadowRoot;
/** The element matching `selector` in the shadow root; the test fails later if there is none. */
export const $ = (element: CareThreadConsent, selector: string) =>
  root(element).querySelector(selector) as HTMLElement;
export const $$ = (element: CareThreadConsent, selector: string) => [
  ...root(element).querySelectorAll<HTMLElement>(selector),
];
export const text = (element: CareThreadConsent, selector: string) =>
  $(element, selector).textContent.replace(/\s+/g, ' ').trim();
/** The element that has keyboard focus inside the consent element. */
export const focused = (element: CareThreadConsent) => root(element).activeElement;
/** What the live region says now. */
export const said = (element: CareThreadConsent) => text(element, '[role="status"]');

/** Settled: a form, a list, a receipt or a refusal is shown. */
async function loaded(element: CareThreadConsent): Promise<CareThreadConsent> {
  await waitUntil(
    () => root(element).querySelector('form, .consents, [part="receipt"], p.error'),
    'the consent element did not load',
    { timeout: 10000 },
  );
  return element;
}

/** The form of `requestId` as `sub`, whose token names them Alice Moreno. */
export async function consentAs(requestId: string, sub: string, lang = 'en') {
  return loaded(
    await fixture<CareThreadConsent>(
      html`<carethread-consent
        server=${relay}
        request=${requestId}
        token-url=${tokenUrl(sub, 'patient', { name: 'Alice Moreno' })}
        lang=${lang}
      ></carethread-consent>`,
    ),
  );
}

/** The list of `sub`'s consents. */
export async function listAs(sub: string, lang = 'en') {
  return loaded(
    await fixture<CareThreadConsent>(
      html`<carethread-consent
        server=${relay}
        token-url=${tokenUrl(sub, 'patient', { name: 'Alice Moreno' })}
        lang=${lang}
      ></carethread-consent>`,
    ),
  );
}

/** The care team's element asking the patient of `conversation` to sign `template`. */
export async function askAs(conversation: string, lang = 'en', template = 'wtr-family-sharing') {
  return loaded(
    await fixture<CareThreadConsent>(
      html`<carethread-consent
        server=${relay}
        conversation=${conversation}
        template=${template}
        token-url=${tokenUrl(`dr-${conversation}`, 'provider', { name: 'Dr. Rivera' })}
        lang=${lang}
      ></carethread-consent>`,
    ),
  );
}

/**
 * The care team's form to ask: the element opens on the conversation's latest request, if any;
 * "Ask again" leads to the form.
 */
export async function askForm(conversation: string, lang = 'en', template = 'wtr-family-sharing') {
  const element = await askAs(conversation, lang, template);
  root(element).querySelector<HTMLElement>('[part="receipt"] button')?.click();
  await waitUntil(() => root(element).querySelector('input[name="purpose"]'), 'no ask form');
  return element;
}

/** Accepts the disclosure, checks every acknowledgement, answers each choice and types `name`. */
export function fillForm(element: CareThreadConsent, name = 'Alice Moreno'): void {
  ($(element, 'input[name="disclosure"]') as HTMLInputElement).checked = true;
  for (const box of $$(element, 'input[name="ack"]')) (box as HTMLInputElement).checked = true;
  for (const select of $$(element, 'select') as HTMLSelectElement[])
    select.value = select.options[1]?.value ?? '';
  ($(element, 'input[name="signature"]') as HTMLInputElement).value = name;
}

/** Signs the open form as Alice Moreno and waits for the receipt. */
export async function signForm(element: CareThreadConsent): Promise<void> {
  fillForm(element);
  $(element, '[part="sign"]').click();
  await waitUntil(() => root(element).querySelector('[part="receipt"]'), 'not signed');
}

/** Words that show English text; "consent" alone, since Spanish says "consentimiento". */
const ENGLISH =
  /\b(the|you|your|sign|signed|signature|consent|consents|and|of|with|until|download|requested|revoke|revoked|declined|record|details|ask|asked|required|check|choose)\b/i;

/**
 * The English shown or spoken in `element`: text nodes and accessible attributes matching common
 * English words, outside parts marked `lang="en"` (the relay's own texts).
 */
export function englishIn(element: CareThreadConsent): string[] {
  const found: string[] = [];
  const english = (node: Node) =>
    (node instanceof Element ? node : node.parentElement)
      ?.closest('[lang]')
      ?.getAttribute('lang')
      ?.startsWith('en') ?? false;
  const walker = document.createTreeWalker(root(element), NodeFilter.SHOW_ALL);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (node.parentElement?.localName === 'style' || english(node)) continue;
    if (node.nodeType === Node.TEXT_NODE && ENGLISH.test(node.textContent ?? ''))
      found.push(node.textContent?.trim() ?? '');
    if (node instanceof Element)
      for (const attribute of ['aria-label', 'title', 'placeholder', 'download'])
        if (ENGLISH.test(node.getAttribute(attribute) ?? ''))
          found.push(`${attribute}: ${node.getAttribute(attribute) ?? ''}`);
  }
  return found;
}
