// The reader's consents when no request is named: those waiting first, then those in effect, then
// those that ended, newest first; each with whom it shares, where it stands and since when, its
// dates, its signed copy, "review and sign" while waiting and revocation (a typed signature, with
// Cancel and Escape) while in effect.
import { html, nothing, type TemplateResult } from 'lit';
import { msg } from '@lit/localize';
import type { ConsentRequestView } from '@carethread/shared';
import { requiredField, requiredNote } from './consent-blocks.js';
import { renderProblems, type Problem } from './consent-checks.js';
import { people, rank, renderFacts, renderPdfLink, status } from './consent-facts.js';

/** What the list shows and what its buttons do; the consent element provides it at each render. */
export interface ConsentList {
  readonly consents: readonly ConsentRequestView[];
  /** The locale dates are written in. */
  readonly locale: string;
  /** The consent whose revocation form is open. */
  readonly revoking: string | undefined;
  /** What is wrong with the revocation, shown at the top of its form. */
  readonly problems: readonly Problem[];
  /** Links to the signed copies, by request id, as they arrive. */
  readonly pdfs: ReadonlyMap<string, string>;
  review(requestId: string): void;
  /** Opens the revocation form of one consent. */
  startRevoking(requestId: string): void;
  /** Closes the revocation form without revoking. */
  stopRevoking(): void;
  revoke(event: SubmitEvent): void;
  readonly focusField: (id: string) => void;
}

export function renderConsentList(list: ConsentList): TemplateResult {
  if (list.consents.length === 0)
    return html`<p>${msg('You have no consents.', { id: 'consent-none' })}</p>`;
  const consents = [...list.consents].sort(
    (a, b) => rank(a) - rank(b) || b.updatedAt.localeCompare(a.updatedAt),
  );
  return html`<ul class="consents">
    ${consents.map(
      (c) =>
        html`<li data-id=${c.requestId}>
          <h3 tabindex="-1">${people(c.recipients)}</h3>
          <p class="state">${status(c, list.locale)}</p>
          ${renderFacts(c, list.locale, false)} ${renderPdfLink(c, list.pdfs.get(c.requestId))}
          ${
            rank(c) === 0
              ? html`<button
                  type="button"
                  @click=${() => {
                    list.review(c.requestId);
                  }}
                >
                  ${msg('Review and sign', { id: 'consent-review' })}
                </button>`
              : nothing
          }
          ${
            c.state === 'signed' && list.revoking !== c.requestId
              ? html`<button
                  type="button"
                  class="danger"
                  @click=${() => {
                    list.startRevoking(c.requestId);
                  }}
                >
                  ${msg('Revoke…', { id: 'consent-revoke-open' })}
                </button>`
              : nothing
          }
          ${list.revoking === c.requestId ? renderRevokeForm(list) : nothing}
        </li>`,
    )}
  </ul>`;
}

function renderRevokeForm(list: ConsentList): TemplateResult {
  return html`<form
    class="confirm"
    novalidate
    @submit=${(event: SubmitEvent) => {
      list.revoke(event);
    }}
    @keydown=${(event: KeyboardEvent) => {
      if (event.key === 'Escape') list.stopRevoking();
    }}
  >
    ${renderProblems(list.problems, list.focusField)}
    <p>
      ${msg(
        'Revoking stops sharing at once. What was already shared stays shared. Type your name to sign the revocation.',
        { id: 'consent-revoke-explain' },
      )}
    </p>
    ${requiredNote()}
    ${requiredField('confirm-name', msg('Your full name', { id: 'consent-revoke-name' }), {
      autocomplete: 'name',
      maxlength: 200,
    })}
    <button class="primary danger" type="submit">
      ${msg('Revoke this consent', { id: 'consent-revoke' })}
    </button>
    <button
      type="button"
      @click=${() => {
        list.stopRevoking();
      }}
    >
      ${msg('Cancel', { id: 'cancel' })}
    </button>
  </form>`;
}
