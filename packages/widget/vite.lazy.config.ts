// Builds the files the script-tag file imports from beside itself, only when a reader needs them
// (see the stubs in vite.stubs.ts): each one ES module, minified.
//   carethread-signature-pad.js  signature_pad, for signers who choose to draw
//   carethread-es.js             the Spanish strings, for readers whose page is in Spanish
import { readFileSync } from 'node:fs';
import { defineConfig } from 'vite';

const { version } = JSON.parse(readFileSync(new URL('package.json', import.meta.url), 'utf8')) as {
  version: string;
};

/** Entry of each lazily loaded file, by its name without `.js`. */
const LAZY_FILES = {
  'carethread-signature-pad': 'src/consent/signature-pad-module.ts',
  'carethread-es': 'src/i18n/es.ts',
};

export default defineConfig({
  build: {
    outDir: 'dist',
    emptyOutDir: false,
    sourcemap: true,
    target: 'es2022',
    minify: true,
    lib: {
      entry: LAZY_FILES,
      formats: ['es'],
      fileName: (_format, name) => `${name}.js`,
    },
    rollupOptions: {
      output: {
        // Vite leaves ES library output unminified (for the consumer's bundler); these files
        // are served to browsers as they are.
        minify: true,
        // After minification: the minifier drops a `banner`.
        postBanner: (chunk) =>
          `/*! @carethread/widget ${version} Apache-2.0${chunk.name === 'carethread-signature-pad' ? '; signature_pad MIT' : ''} */`,
      },
    },
  },
});
