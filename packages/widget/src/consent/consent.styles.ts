// Appearance of <carethread-consent>, on top of the shared theme (base/theme.styles.ts).
import { css } from 'lit';

export const consentStyles = css`
  .consent {
    padding: 1rem 1.25rem;
    background: var(--_background);
    border: 1px solid var(--_border);
    border-radius: var(--_radius);
  }
  h2 {
    margin: 0 0 0.5rem;
    font-size: 1.2em;
  }
  h3 {
    margin: 0.75rem 0 0.25rem;
    font-size: 1em;
  }
  .summary,
  .hint {
    color: var(--_muted);
    font-size: 0.9em;
  }
  /* What a consent shares reads as a phrase ("the care conversation and…"): capitalised here. */
  .scopes::first-letter {
    text-transform: uppercase;
  }
  /* Labelled lines: the term, then its value beside it. */
  dl {
    display: grid;
    grid-template-columns: max-content 1fr;
    gap: 0.1rem 0.75rem;
    margin: 0.25rem 0 0.75rem;
  }
  dt {
    font-weight: 600;
  }
  dd {
    margin: 0;
  }
  .consents {
    padding: 0;
    list-style: none;
  }
  .consents > li {
    padding: 0.5rem 0;
    border-top: 1px solid var(--_border);
  }
  /* Required: a visible star; screen readers hear aria-required instead. */
  .req::after {
    content: ' *' / '';
    color: var(--_danger);
  }
  .error-summary {
    margin: 0 0 1rem;
    padding: 0.5rem 1rem;
    border: 2px solid var(--_danger);
    border-radius: 0.5rem;
  }
  .error-summary ul {
    margin: 0;
    padding-left: 1.25rem;
  }
  /* Block, so that a wrapped entry keeps its bullet on its first line. */
  button.link {
    all: unset;
    display: block;
    color: var(--_danger);
    text-decoration: underline;
    cursor: pointer;
  }
  [aria-invalid='true'] {
    outline: 2px solid var(--_danger);
  }
  fieldset {
    margin: 0 0 1rem;
    padding: 0.5rem 1rem 1rem;
    border: 1px solid var(--_border);
    border-radius: 0.5rem;
  }
  legend {
    padding: 0 0.25rem;
    font-weight: 600;
  }
  .check {
    display: flex;
    gap: 0.5rem;
    align-items: flex-start;
    margin: 0.5rem 0;
  }
  .check input {
    margin-top: 0.2rem;
    flex-shrink: 0;
  }
  .field {
    display: block;
    margin: 0.5rem 0;
  }
  input:not([type='checkbox']):not([type='radio']),
  select,
  textarea {
    display: block;
    width: 100%;
    margin-top: 0.25rem;
    padding: 0.45rem;
    font: inherit;
    color: var(--_text);
    background: var(--_background);
    border: 1px solid var(--_muted);
    border-radius: 0.4rem;
  }
  .pad {
    display: block;
    width: 100%;
    max-width: 28rem;
    height: 9rem;
    margin: 0.5rem 0;
    touch-action: none;
    background: var(--_surface);
    border: 1px dashed var(--_muted);
    border-radius: 0.5rem;
  }
  .meaning,
  .state {
    font-weight: 600;
  }
  .state {
    margin: 0;
  }
  button {
    margin-top: 0.5rem;
    padding: 0.5rem 1rem;
    font: inherit;
    color: var(--_text);
    background: var(--_surface);
    border: 1px solid var(--_muted);
    border-radius: 0.5rem;
    cursor: pointer;
  }
  button.primary {
    color: var(--_accent-contrast);
    background: var(--_accent);
    border-color: var(--_accent);
    font-weight: 600;
  }
  button.danger {
    color: var(--_danger);
    border-color: var(--_danger);
  }
  button.primary.danger {
    /* Text on the danger colour: 6.5:1 on the light default, 7.7:1 on the dark one. */
    color: var(--_danger-contrast);
    background: var(--_danger);
  }
  button:disabled {
    opacity: 0.6;
    cursor: not-allowed;
  }
  .error {
    color: var(--_danger);
    font-weight: 600;
  }
  a,
  summary {
    color: var(--_accent);
  }
  /* The signed copy, on its own line above the buttons. */
  a {
    display: block;
    margin: 0.5rem 0;
  }
  summary {
    cursor: pointer;
  }
  button:focus-visible,
  input:focus-visible,
  select:focus-visible,
  textarea:focus-visible,
  summary:focus-visible,
  a:focus-visible {
    outline: 3px solid var(--_accent);
    outline-offset: 2px;
  }
`;
