// What a person sees, checked on a whole demo page in Chromium: accessibility by axe-core (it
// walks open shadow roots), English left in a Spanish rendering, and content wider than a phone.
// Shared by the end-to-end tour and the screenshots script.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';

const AXE_SOURCE = readFileSync(
  createRequire(import.meta.url).resolve('axe-core/axe.min.js'),
  'utf8',
);

/** axe's WCAG 2.1 A and AA rules that fail on the page, one line per rule and element. */
export async function axeViolations(page: Page): Promise<string[]> {
  // Evaluated over the DevTools protocol, so the page's CSP does not refuse it as an inline script.
  if (!(await page.evaluate('typeof axe !== "undefined"'))) await page.evaluate(AXE_SOURCE);
  return page.evaluate(`(async () => {
    const result = await axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
      resultTypes: ['violations'],
    });
    return result.violations.flatMap((rule) =>
      rule.nodes.map((node) => rule.id + ': ' + JSON.stringify(node.target) + ' ' + node.failureSummary.replaceAll('\\n', ' ')),
    );
  })()`);
}

/**
 * Words that are English and not Spanish, whole words, any case. Short Spanish words that are
 * English too ("a", "no", "me", "he", "has", "son", "can") are left out on purpose.
 */
const ENGLISH =
  /\b(the|you|your|is|are|and|to|of|this|that|with|for|not|be|will|was|here|from|what|when|who|it|by|on|in|at|or|sign|signed|signing|consent|message|messages|send|sent|shared|sharing|share|loading|waiting|pending|family|care|team|brother|therapist|revoke|revoked|declined|download|read|edit|delete|jump|latest|attach|file|files)\b/i;

/**
 * Every visible text and every accessible name or description in the page and its open shadow
 * roots that reads as English, except inside `allowed` (selectors of what people wrote: messages,
 * names, file names, which stay in the language they were written in).
 */
export async function englishIn(page: Page, allowed: readonly string[] = []): Promise<string[]> {
  // A string, evaluated in the page where the DOM exists (this file is typed for Node).
  return page.evaluate(`(() => {
    const english = new RegExp(${JSON.stringify(ENGLISH.source)}, 'i');
    const allowed = ${JSON.stringify(allowed)};
    const found = new Set();
    const skipped = (element) =>
      allowed.some((selector) => element.closest(selector)) ||
      !element.checkVisibility({ visibilityProperty: true });
    const walk = (root) => {
      for (const element of root.querySelectorAll('*')) {
        if (element.shadowRoot) walk(element.shadowRoot);
        if (['STYLE', 'SCRIPT', 'TEMPLATE'].includes(element.tagName) || skipped(element)) continue;
        for (const name of ['aria-label', 'title', 'placeholder', 'alt', 'aria-description']) {
          const value = element.getAttribute(name);
          if (value && english.test(value)) found.add(name + '="' + value + '"');
        }
        for (const node of element.childNodes) {
          const text = node.nodeType === Node.TEXT_NODE ? node.textContent.trim() : '';
          if (text && english.test(text)) found.add(text);
        }
      }
    };
    walk(document);
    return [...found];
  })()`);
}

/** Elements (in open shadow roots too) whose content is wider than they are. */
export async function overflowing(page: Page): Promise<string[]> {
  return page.evaluate(`(() => {
    const wide = [];
    const walk = (root) => {
      for (const element of root.querySelectorAll('*')) {
        if (element.shadowRoot) walk(element.shadowRoot);
        // Scrolling regions (the log, a text box) may be wider inside; that is their job.
        const { overflowX } = getComputedStyle(element);
        if (overflowX === 'auto' || overflowX === 'scroll' || !element.checkVisibility()) continue;
        // A visually hidden label (1 px wide) is meant to be clipped.
        if (element.clientWidth > 1 && element.scrollWidth > element.clientWidth + 1)
          wide.push(element.tagName.toLowerCase() + '.' + [...element.classList].join('.') + ' ' +
            element.scrollWidth + '>' + element.clientWidth);
      }
    };
    walk(document);
    return wide;
  })()`);
}
