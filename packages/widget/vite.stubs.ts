// What the script-tag files share at build time: Lit's templates minified, and modules replaced
// by stubs, either because the widget never runs them or because the script-tag build loads them
// from files served beside carethread.js (vite.lazy.config.ts, vite.consent.config.ts).
import minifyHtmlLiterals from '@lit-labs/rollup-plugin-minify-html-literals';
import type { Plugin } from 'vite';

/**
 * The plugins of a script-tag file. `folder` is a JavaScript expression for the URL of the folder
 * its lazily loaded files sit in: read while the file first runs (`document.currentScript` is
 * only set then, and never in a module, where `import.meta.url` says it).
 */
export function scriptTagPlugins(folder: string): Plugin[] {
  const base = `const base = ${folder};`;
  const stubs: { module: RegExp; code: string }[] = [
    {
      // engine.io-client's transport table names WebTransport, so tree-shaking keeps it (~0.9 KB
      // gzip); the client only offers WebSocket and HTTP long-polling.
      module: /engine\.io-client[\\/]build[\\/]esm[\\/]transports[\\/]webtransport\.js$/,
      code: 'export class WT {}',
    },
    {
      // Binary attachments (Blob, ArrayBuffer) in packets; the protocol is JSON only (~0.3 KB).
      module: /socket\.io-parser[\\/]build[\\/]esm[\\/]binary\.js$/,
      code: `const refuse = () => { throw Error('CareThread: binary packets are not supported'); };
        export const deconstructPacket = refuse, reconstructPacket = refuse;`,
    },
    {
      // signature_pad (~4.9 KB gzip) is only for signers who draw.
      module: /src[\\/]consent[\\/]signature-pad\.ts$/,
      code: `${base} export const loadSignaturePad = () =>
        import(new URL('carethread-signature-pad.js', base).href).then((m) => m.default);`,
    },
    {
      // A language's strings (Spanish: ~3 KB gzip and growing) are only for its readers.
      module: /src[\\/]i18n[\\/]load-translations\.ts$/,
      code: `${base} export const loadTranslations = (locale) =>
        import(new URL('carethread-' + locale + '.js', base).href);`,
    },
    {
      // <carethread-consent> (~9 KB gzip) is on few pages: loaded when one appears (ADR 25).
      module: /src[\\/]consent[\\/]load-consent\.ts$/,
      code: `${base} export const loadConsentElement = () =>
        import(new URL('carethread-consent.js', base).href);`,
    },
  ];
  return [
    // Lit's html`` and css`` templates keep their indentation otherwise; most of their size.
    minifyHtmlLiterals(),
    {
      name: 'carethread-script-tag-stubs',
      enforce: 'pre',
      load(id) {
        return stubs.find(({ module }) => module.test(id))?.code ?? null;
      },
    },
  ];
}
