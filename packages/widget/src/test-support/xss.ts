// The XSS corpus (xss-corpus.json) and the checks that a CareThread element rendered it inert: no
// payload ran, nothing from a payload became an element or an attribute, links are http(s) only.
import { expect, fixture, html, waitUntil } from '@open-wc/testing';
import type { TemplateResult } from 'lit';

export interface Payload {
  id: string;
  /** The text as stored and shown (a `repeat` payload already repeated). */
  text: string;
}

interface CorpusFile {
  payloads: { id: string; payload: string; repeat?: number }[];
}

const file = (await (
  await fetch(new URL('./xss-corpus.json', import.meta.url))
).json()) as CorpusFile;

/** Every payload as message text (at most 4,000 characters, control characters allowed). */
export const corpus: Payload[] = file.payloads.map(({ id, payload, repeat }) => ({
  id,
  text: payload.repeat(repeat ?? 1),
}));

const PRINTABLE = /^[^\p{Cc}]*$/u;

/**
 * The payloads that fit a field of at most `max` printable characters (names, titles, labels and
 * consent blocks refuse control characters); long ones are cut to `max`.
 */
export function fitting(max: number): Payload[] {
  return corpus
    .filter(({ text }) => PRINTABLE.test(text))
    .map(({ id, text }) => ({ id, text: text.length > max ? text.slice(0, max) : text }));
}

/** Payloads that ran, by id (`__pwned(id)`), and calls of alert/confirm/prompt. */
export const ran: string[] = [];
const trapped = window as unknown as Record<string, unknown>;
trapped.__pwned = (id: unknown) => {
  ran.push(String(id));
};
for (const name of ['alert', 'confirm', 'prompt', 'print'])
  trapped[name] = (...args: unknown[]) => {
    ran.push(`${name}(${args.map(String).join(',')})`);
  };

/**
 * Proves the trap works and gives payloads time to fire: markup parsed from a string on the page
 * itself runs its handlers; once it has, an image error or svg load from the element would have.
 */
export async function trapFires(): Promise<void> {
  const probe = document.createElement('div');
  const id = `control-${String(ran.length)}`;
  // The control is the only markup a test writes from a string, outside every CareThread element.
  probe.innerHTML = `<img src="data:image/png;base64,AA==" onerror="__pwned('${id}')">`;
  document.body.append(probe);
  try {
    await waitUntil(() => ran.includes(id), 'the control did not run');
  } finally {
    probe.remove();
  }
  ran.splice(ran.indexOf(id), 1);
}

/** Tags the elements render themselves; anything else in a shadow tree came from a payload. */
const OWN_TAGS = new Set(
  (
    'section header h2 h3 ul li span p slot div article time button a form label textarea strong ' +
    'fieldset legend input select option details summary code canvas progress img dl dt dd ' +
    // The icons of Attach and Send.
    'svg path'
  ).split(' '),
);
/** Attributes the elements set themselves. */
const OWN_ATTRIBUTES = new Set(
  (
    'part class role id for tabindex href target rel type name value required disabled checked ' +
    'maxlength autocomplete placeholder rows download datetime data-seq data-state aria-label ' +
    'aria-live aria-relevant aria-hidden aria-describedby aria-invalid aria-expanded ' +
    'aria-labelledby accept multiple max src alt aria-busy aria-required lang novalidate ' +
    'data-label data-id data-kind title viewBox d'
  ).split(' '),
);

function* shadowElements(root: ShadowRoot): Generator<Element> {
  for (const element of root.querySelectorAll('*')) {
    yield element;
    if (element.shadowRoot) yield* shadowElements(element.shadowRoot);
  }
}

/**
 * Asserts `host` rendered inert: no payload ran, its shadow tree holds only the element's own
 * tags and attributes (no `on*` handler anywhere), and every link is http(s) with
 * `rel="noopener noreferrer"` (the consent receipt's PDF is a blob: link the element makes).
 */
export async function expectInert(host: Element): Promise<void> {
  await trapFires();
  expect(ran, 'payloads that ran').to.deep.equal([]);
  const root = host.shadowRoot;
  expect(root, 'shadow root').to.not.equal(null);
  const strangers: string[] = [];
  for (const element of shadowElements(root as ShadowRoot)) {
    const tag = element.localName;
    if (!OWN_TAGS.has(tag)) strangers.push(`<${tag}>`);
    for (const { name, value } of element.attributes) {
      if (!OWN_ATTRIBUTES.has(name) || name.startsWith('on'))
        strangers.push(`<${tag} ${name}="${value.slice(0, 60)}">`);
    }
    // The only images are shared files' thumbnails, made by the element from the relay's bytes.
    if (element instanceof HTMLImageElement && !element.src.startsWith('blob:'))
      strangers.push(`<img src="${element.src.slice(0, 60)}">`);
    if (element instanceof HTMLAnchorElement) {
      const { protocol } = new URL(element.href);
      if (protocol === 'blob:') continue;
      expect(['http:', 'https:'], `link ${element.href.slice(0, 80)}`).to.include(protocol);
      expect(element.rel).to.equal('noopener noreferrer');
      expect(element.target).to.equal('_blank');
    }
  }
  expect(strangers, 'elements or attributes from a payload').to.deep.equal([]);
  // Nothing escaped into the page either.
  expect(
    document.querySelectorAll('body img, body svg, body iframe, body object, body embed'),
  ).to.have.length(0);
}

/**
 * Renders one element per payload, a dozen at a time (each holds its own connection to the
 * relay), waits until every one shows `ready`, then checks each against its payload.
 */
export async function eachRendered(
  payloads: Payload[],
  render: (index: number) => TemplateResult,
  ready: string,
  check: (element: Element, payload: Payload) => Promise<void>,
): Promise<void> {
  for (let start = 0; start < payloads.length; start += 12) {
    const batch = payloads.slice(start, start + 12);
    const holder = await fixture<HTMLElement>(
      html`<div>${batch.map((_, i) => render(start + i))}</div>`,
    );
    const elements = [...holder.children];
    await waitUntil(
      () => elements.every((element) => element.shadowRoot?.querySelector(ready)),
      `an element did not show ${ready}`,
      { timeout: 20_000 },
    );
    for (const [i, element] of elements.entries()) {
      const payload = batch[i];
      if (payload) await check(element, payload);
    }
    holder.remove();
  }
}
