// The conversation's system entries as the chat shows them: a quiet, centred line with its time,
// worded here in the reader's language from the ids and stored names the relay sends.
import { css, html, type TemplateResult } from 'lit';
import { msg, str } from '@lit/localize';
import { careTitleLabel, relationshipLabel } from '../i18n/vocabulary.js';
import type {
  ConversationEvent,
  EventParticipant,
  EventView,
  MessageView,
} from '@carethread/shared';

/** Messages and system entries in one list, by sequence number. */
export const withEvents = (messages: readonly MessageView[], events: readonly EventView[]) =>
  [...messages, ...events].sort((a, b) => a.seq - b.seq);

/** "Bob Moreno (brother)": a name with the relationship or title, a common term translated. */
const who = (p: EventParticipant) => {
  const label = p.relationship
    ? relationshipLabel(p.relationship)
    : p.title && careTitleLabel(p.title);
  return label ? `${p.displayName} (${label})` : p.displayName;
};

/** The sentence for `event` in the current locale. */
export function eventText(event: ConversationEvent, locale: string): string {
  switch (event.type) {
    case 'participant.added':
      return msg(str`${who(event.participant)} joined`, { id: 'event-joined' });
    case 'participant.removed':
      return msg(str`${who(event.participant)} left`, { id: 'event-left' });
    case 'participant.role-changed': {
      const name = event.participant.displayName;
      const role = event.participant.role;
      return role === 'patient'
        ? msg(str`${name} is now the patient`, { id: 'event-role-patient' })
        : role === 'family'
          ? msg(str`${name} is now a family member`, { id: 'event-role-family' })
          : msg(str`${name} is now in the care team`, { id: 'event-role-care-team' });
    }
  }
  const to = new Intl.ListFormat(locale).format(event.recipients.map((r) => r.displayName));
  const until = new Intl.DateTimeFormat(locale, { dateStyle: 'medium' }).format(
    new Date(event.expiresAt),
  );
  const signer = event.signer.displayName;
  // Null: the organisation's back end acted (the care team), or the relay (an expiry).
  const by = event.by?.displayName ?? msg('The care team', { id: 'event-care-team' });
  switch (event.type) {
    case 'consent.requested':
      return msg(str`${by} asked ${signer} to share this conversation with ${to}`, {
        id: 'event-consent-requested',
      });
    case 'consent.signed':
      return msg(str`${signer} shared this conversation with ${to} until ${until}`, {
        id: 'event-consent-signed',
      });
    case 'consent.declined':
      return msg(str`${signer} declined to share this conversation with ${to}`, {
        id: 'event-consent-declined',
      });
    case 'consent.revoked':
      return msg(
        str`${event.by?.displayName ?? signer} stopped sharing this conversation with ${to}`,
        {
          id: 'event-consent-revoked',
        },
      );
    case 'consent.expired':
      return msg(str`Sharing this conversation with ${to} ended on ${until}`, {
        id: 'event-consent-expired',
      });
    case 'consent.request-expired':
      return msg(str`The request to share this conversation with ${to} expired`, {
        id: 'event-consent-request-expired',
      });
    case 'consent.cancelled':
      return msg(str`${by} withdrew the request to share this conversation with ${to}`, {
        id: 'event-consent-cancelled',
      });
  }
}

/** One system entry as a line of the log; text bindings only (names are stored, not trusted). */
export function renderSystemEntry(
  entry: EventView,
  locale: string,
  time: Intl.DateTimeFormat,
): TemplateResult {
  return html`<p part="system-entry" class="system-entry" data-seq=${entry.seq}>
    <span>${eventText(entry.event, locale)}</span>
    <time datetime=${entry.at}>${time.format(new Date(entry.at))}</time>
  </p>`;
}

export const systemEntryStyles = css`
  .system-entry {
    align-self: center;
    margin: 0.5rem 1rem;
    text-align: center;
    font-size: 0.8em;
    color: var(--_muted);
  }
  .system-entry time {
    margin-inline-start: 0.4em;
    white-space: nowrap;
  }
`;
