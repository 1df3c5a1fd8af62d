// The chat's message list: the log with day headings and the unread line, each message with its
// files, and on one's own messages an options button (who read it, Edit, Delete) shown on hover
// or focus; below them the messages not yet sent.
import { html, nothing, type TemplateResult } from 'lit';
import { repeat } from 'lit/directives/repeat.js';
import { msg, str } from '@lit/localize';
import type { MessageView, ParticipantView } from '@carethread/shared';
import type { OutboxItem } from '../client/index.js';
import { renderAttachments, renderOutboxFile, type SharedFiles } from './attachments.js';
import type { ChatController } from './chat-controller.js';
import { errorText } from './messages.js';
import { roleLabel } from './participants.js';
import { renderSystemEntry, withEvents } from './system-entry.js';
import { linkify, timelineItems } from './timeline.js';

/** What the list shows and what its buttons do; the chat element provides it at each render. */
export interface MessageList extends SharedFiles {
  readonly chat: ChatController;
  /** The own message whose options are open, and which of them is under way. */
  readonly options: MessageOptions | undefined;
  /** The log scrolled. */
  scrolled(): void;
  /** A key pressed in the log: the arrow keys move between messages. */
  keyed(event: KeyboardEvent): void;
  /** Opens the options of `message`, at `step`, or closes them (undefined). */
  showOptions(message: MessageView, step: OptionsStep | undefined): void;
  deleteMessage(message: MessageView): void;
  /** Saves the corrected text of `message`. */
  editMessage(message: MessageView, text: string): void;
}

/** What the options of one's own message show: the choices, the delete question, or the editor. */
export type OptionsStep = 'menu' | 'delete' | 'edit';

export interface MessageOptions {
  readonly messageId: string;
  readonly step: OptionsStep;
}

export function renderLog(list: MessageList): TemplateResult {
  const locale = list.locale;
  const dayFormat = new Intl.DateTimeFormat(locale, {
    weekday: 'long',
    month: 'long',
    day: 'numeric',
  });
  const timeFormat = new Intl.DateTimeFormat(locale, { hour: 'numeric', minute: '2-digit' });
  const { messages, outbox, readSeqAtOpen, loaded, loadingOlder, conversation } = list.chat;
  const me = list.chat.me;
  const firstUnread = messages.find((m) => m.seq > readSeqAtOpen && m.sender.userId !== me)?.seq;
  const items = timelineItems(withEvents(messages, list.chat.events), firstUnread);
  return html`<div
    part="log"
    class="log"
    role="log"
    aria-live="polite"
    aria-relevant="additions"
    aria-label=${msg('Messages', { id: 'log-label' })}
    aria-describedby="log-keys"
    tabindex="0"
    @scroll=${() => {
      list.scrolled();
    }}
    @keydown=${(event: KeyboardEvent) => {
      list.keyed(event);
    }}
  >
    <p id="log-keys" class="visually-hidden">
      ${msg('Use the up and down arrow keys to move between messages.', { id: 'log-keys' })}
    </p>
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
      loaded && messages.length === 0 && outbox.length === 0 && !list.chat.closed
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
            : item.kind === 'event'
              ? renderSystemEntry(item.entry, locale, timeFormat)
              : renderMessage(list, item.message, item.startsRun, timeFormat),
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
              (item) => renderOutboxItem(list.chat, item),
            )}
          </div>`
        : nothing
    }
  </div>`;
}

function renderText(text: string): (TemplateResult | string)[] {
  return linkify(text).map((part) =>
    part.kind === 'link'
      ? html`<a href=${part.href} target="_blank" rel="noopener noreferrer">${part.text}</a>`
      : part.text,
  );
}

function participant(chat: ChatController, userId: string): ParticipantView | undefined {
  return chat.snapshot?.participants.find((p) => p.userId === userId);
}

function readBy(chat: ChatController, message: MessageView): ParticipantView[] {
  return (chat.snapshot?.participants ?? []).filter(
    (p) => p.userId !== message.sender.userId && p.readSeq >= message.seq,
  );
}

function renderMessage(
  list: MessageList,
  message: MessageView,
  first: boolean,
  time: Intl.DateTimeFormat,
): TemplateResult {
  const mine = message.sender.userId === list.chat.me;
  const readers = mine ? readBy(list.chat, message) : [];
  const step = list.options?.messageId === message.id ? list.options.step : undefined;
  const live = !message.deletedAt;
  return html`<article
    part=${mine ? 'message own-message' : 'message'}
    class="message ${mine ? 'mine' : ''} ${first ? 'first' : ''} ${step ? 'open' : ''}"
    data-seq=${message.seq}
    tabindex="-1"
  >
    ${
      first
        ? html`<div class="sender">
            <span class="sender-name"
              >${mine ? msg('You', { id: 'sender-you' }) : message.sender.displayName}</span
            >
            <span part="badge" class="badge role-${message.sender.role}"
              >${roleLabel(participant(list.chat, message.sender.userId) ?? message.sender)}</span
            >
          </div>`
        : nothing
    }
    <div class="bubble">
      ${
        !live
          ? html`<p class="text deleted">
              ${msg('This message was deleted.', { id: 'message-deleted' })}
            </p>`
          : step === 'edit'
            ? renderEditor(list, message)
            : message.text
              ? html`<p class="text">${renderText(message.text)}</p>`
              : nothing
      }
      ${renderAttachments(list, message.attachments)}
      <div class="meta">
        <time datetime=${message.sentAt}>${time.format(new Date(message.sentAt))}</time>
        ${message.editedAt && live ? html`<span class="edited">${msg('edited', { id: 'edited' })}</span>` : nothing}
        ${
          mine
            ? html`<span class="state"
                >${
                  readers.length > 0
                    ? msg(str`Read by ${readers.length}`, { id: 'read-by-count' })
                    : msg('Sent', { id: 'state-sent' })
                }</span
              >`
            : nothing
        }
        ${
          mine && live
            ? html`<button
                type="button"
                part="options"
                class="options"
                aria-label=${msg(str`Options for your message at ${time.format(new Date(message.sentAt))}`, { id: 'message-options' })}
                aria-expanded=${step ? 'true' : 'false'}
                @click=${() => {
                  list.showOptions(message, step ? undefined : 'menu');
                }}
              >
                <span aria-hidden="true">⋯</span>
              </button>`
            : nothing
        }
      </div>
    </div>
    ${step && step !== 'edit' ? renderOptions(list, message, step, readers) : nothing}
  </article>`;
}

/** Who read one's message, and what one can do with it: Edit, Delete (asked first). */
function renderOptions(
  list: MessageList,
  message: MessageView,
  step: OptionsStep,
  readers: ParticipantView[],
): TemplateResult {
  const close = (event: KeyboardEvent) => {
    if (event.key !== 'Escape') return;
    event.stopPropagation();
    list.showOptions(message, undefined);
  };
  return html`<div
    class="actions"
    role="group"
    aria-label=${msg('Message options', { id: 'message-options-label' })}
    @keydown=${close}
  >
    <p class="readers">
      ${
        readers.length > 0
          ? msg(str`Read by ${readers.map((r) => r.displayName).join(', ')}`, {
              id: 'read-by-names',
            })
          : msg('Not read yet', { id: 'read-by-none' })
      }
    </p>
    ${
      step === 'delete'
        ? html`<span class="question"
              >${msg('Delete for everyone?', { id: 'delete-confirm' })}</span
            >
            <button
              type="button"
              class="confirm-delete danger"
              @click=${() => {
                list.deleteMessage(message);
              }}
            >
              ${msg('Delete', { id: 'delete' })}
            </button>
            <button
              type="button"
              class="cancel-delete"
              @click=${() => {
                list.showOptions(message, 'menu');
              }}
            >
              ${msg('Cancel', { id: 'cancel' })}
            </button>`
        : html`${
              message.text
                ? html`<button
                    type="button"
                    class="edit"
                    @click=${() => {
                      list.showOptions(message, 'edit');
                    }}
                  >
                    ${msg('Edit', { id: 'edit' })}
                  </button>`
                : nothing
            }
            <button
              type="button"
              class="delete"
              @click=${() => {
                list.showOptions(message, 'delete');
              }}
            >
              ${msg('Delete', { id: 'delete' })}
            </button>`
    }
  </div>`;
}

/** The text of one's message, open for correction: Enter or Save saves, Escape or Cancel not. */
function renderEditor(list: MessageList, message: MessageView): TemplateResult {
  const save = (form: HTMLFormElement) => {
    const text = new FormData(form).get('text');
    if (typeof text === 'string' && text.trim() && text !== message.text)
      list.editMessage(message, text);
    else list.showOptions(message, undefined);
  };
  return html`<form
    class="editor"
    @submit=${(event: SubmitEvent) => {
      event.preventDefault();
      save(event.currentTarget as HTMLFormElement);
    }}
    @keydown=${(event: KeyboardEvent) => {
      if (event.key === 'Escape') {
        event.stopPropagation();
        list.showOptions(message, undefined);
      } else if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        save(event.currentTarget as HTMLFormElement);
      }
    }}
  >
    <label class="visually-hidden" for="edit-${message.seq}"
      >${msg('Edit your message', { id: 'edit-label' })}</label
    >
    <textarea id="edit-${message.seq}" name="text" rows="2" .value=${message.text}></textarea>
    <div class="editor-buttons">
      <button type="submit" class="save-edit">${msg('Save', { id: 'edit-save' })}</button>
      <button
        type="button"
        class="cancel-edit"
        @click=${() => {
          list.showOptions(message, undefined);
        }}
      >
        ${msg('Cancel', { id: 'cancel' })}
      </button>
    </div>
  </form>`;
}

function renderOutboxItem(chat: ChatController, item: OutboxItem): TemplateResult {
  const failed = item.state === 'failed';
  // A retry that fails again shows on the item, as the first failure did.
  const retry = () => {
    chat.conversation?.retry(item.id).catch(() => undefined);
  };
  const discard = () => {
    chat.conversation?.discard(item.id);
  };
  return html`<article
    part="message own-message"
    class="message mine first pending ${failed ? 'failed' : ''}"
  >
    <div class="bubble">
      ${item.text ? html`<p class="text">${item.text}</p>` : nothing}
      ${
        item.files.length > 0
          ? html`<ul class="files">
              ${item.files.map((file) => renderOutboxFile(file, failed))}
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
                <button type="button" class="retry" @click=${retry}>
                  ${msg('Retry', { id: 'retry' })}
                </button>
                <button type="button" class="discard" @click=${discard}>
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
                    ? html`<button type="button" class="discard" @click=${discard}>
                        ${msg('Cancel', { id: 'cancel' })}
                      </button>`
                    : nothing
                }`
        }
      </div>
    </div>
  </article>`;
}
