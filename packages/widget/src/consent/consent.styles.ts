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
  .hash {
    color: var(--_muted);
    font-size: 0.9em;
  }
  .hash {
    overflow-wrap: anywhere;
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
  .meaning {
    font-weight: 600;
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
