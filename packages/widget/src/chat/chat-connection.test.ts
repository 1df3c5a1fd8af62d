// <carethread-chat> when the connection or the session changes: the relay goes down and comes
// back, the token is refreshed or cannot be, the session ends for idleness, and the keyboard-only
// path through the element.
import { expect, fixture, html, waitUntil } from '@open-wc/testing';
import { sendKeys, sendMouse } from '@web/test-runner-commands';
import { createClient, type Conversation } from '../client/index.js';
import {
  careConversation,
  chatAs,
  chatWithProvider,
  relay,
  relayControl,
  shadow,
  texts,
  tokenUrl,
  type,
} from '../test-support/chat.js';
import type { ChatController } from './chat-controller.js';
import type { CareThreadChat, ChatEndedEvent } from './chat.component.js';

/**
 * A conversation on the second relay the test runner started, whose sessions end after 2 s
 * without activity, and the patient's chat of it; `setup` runs as its provider first.
 */
async function idleChat(
  title: string,
  lang: string,
  setup: (conversation: Conversation) => Promise<unknown> = () => Promise.resolve(),
): Promise<CareThreadChat> {
  const idleRelay = await (await fetch('/test/idle-relay')).text();
  const id = `c-idle-${crypto.randomUUID()}`;
  const patient = `alice-${id}`;
  const provider = createClient({
    url: idleRelay,
    tokenProvider: async () =>
      (await fetch(tokenUrl(`dr-${id}`, 'provider', { relay: 'idle' }))).text(),
  });
  try {
    await provider.createConversation({
      conversationId: id,
      title,
      participants: [{ userId: patient, role: 'patient', displayName: 'Alice Moreno' }],
    });
    await setup(provider.conversation(id));
  } finally {
    provider.close();
  }
  return fixture<CareThreadChat>(
    html`<carethread-chat
      server=${idleRelay}
      conversation=${id}
      token-url=${tokenUrl(patient, 'patient', { name: 'Alice Moreno', relay: 'idle' })}
      lang=${lang}
    ></carethread-chat>`,
  );
}

/** Waits for the element to say it is offline, once the relay stopped. */
function untilOffline(element: CareThreadChat): Promise<void> {
  return waitUntil(
    () => texts(element, '.banner')[0]?.includes('You are offline'),
    'no offline banner',
    { timeout: 10000 },
  );
}

describe('<carethread-chat> connection and session', () => {
  it('queues a message while offline and sends it by itself when the relay is back', async () => {
    const { id, provider, patient } = await careConversation();
    const element = await chatAs(id, patient);
    await relayControl('stop');
    try {
      await untilOffline(element);
      await type(element, 'Written while offline', { key: 'Enter' });
      await waitUntil(() => texts(element, '.pending .state')[0] === 'Waiting for connection…');
      await expect(element).to.be.accessible();
    } finally {
      await relayControl('start');
    }
    await waitUntil(() => texts(element, '.message.mine .state').includes('Sent'), 'not sent', {
      timeout: 15000,
    });
    expect(shadow(element).querySelector('.pending')).to.equal(null);
    expect(texts(element, '.banner')).to.deep.equal(['']);
    const view = provider.conversation(id);
    await view.open();
    expect(view.messages.map((m) => m.text)).to.deep.equal(['Written while offline']);
  });

  it('does not give up a conversation whose first open the relay cut off; it opens once the relay is back', async () => {
    const { id, provider, patient } = await careConversation();
    await provider.conversation(id).open();
    await provider.conversation(id).send('Waiting for you');
    const element = await fixture<CareThreadChat>(
      html`<carethread-chat
        server=${relay}
        conversation=${id}
        token-url=${tokenUrl(patient, 'patient', { name: 'Alice Moreno' })}
        lang="en"
      ></carethread-chat>`,
    );
    // Down while the element opens (the title came, the history may not have): a dropped
    // connection, not a refusal.
    await waitUntil(() => shadow(element).querySelector('.participants'), 'no title', {
      timeout: 10000,
    });
    await relayControl('stop');
    try {
      await untilOffline(element);
      expect(shadow(element).querySelector('[part="closed"]')).to.equal(null);
    } finally {
      await relayControl('start');
    }
    await waitUntil(() => texts(element, '.banner')[0] === '', 'still offline', {
      timeout: 15000,
    });
    await waitUntil(() => texts(element, '.message .text').includes('Waiting for you'), 'not open');
    // The history shows before the catch-up after it ends, and the box opens for writing then:
    // under load that is a moment later, so wait for it rather than read it at once.
    await waitUntil(
      () => shadow(element).querySelector('textarea')?.disabled === false,
      'the message box stayed disabled',
    );
  });

  it('refreshes a token that is about to expire without the reader noticing', async () => {
    const { id, provider, patient } = await careConversation();
    let fetched = 0;
    const tokenProvider = async () => {
      fetched++;
      return (await fetch(tokenUrl(patient, 'patient', { ttl: '4' }))).text();
    };
    const element = await chatWithProvider(id, tokenProvider);
    await waitUntil(() => shadow(element).querySelector('.participants'), 'did not open');
    // Tokens live 4 s; the relay warns at half-life and the element asks its provider again.
    await waitUntil(() => fetched >= 3, 'the token was not refreshed', { timeout: 12000 });
    expect(shadow(element).querySelector('[part="closed"]')).to.equal(null);
    await provider.conversation(id).open();
    await provider.conversation(id).send('Still here after the refresh?');
    await waitUntil(() =>
      texts(element, '.message .text').includes('Still here after the refresh?'),
    );
  });

  it('ends the session and clears the conversation when no fresh token can be had', async () => {
    const { id, provider, patient } = await careConversation();
    const view = provider.conversation(id);
    await view.open();
    await view.send('Private details of the care plan');
    let calls = 0;
    const tokenProvider = async () => {
      calls++;
      if (calls > 1) throw new Error('signed out of the portal');
      return (await fetch(tokenUrl(patient, 'patient', { ttl: '3' }))).text();
    };
    const element = await chatWithProvider(id, tokenProvider);
    const ended = new Promise<Event>((resolve) => {
      element.addEventListener('carethread-ended', resolve, { once: true });
    });
    await waitUntil(() => texts(element, '.message .text').length === 1, 'did not open');
    await ended;
    await element.updateComplete;
    expect(texts(element, '.closed-heading')).to.deep.equal(['Your chat session ended']);
    expect(shadow(element).textContent).not.to.contain('Private details');
    // Nothing to write in: no disabled box left behind.
    expect(shadow(element).querySelector('textarea')).to.equal(null);
    await expect(element).to.be.accessible();
  });

  it('clears the conversation from the page and says why when the relay ends an idle session', async () => {
    const element = await idleChat('Alice and her care team', 'en', async (conversation) => {
      await conversation.open();
      await conversation.send('Private details of the care plan');
    });
    const ended = new Promise<ChatEndedEvent>((resolve) => {
      element.addEventListener('carethread-ended', resolve, { once: true });
    });
    await waitUntil(() => texts(element, '.message .text').length === 1, 'did not open', {
      timeout: 10000,
    });
    // A draft typed, then left: the typing signal is the person's last request. Clicked into,
    // as a person does: the page gets the system's focus, without which a browser sends no focus
    // events (the element follows them).
    const box = (shadow(element).querySelector('textarea') as HTMLElement).getBoundingClientRect();
    await sendMouse({ type: 'click', position: [Math.round(box.x + 10), Math.round(box.y + 10)] });
    await type(element, 'A draft about my medication');
    const { detail } = await ended;
    expect(detail.code).to.equal('SESSION_IDLE');
    await element.updateComplete;
    expect(texts(element, '.closed p')).to.deep.equal([
      'The chat closed after a period without activity, to keep the conversation private. Reload the page to continue.',
    ]);
    // The draft's box went away with the conversation: focus is on what happened, not the page.
    expect(shadow(element).activeElement?.className).to.equal('closed-heading');
    // Nothing of the conversation is left: not in the shadow DOM, its attributes, the message
    // box, nor in the element's memory.
    const root = shadow(element);
    for (const secret of ['Private details', 'Alice and her care team', 'A draft', 'Alice Moreno'])
      expect(root.innerHTML, secret).not.to.contain(secret);
    expect(root.querySelectorAll('textarea, .message, .participants, [part="log"]')).to.have.length(
      0,
    );
    const chat = (element as unknown as { chat: ChatController }).chat;
    expect(chat.messages).to.deep.equal([]);
    expect(chat.outbox).to.deep.equal([]);
    expect(chat.snapshot).to.equal(undefined);
    expect(chat.conversation?.messages).to.deep.equal([]);
    expect(chat.conversation?.snapshot).to.equal(undefined);
    // The relay hangs up, and the element does not sign in again by itself.
    await waitUntil(() => chat.client?.socket.connected === false, 'still connected');
    expect(chat.state).to.equal('ended');
    await expect(element).to.be.accessible();
  });

  it('says so in Spanish', async () => {
    const element = await idleChat('Alicia y su equipo', 'es');
    await new Promise((resolve) => {
      element.addEventListener('carethread-ended', resolve, { once: true });
    });
    await element.updateComplete;
    expect(texts(element, '.closed-heading, .closed p')).to.deep.equal([
      'Su sesión de chat terminó',
      'El chat se cerró tras un periodo sin actividad, para proteger la privacidad de la conversación. Recargue la página para continuar.',
    ]);
  });

  it('can be used with the keyboard alone, in a sensible order', async () => {
    const { id, provider, patient } = await careConversation();
    await provider.conversation(id).open();
    await provider.conversation(id).send('Hello from the care team');
    const before = document.createElement('button');
    before.textContent = 'host page button';
    document.body.prepend(before);
    try {
      const element = await chatAs(id, patient);
      await waitUntil(() => texts(element, '.message .text').length === 1);
      before.focus();
      const focused = () => shadow(element).activeElement;
      await sendKeys({ press: 'Tab' });
      expect(focused()?.getAttribute('role')).to.equal('log');
      await sendKeys({ press: 'Tab' });
      expect(focused()?.tagName).to.equal('TEXTAREA');
      await sendKeys({ type: 'Typed with keys only' });
      await sendKeys({ down: 'Shift' });
      await sendKeys({ press: 'Enter' });
      await sendKeys({ up: 'Shift' });
      await sendKeys({ type: 'second line' });
      await sendKeys({ press: 'Enter' });
      await waitUntil(() =>
        texts(element, '.message.mine .text').includes('Typed with keys only\nsecond line'),
      );
      expect(focused()?.tagName).to.equal('TEXTAREA');
    } finally {
      before.remove();
    }
  });

  it('passes the accessibility checks in the dark theme too', async () => {
    const { id, provider, patient } = await careConversation();
    await provider.conversation(id).open();
    await provider.conversation(id).send('Dark theme check');
    const element = await chatAs(id, patient);
    element.theme = 'dark';
    await waitUntil(() => texts(element, '.message .text').length === 1);
    await type(element, 'Mine, in the dark', { key: 'Enter' });
    await waitUntil(() => texts(element, '.message.mine .state').includes('Sent'));
    expect(
      getComputedStyle(shadow(element).querySelector('.chat') as Element).colorScheme,
    ).to.equal('dark');
    await expect(element).to.be.accessible();
  });
});
