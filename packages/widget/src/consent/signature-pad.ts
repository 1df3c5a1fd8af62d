// Loads signature_pad, which only signers who choose to draw need. From npm, a bundler splits it
// into its own chunk; the script-tag build swaps this module for one that loads
// carethread-signature-pad.js from beside carethread.js (vite.config.ts).
import type SignaturePad from 'signature_pad';

export const loadSignaturePad = (): Promise<typeof SignaturePad> =>
  import('signature_pad').then((module) => module.default);
