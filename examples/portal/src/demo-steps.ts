// What a person does in the demo page, shared by its end-to-end test and the screenshots script.
import type { Locator, Page } from 'playwright-core';

/** Alice fills in and signs the consent form open in her `<carethread-consent>`. */
export async function signConsentForm(consent: Locator): Promise<void> {
  await consent
    .getByRole('checkbox', { name: 'I agree to use electronic records and signatures.' })
    .check();
  for (const box of await consent.locator('input[name="ack"]').all()) await box.check();
  await consent.getByLabel('I am signing as').selectOption('The patient');
  await consent.getByLabel('Type your full name to sign').fill('Alice Moreno');
  await consent.getByRole('button', { name: 'Sign and submit' }).click();
  await consent.getByRole('link', { name: 'Download the signed copy (PDF)' }).waitFor();
}

/** The therapist asks Alice, from the consent element in the therapist's pane. */
export async function askForConsent(page: Page): Promise<void> {
  const ask = page.locator('.pane[data-persona="dr-rivera"] carethread-consent');
  const again = ask.getByRole('button', { name: 'Ask again' });
  if (await again.isVisible()) await again.click();
  await ask.getByLabel('Purpose').fill('So Bob can support my recovery.');
  await ask.getByRole('button', { name: 'Ask for consent' }).click();
  await again.waitFor();
}
