// <carethread-chat>: the embeddable conversation. This module only declares the class; `chat.ts`
// registers the tag, so bundlers can import the class without side effects.
import { html, nothing, type PropertyValues, type TemplateResult } from 'lit';
import { repeat } from 'lit/directives/repeat.js';
import { msg, str } from '@lit/localize';
import {
  MAX_ATTACHMENTS,
  hasVisibleText,
  type AttachmentView,
  type ErrorBody,
  type MessageView,
  type ParticipantView,
  type Role,
} from '@carethread/shared';
import { CareThreadError, type OutboxFile, type OutboxItem } from '../client/index.js';
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
/** What the file picker offers: the relay's default types (it decides from the content). */
const ACCEPTED_FILES =
  '.pdf,.png,.jpg,.jpeg,.heic,.txt,application/pdf,image/png,image/jpeg,image/heic,text/plain';

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
    composerText: '',
    /** Files picked, dropped or pasted for the next message. */
    composerFiles: [] as File[],
    /** Files are being dragged over the chat. */
    dragging: false,
    /** Said by screen readers (and shown) after a file action: attached, removed, refused. */
    fileStatus: '',
    /** The own message whose readers are listed. */
    expandedReceipt: undefined as string | undefined,
    /** The own message whose deletion waits for a confirmation. */
    confirmingDelete: undefined as string | undefined,
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
    this.maxFileSize = 20 * 1024 * 1024;
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    clearTimeout(this.typingIdle);
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    // A draft is conversation content too: it leaves the page with the rest.
    if (this.chat.closed ?? this.chat.state === 'ended')
      Object.assign(this.view, { composerText: '', composerFiles: [], fileStatus: '' });
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
    const files = this.view.composerFiles;
    const conversation = this.chat.conversation;
    if (
      (!hasVisibleText(text) && files.length === 0) ||
      !conversation ||
      this.composerDisabledReason() ||
      text.length > this.maxLength
    )
      return;
    this.setView({ composerText: '', composerFiles: [], fileStatus: '', awayFromEnd: false });
    this.stopTyping();
    // A failure shows on the message itself, with a retry button.
    conversation.send(text, files).catch(() => undefined);
  }

  /** Adds files to the next message, refusing here what the relay would refuse anyway. */
  private addFiles(files: readonly File[]): void {
    if (this.composerDisabledReason() || files.length === 0) return;
    const kept = [...this.view.composerFiles];
    const refused: string[] = [];
    for (const file of files) {
      if (kept.length >= MAX_ATTACHMENTS)
        refused.push(
          msg(str`At most ${MAX_ATTACHMENTS} files per message.`, { id: 'files-too-many' }),
        );
      else if (file.size > this.maxFileSize)
        refused.push(
          msg(str`${file.name} is larger than ${this.formatSize(this.maxFileSize)}.`, {
            id: 'file-too-large',
          }),
        );
      else kept.push(file);
    }
    const added = kept.length - this.view.composerFiles.length;
    this.setView({
      composerFiles: kept,
      fileStatus: [
        ...(added === 1 ? [msg('1 file attached.', { id: 'file-attached' })] : []),
        ...(added > 1 ? [msg(str`${added} files attached.`, { id: 'files-attached' })] : []),
        ...new Set(refused),
      ].join(' '),
    });
  }

  private removeFile(file: File): void {
    this.setView({
      composerFiles: this.view.composerFiles.filter((f) => f !== file),
      fileStatus: msg(str`${file.name} removed.`, { id: 'file-removed' }),
    });
    this.input?.focus();
  }

  private onFilesChosen(event: Event): void {
    const picker = event.target as HTMLInputElement;
    this.addFiles([...(picker.files ?? [])]);
    picker.value = ''; // the same file may be chosen again after removing it
  }

  private onPaste(event: ClipboardEvent): void {
    const files = [...(event.clipboardData?.files ?? [])];
    if (files.length === 0) return;
    event.preventDefault();
    this.addFiles(files);
  }

  private onDrag(event: DragEvent): void {
    if (!event.dataTransfer?.types.includes('Files')) return;
    event.preventDefault();
    // Moving over the chat's own children is not leaving it.
    if (
      event.type === 'dragleave' &&
      (event.currentTarget as Node).contains(event.relatedTarget as Node | null)
    )
      return;
    const over = event.type !== 'dragleave' && event.type !== 'drop';
    if (over !== this.view.dragging) this.setView({ dragging: over });
    if (event.type === 'drop') this.addFiles([...event.dataTransfer.files]);
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
      this.setView({
        fileStatus:
          msg(str`${attachment.name} could not be opened.`, { id: 'file-open-failed' }) +
          ' ' +
          errorText(error instanceof CareThreadError ? error : undefined),
      });
    }
  }

  private retry(item: OutboxItem): void {
    this.chat.conversation?.retry(item.id).catch(() => undefined);
  }

  private discard(item: OutboxItem): void {
    this.chat.conversation?.discard(item.id);
  }

  /** Asks "Delete for everyone?" on message `seq` (or stops asking), keeping keyboard focus. */
  private async askDelete(message: MessageView, asking: boolean): Promise<void> {
    this.setView({ confirmingDelete: asking ? message.id : undefined });
    // The button pressed is replaced: move focus to the one shown in its place.
    await this.updateComplete;
    this.renderRoot
      .querySelector<HTMLElement>(
        `[data-seq="${message.seq}"] ${asking ? '.confirm-delete' : '.delete'}`,
      )
      ?.focus();
  }

  private deleteMessage(message: MessageView): void {
    this.setView({ confirmingDelete: undefined });
    this.chat.conversation?.delete(message.seq).catch(() => {
      this.setView({
        fileStatus: msg('The message could not be deleted.', { id: 'delete-failed' }),
      });
    });
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

  private formatSize(bytes: number): string {
    const mega = bytes >= 1e6;
    return new Intl.NumberFormat(this.locale, {
      style: 'unit',
      unit: mega ? 'megabyte' : 'kilobyte',
      maximumFractionDigits: 1,
    }).format(mega ? bytes / 1e6 : Math.max(bytes / 1e3, 0.1));
  }

  /** "scan.pdf, PDF, 30 kB": what a card shows and a screen reader says. */
  private describeFile(file: { name: string; size: number }, type: string): string {
    const format = (type.split('/')[1] ?? '').replace('plain', 'txt').toUpperCase();
    return [file.name, format, this.formatSize(file.size)].filter(Boolean).join(', ');
  }

  private renderAttachments(
    attachments: AttachmentView[] | undefined,
  ): TemplateResult | typeof nothing {
    if (!attachments?.length) return nothing;
    return html`<ul class="files" aria-label=${msg('Files', { id: 'files-label' })}>
      ${attachments.map((attachment) => {
        const preview = this.chat.previews.get(attachment.fileId);
        const description = this.describeFile(attachment, attachment.contentType);
        return html`<li>
          <button
            type="button"
            part="file"
            class=${preview ? 'thumb' : 'file'}
            aria-label=${
              preview
                ? msg(str`Open ${description}`, { id: 'file-open' })
                : msg(str`Download ${description}`, { id: 'file-download' })
            }
            @click=${() => void this.openFile(attachment, preview !== undefined && preview !== '')}
          >
            ${
              preview
                ? html`<img
                    src=${preview}
                    alt=""
                    @load=${() => {
                      this.requestUpdate(); // its height arrived: keep the newest in view
                    }}
                  />`
                : html`<span class="file-name">${attachment.name}</span>
                    <span class="file-meta">${description.slice(attachment.name.length + 2)}</span>`
            }
          </button>
        </li>`;
      })}
    </ul>`;
  }

  private renderOutboxFile(file: OutboxFile, failed: boolean): TemplateResult {
    const percent = Math.floor((100 * file.sent) / Math.max(file.size, 1));
    return html`<li class="file">
      <span class="file-name">${file.name}</span>
      ${
        failed && !file.stored
          ? html`<span class="file-meta">${msg('Not uploaded', { id: 'file-not-uploaded' })}</span>`
          : html`<progress
                max="100"
                .value=${file.stored ? 100 : percent}
                aria-label=${msg(str`Uploading ${file.name}`, { id: 'file-uploading' })}
              ></progress>
              <span class="file-meta"
                >${file.stored ? msg('Uploaded', { id: 'file-uploaded' }) : `${String(percent)} %`}</span
              >`
      }
    </li>`;
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
        ${
          message.deletedAt
            ? html`<p class="text deleted">
                ${msg('This message was deleted.', { id: 'message-deleted' })}
              </p>`
            : message.text
              ? html`<p class="text">${this.renderText(message.text)}</p>`
              : nothing
        }
        ${this.renderAttachments(message.attachments)}
        <div class="meta">
          <time datetime=${message.sentAt}>${time.format(new Date(message.sentAt))}</time>
          ${message.editedAt && !message.deletedAt ? html`<span class="edited">${msg('edited', { id: 'edited' })}</span>` : nothing}
          ${mine && !message.deletedAt ? this.renderDelete(message) : nothing}
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

  private renderDelete(message: MessageView): TemplateResult {
    if (this.view.confirmingDelete !== message.id)
      return html`<button
        type="button"
        class="delete"
        @click=${() => this.askDelete(message, true)}
      >
        ${msg('Delete', { id: 'delete' })}
      </button>`;
    return html`<span>${msg('Delete for everyone?', { id: 'delete-confirm' })}</span>
      <button
        type="button"
        class="confirm-delete"
        @click=${() => {
          this.deleteMessage(message);
        }}
      >
        ${msg('Delete', { id: 'delete' })}
      </button>
      <button type="button" class="cancel-delete" @click=${() => this.askDelete(message, false)}>
        ${msg('Cancel', { id: 'cancel' })}
      </button>`;
  }

  private renderOutboxItem(item: OutboxItem): TemplateResult {
    const failed = item.state === 'failed';
    return html`<article
      part="message own-message"
      class="message mine first pending ${failed ? 'failed' : ''}"
    >
      <div class="bubble">
        ${item.text ? html`<p class="text">${item.text}</p>` : nothing}
        ${
          item.files.length > 0
            ? html`<ul class="files">
                ${item.files.map((file) => this.renderOutboxFile(file, failed))}
              </ul>`
            : nothing
        }
        <div class="meta">
          ${
            failed
              ? html`<span class="state failed"
                    >${msg('Not sent.', { id: 'state-failed' })}
                    ${errorText(
                      item.error,
                      item.files.some((file) => !file.stored),
                    )}</span
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
                    >${
                      item.state === 'queued'
                        ? msg('Waiting for connection…', { id: 'state-queued' })
                        : item.state === 'uploading'
                          ? msg('Uploading…', { id: 'state-uploading' })
                          : msg('Sending…', { id: 'state-sending' })
                    }</span
                  >
                  ${
                    item.state !== 'sending' && item.files.length > 0
                      ? html`<button
                          type="button"
                          class="discard"
                          @click=${() => {
                            this.discard(item);
                          }}
                        >
                          ${msg('Cancel', { id: 'cancel' })}
                        </button>`
                      : nothing
                  }`
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
    const files = this.view.composerFiles;
    return html`<form part="composer" class="composer" @submit=${this.onSubmit}>
      <label class="visually-hidden" for="input">${msg('Message', { id: 'composer-label' })}</label>
      <input
        id="files"
        class="visually-hidden"
        type="file"
        multiple
        accept=${ACCEPTED_FILES}
        tabindex="-1"
        aria-hidden="true"
        @change=${this.onFilesChosen}
      />
      <div class="field">
        ${
          files.length > 0
            ? html`<ul class="drafts" aria-label=${msg('Files to send', { id: 'files-to-send' })}>
                ${files.map(
                  (file) =>
                    html`<li class="draft">
                      <span class="file-name">${this.describeFile(file, file.type)}</span>
                      <button
                        type="button"
                        class="remove"
                        aria-label=${msg(str`Remove ${file.name}`, { id: 'file-remove' })}
                        @click=${() => {
                          this.removeFile(file);
                        }}
                      >
                        ×
                      </button>
                    </li>`,
                )}
              </ul>`
            : nothing
        }
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
          @paste=${this.onPaste}
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
        <p class="file-status" role="status">${this.view.fileStatus}</p>
      </div>
      <button
        part="attach"
        class="attach"
        type="button"
        ?disabled=${reason !== undefined}
        @click=${() => {
          this.renderRoot.querySelector<HTMLInputElement>('#files')?.click();
        }}
      >
        ${msg('Attach', { id: 'attach' })}
      </button>
      <button
        part="send"
        class="send"
        type="submit"
        ?disabled=${reason !== undefined || over || (!hasVisibleText(this.view.composerText) && files.length === 0)}
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
      class="chat ${this.view.dragging ? 'dragging' : ''}"
      aria-label=${this.chat.snapshot?.title ?? msg('Conversation', { id: 'title-default' })}
      @dragenter=${this.onDrag}
      @dragover=${this.onDrag}
      @dragleave=${this.onDrag}
      @drop=${this.onDrag}
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
