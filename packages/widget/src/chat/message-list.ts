// The chat's message list: the log with day headings and the unread line, each message with its
// files, receipts and delete confirmation, and below them the messages not yet sent.
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
  /** The own message whose readers are listed. */
  readonly expandedReceipt: string | undefined;
  /** The own message whose deletion waits for a confirmation. */
  readonly confirmingDelete: string | undefined;
  /** The log scrolled. */
  scrolled(): void;
  toggleReceipt(messageId: string): void;
  /** Asks "Delete for everyone?" on `message` (or stops asking). */
  askDelete(message: MessageView, asking: boolean): void;
  deleteMessage(message: MessageView): void;
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
    tabindex="0"
    @scroll=${() => {
      list.scrolled();
    }}
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
  const expanded = list.expandedReceipt === message.id;
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
              >${roleLabel(participant(list.chat, message.sender.userId) ?? message.sender)}</span
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
            ? html`<p class="text">${renderText(message.text)}</p>`
            : nothing
      }
      ${renderAttachments(list, message.attachments)}
      <div class="meta">
        <time datetime=${message.sentAt}>${time.format(new Date(message.sentAt))}</time>
        ${message.editedAt && !message.deletedAt ? html`<span class="edited">${msg('edited', { id: 'edited' })}</span>` : nothing}
        ${mine && !message.deletedAt ? renderDelete(list, message) : nothing}
        ${
          mine
            ? readers.length > 0
              ? html`<button
                  type="button"
                  class="receipt"
                  aria-expanded=${expanded ? 'true' : 'false'}
                  @click=${() => {
                    list.toggleReceipt(message.id);
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

function renderDelete(list: MessageList, message: MessageView): TemplateResult {
  if (list.confirmingDelete !== message.id)
    return html`<button
      type="button"
      class="delete"
      @click=${() => {
        list.askDelete(message, true);
      }}
    >
      ${msg('Delete', { id: 'delete' })}
    </button>`;
  return html`<span>${msg('Delete for everyone?', { id: 'delete-confirm' })}</span>
    <button
      type="button"
      class="confirm-delete"
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
        list.askDelete(message, false);
      }}
    >
      ${msg('Cancel', { id: 'cancel' })}
    </button>`;
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
