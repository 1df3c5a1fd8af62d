// Error codes, their sentences and error bodies as plain values, without zod, so the browser
// bundle can use them without pulling in the schema library (errors.ts builds the schemas).

/** Every error the relay or the client reports carries one of these codes. Codes never change meaning. */
export const ERROR_CODES = [
  'UNAUTHENTICATED',
  'TOKEN_EXPIRED',
  'SESSION_IDLE',
  'MFA_REQUIRED',
  'UNSUPPORTED_VERSION',
  'FORBIDDEN',
  'FORBIDDEN_ORIGIN',
  'CONSENT_REQUIRED',
  'NOT_FOUND',
  'VALIDATION',
  'UNKNOWN_EVENT',
  'RATE_LIMITED',
  'TOO_LARGE',
  'UNSUPPORTED_FILE_TYPE',
  /** A typed signature name (signing or revoking a consent) is not the signer's name. */
  'SIGNER_NAME_MISMATCH',
  'CONFLICT',
  'ARCHIVED',
  'UNAVAILABLE',
  'INTERNAL',
] as const;

type Code = (typeof ERROR_CODES)[number];

/** The default human sentence for each code: what happened and what to do about it. */
export const errorSentences: Record<Code, string> = {
  UNAUTHENTICATED: 'You are not signed in to the chat. Reload the page or sign in again.',
  TOKEN_EXPIRED: 'Your chat session has ended. Sign in again to continue.',
  SESSION_IDLE:
    'The chat closed after a period without activity, to keep the conversation private. Reload the page to continue.',
  MFA_REQUIRED:
    'Your organisation requires a multi-factor sign-in for this chat. Sign in again with your second factor, then reload the page.',
  UNSUPPORTED_VERSION:
    'This chat client is too old or too new for the relay. Reload the page to get a matching version.',
  FORBIDDEN:
    'You do not have access to this conversation. Ask your care team if you think you should.',
  CONSENT_REQUIRED:
    "The patient's consent to share this conversation with you is pending (or no longer in effect). You will be let in once the patient signs it.",
  FORBIDDEN_ORIGIN:
    'This website is not allowed to connect to the chat relay. The site operator must add its origin to the relay configuration.',
  NOT_FOUND: 'That conversation or message does not exist. Check the link or ask your care team.',
  VALIDATION:
    'The request was not understood. Reload the page; if it keeps happening, contact support.',
  UNKNOWN_EVENT: 'The relay does not know this request. Update the chat client.',
  RATE_LIMITED: 'You are sending too quickly. Wait a moment and try again.',
  TOO_LARGE: 'That message is too long. Shorten it or split it into several messages.',
  UNSUPPORTED_FILE_TYPE:
    'This kind of file cannot be shared here. Send a PDF, a picture (PNG, JPEG, HEIC) or a plain text file.',
  SIGNER_NAME_MISMATCH:
    'The name you typed is not the name your care team has for you. Type your full name as it appears on your account.',
  CONFLICT: 'That change clashes with an earlier one. Reload the conversation and try again.',
  ARCHIVED:
    'This conversation has been closed by the care team. You can still read it, but new messages cannot be sent.',
  UNAVAILABLE:
    'The chat is temporarily unavailable. Your message will be retried; try again shortly.',
  INTERNAL:
    'Something went wrong in the chat relay. Try again; if it keeps happening, contact support.',
};

/**
 * The one answer (with NOT_FOUND) for a conversation that does not exist and for one the caller
 * is not a participant of, so that no answer tells an outsider a conversation exists.
 */
export const CONVERSATION_NOT_FOUND =
  'This conversation does not exist, or you are not one of its participants. Check the link or ask your care team.';

/** Builds an error body, defaulting the message to the code's sentence. */
export function errorBody(
  code: Code,
  message: string = errorSentences[code],
): { code: Code; message: string } {
  return { code, message };
}

/** Codes after which retrying the same request later may succeed. */
export function isRetryable(code: Code): boolean {
  return code === 'UNAVAILABLE' || code === 'RATE_LIMITED' || code === 'INTERNAL';
}
