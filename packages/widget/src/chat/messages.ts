// The sentence a reader sees for each protocol error code, in the reader's language. Every code
// has one (the switch is exhaustive), so a reader never sees the relay's English sentence; for
// the codes only a site's operators can fix (wrong origin, outdated script), it says whom to tell.
import { msg } from '@lit/localize';
import type { ErrorBody, ErrorCode } from '@carethread/shared';

function sentence(code: ErrorCode): string {
  switch (code) {
    case 'UNAUTHENTICATED':
      return msg('You are not signed in to the chat. Reload the page or sign in again.', {
        id: 'error-unauthenticated',
      });
    case 'TOKEN_EXPIRED':
      return msg('Your chat session has ended. Sign in again to continue.', {
        id: 'error-token-expired',
      });
    case 'SESSION_IDLE':
      return msg(
        'The chat closed after a period without activity, to keep the conversation private. Reload the page to continue.',
        { id: 'error-session-idle' },
      );
    case 'MFA_REQUIRED':
      return msg(
        'Your organisation requires a multi-factor sign-in for this chat. Sign in again with your second factor, then reload the page.',
        { id: 'error-mfa-required' },
      );
    case 'FORBIDDEN':
      return msg(
        'You do not have access to this conversation. Ask your care team if you think you should.',
        { id: 'error-forbidden' },
      );
    // The relay answers a conversation that is not yours exactly like one that is not there.
    case 'NOT_FOUND':
      return msg(
        'This conversation does not exist, or you are not one of its participants. Check the link or ask your care team.',
        { id: 'error-not-found' },
      );
    case 'RATE_LIMITED':
      return msg('You are sending too quickly. Wait a moment and try again.', {
        id: 'error-rate-limited',
      });
    case 'TOO_LARGE':
      return msg('That message is too long. Shorten it or split it into several messages.', {
        id: 'error-too-large',
      });
    case 'UNSUPPORTED_FILE_TYPE':
      return msg(
        'This kind of file cannot be shared here. Send a PDF, a picture (PNG, JPEG, HEIC) or a plain text file.',
        { id: 'error-unsupported-file-type' },
      );
    case 'UNAVAILABLE':
      return msg('The chat is temporarily unavailable. Try again shortly.', {
        id: 'error-unavailable',
      });
    // The relay does not know a request of this script: both mean an outdated script.
    case 'UNSUPPORTED_VERSION':
    case 'UNKNOWN_EVENT':
      return msg('This page has an outdated version of the chat. Reload the page to update it.', {
        id: 'error-unsupported-version',
      });
    case 'FORBIDDEN_ORIGIN':
      return msg(
        "This website is not set up to connect to the chat. Let the website's support team know.",
        { id: 'error-forbidden-origin' },
      );
    case 'CONSENT_REQUIRED':
      return msg(
        'The patient has not shared this conversation with you. It opens here once they sign a consent that names you.',
        { id: 'error-consent-required' },
      );
    case 'VALIDATION':
      return msg(
        'The chat did not understand that request. Reload the page; if it keeps happening, contact support.',
        { id: 'error-validation' },
      );
    case 'SIGNER_NAME_MISMATCH':
      return msg('Type your full name as it appears on your account.', {
        id: 'error-signer-name-mismatch',
      });
    case 'CONFLICT':
      return msg('That changed meanwhile. Reload the page and try again.', {
        id: 'error-conflict',
      });
    case 'ARCHIVED':
      return msg(
        'Your care team has closed this conversation. You can still read it, but not write in it.',
        { id: 'error-archived' },
      );
    case 'INTERNAL':
      return msg(
        'Something went wrong in the chat. Try again; if it keeps happening, contact support.',
        { id: 'error-internal' },
      );
  }
}

/**
 * A localized sentence for `error`; a generic one when there is no error detail. `ofFile`: the
 * error answered an upload, where "too large" is about the file, not the text.
 */
export function errorText(error: ErrorBody | undefined, ofFile = false): string {
  if (!error)
    return msg('The chat is temporarily unavailable. Try again shortly.', {
      id: 'error-unavailable',
    });
  if (ofFile && error.code === 'TOO_LARGE')
    return msg('That file is larger than this chat accepts. Send a smaller file.', {
      id: 'error-file-too-large',
    });
  return sentence(error.code);
}
