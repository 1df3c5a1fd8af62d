import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: 'widget',
    include: ['src/client/**/*.test.ts', 'src/i18n/**/*.test.ts'],
    passWithNoTests: true,
  },
});
