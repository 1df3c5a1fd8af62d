import { describe, expect, it } from 'vitest';
import { DisplayName } from './primitives.js';
import { Sender } from './protocol.js';
import { hasVisibleText, isWellFormedText, normalizeDisplayName, shownName } from './text.js';

describe('hasVisibleText', () => {
  it('sees letters, digits, punctuation, emoji and marks', () => {
    for (const text of ['a', ' 1 ', '.', '👍', '\u200B👍\u200B', 'é', 'e\u0301', '中', '\uE000'])
      expect(hasVisibleText(text), JSON.stringify(text)).toBe(true);
  });

  it('sees nothing in whitespace, controls, format and default-ignorable characters', () => {
    const invisible = [
      '',
      ' \t\n\r',
      '\u00A0\u2003\u3000',
      '\u200B',
      '\u200C\u200D',
      '\u2060\uFEFF',
      '\u202E\u2066\u2069',
      '\u00AD',
      '\u034F',
      '\uFE0F',
      '\u{E0100}',
      '\u{E0001}\u{E0041}',
      '\u3164',
      '\u115F\u1160',
      '\u2028\u2029',
      '\u0085\u0000',
      '\u2800',
    ];
    for (const text of invisible) expect(hasVisibleText(text), JSON.stringify(text)).toBe(false);
  });
});

describe('isWellFormedText', () => {
  it('refuses lone surrogates only', () => {
    expect(isWellFormedText('👋🏽 ok')).toBe(true);
    for (const text of ['\uD800', 'x\uDFFFy', '\uDBFF', '\uDC00\uD800'])
      expect(isWellFormedText(text), JSON.stringify(text)).toBe(false);
  });
});

describe('display names', () => {
  it('normalise controls and format characters to single spaces, NFC, trimmed', () => {
    expect(normalizeDisplayName('  Alice\tMoreno\n')).toBe('Alice Moreno');
    expect(normalizeDisplayName('Alice\u0000\u0085Moreno')).toBe('Alice Moreno');
    expect(normalizeDisplayName('Zoe\u0308')).toBe('Zoë');
    expect(normalizeDisplayName('\u202EAlice\u202C')).toBe('Alice');
    expect(normalizeDisplayName('Alice\u200BMoreno')).toBe('Alice Moreno');
    expect(normalizeDisplayName('\u200B\t\uFEFF')).toBe('');
  });

  it('keep the joiners that spell words and emoji', () => {
    expect(normalizeDisplayName('\u0645\u06CC\u200C\u062E\u0648\u0627\u0647\u0645')).toBe(
      '\u0645\u06CC\u200C\u062E\u0648\u0627\u0647\u0645',
    );
    expect(normalizeDisplayName('Sam 👩\u200D⚕️')).toBe('Sam 👩\u200D⚕️');
  });

  it('give a name the shared schema accepts, or nothing', () => {
    for (const raw of [
      'Alice\tMoreno',
      '\u0085Dr. Rivera\u0000',
      'x'.repeat(500),
      '\u00A0Bob\u00A0',
    ])
      expect(DisplayName.safeParse(normalizeDisplayName(raw)).success, JSON.stringify(raw)).toBe(
        true,
      );
  });

  it('are refused by the schema when nothing visible is left, or controls remain', () => {
    for (const name of ['', ' ', '\u200B', '\uFE0F', 'Alice\tMoreno', 'A\u0085', '\uD800'])
      expect(DisplayName.safeParse(name).success, JSON.stringify(name)).toBe(false);
    expect(DisplayName.safeParse('Dr. Rivera').success).toBe(true);
  });

  it('stay readable in views when stored before these rules', () => {
    // A webhook built from an old row must still pass verifyWebhook.
    expect(Sender.safeParse({ userId: 'bob', role: 'family', displayName: ' ' }).success).toBe(
      true,
    );
  });
});

describe('shownName', () => {
  it('shows names stored before names were checked without their control characters', () => {
    expect(shownName('Bob\tSmith\n', 'bob')).toBe('Bob Smith');
    expect(shownName('\u0000\u0085', 'bob')).toBe('bob');
    expect(shownName('', 'bob')).toBe('bob');
  });

  it('returns a clean name unchanged', () => {
    for (const name of ['Alice Moreno', '  spaced  ', 'Zoë', '👩‍⚕️ Dr. Rivera'])
      expect(shownName(name, 'x')).toBe(name);
  });
});
