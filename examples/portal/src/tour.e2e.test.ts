// The demo as a person meets it, in English and in Spanish, on a desktop and on a phone. At every
// state of the consent story (Bob waiting, asked, signed, the list with a revocation open,
// revoked), the whole three-pane page is checked for what a person would notice: axe finds no
// WCAG 2.1 AA violation, a Spanish page has no English left, and on a phone nothing is wider than
// the screen. The steps find controls by their names in the form, not by their words, so the same
// tour runs in both languages.
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRelay, parseConfig, type Relay } from '@carethread/server';
import { axeViolations, englishIn, overflowing } from './page-checks.js';
import { seedDemoConversation } from './seed.js';
import { createPortalServer } from './server.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const work = mkdtempSync(path.join(tmpdir(), 'carethread-tour-'));
const webRoot = path.join(work, 'web');
let relay: Relay;
let portal: Server;
let portalUrl: string;
let browser: Browser;

beforeAll(async () => {
  await build({
    root: path.join(here, '../web'),
    logLevel: 'silent',
    build: { outDir: webRoot, emptyOutDir: true },
  });
  relay = await createRelay(
    parseConfig({
      port: 0,
      host: '127.0.0.1',
      dataDir: path.join(work, 'data'),
      devTenant: true,
      logLevel: 'silent',
      sqlite: { synchronous: 'normal' },
    }),
  );
  const relayUrl = `http://localhost:${String(await relay.listen())}`;
  await seedDemoConversation(relayUrl, relay.devKey!);
  portal = createPortalServer({ webRoot, relayUrl, devKey: relay.devKey! });
  await new Promise<void>((resolve) => portal.listen(0, '127.0.0.1', resolve));
  portalUrl = `http://localhost:${String((portal.address() as AddressInfo).port)}`;
  browser = await chromium.launch({
    executablePath: process.env.CHROME_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run'],
  });
});

afterAll(async () => {
  await browser.close();
  portal.closeAllConnections();
  await new Promise((resolve) => portal.close(resolve));
  await relay.close();
  rmSync(work, { recursive: true, force: true });
});

/** What people wrote, which stays in the language they wrote it in. */
const WRITTEN_BY_PEOPLE = ['.message .text'];

/** Everything a person would notice on `page` in its state `state`, as a list of findings. */
async function findings(page: Page, lang: string, state: string): Promise<string[]> {
  const found = (await axeViolations(page)).map((v) => `${state}: axe ${v}`);
  if (lang === 'es')
    found.push(
      ...(await englishIn(page, WRITTEN_BY_PEOPLE)).map((text) => `${state}: English "${text}"`),
    );
  if ((page.viewportSize()?.width ?? 0) <= 420)
    found.push(...(await overflowing(page)).map((wide) => `${state}: too wide ${wide}`));
  return found;
}

const pane = (page: Page, persona: string) => page.locator(`.pane[data-persona="${persona}"]`);
const aliceConsent = (page: Page) => page.locator('.alice-consents');
const askConsent = (page: Page) => page.locator('.ask-consent');
/** Bob's chat is open when his message box takes text. */
const bobCanWrite = (page: Page) => pane(page, 'bob').locator('textarea:enabled');

async function ask(page: Page, purpose: string): Promise<void> {
  const form = askConsent(page);
  // The relay is the one of the other language's tour: its request is there, with "Ask again".
  const again = form.locator('[part="receipt"] button');
  await form.locator('input[name="purpose"], [part="receipt"] button').first().waitFor();
  if (await again.isVisible()) await again.click();
  await form.locator('input[name="purpose"]').fill(purpose);
  await form.locator('form button[type="submit"]').click();
  await aliceConsent(page).locator('input[name="signature"]').waitFor();
}

async function sign(consent: Locator): Promise<void> {
  await consent.locator('input[name="disclosure"]').check();
  for (const box of await consent.locator('input[name="ack"]').all()) await box.check();
  for (const select of await consent.locator('select').all())
    await select.selectOption({ index: 1 });
  await consent.locator('input[name="signature"]').fill('Alice Moreno');
  await consent.locator('[part="sign"]').click();
  await consent.locator('[part="receipt"]').waitFor();
}

// English in the light theme, Spanish in the dark one: axe checks both themes' contrast.
describe.each([
  {
    lang: 'en',
    theme: 'light',
    purpose: 'So Bob can support my recovery.',
    words: 'Thursday works for me.',
  },
  {
    lang: 'es',
    theme: 'dark',
    purpose: 'Para que Bob apoye mi recuperación.',
    words: 'El jueves me va bien.',
  },
])('the demo in $lang, $theme', ({ lang, theme, purpose, words }) => {
  it('gives every person a page without findings through the whole consent story', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await page.goto(`${portalUrl}/?lang=${lang}&theme=${theme}`);
    await pane(page, 'alice').locator('carethread-chat textarea:enabled').waitFor();
    const found = await findings(page, lang, 'Bob waiting');
    // The English check finds English where there is some: it can fail.
    if (lang === 'en')
      expect((await englishIn(page, WRITTEN_BY_PEOPLE)).length).toBeGreaterThan(20);

    await ask(page, purpose);
    found.push(...(await findings(page, lang, 'asked')));

    await sign(aliceConsent(page));
    await bobCanWrite(page).waitFor();
    await bobCanWrite(page).fill(words);
    await bobCanWrite(page).press('Enter');
    await pane(page, 'alice').locator('.message .text', { hasText: words }).waitFor();
    found.push(...(await findings(page, lang, 'signed')));

    // Alice's list of consents, with the revocation of the one in effect open.
    await aliceConsent(page).locator('[part="receipt"] button').last().click();
    await aliceConsent(page).locator('.consents li button').last().click();
    await aliceConsent(page).locator('input[name="confirm-name"]').waitFor();
    found.push(...(await findings(page, lang, 'revoking')));

    await aliceConsent(page).locator('input[name="confirm-name"]').fill('Alice Moreno');
    await aliceConsent(page).locator('form.confirm button[type="submit"]').click();
    await bobCanWrite(page).waitFor({ state: 'detached' });
    found.push(...(await findings(page, lang, 'revoked')));
    await page.close();
    expect(found).toEqual([]);
  });

  for (const width of [320, 375])
    it(`fits each person's page on a ${String(width)} px phone`, async () => {
      const found: string[] = [];
      for (const persona of ['alice', 'bob', 'dr-rivera']) {
        const page = await browser.newPage({ viewport: { width, height: 740 } });
        await page.goto(`${portalUrl}/?lang=${lang}&theme=${theme}&persona=${persona}`);
        await page.locator('carethread-chat [part="base"]').waitFor();
        await page.waitForLoadState('networkidle');
        found.push(...(await findings(page, lang, `${persona} at ${String(width)} px`)));
        await page.close();
      }
      expect(found).toEqual([]);
    });
});
