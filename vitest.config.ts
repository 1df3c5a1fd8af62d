import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      'packages/shared',
      'packages/server',
      'packages/widget',
      'examples/portal',
      'examples/ehr-backend',
      'examples/vite-app',
    ],
  },
});
