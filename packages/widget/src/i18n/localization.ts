// One localization setup for every CareThread element (@lit/localize, runtime mode). The
// translations are bundled, so the script-tag file needs no other files; each element picks its
// locale from its `lang` attribute, then the nearest ancestor's, then the page's.
import { configureLocalization } from '@lit/localize';
import { templates as es } from './es.js';

export const SOURCE_LOCALE = 'en';
export const TARGET_LOCALES = ['es'] as const;
export type Locale = typeof SOURCE_LOCALE | (typeof TARGET_LOCALES)[number];

// Bundled, not fetched: the script-tag file must work alone.
const modules = { es: { templates: es } };

const { getLocale, setLocale } = configureLocalization({
  sourceLocale: SOURCE_LOCALE,
  targetLocales: TARGET_LOCALES,
  loadLocale: (locale) => Promise.resolve(modules[locale as keyof typeof modules]),
});

/** The supported locale for a BCP 47 tag: "es-MX" -> "es"; anything unsupported -> "en". */
export function supportedLocale(tag: string | null | undefined): Locale {
  const language = (tag ?? '').toLowerCase().split('-')[0] ?? '';
  return (TARGET_LOCALES as readonly string[]).includes(language)
    ? (language as Locale)
    : SOURCE_LOCALE;
}

/** The language tag that applies to `element`: its own or an ancestor's `lang`, else the page's. */
export function languageOf(element: Element): string {
  const tagged = element.closest('[lang]');
  return tagged?.getAttribute('lang') || document.documentElement.lang || navigator.language;
}

/**
 * Switches the page's CareThread elements to the locale for `tag`. Lit localize keeps one locale
 * per page, so the elements on one page share it; the last element to ask decides.
 */
export async function useLocaleFor(tag: string): Promise<Locale> {
  const locale = supportedLocale(tag);
  if (getLocale() !== locale) await setLocale(locale);
  return locale;
}
