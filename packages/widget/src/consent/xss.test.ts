// <carethread-consent> renders the XSS corpus inert, in real Chromium against the real relay: as
// template titles, headings, paragraphs, list items, acknowledgements, field labels and choice
// options, the request's purpose, the recipients' names and relationships (in the form, the
// reader's list of consents and the care team's "ask" form).
import { expect, fixture, html, waitUntil } from '@open-wc/testing';
import type { ConsentBlock } from '@carethread/shared';
import { clientFor, relay, tokenUrl } from '../test-support/chat.js';
import { eachRendered, expectInert, fitting, type Payload } from '../test-support/xss.js';
import type { CareThreadConsent } from './consent.component.js';
import './consent.js';

const labels = fitting(200);
// Long payloads are cut so the whole template stays within one packet (64 KB).
const blockTexts = fitting(600);

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  // A choice needs two options: a lone last option joins the chunk before.
  const last = out.at(-1);
  if (out.length > 1 && last?.length === 1) out.at(-2)?.push(...(out.pop() ?? []));
  return out;
}

/** Every payload in every kind of block the consent element renders. */
function corpusBlocks(): ConsentBlock[] {
  const blocks: ConsentBlock[] = [];
  for (const { text } of labels) blocks.push({ type: 'heading', text });
  for (const { text } of blockTexts) blocks.push({ type: 'paragraph', text });
  for (const items of chunks(blockTexts, 50))
    blocks.push({ type: 'list', items: items.map((p) => p.text) });
  for (const [i, { text }] of blockTexts.entries())
    blocks.push({ type: 'acknowledgement', id: `ack-${String(i)}`, text });
  for (const [i, { text }] of labels.entries())
    blocks.push({
      type: 'field',
      id: `field-${String(i)}`,
      label: text,
      input: (['text', 'date', 'checkbox'] as const)[i % 3] ?? 'text',
      required: false,
    });
  for (const [i, options] of chunks(labels, 19).entries())
    blocks.push({
      type: 'field',
      id: `choice-${String(i)}`,
      label: `Choice ${String(i)}`,
      input: 'choice',
      required: false,
      options: options.map((p) => p.text),
    });
  return blocks;
}

async function consentElement(attributes: {
  request?: string;
  conversation?: string;
  template?: string;
  sub: string;
  role: string;
}): Promise<CareThreadConsent> {
  const element = await fixture<CareThreadConsent>(
    html`<carethread-consent
      server=${relay}
      request=${attributes.request ?? ''}
      conversation=${attributes.conversation ?? ''}
      template=${attributes.template ?? ''}
      token-url=${tokenUrl(attributes.sub, attributes.role)}
      lang="en"
    ></carethread-consent>`,
  );
  await waitUntil(
    () => element.shadowRoot?.querySelector('form, ul.consents, [part="receipt"], p.error'),
    'the consent element did not load',
    { timeout: 15_000 },
  );
  return element;
}

const textsOf = (element: Element, selector: string) =>
  [...(element.shadowRoot as ShadowRoot).querySelectorAll(selector)].map((n) =>
    n.textContent.trim(),
  );
const trimmed = (payloads: Payload[]) => payloads.map((p) => p.text.trim());

describe('<carethread-consent> and the XSS corpus', () => {
  it('shows every payload in a form, a list of consents and the ask form as text, and runs none', async function () {
    this.timeout(120_000);
    const tag = crypto.randomUUID();
    const id = `c-xss-consent-${tag}`;
    const patient = `alice-${tag}`;
    const family = labels.slice(0, 20).map(({ text }, i) => ({
      userId: `fam${String(i)}-${tag}`,
      role: 'family' as const,
      displayName: text,
      relationship: labels[labels.length - 1 - i]?.text ?? 'brother',
    }));
    const provider = clientFor(`dr-${tag}`, 'provider', { name: 'Dr. Rivera' });
    const patientName = labels[5]?.text ?? 'Alice';
    await provider.createConversation({
      conversationId: id,
      title: 'Consent corpus',
      participants: [{ userId: patient, role: 'patient', displayName: patientName }, ...family],
    });
    const staff = clientFor(`admin-${tag}`, 'staff');
    const templateId = `xss-${tag}`;
    const title = labels[0]?.text ?? '';
    const published = await staff.request('consent.template.publish', {
      templateId,
      kind: 'general',
      language: 'en',
      title,
      blocks: corpusBlocks(),
    });
    expect(published.created).to.equal(true);
    const purpose = labels[1]?.text ?? '';
    const { requestId } = await provider.request('consent.request', {
      requestId: `req-${tag}`,
      templateId,
      conversationId: id,
      patientId: patient,
      recipients: family.map((f) => f.userId),
      purpose,
      expiresAt: new Date(Date.now() + 30 * 86_400_000).toISOString(),
    });

    const form = await consentElement({ request: requestId, sub: patient, role: 'patient' });
    const root = form.shadowRoot as ShadowRoot;
    expect(root.querySelector('h2')?.textContent.trim()).to.equal(title.trim());
    const summary = root.querySelector('.summary')?.textContent ?? '';
    expect(summary).to.contain(purpose);
    for (const f of family) expect(summary).to.contain(`${f.displayName} (${f.relationship})`);
    const part = '[part="form"] ';
    expect(textsOf(form, `${part}h3`)).to.deep.equal(trimmed(labels));
    expect(textsOf(form, `${part}> p`)).to.deep.equal(trimmed(blockTexts));
    expect(textsOf(form, `${part}li`)).to.deep.equal(trimmed(blockTexts));
    const checks = textsOf(form, `${part}label.check`);
    for (const text of trimmed(blockTexts)) expect(checks).to.include(text);
    const fieldLabels = [...root.querySelectorAll(`${part}label`)].map((l) => l.textContent);
    for (const { id, text } of labels)
      expect(
        fieldLabels.some((l) => l.includes(text)),
        `field label ${id}`,
      ).to.equal(true);
    const options = [...root.querySelectorAll<HTMLOptionElement>(`${part}option`)].filter(
      (o) => o.value !== '',
    );
    expect(options.map((o) => o.textContent)).to.deep.equal(labels.map((p) => p.text));
    expect(options.map((o) => o.value)).to.deep.equal(labels.map((p) => p.text.trim()));
    await expectInert(form);

    // The reader's consents: each request's recipients by name.
    const list = await consentElement({ sub: patient, role: 'patient' });
    const listed = list.shadowRoot?.querySelector('ul.consents')?.textContent ?? '';
    for (const f of family) expect(listed).to.contain(f.displayName);
    await expectInert(list);

    // The care team's form to ask: the patient's and the family members' names.
    const ask = await consentElement({
      conversation: id,
      template: templateId,
      sub: `dr-${tag}`,
      role: 'provider',
    });
    // It opens on the request made above (names and purpose inert there too); "Ask again" opens
    // the form.
    await expectInert(ask);
    (ask.shadowRoot?.querySelector('[part="receipt"] button') as HTMLElement).click();
    await waitUntil(() => ask.shadowRoot?.querySelector('legend'), 'no ask form');
    expect(ask.shadowRoot?.querySelector('legend')?.textContent).to.contain(patientName);
    const people = textsOf(ask, 'label.check');
    for (const f of family) expect(people).to.include(`${f.displayName} (${f.relationship})`);
    await expectInert(ask);
  });

  it('shows every payload as a form title and a purpose, as text, and runs none', async function () {
    this.timeout(120_000);
    const tag = crypto.randomUUID();
    const id = `c-xss-titles-${tag}`;
    const patient = `alice-${tag}`;
    const provider = clientFor(`dr-${tag}`, 'provider', { name: 'Dr. Rivera' });
    await provider.createConversation({
      conversationId: id,
      title: 'Consent titles',
      participants: [
        { userId: patient, role: 'patient', displayName: 'Alice Moreno' },
        { userId: `bob-${tag}`, role: 'family', displayName: 'Bob', relationship: 'brother' },
      ],
    });
    const staff = clientFor(`admin-${tag}`, 'staff');
    const requests: string[] = [];
    for (const [i, { text }] of labels.entries()) {
      const templateId = `xss-title-${String(i)}-${tag}`;
      await staff.request('consent.template.publish', {
        templateId,
        kind: 'general',
        language: 'en',
        title: text,
        blocks: [{ type: 'paragraph', text: 'A form whose title is a payload.' }],
      });
      const request = await provider.request('consent.request', {
        requestId: `req-${String(i)}-${tag}`,
        templateId,
        conversationId: id,
        patientId: patient,
        recipients: [`bob-${tag}`],
        purpose: text,
        expiresAt: new Date(Date.now() + 30 * 86_400_000).toISOString(),
      });
      requests.push(request.requestId);
    }
    await eachRendered(
      labels,
      (i) =>
        html`<carethread-consent
          server=${relay}
          request=${requests[i] ?? ''}
          token-url=${tokenUrl(patient, 'patient')}
          lang="en"
        ></carethread-consent>`,
      'form',
      async (form, { text }) => {
        expect(form.shadowRoot?.querySelector('h2')?.textContent.trim()).to.equal(text.trim());
        expect(form.shadowRoot?.querySelector('.summary')?.textContent).to.contain(text);
        await expectInert(form);
      },
    );
  });
});
