// Key files are created once, whole, by whichever of several processes gets there first.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import { createFileOnce } from '../../src/core/data-files.js';

const folders: string[] = [];
afterEach(() => {
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});
const freshFolder = () => {
  const folder = mkdtempSync(path.join(tmpdir(), 'carethread-files-'));
  folders.push(folder);
  return folder;
};

it('creates a file once, readable by its owner only, and leaves no temporary file', () => {
  const file = path.join(freshFolder(), 'keys', 'key.json');
  expect(createFileOnce(file, 'first')).toBe(true);
  expect(createFileOnce(file, 'second')).toBe(false);
  expect(readFileSync(file, 'utf8')).toBe('first');
  expect(statSync(file).mode & 0o777).toBe(0o600);
  expect(readdirSync(path.dirname(file))).toEqual(['key.json']);
});

it('lets exactly one of eight processes racing for the same file win, and keeps its contents whole', async () => {
  const file = path.join(freshFolder(), 'race.json');
  // The compiled module, as relay processes run it.
  const module = fileURLToPath(new URL('../../dist/src/core/data-files.js', import.meta.url));
  const racers = Array.from({ length: 8 }, (_, i) => {
    const contents = JSON.stringify({ racer: i, padding: 'x'.repeat(60_000) });
    const child = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const { createFileOnce } = await import(${JSON.stringify(module)});
         process.stdout.write(String(createFileOnce(${JSON.stringify(file)}, ${JSON.stringify(contents)})));`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    return new Promise<{ won: boolean; contents: string }>((resolve) => {
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.on('exit', () => {
        resolve({ won: out === 'true', contents });
      });
    });
  });
  const results = await Promise.all(racers);
  const winners = results.filter((r) => r.won);
  expect(winners).toHaveLength(1);
  expect(readFileSync(file, 'utf8')).toBe(winners[0]?.contents);
  expect(readdirSync(path.dirname(file))).toEqual(['race.json']);
});
