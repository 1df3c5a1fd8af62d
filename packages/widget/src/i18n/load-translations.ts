// Loads the strings of a target locale, which only readers of that language need. From npm, a
// bundler splits es.ts into its own chunk; the script-tag build swaps this module for one that
// loads carethread-es.js from beside carethread.js (vite.config.ts).
import type { TargetLocale } from './localization.js';

type Templates = typeof import('./es.js').templates;

export const loadTranslations = (_locale: TargetLocale): Promise<{ templates: Templates }> =>
  import('./es.js');
