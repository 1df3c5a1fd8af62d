// Builds dist/carethread-consent.js: <carethread-consent>, which the script-tag file imports from
// beside itself when a page shows the element (ADR 25). Lit, the localization, the client and the
// other modules the chat element has too come from carethread.js at run time
// (src/script-tag-modules.ts), so the page has one Lit: a second copy would ask the page's
// Trusted Types policy for a second "lit-html" policy, which a strict policy refuses. A separate
// build, so that no chunk is shared with the other lazily loaded files.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';
import { scriptTagPlugins } from './vite.stubs.js';

const { version } = JSON.parse(readFileSync(new URL('package.json', import.meta.url), 'utf8')) as {
  version: string;
};

/** The global carethread.js puts its modules on (SCRIPT_TAG_MODULES_KEY). */
const MODULES = 'globalThis[Symbol.for("carethread.script-tag-modules")]';

/** The modules taken from carethread.js: package name or source file, and its key there. */
const FROM_SCRIPT_TAG: Record<string, string> = {
  lit: 'lit',
  '@lit/localize': 'localize',
  'src/base/relay-element.ts': 'relayElement',
  'src/base/theme.styles.ts': 'themeStyles',
  'src/chat/messages.ts': 'messages',
  'src/client/ids.ts': 'ids',
  'src/client/index.ts': 'client',
  'src/i18n/localization.ts': 'localization',
  'src/i18n/vocabulary.ts': 'vocabulary',
};
const root = fileURLToPath(new URL('.', import.meta.url));

function fromScriptTag(): Plugin {
  return {
    name: 'carethread-consent-from-script-tag',
    enforce: 'pre',
    async resolveId(source, importer, options) {
      if (source in FROM_SCRIPT_TAG) return { id: `carethread:${source}`, external: true };
      if (!importer) return null;
      const resolved = await this.resolve(source, importer, { ...options, skipSelf: true });
      const file = resolved?.id.startsWith(root) ? resolved.id.slice(root.length) : undefined;
      return file && file in FROM_SCRIPT_TAG ? { id: `carethread:${file}`, external: true } : null;
    },
    generateBundle(_options, bundle) {
      // Lit's core must not come in again through a path the table above does not cover.
      for (const chunk of Object.values(bundle)) {
        if (chunk.type !== 'chunk') continue;
        const copied = chunk.moduleIds.filter((id) =>
          /[\\/](lit-html|lit-element|@lit[\\/]reactive-element)[\\/]/.test(id),
        );
        if (copied.length > 0)
          this.error(`carethread-consent.js would carry its own Lit: ${copied.join(', ')}`);
      }
    },
  };
}

export default defineConfig({
  plugins: [fromScriptTag(), ...scriptTagPlugins(`${MODULES}.folder`)],
  build: {
    outDir: 'dist',
    emptyOutDir: false,
    sourcemap: true,
    target: 'es2022',
    lib: {
      entry: { 'carethread-consent': 'src/consent/consent.ts' },
      // A classic function around the code, given the shared modules; still loaded with import().
      formats: ['iife'],
      name: 'CareThreadConsentFile',
      fileName: (_format, name) => `${name}.js`,
    },
    rollupOptions: {
      output: {
        globals: (id: string) =>
          `${MODULES}[${JSON.stringify(FROM_SCRIPT_TAG[id.slice('carethread:'.length)])}]`,
        // After minification: the minifier drops a `banner`.
        postBanner: `/*! @carethread/widget ${version} Apache-2.0 */`,
      },
    },
  },
});
