// Whether a typed signature name is the signer's name: the relay's check on signing and revoking,
// and the widget's before it sends, use this one rule (ADR 22).

/** How a typed name matched: character for character, or under {@link signatureNameKey}. */
export type SignatureNameMatch = 'exact' | 'normalized';

/**
 * Combining accents: the Combining Diacritical Marks blocks (and their supplement and extended
 * blocks, and the marks for symbols and half marks). Marks that spell a different letter in their
 * script, such as the voiced-sound marks of kana or the vowel signs of Indic scripts, are kept.
 */
// eslint-disable-next-line no-misleading-character-class -- ranges of marks, each matched on its own
const ACCENTS = /[\u0300-\u036F\u1AB0-\u1AFF\u1DC0-\u1DFF\u20D0-\u20FF\uFE20-\uFE2F]/gu;
/** Hyphens and dashes join words: "Jean-Luc" reads like "Jean Luc". */
const DASHES = /[\p{Pd}\u2212]/gu;
/**
 * Other punctuation goes: periods of initials, commas, apostrophes ("O'Brien" reads like
 * "OBrien"), and the ASCII punctuation Unicode calls symbols, and spacing accents (` ´ ^ ¨).
 */
const PUNCTUATION = /[\p{P}\p{Sk}$+<=>|~\u02B9-\u02BF]/gu;
/** Characters that draw nothing (zero-width spaces and joiners, soft hyphens...). */
const INVISIBLE = /\p{Default_Ignorable_Code_Point}/gu;

/**
 * A name as the signature check compares it: compatibility forms unfolded (NFKD: full-width
 * letters, ligatures), case folded, combining accents removed, hyphens and dashes read as spaces,
 * other punctuation and invisible characters removed, white space collapsed and trimmed.
 *
 * @example
 * signatureNameKey("  Siobhán  O’Brien-Smith. "); // 'siobhan obrien smith'
 */
export function signatureNameKey(name: string): string {
  // Punctuation goes before NFKD too, which would split a spacing accent ("O´Brien") in two.
  const unpunctuated = (text: string) => text.replace(DASHES, ' ').replace(PUNCTUATION, '');
  return unpunctuated(
    unpunctuated(name)
      .normalize('NFKD')
      // Lower, upper, lower: "ẞ" and "ß" both become "ss", as full case folding has it.
      .toLowerCase()
      .toUpperCase()
      .toLowerCase()
      .normalize('NFKD')
      .replace(ACCENTS, ''),
  )
    .replace(INVISIBLE, '')
    .replace(/\s+/gu, ' ')
    .trim();
}

/**
 * Whether `typed` is the name `expected` (the signer's name from their token): `'exact'` when the
 * same characters, `'normalized'` when equal under {@link signatureNameKey}, `undefined` when not
 * the same name. A name with nothing left to compare (only punctuation or spaces) never matches.
 *
 * @example
 * matchSignatureName('ALICE  MORENO', 'Alice Moreno'); // 'normalized'
 * matchSignatureName('Alice', 'Alice Moreno'); // undefined
 */
export function matchSignatureName(
  typed: string,
  expected: string,
): SignatureNameMatch | undefined {
  const key = signatureNameKey(typed);
  if (key === '' || key !== signatureNameKey(expected)) return undefined;
  return typed === expected ? 'exact' : 'normalized';
}
