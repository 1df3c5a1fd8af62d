// What the signer reads once a request is answered or closed: after signing, the receipt and the
// signed PDF; after a decline, that nothing was shared; otherwise where the request stands.
import { html, nothing, type TemplateResult } from 'lit';
import { msg, str } from '@lit/localize';
import type { ConsentSignResult, ConsentState } from '@carethread/shared';

/** What the outcome shows; the consent element provides it at each render. */
export interface Outcome {
  readonly requestId: string;
  readonly state: ConsentState | undefined;
  /** Just signed here: the record and its receipt. */
  readonly signed: ConsentSignResult | undefined;
  readonly pdfUrl: string | undefined;
  /** Goes to the reader's consents. */
  readonly toList: () => void;
}

export function renderOutcome(outcome: Outcome): TemplateResult {
  const { state, signed } = outcome;
  const text =
    state === 'signed'
      ? msg('Signed. A copy is below; the receipt proves what you signed and when.', {
          id: 'consent-signed',
        })
      : state === 'declined'
        ? msg('You declined this request. Nothing was shared.', { id: 'consent-declined' })
        : msg(str`This request is ${state ?? ''} and can no longer be signed.`, {
            id: 'consent-closed',
          });
  return html`<div part="receipt" class="receipt" role="status">
    <p>${text}</p>
    ${
      signed
        ? html`<p class="hash">
            ${msg('Record', { id: 'consent-record' })}: <code>${signed.recordHash}</code>
          </p>`
        : nothing
    }
    ${
      outcome.pdfUrl
        ? html`<a href=${outcome.pdfUrl} download="consent-${outcome.requestId}.pdf"
            >${msg('Download the signed PDF', { id: 'consent-pdf' })}</a
          >`
        : nothing
    }
    <button type="button" @click=${outcome.toList}>
      ${msg('Your consents', { id: 'consent-list-title' })}
    </button>
  </div>`;
}
