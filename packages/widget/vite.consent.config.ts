// Builds dist/carethread-consent.js: <carethread-consent> as one ES module, which the script-tag
// file imports from beside itself when a page shows the element (ADR 25). It carries its own
// copy of Lit and the client, so it needs nothing from carethread.js: a separate build, so that
// no chunk is shared with the other lazily loaded files.
import { readFileSync } from 'node:fs';
import { defineConfig } from 'vite';
import { scriptTagPlugins } from './vite.stubs.js';

const { version } = JSON.parse(readFileSync(new URL('package.json', import.meta.url), 'utf8')) as {
  version: string;
};

export default defineConfig({
  plugins: scriptTagPlugins('import.meta.url'),
  build: {
    outDir: 'dist',
    emptyOutDir: false,
    sourcemap: true,
    target: 'es2022',
    lib: {
      entry: { 'carethread-consent': 'src/consent/consent.ts' },
      formats: ['es'],
      fileName: (_format, name) => `${name}.js`,
    },
    rollupOptions: {
      output: {
        // Vite leaves ES library output unminified; this file is served to browsers as it is.
        minify: true,
        // After minification: the minifier drops a `banner`.
        postBanner: `/*! @carethread/widget ${version} Apache-2.0 */`,
      },
    },
  },
});
