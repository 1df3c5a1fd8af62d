// Generates custom-elements.json (the public contract of the elements) from the JSDoc on each
// element class; `pnpm --filter @carethread/widget run build` writes it.
export default {
  globs: ['src/**/*.component.ts', 'src/base/*.ts', 'src/chat/chat.ts', 'src/consent/consent.ts'],
  outdir: '.',
  litelement: true,
};
