import { defineConfig } from 'vitest/config';
import { FLOODS } from './vitest.config.js';

/** The flood test alone, on an otherwise idle machine (see vitest.config.ts). */
export default defineConfig({
  test: {
    name: 'server-floods',
    include: [FLOODS],
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
