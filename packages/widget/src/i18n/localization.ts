// One localization setup for every CareThread element (@lit/localize, runtime mode). English is
// built in; the other languages' strings load on first use (load-translations.ts), so readers
// of one language never download another's. Each element picks its locale from its `lang`
// attribute, then the nearest ancestor's, then the page's.
import { configureLocalization } from '@lit/localize';
import { loadTranslations } from './load-translations.js';

export const SOURCE_LOCALE = 'en';
export const TARGET_LOCALES = ['es'] as const;
export type TargetLocale = (typeof TARGET_LOCALES)[number];
export type Locale = typeof SOURCE_LOCALE | TargetLocale;

const { getLocale, setLocale } = configureLocalization({
  sourceLocale: SOURCE_LOCALE,
  targetLocales: TARGET_LOCALES,
  loadLocale: (locale) => loadTranslations(locale as TargetLocale),
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
 * Switches the page's CareThread elements to the locale for `tag` and returns the locale in
 * effect. Lit localize keeps one locale per page, so the elements on one page share it; the last
 * element to ask decides. When a language's strings cannot be loaded (the host did not serve
 * carethread-es.js beside carethread.js), the elements stay in English and the console says why.
 */
export async function useLocaleFor(tag: string): Promise<Locale> {
  const locale = supportedLocale(tag);
  try {
    // Also when `locale` is already active: a switch to another one may still be loading, and
    // asking again makes this the last word.
    await setLocale(locale);
  } catch (error) {
    console.error(
      `CareThread: the "${locale}" strings could not be loaded, so the elements stay in English. Serve carethread-${locale}.js from the folder of carethread.js.`,
      error,
    );
  }
  return getLocale() as Locale;
}

/** The locale the page's CareThread elements show now. */
export const activeLocale = (): Locale => getLocale() as Locale;
