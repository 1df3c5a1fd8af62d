import { defineConfig } from 'vitest/config';

/**
 * The flood test compares a well-behaved client's p99 latency with and without a flood, so it
 * runs on its own after everything else (vitest.floods.config.ts, `pnpm test:unit`): a test file
 * running beside it on the other core moved its ratio by up to 2x on this 2-core machine.
 */
export const FLOODS = 'test/attacks/floods.test.ts';

export default defineConfig({
  test: {
    name: 'server',
    include: ['test/**/*.test.ts'],
    exclude: [FLOODS],
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
