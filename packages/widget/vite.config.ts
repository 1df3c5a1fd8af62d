// Builds the script-tag file dist/carethread.js: one self-registering, versioned IIFE with Lit,
// the client, <carethread-chat> and the English strings inside. Files served beside it load only
// on demand: <carethread-consent> when one appears (vite.consent.config.ts), the drawn-signature
// pad and the Spanish strings (vite.lazy.config.ts).
import { readFileSync } from 'node:fs';
import { defineConfig } from 'vite';
import { scriptTagPlugins } from './vite.stubs.js';

const { version } = JSON.parse(readFileSync(new URL('package.json', import.meta.url), 'utf8')) as {
  version: string;
};

export default defineConfig({
  plugins: scriptTagPlugins('document.currentScript?.src || location.href'),
  build: {
    outDir: 'dist',
    // tsc writes the ESM entries and declarations into dist as well.
    emptyOutDir: false,
    sourcemap: true,
    target: 'es2022',
    lib: {
      entry: 'src/carethread.ts',
      name: 'CareThread',
      formats: ['iife'],
      fileName: () => 'carethread.js',
    },
    rollupOptions: {
      // After minification: the minifier drops a `banner`.
      output: { postBanner: `/*! @carethread/widget ${version} Apache-2.0 */` },
    },
  },
});
