// The Spanish catalog against the source: every string an element shows through msg() has a
// Spanish translation with the same placeholders, and no translation is left without a string.
// Read from the source text, so a message added anywhere under src/ is covered without a list.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { templates } from './es.js';

const src = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Every `msg(text, { id })` in the elements' source: id -> English text. */
function sourceMessages(): Map<string, string> {
  const messages = new Map<string, string>();
  const call =
    /msg\(\s*(?:str)?(`(?:[^`\\]|\\.)*`|'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")\s*,\s*\{\s*id:\s*'([^']+)'/g;
  const files = readdirSync(src, { recursive: true, encoding: 'utf8' }).filter(
    (file) =>
      file.endsWith('.ts') && !file.endsWith('.test.ts') && !/(^|\/)es(-[a-z]+)?\.ts$/.test(file),
  );
  for (const file of files) {
    const text = readFileSync(path.join(src, file), 'utf8');
    for (const [, english = '', id = ''] of text.matchAll(call)) {
      const known = messages.get(id);
      // One id, one sentence: the same id twice must say the same thing.
      if (known !== undefined && known !== english)
        throw new Error(`The message id "${id}" stands for two texts (in ${file})`);
      messages.set(id, english);
    }
  }
  return messages;
}

/** The number of values a message interpolates: `${...}` in English, `${n}` in a translation. */
const placeholders = (text: string) => text.split('${').length - 1;
const translated = (value: unknown): string =>
  typeof value === 'string'
    ? value
    : (value as { strings: readonly string[] }).strings.join('${0}');

describe('the Spanish catalog', () => {
  const messages = sourceMessages();

  it('finds the messages of both elements', () => {
    // A floor that fails if the pattern above stops matching the way msg() is written.
    expect(messages.size).toBeGreaterThan(100);
    expect(messages.has('send')).toBe(true);
    expect(messages.has('consent-sign')).toBe(true);
  });

  it('translates every message, with the same placeholders', () => {
    const missing = [...messages.keys()].filter((id) => !(id in templates));
    expect(missing).toEqual([]);
    const mismatched = [...messages].filter(
      ([id, english]) =>
        placeholders(english) !== placeholders(translated(templates[id as keyof typeof templates])),
    );
    expect(mismatched).toEqual([]);
  });

  it('keeps no translation of a message that no longer exists', () => {
    expect(Object.keys(templates).filter((id) => !messages.has(id))).toEqual([]);
  });
});
