// Loads and registers <carethread-consent>. The script-tag build swaps this module for one that
// imports carethread-consent.js from beside carethread.js (vite.stubs.ts).
export const loadConsentElement = (): Promise<unknown> => import('./consent.js');
