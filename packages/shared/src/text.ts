// What counts as text a person can see, well-formed text, and a display name, as plain functions
// without zod: the relay's checks, the schemas and the widget's Send button use the same rules.

/**
 * Characters that draw nothing: white space, controls, line and paragraph separators, format
 * characters (zero-width spaces and joiners, bidi controls, soft hyphens, tags), the other
 * default-ignorable code points (variation selectors, Hangul fillers, the combining grapheme
 * joiner) and the Braille blank, which renders as an empty cell.
 */
const INVISIBLE_ONLY = /^[\s\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}\u2800]*$/u;

/** A lone surrogate: in a `u` regex a surrogate that is not half of a pair is its own code point. */
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * True when `text` has at least one character a reader can see. Whitespace, zero-width and other
 * invisible characters alone do not count, so a message of only U+200B is empty.
 *
 * @example
 * hasVisibleText('\u200B \uFE0F'); // false
 * hasVisibleText(' ok '); // true
 */
export function hasVisibleText(text: string): boolean {
  return !INVISIBLE_ONLY.test(text);
}

/**
 * True when `text` is well-formed UTF-16: no lone surrogates. Ill-formed text cannot be stored
 * as UTF-8 unchanged (it reads back as U+FFFD), so the protocol refuses it. Like
 * `String.prototype.isWellFormed`, which not every supported browser has.
 *
 * @example
 * isWellFormedText('x\uDFFFy'); // false
 */
export function isWellFormedText(text: string): boolean {
  return !LONE_SURROGATE.test(text);
}

/** Longest display name, in UTF-16 code units. */
export const MAX_DISPLAY_NAME_LENGTH = 200;

/** Line breaks, tabs and the other controls, and the zero-width space: word separators. */
const SEPARATORS = /[\p{Cc}\p{Zl}\p{Zp}\u200B]/gu;
/**
 * The other format characters draw nothing and may reorder what follows (bidi overrides), so
 * they go, except the joiners (ZWNJ, ZWJ) that spell words in Persian or Indic names and join
 * emoji, and the tag characters of subdivision flags.
 */
const DROPPED_FORMAT = /(?!\u200C|\u200D|[\u{E0020}-\u{E007F}])\p{Cf}/gu;

/**
 * A display name as the relay shows it: NFC, controls and line breaks turned into spaces,
 * invisible format characters removed, runs of white space collapsed to one space, trimmed, and
 * cut to {@link MAX_DISPLAY_NAME_LENGTH}. Returns `''` when nothing visible is left. Ill-formed
 * text (lone surrogates) is not repaired: check it with {@link isWellFormedText} first.
 *
 * @example
 * normalizeDisplayName('  Alice\tMoreno\n'); // 'Alice Moreno'
 */
export function normalizeDisplayName(raw: string): string {
  let name = raw
    .normalize('NFC')
    .replace(SEPARATORS, ' ')
    .replace(DROPPED_FORMAT, '')
    .replace(/\s+/gu, ' ')
    .trim();
  if (name.length > MAX_DISPLAY_NAME_LENGTH) {
    // Never cut a surrogate pair in two.
    const end = /[\uD800-\uDBFF]/.test(name.charAt(MAX_DISPLAY_NAME_LENGTH - 1))
      ? MAX_DISPLAY_NAME_LENGTH - 1
      : MAX_DISPLAY_NAME_LENGTH;
    name = name.slice(0, end).trimEnd();
  }
  return hasVisibleText(name) ? name : '';
}

/** A C0 or C1 control character, which no name may hold since names are checked. */
const CONTROL = /\p{Cc}/u;

/**
 * A name read back from the store as views show it. Names stored before names were checked may
 * hold control characters, which every view schema refuses; those read normalised (or as
 * `fallback`, the person's id, when nothing visible is left). Others are returned unchanged, at
 * the cost of one regex test.
 *
 * @example
 * shownName('Bob\tSmith', 'bob'); // 'Bob Smith'
 */
export function shownName(stored: string, fallback: string): string {
  if (stored.length > 0 && !CONTROL.test(stored)) return stored;
  return normalizeDisplayName(stored) || fallback;
}
