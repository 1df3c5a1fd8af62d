// Appearance of <carethread-chat>, on top of the shared theme (base/theme.styles.ts); hosts
// restyle through the --carethread-* properties and ::part().
import { css } from 'lit';

export const chatStyles = css`
  :host {
    /* Never taller than the screen: on a phone the composer stays in view. */
    height: var(--carethread-height, min(32rem, 100dvh));
  }
  .chat {
    /* The layout follows the element's own width, not the page's (it may sit in a side pane). */
    container-type: inline-size;
    position: relative;
    display: flex;
    flex-direction: column;
    height: 100%;
    background: var(--_background);
    border: 1px solid var(--_border);
    border-radius: var(--_radius);
    overflow: hidden;
    /* Names, titles and text from people may be one long word: they wrap, not widen the chat. */
    overflow-wrap: anywhere;
  }
  .config-error {
    padding: 1rem;
    color: var(--_danger);
    justify-content: center;
  }
  .header {
    padding: 0.75rem 1rem 0.5rem;
    background: var(--_surface);
    border-bottom: 1px solid var(--_border);
  }
  .title {
    margin: 0 0 0.25rem;
    font-size: 1.1em;
  }
  .participants {
    display: flex;
    flex-wrap: wrap;
    gap: 0.25rem 1rem;
    margin: 0;
    padding: 0;
    list-style: none;
    font-size: 0.875em;
  }
  .participant {
    display: inline-flex;
    align-items: center;
    gap: 0.35rem;
  }
  .presence {
    width: 0.6rem;
    height: 0.6rem;
    border-radius: 50%;
    border: 2px solid var(--_muted);
  }
  .presence.online {
    background: var(--_online);
    border-color: var(--_online);
  }
  .badge {
    padding: 0 0.4rem;
    border-radius: 999px;
    border: 1px solid var(--_border);
    color: var(--_muted);
    font-size: 0.8em;
  }
  .notice {
    margin: 0;
    padding: 0.4rem 1rem;
    font-size: 0.85em;
    color: var(--_muted);
    border-bottom: 1px solid var(--_border);
  }
  .banner:empty {
    display: none;
  }
  .banner {
    padding: 0.5rem 1rem;
    font-size: 0.9em;
    background: var(--_surface);
    border-bottom: 1px solid var(--_border);
  }
  .log,
  .outbox {
    display: flex;
    flex-direction: column;
    gap: 0.2rem;
  }
  .log {
    flex: 1;
    overflow-y: auto;
    /* The element keeps the reading position itself when older messages load above. */
    overflow-anchor: none;
    padding: 0.5rem 1rem;
    overscroll-behavior: contain;
  }
  .log:focus-visible,
  .message:focus-visible,
  button:focus-visible,
  textarea:focus-visible,
  a:focus-visible {
    outline: 3px solid var(--_accent);
    outline-offset: 2px;
  }
  .older {
    min-height: 1.5em;
    margin: 0.25rem 0;
  }
  .older,
  .empty {
    text-align: center;
    color: var(--_muted);
    font-size: 0.875em;
  }
  .day-heading {
    margin: 0.75rem 0 0.25rem;
    text-align: center;
    font-size: 0.8em;
    font-weight: 600;
    color: var(--_muted);
  }
  .message {
    display: flex;
    flex-shrink: 0;
    flex-direction: column;
    align-items: flex-start;
    max-width: 80%;
  }
  .message.mine {
    align-self: flex-end;
    align-items: flex-end;
  }
  .message.first:not(:first-child) {
    margin-top: 0.5rem;
  }
  .sender {
    display: flex;
    flex-wrap: wrap;
    gap: 0.4rem;
    align-items: baseline;
    margin-top: 0.25rem;
    font-size: 0.85em;
    font-weight: 600;
  }
  .bubble {
    padding: 0.4rem 0.75rem;
    border-radius: var(--_radius);
    background: var(--_surface);
  }
  .mine .bubble {
    background: var(--_accent);
    color: var(--_accent-contrast);
  }
  .mine .bubble a {
    color: inherit;
  }
  .failed .bubble {
    background: var(--_surface);
    color: var(--_text);
    border: 2px solid var(--_danger);
  }
  .text {
    margin: 0;
    white-space: pre-wrap;
  }
  .deleted {
    font-style: italic;
  }
  .message:not(.mine) .deleted {
    color: var(--_muted);
  }
  .meta {
    display: flex;
    flex-wrap: wrap;
    gap: 0.5rem;
    align-items: center;
    justify-content: flex-end;
    font-size: 0.75em;
  }
  .state.failed {
    color: var(--_danger);
    font-weight: 600;
  }
  .message:focus {
    outline: none;
  }
  .message:focus-visible {
    border-radius: var(--_radius);
  }
  /* One's own message's options: a quiet button that shows on hover and focus, as chat products
     do, and always where there is no hover (touch), where it cannot be found otherwise. */
  .options {
    min-width: 1.75rem;
    padding: 0 0.35rem;
    border: none;
    border-radius: 0.4rem;
    background: transparent;
    color: inherit;
    font: inherit;
    font-size: 1.2em;
    line-height: 1;
    cursor: pointer;
  }
  @media (hover: hover) {
    .message:not(:hover, :focus-within, .open) .options {
      opacity: 0;
    }
  }
  .actions {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    justify-content: flex-end;
    gap: 0.4rem;
    margin-top: 0.3rem;
    font-size: 0.85em;
  }
  .readers {
    flex-basis: 100%;
    margin: 0;
    text-align: end;
    color: var(--_muted);
  }
  .actions button,
  .editor button {
    padding: 0.3rem 0.7rem;
  }
  .actions .danger {
    border-color: var(--_danger);
    background: var(--_danger);
    color: var(--_danger-contrast);
  }
  .editor textarea {
    min-width: min(20rem, 60vw);
    color: var(--_text);
  }
  .editor-buttons {
    display: flex;
    justify-content: flex-end;
    gap: 0.4rem;
    margin-top: 0.3rem;
  }
  .unread-marker {
    align-self: stretch;
    margin: 0.5rem 0;
    border-top: 2px solid var(--_danger);
    color: var(--_danger);
    font-size: 0.75em;
    font-weight: 600;
    text-align: center;
  }
  .jump {
    align-self: center;
    margin: 0.25rem 0 0;
    padding: 0.35rem 0.75rem;
    border: none;
    border-radius: 999px;
    background: var(--_accent);
    color: var(--_accent-contrast);
    font: inherit;
    font-size: 0.85em;
    cursor: pointer;
    box-shadow: 0 1px 4px rgb(0 0 0 / 30%);
  }
  .typing {
    min-height: 1.3em;
    padding: 0 1rem;
    font-size: 0.8em;
    color: var(--_muted);
  }
  .composer {
    display: flex;
    gap: 0.5rem;
    align-items: flex-start;
    padding: 0.5rem 1rem 0.75rem;
    border-top: 1px solid var(--_border);
  }
  .field {
    flex: 1;
    min-width: 0;
  }
  textarea {
    display: block;
    width: 100%;
    resize: vertical;
    min-height: 2.75rem;
    max-height: 10rem;
    padding: 0.5rem;
    font: inherit;
    color: var(--_text);
    background: var(--_background);
    border: 1px solid var(--_muted);
    border-radius: 0.5rem;
  }
  textarea:disabled {
    opacity: 0.7;
  }
  .composer-meta {
    display: flex;
    justify-content: space-between;
    gap: 0.5rem;
    font-size: 0.75em;
    color: var(--_muted);
  }
  .counter.over {
    color: var(--_danger);
    font-weight: 600;
  }
  .reason {
    margin: 0;
    font-size: 0.8em;
    color: var(--_muted);
  }
  .reason.error {
    color: var(--_danger);
  }
  .reason:empty {
    display: none;
  }
  .attach,
  .send {
    display: inline-flex;
    align-items: center;
    gap: 0.35rem;
    min-height: 2.75rem;
  }
  .icon {
    width: 1.15em;
    height: 1.15em;
    fill: none;
    stroke: currentColor;
    stroke-width: 2;
    stroke-linecap: round;
    stroke-linejoin: round;
  }
  .send .icon {
    display: none;
  }
  .send {
    padding: 0.6rem 1.1rem;
    border: none;
    border-radius: 0.5rem;
    background: var(--_accent);
    color: var(--_accent-contrast);
    font: inherit;
    font-weight: 600;
    cursor: pointer;
  }
  .send:disabled,
  .attach:disabled {
    cursor: not-allowed;
    opacity: 0.6;
  }
  .chat.dragging {
    outline: 3px dashed var(--_accent);
    outline-offset: -3px;
  }
  /* The chat's secondary buttons. */
  .attach,
  .files button,
  .save-file,
  .actions button,
  .editor button {
    border: 1px solid var(--_muted);
    border-radius: 0.5rem;
    background: var(--_background);
    color: var(--_text);
    font: inherit;
    cursor: pointer;
  }
  .attach {
    padding: 0.55rem 0.7rem;
  }
  .files,
  .drafts {
    display: flex;
    flex-wrap: wrap;
    gap: 0.35rem;
    margin: 0.3rem 0;
    padding: 0;
    list-style: none;
  }
  .files button {
    display: flex;
    flex-direction: column;
    align-items: flex-start;
    max-width: 16rem;
    padding: 0.35rem 0.6rem;
    border-color: var(--_border);
    text-align: start;
  }
  .files li:has(.thumb) {
    display: flex;
    flex-direction: column;
    align-items: flex-start;
    gap: 0.2rem;
  }
  .save-file {
    padding: 0.1rem 0.5rem;
    font-size: 0.8em;
  }
  .files .thumb {
    padding: 0;
    overflow: hidden;
  }
  .thumb img {
    display: block;
    max-width: 14rem;
    max-height: 10rem;
  }
  li.file {
    display: grid;
    gap: 0.15rem;
    min-width: 10rem;
    font-size: 0.85em;
  }
  .file-name {
    font-weight: 600;
  }
  .file-meta {
    font-size: 0.8em;
    color: var(--_muted);
  }
  .mine li.file .file-meta {
    color: inherit;
  }
  .draft {
    display: flex;
    align-items: center;
    gap: 0.3rem;
    max-width: 100%;
    padding: 0.1rem 0.2rem 0.1rem 0.5rem;
    border: 1px solid var(--_border);
    border-radius: 0.5rem;
    font-size: 0.8em;
  }
  /* A long file name ends in an ellipsis on one line (its whole name is in the title and is
     what a screen reader says), rather than breaking mid-word into a tall oval. */
  .draft .file-name {
    min-width: 0;
    overflow: hidden;
    white-space: nowrap;
    text-overflow: ellipsis;
    overflow-wrap: normal;
  }
  .remove {
    border: none;
    background: transparent;
    color: inherit;
    font: inherit;
    font-size: 1.2em;
    line-height: 1;
    cursor: pointer;
  }
  .file-status {
    margin: 0;
    font-size: 0.8em;
  }
  .file-status:empty {
    display: none;
  }
  /* The hint speaks of keys: only where there is a keyboard's pointer beside it. */
  @media not ((hover: hover) and (pointer: fine)) {
    .hint {
      display: none;
    }
  }
  /* A phone, or a narrow pane: a compact header (the participants still wrap: a row that
     scrolled sideways would hide people from keyboard users), and a message box across the width with Attach and Send as icons (their names stay for
     screen readers). */
  @container (max-width: 30rem) {
    .header {
      padding: 0.4rem 0.75rem 0.3rem;
    }
    .title {
      margin: 0;
      font-size: 1em;
    }
    .participants {
      gap: 0 0.6rem;
      font-size: 0.8em;
    }
    .notice {
      padding: 0.25rem 0.75rem;
      font-size: 0.8em;
    }
    .log {
      padding: 0.4rem 0.6rem;
    }
    .message {
      max-width: 90%;
    }
    .composer {
      gap: 0.35rem;
      padding: 0.4rem 0.5rem 0.5rem;
      align-items: flex-end;
    }
    .composer-meta .hint {
      display: none;
    }
    /* One line to start with, growing with the text (up to its max-height). */
    textarea {
      field-sizing: content;
    }
    .attach,
    .send {
      justify-content: center;
      min-width: 2.75rem;
      padding: 0.5rem;
    }
    .attach .label,
    .send .label {
      position: absolute;
      width: 1px;
      height: 1px;
      overflow: hidden;
      clip: rect(0 0 0 0);
      white-space: nowrap;
    }
    .send .icon {
      display: block;
    }
  }
`;
