// <carethread-chat> in real Chromium against the real relay that web-test-runner starts.
import { expect, fixture, html, oneEvent, waitUntil } from '@open-wc/testing';
import {
  careConversation,
  chatAs,
  consentRequest,
  signAsPatient,
  relay,
  shadow,
  texts,
  tokenUrl,
  type,
} from '../test-support/chat.js';
import type { CareThreadChat, ChatConfigErrorEvent } from './chat.component.js';
import './chat.js';

describe('<carethread-chat>', () => {
  it('shows the title and each participant with a role badge', async () => {
    const { id, patient } = await careConversation();
    const element = await chatAs(id, patient);
    expect(shadow(element).querySelector('.title')?.textContent).to.equal(
      'Alice and her care team',
    );
    const people = texts(element, '.participant');
    expect(people.some((p) => p.includes('Alice Moreno (you)') && p.includes('Patient'))).to.equal(
      true,
    );
    expect(people.some((p) => p.includes('Bob Moreno') && p.includes('Family · brother'))).to.equal(
      true,
    );
    expect(
      people.some((p) => p.includes('Dr. Rivera') && p.includes('Care team · Therapist')),
    ).to.equal(true);
    await expect(element).to.be.accessible();
  });

  it('sends with Enter, keeps Shift+Enter as a new line, and the care team receives it', async () => {
    const { id, provider, patient } = await careConversation();
    const providerView = provider.conversation(id);
    await providerView.open();
    const received = new Promise<string>((resolve) =>
      providerView.on('message', (m) => {
        resolve(m.text);
      }),
    );
    const element = await chatAs(id, patient);

    const input = await type(element, 'first line', { key: 'Enter', shiftKey: true });
    expect(input.value).to.equal('first line');
    await type(element, 'Hello, I have a question about Tuesday.', { key: 'Enter' });
    expect(await received).to.equal('Hello, I have a question about Tuesday.');
    await waitUntil(
      () => texts(element, '.message.mine .state').includes('Sent'),
      'no "Sent" state',
    );
    expect(texts(element, '.message.mine .text')).to.include(
      'Hello, I have a question about Tuesday.',
    );
    expect((shadow(element).querySelector('textarea') as HTMLTextAreaElement).value).to.equal('');
    await expect(element).to.be.accessible();
  });

  it('shows messages from others live, with the sender and role, and read receipts on demand', async () => {
    const { id, provider, patient } = await careConversation();
    const element = await chatAs(id, patient);
    await provider.conversation(id).open();
    await provider.conversation(id).send('Good morning Alice, see https://clinic.example/plan.');
    await waitUntil(() => texts(element, '.message .text').length === 1, 'message not shown');
    const message = shadow(element).querySelector('.message') as HTMLElement;
    expect(message.classList.contains('mine')).to.equal(false);
    expect(message.querySelector('.sender')?.textContent).to.contain('Dr. Rivera');
    const link = message.querySelector('a') as HTMLAnchorElement;
    expect(link.href).to.equal('https://clinic.example/plan');
    expect(link.rel).to.equal('noopener noreferrer');

    // The patient answers; once the provider has read it, the patient can see who read it.
    await type(element, 'Thank you!', { key: 'Enter' });
    await waitUntil(() => texts(element, '.message.mine .state').includes('Sent'));
    await provider.conversation(id).markRead();
    await waitUntil(
      () => texts(element, '.message.mine .state').includes('Read by 1'),
      'no read receipt',
    );
    // Who read it is under the message's options.
    (shadow(element).querySelector('.message.mine .options') as HTMLButtonElement).click();
    await element.updateComplete;
    expect(shadow(element).querySelector('.readers')?.textContent).to.contain('Dr. Rivera');
  });

  it('renders message text as text, never as HTML', async () => {
    const { id, provider, patient } = await careConversation();
    const element = await chatAs(id, patient);
    await provider.conversation(id).open();
    await provider
      .conversation(id)
      .send('<img src=x onerror="window.__pwned=1"> javascript:alert(1)');
    await waitUntil(() => texts(element, '.message .text').length === 1);
    expect(shadow(element).querySelector('.message img')).to.equal(null);
    expect(shadow(element).querySelector('.message a')).to.equal(null);
    expect(texts(element, '.message .text')[0]).to.contain('<img src=x');
    expect((window as { __pwned?: number }).__pwned).to.equal(undefined);
  });

  it('loads older messages when scrolled to the top and keeps the reading position', async () => {
    const { id, provider, patient } = await careConversation();
    const view = provider.conversation(id);
    await view.open();
    for (let i = 1; i <= 70; i++) await view.send(`Message number ${String(i)}`);
    const element = await chatAs(id, patient);
    await waitUntil(() => texts(element, '.message .text').length === 50, 'first page not shown');
    const log = shadow(element).querySelector('[part="log"]') as HTMLElement;
    const firstShown = shadow(element).querySelector('.message') as HTMLElement;
    expect(firstShown.textContent).to.contain('Message number 21');
    const offsetOf = (node: HTMLElement) =>
      node.getBoundingClientRect().top - log.getBoundingClientRect().top;
    log.scrollTop = 0;
    // Its sender line goes away once the older page joins its run, so the text is what must not move.
    const text = firstShown.querySelector('.text') as HTMLElement;
    const before = offsetOf(text);
    log.dispatchEvent(new Event('scroll'));
    await waitUntil(() => texts(element, '.message .text').length === 70, 'older page not loaded');
    await element.updateComplete;
    // The same message (the same node) stays where the reader was looking.
    expect(firstShown.isConnected).to.equal(true);
    expect(Math.abs(offsetOf(text) - before)).to.be.lessThan(2);
    expect(texts(element, '.message .text')[0]).to.equal('Message number 1');
    expect(texts(element, '.older')).to.include('This is the start of the conversation.');
  });

  it('marks where unread messages start', async () => {
    const { id, provider, patient } = await careConversation();
    const view = provider.conversation(id);
    await view.open();
    await view.send('Before you read');
    const first = await chatAs(id, patient);
    await waitUntil(() => texts(first, '.message .text').length === 1);
    const readSeqOf = () => view.snapshot?.participants.find((p) => p.userId === patient)?.readSeq;
    await waitUntil(() => readSeqOf() === 1, 'opening did not mark the message read');
    first.remove();
    await view.send('While you were away');
    const element = await chatAs(id, patient);
    await waitUntil(() => texts(element, '.message .text').length === 2);
    const marker = shadow(element).querySelector('.unread-marker');
    expect(marker?.textContent).to.contain('New messages');
    expect(marker?.nextElementSibling?.textContent).to.contain('While you were away');
  });

  it('refuses a person who is not in the conversation and shows nothing of it', async () => {
    const { id } = await careConversation();
    const element = await chatAs(id, 'mallory', 'family');
    await waitUntil(() => shadow(element).querySelector('[part="closed"][data-kind="ended"]'));
    // Answered like a conversation that does not exist: the page learns nothing of it.
    expect(texts(element, '.closed p')[0]).to.contain('you are not one of its participants');
    expect(shadow(element).querySelector('[part="log"], textarea')).to.equal(null);
    await expect(element).to.be.accessible();
  });

  it("tells a family member that the patient's consent is pending, and shows nothing", async () => {
    const { id, provider } = await careConversation();
    await provider.conversation(id).open();
    await provider.conversation(id).send('Only for those the patient allows');
    const element = await chatAs(id, `bob-${id}`, 'family');
    // A calm explanation of what happens next, said once, with no disabled box under it.
    await waitUntil(() => shadow(element).querySelector('[part="closed"][data-kind="waiting"]'));
    expect(texts(element, '.closed-heading, .closed p')).to.deep.equal([
      "Waiting for the patient's consent",
      'The patient has not yet shared this conversation with you. When they sign a consent that names you, it opens here by itself: you do not need to reload the page.',
    ]);
    expect(shadow(element).querySelector('textarea, .banner:not(:empty), .reason')).to.equal(null);
    expect(shadow(element).textContent).not.to.contain('Only for those the patient allows');
    await expect(element).to.be.accessible();
  });

  it("opens a family member's chat when the patient signs, and closes it on revocation", async () => {
    const { id, provider, patient, requestId } = await consentRequest();
    const bob = `bob-${id}`;
    const element = await chatAs(id, bob, 'family');
    await waitUntil(() => shadow(element).querySelector('[part="closed"][data-kind="waiting"]'));
    const alice = await signAsPatient(patient, requestId);
    await waitUntil(
      () => shadow(element).querySelector('.participants'),
      'did not open on consent',
      {
        timeout: 10000,
      },
    );
    await provider.conversation(id).open();
    await provider.conversation(id).send('Welcome, Bob');
    await waitUntil(() => texts(element, '.message .text').includes('Welcome, Bob'));
    await alice.request('consent.revoke', {
      requestId,
      signature: { method: 'typed', name: 'Alice Moreno' },
    });
    await waitUntil(
      () => shadow(element).querySelector('[part="closed"][data-kind="ended"]'),
      'still open',
    );
    expect(shadow(element).textContent).not.to.contain('Welcome, Bob');
    expect(texts(element, '.closed-heading')).to.deep.equal(['No longer shared with you']);
  });

  it('explains missing configuration in the element and the console', async () => {
    const errors: unknown[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => errors.push(args.join(' '));
    try {
      const element = await fixture<CareThreadChat>(
        html`<carethread-chat conversation="c-1" token-url="/token"></carethread-chat>`,
      );
      expect(shadow(element).querySelector('[role="alert"]')?.textContent).to.contain(
        'Set the "server" attribute.',
      );
      expect(errors.join('\n')).to.contain('Set the "server" attribute.');
      const later = oneEvent(element, 'carethread-config-error');
      element.server = 'ftp://relay.example';
      const event = (await later) as ChatConfigErrorEvent;
      expect(event.detail.message).to.contain('must be an http(s) address');
      await expect(element).to.be.accessible();
    } finally {
      console.error = original;
    }
  });

  it('speaks Spanish when the page or element says so', async () => {
    const { id, patient } = await careConversation();
    const element = await chatAs(id, patient, 'patient', 'es');
    await waitUntil(() => texts(element, '.send')[0] === 'Enviar', 'not in Spanish');
    // The host stored "brother"; a Spanish reader reads "hermano".
    expect(texts(element, '.participant').some((p) => p.includes('Familia · hermano'))).to.equal(
      true,
    );
    expect(shadow(element).querySelector('textarea')?.placeholder).to.equal('Escriba un mensaje…');
    expect(texts(element, '.notice')[0]).to.contain('no es para emergencias');
    await expect(element).to.be.accessible();
    element.setAttribute('lang', 'en');
    await waitUntil(() => texts(element, '.send')[0] === 'Send', 'did not switch back');
  });

  it('counts down near the size limit and refuses to send over it', async () => {
    const { id, patient } = await careConversation();
    const element = await chatAs(id, patient);
    element.maxLength = 300;
    await type(element, 'x'.repeat(150));
    expect(texts(element, '.counter')[0]).to.equal('150 characters left');
    await type(element, 'x'.repeat(310), { key: 'Enter' });
    expect(texts(element, '.counter')[0]).to.equal('10 characters over the limit');
    expect((shadow(element).querySelector('.send') as HTMLButtonElement).disabled).to.equal(true);
    expect(texts(element, '.message .text')).to.deep.equal([]);
  });

  it('shows a message the relay refused as failed, with its reason, retry and discard', async () => {
    const { id, patient } = await careConversation();
    const element = await chatAs(id, patient);
    // The element's limit set above the tenant's (4000): the relay has the last word.
    element.maxLength = 5000;
    await type(element, 'y'.repeat(4500), { key: 'Enter' });
    await waitUntil(() => shadow(element).querySelector('.pending.failed'), 'not marked failed');
    expect(texts(element, '.pending .state')[0]).to.contain('That message is too long');
    const buttons = [...shadow(element).querySelectorAll('.pending button')].map((b) =>
      b.textContent.trim(),
    );
    expect(buttons).to.deep.equal(['Retry', 'Discard']);
    await expect(element).to.be.accessible();
    (shadow(element).querySelector('.pending .discard') as HTMLButtonElement).click();
    await element.updateComplete;
    expect(shadow(element).querySelector('.pending')).to.equal(null);
  });

  it('marks corrected messages as edited and shows the corrected text', async () => {
    const { id, provider, patient } = await careConversation();
    const view = provider.conversation(id);
    await view.open();
    const sent = await view.send('The session is on Tuesday.');
    const element = await chatAs(id, patient);
    await waitUntil(() => texts(element, '.message .text').length === 1);
    await view.edit(sent.seq, 'The session is on Thursday.');
    await waitUntil(() => texts(element, '.message .text')[0] === 'The session is on Thursday.');
    expect(texts(element, '.message .edited')).to.deep.equal(['edited']);
  });

  it('offers "jump to latest" when scrolled away, and it brings the newest message into view', async () => {
    const { id, provider, patient } = await careConversation();
    const view = provider.conversation(id);
    await view.open();
    for (let i = 1; i <= 30; i++) await view.send(`Line ${String(i)}`);
    const element = await chatAs(id, patient);
    await waitUntil(() => texts(element, '.message .text').length === 30);
    const log = shadow(element).querySelector('[part="log"]') as HTMLElement;
    log.scrollTop = 200;
    log.dispatchEvent(new Event('scroll'));
    await element.updateComplete;
    await view.send('Newest while you read');
    await waitUntil(() => texts(element, '.message .text').includes('Newest while you read'));
    // Reading older messages is not interrupted by a new one.
    expect(log.scrollTop).to.equal(200);
    const jump = shadow(element).querySelector('[part="jump"]') as HTMLButtonElement;
    expect(jump.textContent.trim()).to.equal('Jump to latest');
    jump.click();
    await element.updateComplete;
    expect(log.scrollHeight - log.scrollTop - log.clientHeight).to.be.lessThan(2);
    expect(shadow(element).activeElement?.tagName).to.equal('TEXTAREA');
    await waitUntil(() => shadow(element).querySelector('[part="jump"]') === null);
  });

  it("follows the page's language when the element has none", async () => {
    const { id, patient } = await careConversation();
    document.documentElement.lang = 'es-MX';
    try {
      const element = await fixture<CareThreadChat>(
        html`<carethread-chat
          server=${relay}
          conversation=${id}
          token-url=${tokenUrl(patient, 'patient')}
        ></carethread-chat>`,
      );
      await waitUntil(() => texts(element, '.send')[0] === 'Enviar', 'not in Spanish');
    } finally {
      document.documentElement.lang = 'en';
    }
  });
});
