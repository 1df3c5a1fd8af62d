// The building blocks of every schema: ids, labels, text and times, shared by the protocol and the
// consent schemas (and not exported from the package beyond what protocol.ts re-exports).
import { z } from 'zod/mini';
import { MAX_TEXT_LENGTH } from './constants.js';
import { MAX_DISPLAY_NAME_LENGTH, hasVisibleText, isWellFormedText } from './text.js';

export const printable = /^[^\p{Cc}]*$/u;

/**
 * Refuses lone surrogates, on every free-text field: the store keeps UTF-8, where they read back
 * as U+FFFD, so what the relay acked would differ from its record.
 */
export const wellFormed = () =>
  z.refine<string>(isWellFormedText, {
    message: 'must be well-formed Unicode text (it holds a lone surrogate)',
  });

/** A conversation id chosen by the host EHR (for example its encounter or episode id). */
export const ConversationId = z
  .string()
  .check(z.minLength(1), z.maxLength(128), z.regex(/^[A-Za-z0-9._:-]+$/));
/** A user's id: the `sub` of the host's token. */
export const UserId = z
  .string()
  .check(z.minLength(1), z.maxLength(255), z.regex(printable), wellFormed());
/** A message id chosen by the sending client (a UUID in practice); the idempotency key. */
export const ClientMessageId = z
  .string()
  .check(z.minLength(8), z.maxLength(64), z.regex(/^[A-Za-z0-9_-]+$/));
/** A file id chosen by the uploading client (a UUID in practice): its upload's idempotency key. */
export const FileId = z
  .string()
  .check(z.minLength(8), z.maxLength(64), z.regex(/^[A-Za-z0-9_-]+$/));
/** Per-conversation sequence number, gap-free, starting at 1. 0 means "before the first". */
export const Seq = z.int().check(z.minimum(0));
export const IsoTime = z.iso.datetime();
export const Label = z
  .string()
  .check(z.minLength(1), z.maxLength(200), z.regex(printable), wellFormed());
/**
 * A person's name, wherever one comes in: tokens (normalised to it by
 * `normalizeDisplayName`), participants added or created, the host API's sender name and consent
 * signatures. Views of stored names use `Label` (see `Sender`).
 */
export const DisplayName = z
  .string()
  .check(
    z.minLength(1),
    z.maxLength(MAX_DISPLAY_NAME_LENGTH),
    z.regex(printable),
    wellFormed(),
    z.refine(hasVisibleText, { message: 'must have a visible character' }),
  );
export const Text = z.string().check(z.minLength(1), z.maxLength(MAX_TEXT_LENGTH), wellFormed());

export const Role = z.enum(['patient', 'family', 'provider', 'staff']);
export type Role = z.infer<typeof Role>;

/**
 * The role a participant acts in: the narrower of their token's role and the role the
 * conversation gives them, so neither can widen what the other allows. Family is the narrowest
 * (it reads only under consent), then patient, then the care team. The chat service's access
 * checks and the store's append decision both decide with it.
 */
export function actingRole(tokenRole: Role, storedRole: Role): Role {
  if (tokenRole === 'family' || storedRole === 'family') return 'family';
  if (tokenRole === 'patient' || storedRole === 'patient') return 'patient';
  return storedRole;
}
