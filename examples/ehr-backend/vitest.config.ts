import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: 'ehr-backend',
    include: ['src/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
