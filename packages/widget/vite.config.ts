// Builds the script-tag file dist/carethread.js: one self-registering, versioned IIFE with Lit,
// the client and the English strings inside. Two files are served beside it and loaded only on
// demand: the drawn-signature pad and the Spanish strings (vite.lazy.config.ts).
import { readFileSync } from 'node:fs';
import minifyHtmlLiterals from '@lit-labs/rollup-plugin-minify-html-literals';
import { defineConfig, type Plugin } from 'vite';

const { version } = JSON.parse(readFileSync(new URL('package.json', import.meta.url), 'utf8')) as {
  version: string;
};

/**
 * The folder carethread.js was loaded from, where its lazily loaded files are imported from under
 * the same CSP `script-src`. The script's own address can only be read while it first runs.
 */
const SCRIPT_BASE = 'const base = document.currentScript?.src || location.href;';

/** Modules replaced in the script-tag build: ones the widget never runs, and lazily loaded ones. */
const STUBS: { module: RegExp; code: string }[] = [
  {
    // engine.io-client's transport table names WebTransport, so tree-shaking keeps it (~0.9 KB
    // gzip); the client only offers WebSocket and HTTP long-polling.
    module: /engine\.io-client[\\/]build[\\/]esm[\\/]transports[\\/]webtransport\.js$/,
    code: 'export class WT {}',
  },
  {
    // signature_pad (~4.9 KB gzip) is only for signers who draw (vite.lazy.config.ts).
    module: /src[\\/]consent[\\/]signature-pad\.ts$/,
    code: `${SCRIPT_BASE} export const loadSignaturePad = () =>
      import(new URL('carethread-signature-pad.js', base).href).then((m) => m.default);`,
  },
  {
    // A language's strings (Spanish: ~2.4 KB gzip and growing) are only for its readers:
    // carethread-<locale>.js (vite.lazy.config.ts).
    module: /src[\\/]i18n[\\/]load-translations\.ts$/,
    code: `${SCRIPT_BASE} export const loadTranslations = (locale) =>
      import(new URL('carethread-' + locale + '.js', base).href);`,
  },
  {
    // Binary attachments (Blob, ArrayBuffer) in packets; the protocol is JSON only (~0.3 KB gzip).
    module: /socket\.io-parser[\\/]build[\\/]esm[\\/]binary\.js$/,
    code: `const refuse = () => { throw Error('CareThread: binary packets are not supported'); };
      export const deconstructPacket = refuse, reconstructPacket = refuse;`,
  },
];

function withoutUnusedModules(): Plugin {
  return {
    name: 'carethread-without-unused-modules',
    enforce: 'pre',
    load(id) {
      return STUBS.find(({ module }) => module.test(id))?.code ?? null;
    },
  };
}

export default defineConfig({
  // Lit's html`` and css`` templates keep their indentation otherwise; it is most of their size.
  plugins: [minifyHtmlLiterals(), withoutUnusedModules()],
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
