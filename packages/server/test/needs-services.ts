// Tests that need PostgreSQL or Redis read DATABASE_URL / REDIS_URL. Without them the suite says
// out loud that it was skipped, so a run without the services never passes for one that tested
// them; with CARETHREAD_REQUIRE_SERVICES=1 (as .ci/run sets) the skip is a failure instead.
import { describe, expect, it } from 'vitest';

export type ServiceVariable = 'DATABASE_URL' | 'REDIS_URL';

const examples: Record<ServiceVariable, string> = {
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test',
  REDIS_URL: 'redis://127.0.0.1:6379',
};

/**
 * `describe(name, body)` when every variable in `needs` is set; `body` gets their values.
 * Otherwise a suite of one skipped (or, when services are required, failing) test.
 */
export function describeWithServices(
  name: string,
  needs: readonly ServiceVariable[],
  body: (urls: Record<ServiceVariable, string>) => void,
): void {
  const missing = needs.filter((variable) => !process.env[variable]);
  if (missing.length === 0) {
    const urls = Object.fromEntries(needs.map((v) => [v, process.env[v] ?? ''])) as Record<
      ServiceVariable,
      string
    >;
    describe(name, () => {
      body(urls);
    });
    return;
  }
  const required = process.env.CARETHREAD_REQUIRE_SERVICES === '1';
  const hint = missing.map((v) => `${v} (e.g. ${examples[v]})`).join(' and ');
  console.warn(`${name}: ${required ? 'cannot run' : 'SKIPPED'}; set ${hint}.`);
  describe(name, () => {
    const title = `needs ${missing.join(' and ')}`;
    if (required)
      it(title, () => {
        expect.fail(`${missing.join(' and ')} not set, and this run requires the services.`);
      });
    else it.skip(title, () => undefined);
  });
}
