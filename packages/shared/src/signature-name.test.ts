import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { matchSignatureName, signatureNameKey } from './signature-name.js';

describe('typed signature names', () => {
  it.each([
    ['Alice Moreno', 'exact'],
    ['alice  moreno', 'normalized'],
    ['ALICE MORENO', 'normalized'],
    ['Alicé Moreno', 'normalized'],
    ['  Alice\tMoreno ', 'normalized'],
    ['Alice Moreno.', 'normalized'],
    ['Ａｌｉｃｅ Ｍｏｒｅｎｏ', 'normalized'], // full-width letters (NFKC)
    ['Alice\u200B Moreno', 'normalized'], // a zero-width space draws nothing
  ])('accepts %j for "Alice Moreno" (%s)', (typed, how) => {
    expect(matchSignatureName(typed, 'Alice Moreno')).toBe(how);
  });

  it.each([
    'zzz',
    'X',
    'Alice',
    'Moreno',
    'Alice Morena',
    'Moreno Alice',
    'AliceMoreno',
    '',
    '...',
  ])('refuses %j for "Alice Moreno"', (typed) => {
    expect(matchSignatureName(typed, 'Alice Moreno')).toBeUndefined();
  });

  it.each([
    ["Siobhán O'Brien", 'siobhan obrien'],
    ['Siobhan O’Brien', 'siobhan obrien'], // typographic apostrophe
    ['Siobhan OBrien', 'siobhan obrien'],
    ['Siobhan O´Brien', 'siobhan obrien'], // an acute accent typed as an apostrophe
    ['J.R.R. Tolkien…', 'jrr tolkien'],
    ['Jean-Luc Picard', 'jean luc picard'],
    ['Jean–Luc Picard', 'jean luc picard'], // en dash
    ['Jean Luc Picard', 'jean luc picard'],
    ['Dr. José Ñúñez, Jr.', 'dr jose nunez jr'],
    ['Müller', 'muller'],
    ['STRAẞE', 'strasse'],
    ['Straße', 'strasse'],
    ['Ὀδυσσεύς', 'οδυσσευς'], // final sigma stays final
    ['さとう たかし', 'さとう たかし'],
    ['ごとう', 'ごとう'], // the voiced marks of kana spell another sound: they stay
  ])('reads %j as %j', (name, key) => {
    expect(signatureNameKey(name)).toBe(signatureNameKey(key));
    expect(signatureNameKey(name)).toBe(key.normalize('NFKD'));
  });

  it('keeps the kana a voiced mark changes apart', () => {
    expect(matchSignatureName('ことう', 'ごとう')).toBeUndefined();
  });

  it('never matches a name with nothing to compare', () => {
    expect(matchSignatureName('.', '-')).toBeUndefined();
    expect(matchSignatureName(' ', ' ')).toBeUndefined();
  });

  // Names in the Latin alphabet as a person has them: one to four words of letters.
  const word = fc.string({
    unit: fc.constantFrom(...Array.from('abcdefghijklmnopqrstuvwxyzñçøàáâäèéêëìíîïòóôöùúûü')),
    minLength: 1,
    maxLength: 12,
  });
  const fullName = fc.array(word, { minLength: 1, maxLength: 4 }).map((words) => words.join(' '));

  it('matches a name typed in any case, spacing, accents and punctuation', () => {
    fc.assert(
      fc.property(
        fullName,
        fc.boolean(),
        fc.constantFrom(' ', '  ', '\t', ' \u00A0'),
        fc.constantFrom('', '.', ',', "'"),
        (name, upper, gap, mark) => {
          const accentless = name.normalize('NFD').replace(/[\u0300-\u036f]/g, '');
          const typed = ` ${(upper ? accentless.toUpperCase() : accentless).split(' ').join(`${mark}${gap}`)} `;
          expect(matchSignatureName(typed, name)).toBeDefined();
          expect(matchSignatureName(name, typed)).toBeDefined();
        },
      ),
    );
  });

  it('refuses a name with a letter left out, added or changed', () => {
    fc.assert(
      fc.property(
        fullName,
        fc.nat(),
        fc.constantFrom(...Array.from('bdkqxz')),
        fc.constantFrom('drop', 'add', 'change'),
        (name, at, letter, edit) => {
          const i = at % name.length;
          fc.pre(name[i] !== ' ' && !(edit === 'change' && name[i] === letter));
          const typed =
            edit === 'drop'
              ? name.slice(0, i) + name.slice(i + 1)
              : edit === 'add'
                ? name.slice(0, i) + letter + name.slice(i)
                : name.slice(0, i) + letter + name.slice(i + 1);
          expect(matchSignatureName(typed, name)).toBeUndefined();
        },
      ),
    );
  });

  it('is symmetric, and a key reads as itself', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 30 }), fc.string(), (a, b) => {
        expect(matchSignatureName(a, b) === undefined).toBe(matchSignatureName(b, a) === undefined);
        expect(signatureNameKey(signatureNameKey(a))).toBe(signatureNameKey(a));
      }),
    );
  });
});
