// <carethread-chat>: the embeddable conversation. This module only declares the class; `chat.ts`
// registers the tag, so bundlers can import the class without side effects.
import { html, nothing, type PropertyValues, type TemplateResult } from 'lit';
import { msg, str } from '@lit/localize';
import type { AttachmentView, ErrorBody, MessageView } from '@carethread/shared';
import { CareThreadError } from '../client/index.js';
import { RelayElement, type ConfigErrorEvent } from '../base/relay-element.js';
import { ChatController } from './chat-controller.js';
import { ComposerController } from './composer.js';
import {
  renderLog,
  type MessageList,
  type MessageOptions,
  type OptionsStep,
} from './message-list.js';
import { errorText } from './messages.js';
import { renderHeader, renderTyping } from './participants.js';
import { themeStyles } from '../base/theme.styles.js';
import { chatStyles } from './chat.styles.js';
import { systemEntryStyles } from './system-entry.js';
import { closedStyles, renderClosed } from './closed-state.js';

/** Fired when the element cannot start: a configuration mistake the host must fix. */
export type ChatConfigErrorEvent = ConfigErrorEvent;

/** Fired once when access ends (session expired, removed); the conversation left the page. */
export type ChatEndedEvent = CustomEvent<ErrorBody>;

/** How close to the bottom (px) still counts as "reading the latest". */
const NEAR_END_PX = 80;
/** How close to the top (px) starts loading older messages. */
const NEAR_TOP_PX = 40;

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
 * @csspart banner - Connection messages (offline, reconnecting).
 * @csspart closed - In place of the conversation when it cannot be shown: waiting for the patient's consent, access or session ended.
 * @csspart log - The scrolling list of messages.
 * @csspart message - One message.
 * @csspart system-entry - A line the conversation tells itself: someone joined, a consent changed.
 * @csspart own-message - One message written by the reader.
 * @csspart jump - The "jump to latest" button.
 * @csspart options - The button that opens one's own message's options (who read it, Edit, Delete).
 * @csspart composer - The message form.
 * @csspart input - The message text area.
 * @csspart send - The send button.
 * @csspart attach - The button that picks files to send.
 * @csspart file - A shared file (a thumbnail for images, else a card).
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
 * @cssproperty --carethread-danger - Colour of failures and of Delete.
 * @cssproperty --carethread-danger-contrast - Text on the danger colour (the confirming Delete button).
 * @cssproperty --carethread-radius - Corner radius of bubbles and controls.
 * @cssproperty --carethread-height - Height of the chat (default 32rem).
 */
export class CareThreadChat extends RelayElement {
  static override styles = [themeStyles, chatStyles, systemEntryStyles, closedStyles];

  static override properties = {
    ...RelayElement.properties,
    conversation: { type: String },
    notice: { type: String },
    maxLength: { type: Number, attribute: 'max-length' },
    maxFileSize: { type: Number, attribute: 'max-file-size' },
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

  private readonly composer = new ComposerController(this, this.chat, {
    locale: () => this.locale,
    sent: () => {
      this.setView({ awayFromEnd: false });
    },
  });

  /** Id of the conversation to show. */
  declare conversation: string;
  /** Text of the emergency notice; the `notice` slot replaces it entirely. */
  declare notice: string;
  /** The relay's message length limit for this tenant (default 4000 characters). */
  declare maxLength: number;
  /** The tenant's file size limit in bytes (default 20 MB), checked before uploading. */
  declare maxFileSize: number;

  /** State only the rendering depends on (not attributes, so not in the manifest). */
  private readonly view = {
    /** The own message whose options are open (who read it, Edit, Delete), and at which step. */
    options: undefined as MessageOptions | undefined,
    /** The reader scrolled up, away from the newest messages. */
    awayFromEnd: false,
  };
  private scrollAnchorFromEnd: number | undefined;
  /** Where the element last put the log's end: a scroll above it is the reader's own. */
  private pinnedTop = 0;
  /** The message whose controls are in the Tab order: the log is one Tab stop (issue 17). */
  private activeSeq: string | undefined;
  /**
   * Keeps the newest message in view while the log's entries change size after rendering: a
   * picture decodes, a file card loads. Their load events alone lost the race in 3 of 11 loads.
   */
  private readonly resizes = new ResizeObserver(() => {
    const log = this.log;
    if (log && !this.view.awayFromEnd && this.scrollAnchorFromEnd === undefined) this.pinToEnd(log);
  });
  private announcedEnd = false;
  /**
   * Focus was last in the element and went nowhere else since: it stays set when the focused
   * control is disabled or removed (the box goes when the conversation closes), which moves focus
   * to the page without the reader choosing to leave.
   */
  private focusInside = false;

  constructor() {
    super();
    this.conversation = '';
    this.notice = '';
    this.maxLength = 4000;
    this.maxFileSize = 20 * 1024 * 1024;
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (this.chat.closed ?? this.chat.state === 'ended') this.composer.clear();
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
      // The message box went away with the conversation: focus goes to what is said instead.
      const active = document.activeElement;
      if (this.focusInside && (active === this || active === document.body || active === null))
        this.renderRoot.querySelector<HTMLElement>('.closed-heading')?.focus();
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
      this.pinToEnd(log);
    }
    this.rove(log);
    // Observing an entry again is a no-op; removed entries are no longer observed.
    for (const entry of log.children) this.resizes.observe(entry);
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.addEventListener('focusin', this.onFocusIn);
    this.addEventListener('focusout', this.onFocusOut);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.resizes.disconnect();
    this.removeEventListener('focusin', this.onFocusIn);
    this.removeEventListener('focusout', this.onFocusOut);
  }

  private readonly onFocusIn = (): void => {
    this.focusInside = true;
  };

  private readonly onFocusOut = (event: FocusEvent): void => {
    const to = event.relatedTarget as Node | null;
    if (to && !this.contains(to) && !this.renderRoot.contains(to)) this.focusInside = false;
  };

  private pinToEnd(log: HTMLElement): void {
    log.scrollTop = log.scrollHeight;
    this.pinnedTop = log.scrollTop;
  }

  /**
   * Keeps the log one Tab stop: only the controls of the message last moved to (arrow keys,
   * click) are in the Tab order, so Tab goes from the log to the message box, not through every
   * message's buttons. Messages not yet sent keep theirs: Retry must be at hand.
   */
  private rove(log: HTMLElement): void {
    for (const control of log.querySelectorAll<HTMLElement>(
      'article[data-seq] :is(button, a, textarea)',
    ))
      control.tabIndex =
        control.closest<HTMLElement>('article[data-seq]')?.dataset.seq === this.activeSeq ? 0 : -1;
  }

  private onLogFocus(event: FocusEvent): void {
    const seq = (event.target as Element).closest<HTMLElement>('article[data-seq]')?.dataset.seq;
    if (seq === undefined || seq === this.activeSeq) return;
    this.activeSeq = seq;
    if (this.log) this.rove(this.log);
  }

  /** Up and down move between messages, Home and End to the first and last, Escape to the log. */
  private onLogKey(event: KeyboardEvent): void {
    const log = this.log;
    const target = event.target as HTMLElement;
    if (!log || target.localName === 'textarea') return;
    const messages = [...log.querySelectorAll<HTMLElement>('article[data-seq]')];
    const current = target.closest<HTMLElement>('article[data-seq]');
    const at = current ? messages.indexOf(current) : messages.length;
    const last = messages.length - 1;
    const next: Record<string, number | undefined> = {
      ArrowDown: current ? Math.min(at + 1, last) : last,
      ArrowUp: Math.max(at - 1, 0),
      Home: 0,
      End: last,
    };
    if (event.key === 'Escape' && current) {
      event.preventDefault();
      log.focus();
      return;
    }
    const index = next[event.key];
    if (index === undefined || messages.length === 0) return;
    event.preventDefault();
    const message = messages[index];
    message?.focus();
    message?.scrollIntoView({ block: 'nearest' });
  }

  // --- handlers ------------------------------------------------------------------------------

  private setView(change: Partial<CareThreadChat['view']>): void {
    Object.assign(this.view, change);
    this.requestUpdate();
  }

  private get log(): HTMLElement | null {
    return this.renderRoot.querySelector('[part="log"]');
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
    const fromEnd = log.scrollHeight - log.scrollTop - log.clientHeight;
    // Only the reader's own scroll moves away from the end. A picture that grew the log between
    // the element's scroll and this event is not one: the view goes back to the end.
    const scrolledUp = log.scrollTop < this.pinnedTop - 1;
    if (!scrolledUp && fromEnd > 1) this.pinToEnd(log);
    const away = scrolledUp && fromEnd > NEAR_END_PX;
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
    if (log) this.pinToEnd(log);
    this.markReadIfSeen();
    this.composer.focus();
  }

  /** Opens an image in a new tab, or saves a file under its name. */
  private async openFile(attachment: AttachmentView, open: boolean): Promise<void> {
    try {
      const url = await this.chat.fileUrl(attachment);
      if (open) {
        window.open(url, '_blank', 'noopener');
        return;
      }
      const save = document.createElement('a');
      save.href = url;
      save.download = attachment.name;
      save.click();
    } catch (error) {
      this.composer.say(
        msg(str`${attachment.name} could not be opened.`, { id: 'file-open-failed' }) +
          ' ' +
          errorText(error instanceof CareThreadError ? error : undefined),
      );
    }
  }

  /**
   * Opens the options of one's `message` at `step` (or closes them), and moves focus to what the
   * step shows: the first choice, the Delete question, the editor, or back to the options button.
   */
  private async showOptions(message: MessageView, step: OptionsStep | undefined): Promise<void> {
    this.setView({ options: step ? { messageId: message.id, step } : undefined });
    await this.updateComplete;
    const article = this.renderRoot.querySelector<HTMLElement>(`[data-seq="${message.seq}"]`);
    const target = {
      menu: '.actions button',
      delete: '.confirm-delete',
      edit: '.editor textarea',
      closed: '.options',
    }[step ?? 'closed'];
    (article?.querySelector<HTMLElement>(target) ?? article)?.focus();
  }

  private deleteMessage(message: MessageView): void {
    this.setView({ options: undefined });
    // The options button goes with the text: the message itself keeps focus.
    this.renderRoot.querySelector<HTMLElement>(`[data-seq="${message.seq}"]`)?.focus();
    this.chat.conversation?.delete(message.seq).catch(() => {
      this.composer.say(msg('The message could not be deleted.', { id: 'delete-failed' }));
    });
  }

  private editMessage(message: MessageView, text: string): void {
    void this.showOptions(message, undefined);
    this.chat.conversation?.edit(message.seq, text).catch((error: unknown) => {
      this.composer.say(
        msg('The message could not be corrected.', { id: 'edit-failed' }) +
          ' ' +
          errorText(error instanceof CareThreadError ? error : undefined),
      );
    });
  }

  // --- public API ----------------------------------------------------------------------------

  /** Moves keyboard focus to the message box. */
  override focus(options?: FocusOptions): void {
    this.composer.focus(options);
  }

  // --- rendering -----------------------------------------------------------------------------

  private renderConfigError(problem: string): TemplateResult {
    return html`<section part="base" class="chat config-error" role="alert">
      <p><strong>${msg('This chat cannot start.', { id: 'config-title' })}</strong> ${problem}</p>
    </section>`;
  }

  private renderBanner(): TemplateResult {
    const { state } = this.chat;
    let text = '';
    if (state === 'offline') {
      text = msg('You are offline. Messages you write will be sent when the connection is back.', {
        id: 'banner-offline',
      });
    } else if (state === 'connecting' && this.chat.loaded) {
      text = msg('Reconnecting…', { id: 'banner-reconnecting' });
    }
    return html`<div part="banner" class="banner" data-state=${state} role="status">${text}</div>`;
  }

  /** What the message list shows and what its buttons do, as of this render. */
  private messageList(): MessageList {
    return {
      chat: this.chat,
      locale: this.locale,
      previews: this.chat.previews,
      options: this.view.options,
      scrolled: () => {
        this.onScroll();
      },
      keyed: (event) => {
        this.onLogKey(event);
      },
      showOptions: (message, step) => void this.showOptions(message, step),
      deleteMessage: (message) => {
        this.deleteMessage(message);
      },
      editMessage: (message, text) => {
        this.editMessage(message, text);
      },
      openFile: (attachment, open) => void this.openFile(attachment, open),
      imageLoaded: () => {
        this.requestUpdate();
      },
    };
  }

  protected override render(): TemplateResult {
    const problem = this.configProblem({ conversation: this.conversation });
    if (problem) return this.renderConfigError(problem);
    const sessionEnded = this.chat.state === 'ended';
    const closed = this.chat.closed ?? (sessionEnded ? this.chat.error : undefined);
    const notice = html`<p part="notice" class="notice" role="note">
      <slot name="notice"
        >${this.notice || msg('This chat is not for emergencies. In an emergency, call your local emergency number.', { id: 'notice-default' })}</slot
      >
    </p>`;
    if (closed || sessionEnded)
      return html`<section
        part="base"
        class="chat"
        aria-label=${msg('Conversation', { id: 'title-default' })}
      >
        ${notice} ${renderClosed({ error: closed, sessionEnded, hadAccess: this.chat.hadAccess })}
      </section>`;
    return html`<section
      part="base"
      class="chat ${this.composer.view.dragging ? 'dragging' : ''}"
      aria-label=${this.chat.snapshot?.title ?? msg('Conversation', { id: 'title-default' })}
      @dragenter=${this.composer.onDrag}
      @dragover=${this.composer.onDrag}
      @dragleave=${this.composer.onDrag}
      @drop=${this.composer.onDrag}
      @focusin=${this.onLogFocus}
    >
      ${renderHeader(this.chat)} ${notice} ${this.renderBanner()} ${renderLog(this.messageList())}
      ${
        // Below the log, not over it: it never covers a message's controls.
        this.view.awayFromEnd
          ? html`<button part="jump" class="jump" type="button" @click=${this.jumpToLatest}>
              ${msg('Jump to latest', { id: 'jump' })}
            </button>`
          : nothing
      }
      ${renderTyping(this.chat)} ${this.composer.render()}
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
