// Builds dist/carethread-signature-pad.js: signature_pad as one ES module, which the script-tag
// file imports from beside itself when a signer chooses to draw (see the stub in vite.config.ts).
import { readFileSync } from 'node:fs';
import { defineConfig } from 'vite';

const { version } = JSON.parse(readFileSync(new URL('package.json', import.meta.url), 'utf8')) as {
  version: string;
};

export default defineConfig({
  build: {
    outDir: 'dist',
    emptyOutDir: false,
    sourcemap: true,
    target: 'es2022',
    minify: true,
    lib: {
      entry: 'src/consent/signature-pad-module.ts',
      formats: ['es'],
      fileName: () => 'carethread-signature-pad.js',
    },
    rollupOptions: {
      output: { banner: `/*! @carethread/widget ${version} Apache-2.0; signature_pad MIT */` },
    },
  },
});
