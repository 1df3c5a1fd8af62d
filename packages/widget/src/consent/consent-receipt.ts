// What the signer reads once a request is answered or closed: after signing, who may read until
// when and the signed copy (whose audit page carries the record's hash); after a decline, what an earlier
// consent still shares and how to stop it; otherwise where the request stands.
import { html, type TemplateResult } from 'lit';
import { msg, str } from '@lit/localize';
import type { ConsentRequestView } from '@carethread/shared';
import { longDate, people, renderPdfLink, sharedWhat, status } from './consent-facts.js';

/** What the outcome shows; the consent element provides it at each render. */
export interface Outcome {
  readonly request: ConsentRequestView;
  readonly pdfUrl: string | undefined;
  /** After a decline: the reader's consents still in effect for the same people. */
  readonly stillShared: readonly ConsentRequestView[];
  readonly locale: string;
  /** Goes to the reader's consents. */
  readonly toList: () => void;
}

/** The outcome's sentences, spoken by the live region as they are shown. */
export function outcomeText({ request, stillShared, locale }: Outcome): string {
  if (request.state === 'signed')
    return msg(
      str`${people(request.recipients)} can see ${sharedWhat(request, locale)} until ${longDate(request.expiresAt, locale)}. You can revoke this at any time under “Your consents”.`,
      { id: 'consent-signed-text' },
    );
  if (request.state !== 'declined') return status(request, locale);
  if (stillShared.length === 0) return msg('Nothing was shared.', { id: 'consent-nothing-shared' });
  return [
    ...stillShared.map((c) =>
      msg(
        str`Your earlier consent still lets ${people(c.recipients)} see ${sharedWhat(c, locale)} until ${longDate(c.expiresAt, locale)}.`,
        { id: 'consent-still-shared' },
      ),
    ),
    msg('To stop it, revoke it under “Your consents”.', { id: 'consent-how-to-stop' }),
  ].join(' ');
}

export function renderOutcome(outcome: Outcome): TemplateResult {
  const { request } = outcome;
  const heading =
    request.state === 'signed'
      ? msg('You signed this form', { id: 'consent-signed' })
      : request.state === 'declined'
        ? msg('You declined this request', { id: 'consent-declined' })
        : msg('This request can no longer be signed.', { id: 'consent-closed' });
  return html`<div part="receipt" class="receipt">
    <h3 tabindex="-1">${heading}</h3>
    <p>${outcomeText(outcome)}</p>
    ${renderPdfLink(request, outcome.pdfUrl)}
    <button type="button" @click=${outcome.toList}>
      ${msg('Your consents', { id: 'consent-list-title' })}
    </button>
  </div>`;
}
