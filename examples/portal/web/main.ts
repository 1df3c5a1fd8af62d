// The example portal page: the host's stand-in sign-in, then a conversation rendered with plain DOM
// on the CareThread headless client. All user text goes through textContent, never HTML.
import {
  createClient,
  type CareThreadClient,
  type Conversation,
  type MessageView,
  type OutboxItem,
  type ParticipantView,
} from '@carethread/widget/client';

interface Persona {
  sub: string;
  name: string;
  role: ParticipantView['role'];
  relationship?: string;
  title?: string;
}
interface PortalConfig {
  relayUrl: string;
  conversation: { id: string; title: string };
  personas: Persona[];
}

const MAX_LENGTH = 4000;
const app = document.getElementById('app') as HTMLElement;
const whoami = document.getElementById('whoami') as HTMLElement;

/** Creates an element with a class and optional text; text is always set as text. */
function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className = '',
  text?: string,
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function roleLabel(p: {
  role: ParticipantView['role'];
  relationship?: string | null;
  title?: string | null;
}): string {
  switch (p.role) {
    case 'patient':
      return 'Patient';
    case 'family':
      return p.relationship ? `Family · ${p.relationship}` : 'Family';
    case 'provider':
    case 'staff':
      return p.title ? `Care team · ${p.title}` : 'Care team';
  }
}

const dayFormat = new Intl.DateTimeFormat(undefined, {
  weekday: 'long',
  month: 'long',
  day: 'numeric',
});
const timeFormat = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' });

async function main(): Promise<void> {
  const config = (await (await fetch('/config.json')).json()) as PortalConfig;
  const persona = (await (await fetch('/session')).json()) as Persona | null;
  if (persona) startChat(config, persona);
  else renderSignIn(config);
}

function renderSignIn(config: PortalConfig): void {
  app.replaceChildren();
  app.removeAttribute('aria-busy');
  const card = el('section', 'card sign-in');
  card.append(
    el('h1', '', 'Sign in to the portal'),
    el('p', 'hint', 'Choose who you are in this demo. Open a second window to be someone else.'),
  );
  const list = el('div', 'persona-list');
  for (const persona of config.personas) {
    const button = el('button', `persona role-${persona.role}`);
    button.type = 'button';
    button.append(
      el('span', 'persona-name', persona.name),
      el('span', 'badge', roleLabel(persona)),
    );
    button.addEventListener('click', () => {
      void fetch('/session', {
        method: 'POST',
        body: new URLSearchParams({ user: persona.sub }),
      }).then(() => {
        startChat(config, persona);
      });
    });
    list.append(button);
  }
  card.append(list);
  app.append(card);
  list.querySelector('button')?.focus();
}

function startChat(config: PortalConfig, me: Persona): void {
  whoami.replaceChildren(el('span', '', `Signed in as ${me.name}`));
  const signOut = el('button', 'link', 'Sign out');
  signOut.type = 'button';
  signOut.addEventListener('click', () => {
    client.close();
    void fetch('/session', { method: 'DELETE' }).then(() => {
      whoami.replaceChildren();
      renderSignIn(config);
    });
  });
  whoami.append(signOut);

  const client = createClient({
    url: config.relayUrl,
    tokenProvider: async () => {
      const response = await fetch('/carethread/token', { credentials: 'same-origin' });
      if (!response.ok) throw new Error('not signed in');
      return response.text();
    },
  });
  const conversation = client.conversation(config.conversation.id);
  new ChatView(client, conversation, me);
}

class ChatView {
  private readonly header = el('div', 'chat-header');
  private readonly banner = el('div', 'banner');
  private readonly older = el('button', 'older', 'Load older messages');
  private readonly log = el('div', 'log');
  private readonly outbox = el('ol', 'outbox');
  private readonly typing = el('div', 'typing');
  private readonly input = el('textarea', 'composer-input');
  private readonly counter = el('span', 'counter');
  private readonly sendButton = el('button', 'send', 'Send');
  private readonly typingPeople = new Map<string, ReturnType<typeof setTimeout>>();
  private typingSent = false;
  private typingIdle: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly client: CareThreadClient,
    private readonly conversation: Conversation,
    private readonly me: Persona,
  ) {
    this.layout();
    client.on('state', () => {
      this.renderBanner();
    });
    conversation.on('participants', () => {
      this.renderHeader();
    });
    conversation.on('message', () => {
      this.renderMessages();
      this.markRead();
    });
    conversation.on('edit', () => {
      this.renderMessages();
    });
    conversation.on('history', () => {
      this.renderMessages();
    });
    conversation.on('outbox', (items) => {
      this.renderOutbox(items);
    });
    conversation.on('typing', ({ userId, typing }) => {
      this.setTyping(userId, typing);
    });
    conversation.on('closed', (error) => {
      this.log.replaceChildren();
      this.banner.textContent = error.message;
      this.banner.dataset.state = 'ended';
      this.input.disabled = true;
      this.sendButton.disabled = true;
    });
    this.renderBanner();
    conversation.open().then(
      () => {
        app.removeAttribute('aria-busy');
        this.renderMessages(true);
        this.markRead();
      },
      (error: unknown) => {
        app.removeAttribute('aria-busy');
        this.banner.textContent = error instanceof Error ? error.message : String(error);
        this.banner.dataset.state = 'ended';
      },
    );
  }

  private layout(): void {
    app.replaceChildren();
    const card = el('section', 'card chat');
    card.setAttribute('aria-label', 'Conversation with your care team');
    const notice = el(
      'p',
      'notice',
      'This chat is not for emergencies. If you are in crisis, call or text 988, or call 911.',
    );
    notice.setAttribute('role', 'note');
    this.banner.setAttribute('role', 'status');
    this.log.setAttribute('role', 'log');
    this.log.setAttribute('aria-live', 'polite');
    this.log.setAttribute('aria-label', 'Messages');
    this.log.tabIndex = 0;
    this.outbox.setAttribute('aria-label', 'Messages not yet sent');
    this.typing.setAttribute('aria-live', 'polite');
    this.older.type = 'button';
    this.older.hidden = true;
    this.older.addEventListener('click', () => {
      const before = this.log.scrollHeight - this.log.scrollTop;
      void this.conversation.loadOlder().then(() => {
        this.log.scrollTop = this.log.scrollHeight - before; // keep the reading position
      });
    });

    const form = el('form', 'composer');
    const label = el('label', 'visually-hidden', 'Message');
    label.htmlFor = 'composer-input';
    this.input.id = 'composer-input';
    this.input.rows = 2;
    this.input.placeholder = 'Write a message…';
    const hint = el('span', 'composer-hint', 'Enter sends · Shift+Enter adds a line');
    hint.id = 'composer-hint';
    this.input.setAttribute('aria-describedby', 'composer-hint');
    this.input.maxLength = MAX_LENGTH;
    this.counter.setAttribute('aria-live', 'polite');
    this.sendButton.type = 'submit';
    const field = el('div', 'composer-field');
    field.append(this.input, hint, this.counter);
    form.append(label, field, this.sendButton);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.submit();
    });
    this.input.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.submit();
      }
    });
    this.input.addEventListener('input', () => {
      this.onInput();
    });

    card.append(
      this.header,
      notice,
      this.banner,
      this.older,
      this.log,
      this.outbox,
      this.typing,
      form,
    );
    app.append(card);
  }

  private submit(): void {
    const text = this.input.value.trim();
    if (!text) return;
    this.input.value = '';
    this.onInput();
    this.stopTyping();
    this.conversation.send(text).catch(() => undefined); // failures show in the outbox
    this.input.focus();
  }

  private onInput(): void {
    const left = MAX_LENGTH - this.input.value.length;
    this.counter.textContent = left < 500 ? `${left} characters left` : '';
    if (this.input.value.length === 0) {
      this.stopTyping();
      return;
    }
    if (!this.typingSent) {
      this.typingSent = true;
      this.conversation.setTyping(true);
    }
    clearTimeout(this.typingIdle);
    this.typingIdle = setTimeout(() => {
      this.stopTyping();
    }, 3000);
  }

  private stopTyping(): void {
    clearTimeout(this.typingIdle);
    if (this.typingSent) this.conversation.setTyping(false);
    this.typingSent = false;
  }

  private setTyping(userId: string, typing: boolean): void {
    clearTimeout(this.typingPeople.get(userId));
    this.typingPeople.delete(userId);
    if (typing) {
      // A lost "stopped typing" must not leave the indicator on for ever.
      this.typingPeople.set(
        userId,
        setTimeout(() => {
          this.setTyping(userId, false);
        }, 6000),
      );
    }
    const names = [...this.typingPeople.keys()].map((id) => this.nameOf(id));
    this.typing.textContent =
      names.length === 0
        ? ''
        : `${names.join(' and ')} ${names.length === 1 ? 'is' : 'are'} typing…`;
  }

  private nameOf(userId: string): string {
    return (
      this.conversation.snapshot?.participants.find((p) => p.userId === userId)?.displayName ??
      'Someone'
    );
  }

  private markRead(): void {
    if (document.visibilityState === 'visible' && this.conversation.lastSeq > 0) {
      this.conversation.markRead().catch(() => undefined);
    }
  }

  private renderBanner(): void {
    const { state, error } = this.client;
    this.banner.dataset.state = state;
    this.banner.textContent =
      state === 'connected'
        ? ''
        : state === 'connecting'
          ? 'Connecting…'
          : (error?.message ?? 'Offline. Messages will be sent when the connection is back.');
  }

  private renderHeader(): void {
    const snapshot = this.conversation.snapshot;
    if (!snapshot) return;
    const people = el('ul', 'participants');
    people.setAttribute('aria-label', 'Participants');
    for (const p of snapshot.participants) {
      const item = el('li', `participant role-${p.role}`);
      const dot = el('span', `presence ${p.online ? 'online' : 'offline'}`);
      dot.setAttribute('role', 'img');
      dot.setAttribute('aria-label', p.online ? 'online' : 'offline');
      const name = el(
        'span',
        'participant-name',
        p.userId === this.me.sub ? `${p.displayName} (you)` : p.displayName,
      );
      item.append(dot, name, el('span', 'badge', roleLabel(p)));
      people.append(item);
    }
    this.header.replaceChildren(el('h1', 'chat-title', snapshot.title), people);
  }

  private renderMessages(scrollToEnd = false): void {
    const nearEnd = this.log.scrollHeight - this.log.scrollTop - this.log.clientHeight < 80;
    const fragment = document.createDocumentFragment();
    let lastDay = '';
    let lastSender = '';
    for (const message of this.conversation.messages) {
      const sent = new Date(message.sentAt);
      const day = dayFormat.format(sent);
      if (day !== lastDay) {
        fragment.append(el('h2', 'day', day));
        lastDay = day;
        lastSender = '';
      }
      fragment.append(this.messageNode(message, message.sender.userId !== lastSender));
      lastSender = message.sender.userId;
    }
    if (this.conversation.messages.length === 0)
      fragment.append(el('p', 'empty', 'No messages yet. Say hello to your care team.'));
    this.log.replaceChildren(fragment);
    this.older.hidden = !this.conversation.hasMoreHistory;
    if (scrollToEnd || nearEnd) this.log.scrollTop = this.log.scrollHeight;
  }

  private messageNode(message: MessageView, startsGroup: boolean): HTMLElement {
    const mine = message.sender.userId === this.me.sub;
    const node = el('article', `message${mine ? ' mine' : ''}${startsGroup ? ' group-start' : ''}`);
    if (startsGroup) {
      const who = el('div', 'sender');
      who.append(
        el('span', 'sender-name', mine ? 'You' : message.sender.displayName),
        el('span', 'badge', roleLabel(message.sender)),
      );
      node.append(who);
    }
    const bubble = el('div', 'bubble');
    bubble.append(el('p', 'text', message.text));
    const meta = el('div', 'meta');
    const time = el('time', '', timeFormat.format(new Date(message.sentAt)));
    time.dateTime = message.sentAt;
    meta.append(time);
    if (message.editedAt) meta.append(el('span', 'edited', 'edited'));
    bubble.append(meta);
    node.append(bubble);
    return node;
  }

  private renderOutbox(items: OutboxItem[]): void {
    this.outbox.replaceChildren(
      ...items.map((item) => {
        const row = el('li', `pending state-${item.state}`);
        row.append(el('p', 'text', item.text));
        const status = el(
          'span',
          'status',
          item.state === 'sending'
            ? 'Sending…'
            : item.state === 'queued'
              ? 'Waiting for connection…'
              : `Not sent: ${item.error?.message ?? ''}`,
        );
        row.append(status);
        if (item.state === 'failed') {
          const retry = el('button', 'link', 'Retry');
          retry.type = 'button';
          retry.addEventListener('click', () => {
            this.conversation.retry(item.id).catch(() => undefined);
          });
          const discard = el('button', 'link', 'Discard');
          discard.type = 'button';
          discard.addEventListener('click', () => {
            this.conversation.discard(item.id);
          });
          row.append(retry, discard);
        }
        return row;
      }),
    );
    this.log.scrollTop = this.log.scrollHeight;
  }
}

main().catch((error: unknown) => {
  app.replaceChildren(
    el(
      'p',
      'banner',
      `The portal could not start: ${error instanceof Error ? error.message : String(error)}`,
    ),
  );
});
