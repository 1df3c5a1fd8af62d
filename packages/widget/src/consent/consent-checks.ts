// How the consent element says what is wrong: its own sentences for the relay's refusals of
// consent requests, the chat's for the rest.
import { msg } from '@lit/localize';
import type { ErrorBody } from '@carethread/shared';
import { errorText } from '../chat/messages.js';

/**
 * A refusal as the consent element says it. The relay answers a request of someone else's
 * conversation like one that does not exist, so NOT_FOUND speaks of both.
 */
export function consentErrorText(error: ErrorBody | undefined): string {
  return error?.code === 'NOT_FOUND'
    ? msg(
        'This consent request does not exist, or it is not addressed to you. Check the link or ask your care team.',
        { id: 'error-consent-not-found' },
      )
    : errorText(error);
}
