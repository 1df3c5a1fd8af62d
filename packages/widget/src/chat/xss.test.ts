// <carethread-chat> renders the XSS corpus inert, in real Chromium against the real relay: as
// message text (from history and live), sender names, participant names, relationships and
// titles, who is typing, who read a message, conversation titles and the names of shared files, in
// English and Spanish.
import { expect, html, waitUntil } from '@open-wc/testing';
import {
  MAX_ATTACHMENTS,
  hasVisibleText,
  normalizeDisplayName,
  type ParticipantInput,
} from '@carethread/shared';
import type { CareThreadClient } from '../client/index.js';
import { chatAs, clientFor, relay, shadow, texts, tokenUrl } from '../test-support/chat.js';
import { corpus, eachRendered, expectInert, fitting } from '../test-support/xss.js';
import './chat.js';

const labels = fitting(200);

/** Signs `client` in again under a token whose display name is `name` (same person and role). */
async function renameTo(client: CareThreadClient, sub: string, role: string, name: string) {
  const token = await (await fetch(tokenUrl(sub, role, { name }))).text();
  await client.request('auth.refresh', { token });
}

describe('<carethread-chat> and the XSS corpus', () => {
  it('shows every payload as literal text in messages, names, roles and typing, and runs none', async function () {
    this.timeout(120_000);
    const id = `c-xss-${crypto.randomUUID()}`;
    const [readerName, otherName] = [labels[0], labels[1]];
    if (!readerName || !otherName) throw new Error('the corpus is empty');
    const lead = { sub: `dr-${id}`, name: 'Dr. Rivera' };
    const nurse = `nurse-${id}`;
    const people: ParticipantInput[] = labels.map(({ text }, i) =>
      i % 2 === 0
        ? { userId: `p${String(i)}-${id}`, role: 'family', displayName: text, relationship: text }
        : { userId: `p${String(i)}-${id}`, role: 'provider', displayName: text, title: text },
    );
    const provider = clientFor(lead.sub, 'provider', { name: lead.name, title: otherName.text });
    await provider.createConversation({
      conversationId: id,
      title: readerName.text,
      participants: [
        { userId: `alice-${id}`, role: 'patient', displayName: readerName.text },
        { userId: nurse, role: 'provider', displayName: otherName.text, title: readerName.text },
        ...people.slice(0, 90),
      ],
    });
    const second = clientFor(nurse, 'provider');
    const senders = [
      { client: provider, sub: lead.sub },
      { client: second, sub: nurse },
    ];
    for (const { client } of senders) await client.conversation(id).open();

    // Each message comes from the other sender than the one before, so each shows its sender's
    // name, which is the payload too (the name in the token the message was sent under).
    const send = async (i: number) => {
      const payload = corpus[i];
      const sender = senders[i % 2];
      if (!payload || !sender) return;
      const name = fitting(200).find((p) => p.id === payload.id)?.text ?? `Sender ${String(i)}`;
      await renameTo(sender.client, sender.sub, 'provider', name);
      await sender.client.conversation(id).send(payload.text);
    };
    const fromHistory = 40;
    for (let i = 0; i < fromHistory; i++) await send(i);

    const element = await chatAs(id, `alice-${id}`);
    await waitUntil(() => texts(element, '.message .text').length === fromHistory, 'no history', {
      timeout: 20_000,
    });
    for (let i = fromHistory; i < corpus.length; i++) await send(i);
    await waitUntil(() => texts(element, '.message .text').length === corpus.length, 'not live', {
      timeout: 30_000,
    });

    // The reader's own message, read by both senders, with its readers listed.
    const mine = await element.updateComplete.then(async () => {
      const input = shadow(element).querySelector('textarea') as HTMLTextAreaElement;
      input.value = 'Mine, to be read';
      input.dispatchEvent(new InputEvent('input', { bubbles: true, composed: true }));
      await element.updateComplete;
      (shadow(element).querySelector('.send') as HTMLButtonElement).click();
      await waitUntil(() => texts(element, '.message.mine .state').includes('Sent'), 'not sent');
      return shadow(element).querySelector('.message.mine:last-of-type') as HTMLElement;
    });
    for (const { client } of senders) await client.conversation(id).markRead();
    await waitUntil(
      () => mine.querySelector('.state')?.textContent.includes('Read by 2'),
      'no read receipt',
      {
        timeout: 10_000,
      },
    );
    (mine.querySelector('.options') as HTMLButtonElement).click();
    for (const { client } of senders) client.conversation(id).setTyping(true);
    await waitUntil(() => texts(element, '.typing')[0]?.includes('are typing'), 'no typing');

    // Text as sent, character for character (the relay stores it as given).
    const shown = [...shadow(element).querySelectorAll('.message .text')].map((p) => p.textContent);
    expect(shown.slice(0, corpus.length)).to.deep.equal(corpus.map((p) => p.text));
    const senderNames = [...shadow(element).querySelectorAll('.sender-name')].map(
      (n) => n.textContent,
    );
    // A token's name is shown as the relay normalises it (zero-width and control characters go).
    for (const payload of labels)
      expect(senderNames, `sender ${payload.id}`).to.include(normalizeDisplayName(payload.text));
    const participantNames = [...shadow(element).querySelectorAll('.participant .name')].map(
      (n) => n.textContent,
    );
    for (const { text } of labels.slice(2, 92))
      expect(participantNames, 'participant name').to.include(text);
    expect(participantNames).to.include(`${readerName.text} (you)`);
    const badges = [...shadow(element).querySelectorAll('.participant .badge')].map(
      (b) => b.textContent,
    );
    for (const [i, { text }] of labels.slice(2, 92).entries())
      expect(badges).to.include(i % 2 === 0 ? `Family · ${text}` : `Care team · ${text}`);
    expect(shadow(element).querySelector('.title')?.textContent).to.equal(readerName.text);
    expect(shadow(element).querySelector('.chat')?.getAttribute('aria-label')).to.equal(
      readerName.text,
    );
    const readers = shadow(element).querySelector('.readers')?.textContent.trim() ?? '';
    expect(readers).to.match(/^Read by /);
    expect(readers).to.contain(otherName.text);
    expect(texts(element, '.typing')[0]).to.contain(otherName.text);
    // Only the links the text really holds: http(s), never javascript: or data:.
    const hrefs = [...shadow(element).querySelectorAll('a')].map((a) => a.href);
    expect(hrefs.filter((h) => !/^https?:\/\//.test(h))).to.deep.equal([]);
    expect(hrefs).to.include('https://clinic.example/plan');
    // A very long unbroken word wraps inside the chat instead of widening it.
    for (const part of ['log', 'header']) {
      const box = shadow(element).querySelector(`[part="${part}"]`) as HTMLElement;
      for (const el of box.querySelectorAll('*'))
        if (el.getBoundingClientRect().right > box.getBoundingClientRect().right + 1)
          console.log(
            'WIDE',
            el.localName,
            el.className,
            el.getBoundingClientRect().width,
            el.textContent.slice(0, 40),
          );
      expect(box.scrollWidth, `${part} width`).to.be.at.most(box.clientWidth + 1);
    }
    await expectInert(element);

    // Spanish runs the names through the translated templates ("Familia · ${0}").
    element.setAttribute('lang', 'es');
    await waitUntil(() => texts(element, '.participant .badge').some((b) => b.startsWith('Fam')));
    await waitUntil(() => texts(element, '.participant .badge').includes('Paciente'));
    const badgesEs = [...shadow(element).querySelectorAll('.participant .badge')].map(
      (b) => b.textContent,
    );
    for (const [i, { text }] of labels.slice(2, 92).entries())
      expect(badgesEs).to.include(
        i % 2 === 0 ? `Familia · ${text}` : `Equipo de atención · ${text}`,
      );
    await expectInert(element);
  });

  it('shows every payload a file may be named as the name on its card, and runs none', async function () {
    this.timeout(120_000);
    const id = `c-xss-files-${crypto.randomUUID()}`;
    const provider = clientFor(`dr-${id}`, 'provider', { name: 'Dr. Rivera' });
    await provider.createConversation({
      conversationId: id,
      title: 'Files',
      participants: [{ userId: `alice-${id}`, role: 'patient', displayName: 'Alice Moreno' }],
    });
    // The relay refuses names with path separators, control or text-direction characters, or
    // nothing visible, so those never show.
    const names = labels
      .map(({ text }) => text)
      .filter((text) => !/[/\\\p{Bidi_Control}]/u.test(text) && hasVisibleText(text));
    const conversation = provider.conversation(id);
    await conversation.open();
    for (let at = 0; at < names.length; at += MAX_ATTACHMENTS)
      await conversation.send(
        '',
        names
          .slice(at, at + MAX_ATTACHMENTS)
          .map((name) => new File(['Notes from the visit.'], name, { type: 'text/plain' })),
      );
    const element = await chatAs(id, `alice-${id}`);
    await waitUntil(
      () => shadow(element).querySelectorAll('.files .file-name').length === names.length,
      'not every file is shown',
      { timeout: 20_000 },
    );
    expect(texts(element, '.files .file-name')).to.deep.equal(names);
    await expectInert(element);
  });

  it('shows every payload as a conversation title, as text, and runs none', async function () {
    this.timeout(120_000);
    const tag = crypto.randomUUID();
    const provider = clientFor(`dr-titles-${tag}`, 'provider', { name: 'Dr. Rivera' });
    const patient = `alice-titles-${tag}`;
    const ids = labels.map((_, i) => `c-title-${String(i)}-${tag}`);
    for (const [i, { text }] of labels.entries())
      await provider.createConversation({
        conversationId: ids[i] ?? '',
        title: text,
        participants: [{ userId: patient, role: 'patient', displayName: 'Alice Moreno' }],
      });
    await eachRendered(
      labels,
      (i) =>
        html`<carethread-chat
          server=${relay}
          conversation=${ids[i] ?? ''}
          token-url=${tokenUrl(patient, 'patient', { name: 'Alice Moreno' })}
          lang="en"
        ></carethread-chat>`,
      '.participants',
      async (chat, { text }) => {
        const root = chat.shadowRoot as ShadowRoot;
        expect(root.querySelector('h2.title')?.textContent).to.equal(text);
        expect(root.querySelector('.chat')?.getAttribute('aria-label')).to.equal(text);
        await expectInert(chat);
      },
    );
  });
});
