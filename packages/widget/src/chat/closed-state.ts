// What the chat shows in place of a conversation it cannot show: a family member waiting for the
// patient's consent (a calm explanation of what happens next, not an error), a consent that ended,
// a removal, or a session that ended. One heading and one sentence, never the same words twice.
import { css, html, type TemplateResult } from 'lit';
import { msg } from '@lit/localize';
import type { ErrorBody } from '@carethread/shared';
import { errorText } from './messages.js';

/** Why the conversation is not shown. */
export interface ClosedReason {
  /** The conversation closed (consent, removal, access) or the session ended. */
  readonly error: ErrorBody | undefined;
  /** The session ended (token, idle, sign-in), not only this conversation. */
  readonly sessionEnded: boolean;
  /** The reader saw the conversation on this page before it closed. */
  readonly hadAccess: boolean;
}

/** `waiting`: nothing is wrong, the reader waits for the patient; `ended`: access ended. */
export type ClosedKind = 'waiting' | 'ended';

export function closedKind(reason: ClosedReason): ClosedKind {
  return !reason.sessionEnded && reason.error?.code === 'CONSENT_REQUIRED' && !reason.hadAccess
    ? 'waiting'
    : 'ended';
}

function wording(reason: ClosedReason): { heading: string; text: string } {
  if (reason.sessionEnded)
    return {
      heading: msg('Your chat session ended', { id: 'closed-session-heading' }),
      text: errorText(reason.error),
    };
  if (reason.error?.code === 'CONSENT_REQUIRED')
    return reason.hadAccess
      ? {
          heading: msg('No longer shared with you', { id: 'closed-consent-ended-heading' }),
          text: msg(
            "The patient's consent that shared this conversation with you has ended, so its messages are no longer shown here. If the patient signs a new consent, the conversation opens here again by itself.",
            { id: 'closed-consent-ended' },
          ),
        }
      : {
          heading: msg("Waiting for the patient's consent", { id: 'closed-waiting-heading' }),
          text: msg(
            'The patient has not yet shared this conversation with you. When they sign a consent that names you, it opens here by itself: you do not need to reload the page.',
            { id: 'closed-waiting' },
          ),
        };
  return {
    heading: msg('This conversation is not available here', { id: 'closed-heading' }),
    text: errorText(reason.error),
  };
}

export function renderClosed(reason: ClosedReason): TemplateResult {
  const { heading, text } = wording(reason);
  return html`<div part="closed" class="closed" data-kind=${closedKind(reason)} role="status">
    <h2 class="closed-heading" tabindex="-1">${heading}</h2>
    <p>${text}</p>
  </div>`;
}

export const closedStyles = css`
  .closed {
    flex: 1;
    display: flex;
    flex-direction: column;
    justify-content: center;
    gap: 0.5rem;
    padding: 1.5rem;
    max-width: 36rem;
    margin: 0 auto;
    text-align: center;
  }
  .closed-heading {
    margin: 0;
    font-size: 1.1em;
  }
  .closed-heading:focus {
    outline: none;
  }
  .closed p {
    margin: 0;
    color: var(--_muted);
    line-height: 1.5;
  }
  .closed[data-kind='ended'] .closed-heading {
    color: var(--_danger);
  }
`;
