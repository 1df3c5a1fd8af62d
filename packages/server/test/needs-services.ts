// Tests that need PostgreSQL or Redis read DATABASE_URL / REDIS_URL; tests that run a program
// (nginx, openssl) look for it on PATH. Without them the suite says out loud that it was skipped,
// so a run without the services never passes for one that tested them; with
// CARETHREAD_REQUIRE_SERVICES=1 (as .ci/run sets) the skip is a failure instead.
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

export type ServiceVariable = 'DATABASE_URL' | 'REDIS_URL';
export type Program = 'nginx' | 'openssl';
export type Need = ServiceVariable | Program;

const hints: Record<Need, string> = {
  DATABASE_URL: 'set DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/test)',
  REDIS_URL: 'set REDIS_URL (e.g. redis://127.0.0.1:6379)',
  nginx: 'install nginx (Debian: apt-get install nginx)',
  openssl: 'install openssl (Debian: apt-get install openssl)',
};

function isExecutableFile(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/** A variable's value, or a program's path; Debian puts nginx in /usr/sbin, off a user's PATH. */
function find(need: Need): string | undefined {
  if (need === 'DATABASE_URL' || need === 'REDIS_URL') return process.env[need] || undefined;
  const folders = [...(process.env.PATH ?? '').split(path.delimiter), '/usr/sbin', '/sbin'];
  return folders.map((folder) => path.join(folder, need)).find(isExecutableFile);
}

/**
 * `describe(name, body)` when every need is met; `body` gets the variables' values and the
 * programs' paths. Otherwise a suite of one skipped (or, when services are required, failing) test.
 */
export function describeWithServices<N extends Need>(
  name: string,
  needs: readonly N[],
  body: (found: Record<N, string>) => void,
): void {
  const found = needs.map((need) => [need, find(need)] as const);
  const missing = found.filter(([, value]) => value === undefined).map(([need]) => need);
  if (missing.length === 0) {
    const values = Object.fromEntries(found) as Record<N, string>;
    describe(name, () => {
      body(values);
    });
    return;
  }
  const required = process.env.CARETHREAD_REQUIRE_SERVICES === '1';
  const hint = missing.map((need) => hints[need]).join(' and ');
  console.warn(`${name}: ${required ? 'cannot run' : 'SKIPPED'}; ${hint}.`);
  describe(name, () => {
    const title = `needs ${missing.join(' and ')}`;
    if (required)
      it(title, () => {
        expect.fail(`${missing.join(' and ')} missing, and this run requires the services.`);
      });
    else it.skip(title, () => undefined);
  });
}
