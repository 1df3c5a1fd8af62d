// The entry of dist/carethread-signature-pad.js (vite.lazy.config.ts).
export { default } from 'signature_pad';
