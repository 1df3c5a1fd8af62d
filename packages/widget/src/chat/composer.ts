// The chat's message form, as a Lit reactive controller: the draft (text and files), the typing
// signal, files picked, pasted or dropped, sending, and the form's template.
import {
  html,
  nothing,
  type ReactiveController,
  type ReactiveControllerHost,
  type TemplateResult,
} from 'lit';
import { msg, str } from '@lit/localize';
import { MAX_ATTACHMENTS, hasVisibleText } from '@carethread/shared';
import { describeFile, formatSize } from './attachments.js';
import type { ChatController } from './chat-controller.js';
import { errorText } from './messages.js';

/** The counter appears when this many characters or fewer are left. */
const COUNTER_FROM = 200;
/** A typing signal is re-sent at most this often while the person keeps typing. */
const TYPING_IDLE_MS = 3000;
/** What the file picker offers: the relay's default types (it decides from the content). */
const ACCEPTED_FILES =
  '.pdf,.png,.jpg,.jpeg,.heic,.txt,application/pdf,image/png,image/jpeg,image/heic,text/plain';

/** The chat element, as far as its composer is concerned. */
export interface ComposerHost extends ReactiveControllerHost {
  readonly renderRoot: HTMLElement | DocumentFragment;
  /** The relay's message length limit for this tenant. */
  readonly maxLength: number;
  /** The tenant's file size limit in bytes, checked before uploading. */
  readonly maxFileSize: number;
}

/** What the composer asks of the chat element beyond the host. */
export interface ComposerHooks {
  /** The locale file sizes are written in. */
  locale(): string;
  /** A message was handed to the conversation: the reader wants to see it arrive. */
  sent(): void;
}

export class ComposerController implements ReactiveController {
  /** The draft, and what the form says about it. */
  readonly view = {
    text: '',
    /** Files picked, dropped or pasted for the next message. */
    files: [] as File[],
    /** Files are being dragged over the chat. */
    dragging: false,
    /** Said by screen readers (and shown) after a file action: attached, removed, refused. */
    status: '',
  };
  private typingSent = false;
  private typingIdle: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly host: ComposerHost,
    private readonly chat: ChatController,
    private readonly hooks: ComposerHooks,
  ) {
    host.addController(this);
  }

  hostDisconnected(): void {
    clearTimeout(this.typingIdle);
  }

  /** Drops the draft: it is conversation content too, and leaves the page with the rest. */
  clear(): void {
    Object.assign(this.view, { text: '', files: [], status: '' });
  }

  /** Shows and announces `status` in the form's status line. */
  say(status: string): void {
    this.setView({ status });
  }

  /** Moves keyboard focus to the message box. */
  focus(options?: FocusOptions): void {
    this.host.renderRoot.querySelector('textarea')?.focus(options);
  }

  /** The whole chat takes dropped files: files dragged over it, out of it or dropped on it. */
  readonly onDrag = (event: DragEvent): void => {
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
  };

  private setView(change: Partial<ComposerController['view']>): void {
    Object.assign(this.view, change);
    this.host.requestUpdate();
  }

  private readonly onInput = (event: InputEvent): void => {
    this.setView({ text: (event.target as HTMLTextAreaElement).value });
    if (this.view.text.length === 0) {
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
  };

  private stopTyping(): void {
    clearTimeout(this.typingIdle);
    if (this.typingSent) this.chat.conversation?.setTyping(false);
    this.typingSent = false;
  }

  private readonly onKeydown = (event: KeyboardEvent): void => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      this.submit();
    }
  };

  private readonly onSubmit = (event: SubmitEvent): void => {
    event.preventDefault();
    this.submit();
  };

  private submit(): void {
    const text = this.view.text.trim();
    const files = this.view.files;
    const conversation = this.chat.conversation;
    if (
      (!hasVisibleText(text) && files.length === 0) ||
      !conversation ||
      this.disabledReason() ||
      text.length > this.host.maxLength
    )
      return;
    this.setView({ text: '', files: [], status: '' });
    this.hooks.sent();
    this.stopTyping();
    // A failure shows on the message itself, with a retry button.
    conversation.send(text, files).catch(() => undefined);
  }

  /** Adds files to the next message, refusing here what the relay would refuse anyway. */
  private addFiles(files: readonly File[]): void {
    if (this.disabledReason() || files.length === 0) return;
    const kept = [...this.view.files];
    const refused: string[] = [];
    for (const file of files) {
      if (kept.length >= MAX_ATTACHMENTS)
        refused.push(
          msg(str`At most ${MAX_ATTACHMENTS} files per message.`, { id: 'files-too-many' }),
        );
      else if (file.size > this.host.maxFileSize)
        refused.push(
          msg(
            str`${file.name} is larger than ${formatSize(this.host.maxFileSize, this.hooks.locale())}.`,
            { id: 'file-too-large' },
          ),
        );
      else kept.push(file);
    }
    const added = kept.length - this.view.files.length;
    this.setView({
      files: kept,
      status: [
        ...(added === 1 ? [msg('1 file attached.', { id: 'file-attached' })] : []),
        ...(added > 1 ? [msg(str`${added} files attached.`, { id: 'files-attached' })] : []),
        ...new Set(refused),
      ].join(' '),
    });
  }

  private removeFile(file: File): void {
    this.setView({
      files: this.view.files.filter((f) => f !== file),
      status: msg(str`${file.name} removed.`, { id: 'file-removed' }),
    });
    this.focus();
  }

  private readonly onFilesChosen = (event: Event): void => {
    const picker = event.target as HTMLInputElement;
    this.addFiles([...(picker.files ?? [])]);
    picker.value = ''; // the same file may be chosen again after removing it
  };

  private readonly onPaste = (event: ClipboardEvent): void => {
    const files = [...(event.clipboardData?.files ?? [])];
    if (files.length === 0) return;
    event.preventDefault();
    this.addFiles(files);
  };

  /** Why nothing can be written now, in the reader's words; undefined when something can. */
  private disabledReason(): string | undefined {
    if (this.chat.closed) return errorText(this.chat.closed);
    if (this.chat.state === 'ended') return errorText(this.chat.error);
    if (!this.chat.loaded)
      return msg('Connecting to the conversation…', { id: 'composer-connecting' });
    return undefined;
  }

  render(): TemplateResult {
    const reason = this.disabledReason();
    const left = this.host.maxLength - this.view.text.length;
    const over = left < 0;
    const files = this.view.files;
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
                      <span class="file-name" title=${file.name}
                        >${describeFile(file, file.type, this.hooks.locale())}</span
                      >
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
          .value=${this.view.text}
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
        <p class="file-status" role="status">${this.view.status}</p>
      </div>
      <button
        part="attach"
        class="attach"
        type="button"
        ?disabled=${reason !== undefined}
        @click=${() => {
          this.host.renderRoot.querySelector<HTMLInputElement>('#files')?.click();
        }}
      >
        <svg class="icon" viewBox="0 0 24 24" aria-hidden="true">
          <path
            d="M16.5 6.5 8.7 14.3a2 2 0 0 0 2.8 2.8l7.8-7.8a4 4 0 0 0-5.7-5.7l-7.8 7.8a6 6 0 0 0 8.5 8.5l6.4-6.4"
          />
        </svg>
        <span class="label">${msg('Attach', { id: 'attach' })}</span>
      </button>
      <button
        part="send"
        class="send"
        type="submit"
        ?disabled=${reason !== undefined || over || (!hasVisibleText(this.view.text) && files.length === 0)}
      >
        <svg class="icon" viewBox="0 0 24 24" aria-hidden="true">
          <path d="M4 12 20 4l-6 16-2.5-6.5z" />
        </svg>
        <span class="label">${msg('Send', { id: 'send' })}</span>
      </button>
    </form>`;
  }
}
