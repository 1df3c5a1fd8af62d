// The entry of dist/carethread-signature-pad.js (vite.signature-pad.config.ts).
export { default } from 'signature_pad';
