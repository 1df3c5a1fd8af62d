// What a consent says in a few labelled lines (whom it shares with, why, when it was asked for and
// until when), where it stands in words with its time, and the file name of its signed copy; dates
// in the reader's locale.
import { html, nothing, type TemplateResult } from 'lit';
import { msg, str } from '@lit/localize';
import type { ConsentRecipient, ConsentRequestView, ConsentScope } from '@carethread/shared';
import { relationshipLabel } from '../i18n/vocabulary.js';

/** The recipients with their relationship in the reader's language: "Bob Moreno (brother)". */
export const people = (
  recipients: readonly Pick<ConsentRecipient, 'displayName' | 'relationship'>[],
) =>
  recipients
    .map((r) =>
      r.relationship ? `${r.displayName} (${relationshipLabel(r.relationship)})` : r.displayName,
    )
    .join(', ');

/** One scope in words that fit "Bob can see …" and a list alike. */
function scopeWords(scope: ConsentScope): string {
  switch (scope) {
    case 'messages':
      return msg('the care conversation', { id: 'consent-scope-messages' });
    case 'files':
      return msg('the files shared in it', { id: 'consent-scope-files' });
    case 'goals':
      return msg('the care plan and its progress', { id: 'consent-scope-goals' });
    case 'scores':
      return msg('questionnaire scores', { id: 'consent-scope-scores' });
    case 'trend':
      return msg('whether questionnaire results improve', { id: 'consent-scope-trend' });
  }
}

/**
 * What a consent shares, in one phrase of the reader's language: "the care conversation and the
 * files shared in it". The trend goes without saying when the scores are shared.
 */
export function sharedWhat({ scopes }: Pick<ConsentRequestView, 'scopes'>, locale: string): string {
  const words = scopes
    .filter((scope) => scope !== 'trend' || !scopes.includes('scores'))
    .map(scopeWords);
  return new Intl.ListFormat(locale, { type: 'conjunction' }).format(words);
}

export const longDate = (iso: string, locale: string) =>
  new Intl.DateTimeFormat(locale, { dateStyle: 'long' }).format(new Date(iso));

/** Date and time: two answers on one day stay apart. */
const dateTime = (iso: string, locale: string) =>
  new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' }).format(
    new Date(iso),
  );

/** Waiting for an answer (0), in effect (1) or ended (2): the list's order. */
export const rank = ({ state }: ConsentRequestView) =>
  state === 'requested' || state === 'viewed' ? 0 : state === 'signed' ? 1 : 2;

/** Whether `consent` was signed, so that it has a signed copy. */
export const wasSigned = ({ state }: ConsentRequestView) =>
  state === 'signed' || state === 'revoked' || state === 'expired';

/**
 * Where `consent` stands, in words with its time. `patient`: for the care team, who is to sign;
 * the signer reads "your signature".
 */
export function status(consent: ConsentRequestView, locale: string, patient?: string): string {
  const at = dateTime(consent.updatedAt, locale);
  switch (consent.state) {
    case 'requested':
    case 'viewed':
      return patient
        ? msg(str`Waiting for ${patient} to sign`, { id: 'consent-status-waiting-for' })
        : msg('Waiting for your signature', { id: 'consent-status-waiting' });
    case 'signed':
      return msg(str`In effect since ${at}`, { id: 'consent-status-signed' });
    case 'declined':
      return msg(str`Declined on ${at}`, { id: 'consent-status-declined' });
    case 'revoked':
      return msg(str`Revoked on ${at}`, { id: 'consent-status-revoked' });
    case 'expired':
      return msg(str`Expired on ${dateTime(consent.expiresAt, locale)}`, {
        id: 'consent-status-expired',
      });
    case 'cancelled':
      return msg(str`Withdrawn on ${at}`, { id: 'consent-status-cancelled' });
  }
}

/**
 * The labelled lines of `consent`: with whom (`withRecipients`), the purpose, when it was asked
 * for and, while it is open or in effect, until when.
 */
export function renderFacts(
  consent: ConsentRequestView,
  locale: string,
  withRecipients: boolean,
): TemplateResult {
  return html`<dl class="summary">
    ${
      withRecipients
        ? html`<dt>${msg('Shared with', { id: 'consent-shared-with' })}</dt>
            <dd>${people(consent.recipients)}</dd>`
        : nothing
    }
    <dt>${msg('What is shared', { id: 'consent-scopes' })}</dt>
    <dd class="scopes">${sharedWhat(consent, locale)}</dd>
    <dt>${msg('Purpose', { id: 'consent-ask-purpose' })}</dt>
    <dd>${consent.purpose}</dd>
    <dt>${msg('Requested', { id: 'consent-requested' })}</dt>
    <dd>${dateTime(consent.requestedAt, locale)}</dd>
    ${
      rank(consent) < 2
        ? html`<dt>${msg('Until', { id: 'consent-ask-until' })}</dt>
            <dd>${longDate(consent.expiresAt, locale)}</dd>`
        : nothing
    }
  </dl>`;
}

/**
 * A link to the signed copy of `consent` at `url`, its file name saying what it is: "Signed
 * consent, Bob Moreno (brother), 2026-11-03.pdf" (the day it was asked for, as the list shows it).
 */
export function renderPdfLink(
  consent: ConsentRequestView,
  url: string | undefined,
): TemplateResult | typeof nothing {
  if (!url) return nothing;
  const name = msg(
    str`Signed consent, ${people(consent.recipients)}, ${consent.requestedAt.slice(0, 10)}`,
    { id: 'consent-pdf-name' },
  );
  return html`<a href=${url} download="${name.replace(/[\\/:*?"<>|]/g, '')}.pdf"
    >${msg('Download the signed copy (PDF)', { id: 'consent-pdf' })}</a
  >`;
}
