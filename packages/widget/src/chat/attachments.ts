// Shared files as the chat shows them: a thumbnail or a card for each file of a message, upload
// progress for each file of one not yet sent, and the "name, type, size" line readers hear.
import { html, nothing, type TemplateResult } from 'lit';
import { msg, str } from '@lit/localize';
import type { AttachmentView } from '@carethread/shared';
import type { OutboxFile } from '../client/index.js';

/** What a message's files need of the chat: its locale, the thumbnails, and opening a file. */
export interface SharedFiles {
  /** The locale sizes are written in. */
  readonly locale: string;
  /** Object URLs of shown images by file id; empty while one is loading. */
  readonly previews: ReadonlyMap<string, string>;
  /** Opens an image in a new tab (`open`), or saves a file (pictures too) under its name. */
  openFile(attachment: AttachmentView, open: boolean): void;
  /** A thumbnail loaded: its height arrived, so the newest message may need scrolling to. */
  imageLoaded(): void;
}

export function formatSize(bytes: number, locale: string): string {
  const mega = bytes >= 1e6;
  return new Intl.NumberFormat(locale, {
    style: 'unit',
    unit: mega ? 'megabyte' : 'kilobyte',
    maximumFractionDigits: 1,
  }).format(mega ? bytes / 1e6 : Math.max(bytes / 1e3, 0.1));
}

/** "scan.pdf, PDF, 30 kB": what a card shows and a screen reader says. */
export function describeFile(
  file: { name: string; size: number },
  type: string,
  locale: string,
): string {
  const format = (type.split('/')[1] ?? '').replace('plain', 'txt').toUpperCase();
  return [file.name, format, formatSize(file.size, locale)].filter(Boolean).join(', ');
}

export function renderAttachments(
  files: SharedFiles,
  attachments: AttachmentView[] | undefined,
): TemplateResult | typeof nothing {
  if (!attachments?.length) return nothing;
  return html`<ul class="files" aria-label=${msg('Files', { id: 'files-label' })}>
    ${attachments.map((attachment) => {
      const preview = files.previews.get(attachment.fileId);
      const description = describeFile(attachment, attachment.contentType, files.locale);
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
          @click=${() => {
            files.openFile(attachment, preview !== undefined && preview !== '');
          }}
        >
          ${
            preview
              ? html`<img
                  src=${preview}
                  alt=""
                  @load=${() => {
                    files.imageLoaded();
                  }}
                />`
              : html`<span class="file-name">${attachment.name}</span>
                  <span class="file-meta">${description.slice(attachment.name.length + 2)}</span>`
          }
        </button>
        ${
          preview
            ? html`<button
                type="button"
                class="save-file"
                aria-label=${msg(str`Save ${description}`, { id: 'file-save' })}
                @click=${() => {
                  files.openFile(attachment, false);
                }}
              >
                ${msg('Save', { id: 'file-save-short' })}
              </button>`
            : nothing
        }
      </li>`;
    })}
  </ul>`;
}

export function renderOutboxFile(file: OutboxFile, failed: boolean): TemplateResult {
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
