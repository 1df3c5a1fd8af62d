// <carethread-chat>: the embeddable conversation. This module only declares the class; `chat.ts`
// registers the tag, so bundlers can import the class without side effects.
import { html, nothing, type PropertyValues, type TemplateResult } from 'lit';
import { repeat } from 'lit/directives/repeat.js';
import { msg, str } from '@lit/localize';
import type { ErrorBody, MessageView, ParticipantView, Role } from '@carethread/shared';
import type { OutboxItem } from '../client/index.js';
import { RelayElement, type ConfigErrorEvent } from '../base/relay-element.js';
import { ChatController } from './chat-controller.js';
import { errorText } from './messages.js';
import { themeStyles } from '../base/theme.styles.js';
import { chatStyles } from './chat.styles.js';
import { linkify, timelineItems } from './timeline.js';

/** Fired when the element cannot start: a configuration mistake the host must fix. */
export type ChatConfigErrorEvent = ConfigErrorEvent;

/** Fired once when access ends (session expired, removed); the conversation left the page. */
export type ChatEndedEvent = CustomEvent<ErrorBody>;

/** How close to the bottom (px) still counts as "reading the latest". */
const NEAR_END_PX = 80;
/** How close to the top (px) starts loading older messages. */
const NEAR_TOP_PX = 40;
/** The counter appears when this many characters or fewer are left. */
const COUNTER_FROM = 200;
/** A typing signal is re-sent at most this often while the person keeps typing. */
const TYPING_IDLE_MS = 3000;

/**
 * A secure conversation between a patient, their family and their care team, connected to a
 * CareThread relay.
 *
 * @summary Embeddable, accessible chat for care conversations.
 *
 * @example
 * ```html
 * <script src="https://cdn.example/carethread.js"></script>
 * <carethread-chat server="https://relay.example" conversation="c-123"
 *   token-url="/carethread/token"></carethread-chat>
 * ```
 *
 * @slot notice - Replaces the default "not for emergencies" notice (e.g. with a crisis line).
 *
 * @event carethread-config-error - The element is missing or has wrong configuration; `detail.message` says what.
 * @event carethread-ended - Access ended (session over, removed); `detail` is the error code and sentence.
 *
 * @csspart base - The whole chat.
 * @csspart header - Title and participants.
 * @csspart participants - The list of participants.
 * @csspart badge - A role badge.
 * @csspart notice - The emergency notice.
 * @csspart banner - Connection and session messages.
 * @csspart log - The scrolling list of messages.
 * @csspart message - One message.
 * @csspart own-message - One message written by the reader.
 * @csspart jump - The "jump to latest" button.
 * @csspart composer - The message form.
 * @csspart input - The message text area.
 * @csspart send - The send button.
 *
 * @cssproperty --carethread-font-family - Font of the whole chat (default: the page's).
 * @cssproperty --carethread-font-size - Base font size (default 1rem).
 * @cssproperty --carethread-accent - Accent colour: own messages, buttons, focus ring.
 * @cssproperty --carethread-accent-contrast - Text on the accent colour.
 * @cssproperty --carethread-background - Background of the chat.
 * @cssproperty --carethread-surface - Background of others' messages and the header.
 * @cssproperty --carethread-text - Main text colour.
 * @cssproperty --carethread-muted - Secondary text colour (times, hints).
 * @cssproperty --carethread-border - Border colour.
 * @cssproperty --carethread-danger - Colour of failures.
 * @cssproperty --carethread-radius - Corner radius of bubbles and controls.
 * @cssproperty --carethread-height - Height of the chat (default 32rem).
 */
export class CareThreadChat extends RelayElement {
  static override styles = [themeStyles, chatStyles];

  static override properties = {
    ...RelayElement.properties,
    conversation: { type: String },
    notice: { type: String },
    maxLength: { type: Number, attribute: 'max-length' },
  };

  private readonly chat = new ChatController(this, {
    opened: () => {
      void this.updateComplete.then(() => {
        this.markReadIfSeen();
      });
    },
    history: () => {
      this.keepPositionAfterHistory();
    },
    liveMessage: (message) => {
      this.onLiveMessage(message);
    },
  });

  /** Id of the conversation to show. */
  declare conversation: string;
  /** Text of the emergency notice; the `notice` slot replaces it entirely. */
  declare notice: string;
  /** The relay's message length limit for this tenant (default 4000 characters). */
  declare maxLength: number;

  /** State only the rendering depends on (not attributes, so not in the manifest). */
  private readonly view = {
    composerText: '',
    /** The own message whose readers are listed. */
    expandedReceipt: undefined as string | undefined,
    /** The reader scrolled up, away from the newest messages. */
    awayFromEnd: false,
  };
  private typingSent = false;
  private typingIdle: ReturnType<typeof setTimeout> | undefined;
  private scrollAnchorFromEnd: number | undefined;
  private announcedEnd = false;

  constructor() {
    super();
    this.conversation = '';
    this.notice = '';
    this.maxLength = 4000;
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    clearTimeout(this.typingIdle);
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    // A draft is conversation content too: it leaves the page with the rest.
    if (this.chat.closed ?? this.chat.state === 'ended') this.view.composerText = '';
    if (
      changed.has('server') ||
      changed.has('conversation') ||
      changed.has('tokenUrl') ||
      changed.has('tokenProvider')
    ) {
      const problem = this.configProblem({ conversation: this.conversation });
      this.reportConfigError(problem);
      if (problem) this.chat.stop();
      else
        this.chat.connect({
          server: this.server,
          conversationId: this.conversation,
          tokenProvider: this.tokenSource,
        });
    }
  }

  protected override updated(): void {
    const ended = this.chat.closed ?? (this.chat.state === 'ended' ? this.chat.error : undefined);
    if (ended && !this.announcedEnd) {
      this.announcedEnd = true;
      this.dispatchEvent(
        new CustomEvent('carethread-ended', { detail: ended, bubbles: true, composed: true }),
      );
    }
    if (!ended) this.announcedEnd = false;
    const log = this.log;
    if (!log) return;
    if (this.scrollAnchorFromEnd !== undefined) {
      // Older messages were added above: keep the same message under the reader's eyes.
      log.scrollTop = log.scrollHeight - this.scrollAnchorFromEnd;
      this.scrollAnchorFromEnd = undefined;
    } else if (!this.view.awayFromEnd) {
      log.scrollTop = log.scrollHeight;
    }
  }

  // --- handlers ------------------------------------------------------------------------------

  private setView(change: Partial<CareThreadChat['view']>): void {
    Object.assign(this.view, change);
    this.requestUpdate();
  }

  private get log(): HTMLElement | null {
    return this.renderRoot.querySelector('[part="log"]');
  }

  private get input(): HTMLTextAreaElement | null {
    return this.renderRoot.querySelector('textarea');
  }

  private onLiveMessage(message: MessageView): void {
    if (message.sender.userId === this.chat.me) {
      // One's own message always brings the view to the end.
      this.setView({ awayFromEnd: false });
    }
    this.markReadIfSeen();
  }

  private markReadIfSeen(): void {
    if (this.view.awayFromEnd || document.visibilityState !== 'visible') return;
    const conversation = this.chat.conversation;
    if (conversation && conversation.lastSeq > 0) conversation.markRead().catch(() => undefined);
  }

  private keepPositionAfterHistory(): void {
    const log = this.log;
    if (log && this.chat.loaded) this.scrollAnchorFromEnd = log.scrollHeight - log.scrollTop;
  }

  private onScroll(): void {
    const log = this.log;
    if (!log) return;
    const away = log.scrollHeight - log.scrollTop - log.clientHeight > NEAR_END_PX;
    if (away !== this.view.awayFromEnd) {
      this.setView({ awayFromEnd: away });
      if (!away) this.markReadIfSeen();
    }
    if (log.scrollTop < NEAR_TOP_PX && this.chat.loaded) void this.chat.loadOlder();
  }

  private jumpToLatest(): void {
    this.setView({ awayFromEnd: false });
    // An instant jump: no animation to respect or to disable for reduced motion.
    const log = this.log;
    if (log) log.scrollTop = log.scrollHeight;
    this.markReadIfSeen();
    this.input?.focus();
  }

  private onInput(event: InputEvent): void {
    this.setView({ composerText: (event.target as HTMLTextAreaElement).value });
    if (this.view.composerText.length === 0) {
      this.stopTyping();
      return;
    }
    if (!this.typingSent) {
      this.typingSent = true;
      this.chat.conversation?.setTyping(true);
    }
    clearTimeout(this.typingIdle);
    this.typingIdle = setTimeout(() => {
      this.stopTyping();
    }, TYPING_IDLE_MS);
  }

  private stopTyping(): void {
    clearTimeout(this.typingIdle);
    if (this.typingSent) this.chat.conversation?.setTyping(false);
    this.typingSent = false;
  }

  private onKeydown(event: KeyboardEvent): void {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      this.submit();
    }
  }

  private onSubmit(event: SubmitEvent): void {
    event.preventDefault();
    this.submit();
  }

  private submit(): void {
    const text = this.view.composerText.trim();
    const conversation = this.chat.conversation;
    if (!text || !conversation || this.composerDisabledReason() || text.length > this.maxLength)
      return;
    this.setView({ composerText: '' });
    this.stopTyping();
    this.setView({ awayFromEnd: false });
    // A failure shows on the message itself, with a retry button.
    conversation.send(text).catch(() => undefined);
  }

  private retry(item: OutboxItem): void {
    this.chat.conversation?.retry(item.id).catch(() => undefined);
  }

  private discard(item: OutboxItem): void {
    this.chat.conversation?.discard(item.id);
  }

  private toggleReceipt(messageId: string): void {
    this.setView({
      expandedReceipt: this.view.expandedReceipt === messageId ? undefined : messageId,
    });
  }

  // --- public API ----------------------------------------------------------------------------

  /** Moves keyboard focus to the message box. */
  override focus(options?: FocusOptions): void {
    this.input?.focus(options);
  }

  // --- rendering -----------------------------------------------------------------------------

  private roleLabel(
    person: Pick<ParticipantView, 'role'> &
      Partial<Pick<ParticipantView, 'relationship' | 'title'>>,
  ): string {
    const role: Role = person.role;
    switch (role) {
      case 'patient':
        return msg('Patient', { id: 'role-patient' });
      case 'family':
        return person.relationship
          ? msg(str`Family · ${person.relationship}`, { id: 'role-family-relationship' })
          : msg('Family', { id: 'role-family' });
      case 'provider':
      case 'staff':
        return person.title
          ? msg(str`Care team · ${person.title}`, { id: 'role-care-team-title' })
          : msg('Care team', { id: 'role-care-team' });
    }
  }

  private composerDisabledReason(): string | undefined {
    if (this.chat.closed) return errorText(this.chat.closed);
    if (this.chat.state === 'ended') return errorText(this.chat.error);
    if (!this.chat.loaded)
      return msg('Connecting to the conversation…', { id: 'composer-connecting' });
    return undefined;
  }

  private renderConfigError(problem: string): TemplateResult {
    return html`<section part="base" class="chat config-error" role="alert">
      <p><strong>${msg('This chat cannot start.', { id: 'config-title' })}</strong> ${problem}</p>
    </section>`;
  }

  private renderHeader(): TemplateResult {
    const snapshot = this.chat.snapshot;
    const me = this.chat.me;
    return html`<header part="header" class="header">
      <h2 class="title">${snapshot?.title ?? msg('Conversation', { id: 'title-default' })}</h2>
      ${
        snapshot
          ? html`<ul
              part="participants"
              class="participants"
              aria-label=${msg('Participants', { id: 'participants' })}
            >
              ${snapshot.participants.map(
                (p) =>
                  html`<li class="participant">
                    <span class="presence ${p.online ? 'online' : ''}" aria-hidden="true"></span>
                    <span class="name"
                      >${p.userId === me ? msg(str`${p.displayName} (you)`, { id: 'participant-you' }) : p.displayName}</span
                    >
                    <span part="badge" class="badge role-${p.role}">${this.roleLabel(p)}</span>
                    <span class="visually-hidden"
                      >${p.online ? msg('online', { id: 'presence-online' }) : msg('offline', { id: 'presence-offline' })}</span
                    >
                  </li>`,
              )}
            </ul>`
          : nothing
      }
    </header>`;
  }

  private renderBanner(): TemplateResult {
    const { state, error, closed } = this.chat;
    let text = '';
    let kind = state;
    if (state === 'ended') {
      text = msg('Session ended.', { id: 'banner-ended' }) + ' ' + errorText(error);
      kind = 'ended';
    } else if (closed) {
      // A consent still pending is not something that was taken away: its sentence says it all.
      text =
        closed.code === 'CONSENT_REQUIRED'
          ? errorText(closed)
          : msg('This conversation is no longer available here.', { id: 'banner-closed' }) +
            ' ' +
            errorText(closed);
      kind = 'ended';
    } else if (state === 'offline') {
      text = msg('You are offline. Messages you write will be sent when the connection is back.', {
        id: 'banner-offline',
      });
    } else if (state === 'connecting' && this.chat.loaded) {
      text = msg('Reconnecting…', { id: 'banner-reconnecting' });
    }
    return html`<div part="banner" class="banner" data-state=${kind} role="status">${text}</div>`;
  }

  private renderText(text: string): (TemplateResult | string)[] {
    return linkify(text).map((part) =>
      part.kind === 'link'
        ? html`<a href=${part.href} target="_blank" rel="noopener noreferrer">${part.text}</a>`
        : part.text,
    );
  }

  private participant(userId: string): ParticipantView | undefined {
    return this.chat.snapshot?.participants.find((p) => p.userId === userId);
  }

  private readBy(message: MessageView): ParticipantView[] {
    return (this.chat.snapshot?.participants ?? []).filter(
      (p) => p.userId !== message.sender.userId && p.readSeq >= message.seq,
    );
  }

  private renderMessage(
    message: MessageView,
    first: boolean,
    time: Intl.DateTimeFormat,
  ): TemplateResult {
    const mine = message.sender.userId === this.chat.me;
    const readers = mine ? this.readBy(message) : [];
    const expanded = this.view.expandedReceipt === message.id;
    return html`<article
      part=${mine ? 'message own-message' : 'message'}
      class="message ${mine ? 'mine' : ''} ${first ? 'first' : ''}"
      data-seq=${message.seq}
    >
      ${
        first
          ? html`<div class="sender">
              <span class="sender-name"
                >${mine ? msg('You', { id: 'sender-you' }) : message.sender.displayName}</span
              >
              <span part="badge" class="badge role-${message.sender.role}"
                >${this.roleLabel(this.participant(message.sender.userId) ?? message.sender)}</span
              >
            </div>`
          : nothing
      }
      <div class="bubble">
        <p class="text">${this.renderText(message.text)}</p>
        <div class="meta">
          <time datetime=${message.sentAt}>${time.format(new Date(message.sentAt))}</time>
          ${message.editedAt ? html`<span class="edited">${msg('edited', { id: 'edited' })}</span>` : nothing}
          ${
            mine
              ? readers.length > 0
                ? html`<button
                    type="button"
                    class="receipt"
                    aria-expanded=${expanded ? 'true' : 'false'}
                    @click=${() => {
                      this.toggleReceipt(message.id);
                    }}
                  >
                    ${msg(str`Read by ${readers.length}`, { id: 'read-by-count' })}
                  </button>`
                : html`<span class="state">${msg('Sent', { id: 'state-sent' })}</span>`
              : nothing
          }
        </div>
        ${expanded ? html`<p class="readers">${msg(str`Read by ${readers.map((r) => r.displayName).join(', ')}`, { id: 'read-by-names' })}</p>` : nothing}
      </div>
    </article>`;
  }

  private renderOutboxItem(item: OutboxItem): TemplateResult {
    const failed = item.state === 'failed';
    return html`<article
      part="message own-message"
      class="message mine first pending ${failed ? 'failed' : ''}"
    >
      <div class="bubble">
        <p class="text">${item.text}</p>
        <div class="meta">
          ${
            failed
              ? html`<span class="state failed"
                    >${msg('Not sent.', { id: 'state-failed' })} ${errorText(item.error)}</span
                  >
                  <button
                    type="button"
                    class="retry"
                    @click=${() => {
                      this.retry(item);
                    }}
                  >
                    ${msg('Retry', { id: 'retry' })}
                  </button>
                  <button
                    type="button"
                    class="discard"
                    @click=${() => {
                      this.discard(item);
                    }}
                  >
                    ${msg('Discard', { id: 'discard' })}
                  </button>`
              : html`<span class="state"
                  >${item.state === 'queued' ? msg('Waiting for connection…', { id: 'state-queued' }) : msg('Sending…', { id: 'state-sending' })}</span
                >`
          }
        </div>
      </div>
    </article>`;
  }

  private renderLog(): TemplateResult {
    const locale = this.locale;
    const dayFormat = new Intl.DateTimeFormat(locale, {
      weekday: 'long',
      month: 'long',
      day: 'numeric',
    });
    const timeFormat = new Intl.DateTimeFormat(locale, { hour: 'numeric', minute: '2-digit' });
    const { messages, outbox, readSeqAtOpen, loaded, loadingOlder, conversation } = this.chat;
    const me = this.chat.me;
    const firstUnread = messages.find((m) => m.seq > readSeqAtOpen && m.sender.userId !== me)?.seq;
    const items = timelineItems(messages, firstUnread);
    return html`<div
      part="log"
      class="log"
      role="log"
      aria-live="polite"
      aria-relevant="additions"
      aria-label=${msg('Messages', { id: 'log-label' })}
      tabindex="0"
      @scroll=${this.onScroll}
    >
      ${
        loaded && messages.length > 0
          ? html`<p class="older">
              ${
                loadingOlder
                  ? msg('Loading older messages…', { id: 'loading-older' })
                  : conversation?.hasMoreHistory
                    ? ''
                    : msg('This is the start of the conversation.', { id: 'history-start' })
              }
            </p>`
          : nothing
      }
      ${!loaded ? html`<p class="empty">${msg('Loading the conversation…', { id: 'loading' })}</p>` : nothing}
      ${
        loaded && messages.length === 0 && outbox.length === 0 && !this.chat.closed
          ? html`<p class="empty">${msg('No messages yet. Say hello.', { id: 'empty' })}</p>`
          : nothing
      }
      ${repeat(
        items,
        (item) => item.key,
        (item) =>
          item.kind === 'day'
            ? html`<h3 class="day-heading">${dayFormat.format(item.date)}</h3>`
            : item.kind === 'unread'
              ? html`<div class="unread-marker" role="separator">
                  ${msg('New messages', { id: 'new-messages' })}
                </div>`
              : this.renderMessage(item.message, item.startsRun, timeFormat),
      )}
      ${
        outbox.length > 0
          ? html`<div
              class="outbox"
              role="group"
              aria-label=${msg('Messages not yet sent', { id: 'outbox-label' })}
            >
              ${repeat(
                outbox,
                (item) => item.id,
                (item) => this.renderOutboxItem(item),
              )}
            </div>`
          : nothing
      }
    </div>`;
  }

  private renderTyping(): TemplateResult {
    const names = this.chat.typing.map((p) => p.displayName);
    const text =
      names.length === 0
        ? ''
        : names.length === 1
          ? msg(str`${names[0]} is typing…`, { id: 'typing-one' })
          : msg(str`${names.join(', ')} are typing…`, { id: 'typing-many' });
    return html`<div class="typing" aria-live="polite">${text}</div>`;
  }

  private renderComposer(): TemplateResult {
    const reason = this.composerDisabledReason();
    const left = this.maxLength - this.view.composerText.length;
    const over = left < 0;
    return html`<form part="composer" class="composer" @submit=${this.onSubmit}>
      <label class="visually-hidden" for="input">${msg('Message', { id: 'composer-label' })}</label>
      <div class="field">
        <textarea
          id="input"
          part="input"
          rows="2"
          .value=${this.view.composerText}
          ?disabled=${reason !== undefined}
          aria-describedby="hint reason counter"
          aria-invalid=${over ? 'true' : 'false'}
          placeholder=${msg('Write a message…', { id: 'composer-placeholder' })}
          @input=${this.onInput}
          @keydown=${this.onKeydown}
        ></textarea>
        <div class="composer-meta">
          <span id="hint" class="hint"
            >${msg('Enter sends · Shift+Enter adds a line', { id: 'composer-hint' })}</span
          >
          <span id="counter" class="counter ${over ? 'over' : ''}" aria-live="polite"
            >${
              left <= COUNTER_FROM
                ? over
                  ? msg(str`${-left} characters over the limit`, { id: 'counter-over' })
                  : msg(str`${left} characters left`, { id: 'counter-left' })
                : ''
            }</span
          >
        </div>
        <p id="reason" class="reason ${this.chat.loaded ? 'error' : ''}">${reason ?? ''}</p>
      </div>
      <button
        part="send"
        class="send"
        type="submit"
        ?disabled=${reason !== undefined || over || this.view.composerText.trim() === ''}
      >
        ${msg('Send', { id: 'send' })}
      </button>
    </form>`;
  }

  protected override render(): TemplateResult {
    const problem = this.configProblem({ conversation: this.conversation });
    if (problem) return this.renderConfigError(problem);
    const ended = this.chat.closed !== undefined || this.chat.state === 'ended';
    return html`<section
      part="base"
      class="chat"
      aria-label=${this.chat.snapshot?.title ?? msg('Conversation', { id: 'title-default' })}
    >
      ${ended ? nothing : this.renderHeader()}
      <p part="notice" class="notice" role="note">
        <slot name="notice"
          >${this.notice || msg('This chat is not for emergencies. In an emergency, call your local emergency number.', { id: 'notice-default' })}</slot
        >
      </p>
      ${this.renderBanner()} ${ended ? nothing : this.renderLog()}
      ${
        this.view.awayFromEnd && !ended
          ? html`<button part="jump" class="jump" type="button" @click=${this.jumpToLatest}>
              ${msg('Jump to latest', { id: 'jump' })}
            </button>`
          : nothing
      }
      ${ended ? nothing : this.renderTyping()} ${this.renderComposer()}
    </section>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'carethread-chat': CareThreadChat;
  }
  interface GlobalEventHandlersEventMap {
    'carethread-ended': ChatEndedEvent;
  }
}
