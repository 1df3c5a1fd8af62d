// The reader's consents when no request is named: each with whom it shares, its state and end
// date, "review and sign" for those waiting, and revocation (a typed signature) for those in effect.
import { html, nothing, type TemplateResult } from 'lit';
import { msg, str } from '@lit/localize';
import type { ConsentRequestView } from '@carethread/shared';

/** What the list shows and what its buttons do; the consent element provides it at each render. */
export interface ConsentList {
  readonly consents: readonly ConsentRequestView[];
  /** The locale dates are written in. */
  readonly locale: string;
  /** The consent whose revocation form is open. */
  readonly revoking: string | undefined;
  review(requestId: string): void;
  /** Opens the revocation form of one consent. */
  startRevoking(requestId: string): void;
  revoke(event: SubmitEvent): void;
}

export function renderConsentList(list: ConsentList): TemplateResult {
  const date = new Intl.DateTimeFormat(list.locale, { dateStyle: 'medium' });
  const states: Record<string, string> = {
    requested: msg('waiting for your signature', { id: 'consent-state-requested' }),
    viewed: msg('waiting for your signature', { id: 'consent-state-requested' }),
    signed: msg('in effect', { id: 'consent-state-signed' }),
    declined: msg('declined', { id: 'consent-state-declined' }),
    revoked: msg('revoked', { id: 'consent-state-revoked' }),
    expired: msg('expired', { id: 'consent-state-expired' }),
    cancelled: msg('withdrawn by your care team', { id: 'consent-state-cancelled' }),
  };
  if (list.consents.length === 0)
    return html`<p>${msg('You have no consents.', { id: 'consent-none' })}</p>`;
  return html`<ul class="consents">
    ${list.consents.map(
      (c) =>
        html`<li>
          <p>
            <strong>${c.recipients.map((r) => r.displayName).join(', ')}</strong> —
            ${states[c.state]}
            ${
              // The end date says how long a consent runs (or ran); a request that never took
              // effect, or one withdrawn early, has none to show.
              c.state === 'declined' || c.state === 'revoked' || c.state === 'cancelled'
                ? nothing
                : html`(${msg(str`until ${date.format(new Date(c.expiresAt))}`, {
                    id: 'consent-list-until',
                  })})`
            }
          </p>
          ${
            c.state === 'requested' || c.state === 'viewed'
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
                  @click=${() => {
                    list.startRevoking(c.requestId);
                  }}
                >
                  ${msg('Revoke…', { id: 'consent-revoke-open' })}
                </button>`
              : nothing
          }
          ${
            list.revoking === c.requestId
              ? html`<form
                  class="confirm"
                  @submit=${(event: SubmitEvent) => {
                    list.revoke(event);
                  }}
                >
                  <p>
                    ${msg(
                      'Revoking stops sharing at once. What was already shared stays shared. Type your name to sign the revocation.',
                      { id: 'consent-revoke-explain' },
                    )}
                  </p>
                  <label class="field"
                    >${msg('Your full name', { id: 'consent-revoke-name' })}
                    <input name="confirm-name" autocomplete="name" required maxlength="200"
                  /></label>
                  <button class="primary" type="submit">
                    ${msg('Revoke this consent', { id: 'consent-revoke' })}
                  </button>
                </form>`
              : nothing
          }
        </li>`,
    )}
  </ul>`;
}
