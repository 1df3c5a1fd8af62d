// The sentence a reader sees for each protocol error code, in the reader's language. The relay's
// own sentence (English) is the fallback for other codes: those are for the site's operators
// (wrong origin, outdated script), not something a reader can act on.
import { msg } from '@lit/localize';
import type { ErrorBody, ErrorCode } from '@carethread/shared';

function sentence(code: ErrorCode): string | undefined {
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
    default:
      return undefined;
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
  return sentence(error.code) ?? error.message;
}
