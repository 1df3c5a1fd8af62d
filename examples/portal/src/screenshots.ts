// `pnpm --filter @carethread/example-portal screenshots [portal-url]`: with the demo running, writes
// the README's pictures to docs/screenshots (light and dark, English and Spanish, desktop and a
// 375 px phone) after three people have talked, using Debian's Chromium.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Page } from 'playwright-core';
import { askForConsent, signConsentForm } from './demo-steps.js';

const portal = process.argv[2] ?? 'http://localhost:5173/';
const out = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../docs/screenshots');
const browser = await chromium.launch({
  executablePath: process.env.CHROME_PATH ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});
const problems: string[] = [];

async function visit(
  query: string,
  width: number,
  height: number,
  act: (page: Page) => Promise<void>,
): Promise<void> {
  const page = await browser.newPage({ viewport: { width, height } });
  page.on('pageerror', (error) => problems.push(`${query}: ${error.message}`));
  await page.goto(portal + query);
  // Every pane settled: its participants shown, or why not.
  for (const chat of await page.locator('carethread-chat').all()) {
    await chat.locator('.participants, [part="closed"]').first().waitFor();
  }
  await act(page);
  await page.waitForTimeout(800); // receipts and presence settle
  await page.close();
}

async function say(page: Page, ...texts: string[]): Promise<void> {
  const box = page.getByRole('textbox', { name: 'Message' });
  for (const text of texts) {
    await box.fill(text);
    await box.press('Enter');
  }
}

const shoot = (name: string) => async (page: Page) => {
  // Every chat loaded and open for writing (not "Connecting…"), and every consent element ready.
  for (const chat of await page.locator('carethread-chat').all())
    await chat.locator('textarea:enabled').waitFor();
  for (const consent of await page.locator('carethread-consent').all())
    await consent.locator('h2').first().waitFor();
  await page.locator('.message').first().waitFor();
  await page.screenshot({ path: path.join(out, `${name}.png`) });
};

/** Bob's pane, waiting for Alice's consent, on a phone in `lang`. */
const waiting = (lang: string) => async (page: Page) => {
  const closed = page.locator('.pane[data-persona="bob"] [part="closed"]');
  if ((await closed.count()) === 0) return; // consented on an earlier run
  await page.screenshot({ path: path.join(out, `bob-waiting-${lang}.png`) });
};
await visit('?persona=bob', 375, 740, waiting('en'));
await visit('?persona=bob&lang=es&theme=dark', 375, 740, waiting('es'));

// The consent story: the therapist asks, Alice signs, and Bob's chat opens.
await visit('', 1400, 1100, async (page) => {
  const bobOpen = page.locator('.pane[data-persona="bob"] .participants');
  if ((await bobOpen.count()) > 0) return; // consented on an earlier run
  await askForConsent(page);
  const consent = page.locator('.pane[data-persona="alice"] carethread-consent');
  await consent
    .getByRole('checkbox', { name: 'I agree to use electronic records and signatures.' })
    .waitFor();
  await page.waitForTimeout(300);
  await consent.screenshot({ path: path.join(out, 'consent-form-en.png') });
  await signConsentForm(consent);
  await consent.screenshot({ path: path.join(out, 'consent-signed-en.png') });
  await bobOpen.waitFor();
});
await visit('?persona=alice', 800, 700, (page) =>
  say(
    page,
    'Hi everyone, the family session moved to Thursday at 5 pm.',
    'Could Bob join by video? Details: https://sunrise.example/visits',
  ),
);
await visit('?persona=dr-rivera', 800, 700, (page) =>
  say(page, 'Yes, video works. I will send Bob the link on Thursday morning.'),
);
await visit('?persona=bob', 800, 700, (page) =>
  say(page, 'Thanks, I will be there.\nShould I bring anything?'),
);
await visit('', 1400, 800, shoot('desktop-light-en'));
await visit('?theme=dark', 1400, 800, shoot('desktop-dark-en'));
await visit('?lang=es', 1400, 800, shoot('desktop-light-es'));
await visit('?lang=es&theme=dark', 1400, 800, shoot('desktop-dark-es'));
await visit('?persona=alice', 375, 740, shoot('phone-light-en'));
await visit('?persona=dr-rivera&theme=dark', 375, 740, shoot('phone-dark-en'));
await visit('?persona=alice&lang=es', 375, 740, shoot('phone-light-es'));
await visit('?persona=bob&lang=es&theme=dark', 375, 740, shoot('phone-dark-es'));
// One's own message with its options open (who read it, Edit, Delete), on a phone.
await visit('?persona=bob', 375, 740, async (page) => {
  await page.locator('.message.mine[data-seq] .options').last().click();
  await page.locator('.actions').waitFor();
  await page.screenshot({ path: path.join(out, 'phone-message-options-en.png') });
});
await browser.close();
process.stdout.write(`Screenshots written to ${out}\n`);
if (problems.length > 0) {
  process.stderr.write(`${problems.join('\n')}\n`);
  process.exitCode = 1;
}
