// The example portal end to end in real Chromium: the page built by Vite with the <carethread-chat>
// script tag, served under its strict CSP with Trusted Types, talking to a real relay that is
// stopped and restarted.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRelay, parseConfig, type Relay } from '@carethread/server';
import { askForConsent, signConsentForm } from './demo-steps.js';
import { seedDemoConversation } from './seed.js';
import { createPortalServer } from './server.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const work = mkdtempSync(path.join(tmpdir(), 'carethread-portal-'));
const dataDir = path.join(work, 'data');
const webRoot = path.join(work, 'web');
let relay: Relay;
let relayPort: number;
let portal: Server;
let portalUrl: string;
let browser: Browser;
const problems: string[] = [];

async function startRelay(port: number): Promise<void> {
  relay = await createRelay(
    parseConfig({
      port,
      host: '127.0.0.1',
      dataDir,
      devTenant: true,
      logLevel: 'silent',
      sqlite: { synchronous: 'normal' },
    }),
  );
  relayPort = await relay.listen();
}

beforeAll(async () => {
  await build({
    root: path.join(here, '../web'),
    logLevel: 'silent',
    build: { outDir: webRoot, emptyOutDir: true },
  });
  await startRelay(0);
  const devKey = relay.devKey!;
  await seedDemoConversation(`http://127.0.0.1:${relayPort}`, devKey);

  portal = createPortalServer({ webRoot, relayUrl: `http://localhost:${relayPort}`, devKey });
  await new Promise<void>((resolve) => portal.listen(0, '127.0.0.1', resolve));
  portalUrl = `http://localhost:${(portal.address() as AddressInfo).port}`;
  browser = await chromium.launch({
    executablePath: process.env.CHROME_PATH ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
});

afterAll(async () => {
  await browser.close();
  portal.closeAllConnections();
  await new Promise((resolve) => portal.close(resolve));
  await relay.close();
  rmSync(work, { recursive: true, force: true });
});

async function openPortal(name: string, query = ''): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`${name}: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`${name}: ${error.message}`));
  await page.goto(portalUrl + query);
  return page;
}

/** One person's chat on the page: Playwright's role locators reach into the shadow root. */
const pane = (page: Page, persona: string) => page.locator(`.pane[data-persona="${persona}"]`);
const composer = (page: Page, persona: string) =>
  pane(page, persona).getByRole('textbox', { name: 'Message' });
const log = (page: Page, persona: string) =>
  pane(page, persona).getByRole('log', { name: 'Messages' });

async function say(page: Page, persona: string, text: string): Promise<void> {
  await composer(page, persona).fill(text);
  await composer(page, persona).press('Enter');
}

describe('example portal', () => {
  let page: Page;

  it("tells the story: asked, signed, Bob's chat opens; revoked, it closes; signed again", async () => {
    page = await openPortal('portal');
    await log(page, 'alice').waitFor();
    const bobStatus = pane(page, 'bob').getByRole('status');
    await bobStatus.getByText(/consent to share this conversation with you is pending/).waitFor();
    const consent = pane(page, 'alice').locator('carethread-consent');

    async function askAndSign(): Promise<void> {
      await askForConsent(page);
      await signConsentForm(consent);
      await pane(page, 'bob').getByRole('list', { name: 'Participants' }).waitFor();
    }

    await askAndSign();
    await say(page, 'bob', 'Thank you for letting me in, Alice.');
    await log(page, 'alice').getByText('Thank you for letting me in, Alice.').waitFor();

    await consent.getByRole('button', { name: 'Your consents' }).click();
    await consent.getByRole('button', { name: 'Revoke…' }).click();
    await consent.getByLabel('Your full name').fill('Alice Moreno');
    await consent.getByRole('button', { name: 'Revoke this consent' }).click();
    await bobStatus.getByText(/withdrew their consent/).waitFor();
    expect(await log(page, 'bob').count()).toBe(0);

    await askAndSign();
  });

  it('shows a patient, a family member and a therapist side by side, who talk', async () => {
    for (const persona of ['alice', 'bob', 'dr-rivera']) await log(page, persona).waitFor();
    await say(page, 'alice', 'Hi both! The family session moved to Thursday.');
    await log(page, 'bob').getByText('The family session moved to Thursday.').waitFor();
    await log(page, 'dr-rivera').getByText('The family session moved to Thursday.').waitFor();
    await composer(page, 'bob').fill('Thanks!');
    await composer(page, 'bob').press('Shift+Enter');
    await composer(page, 'bob').pressSequentially('See you there.');
    await pane(page, 'bob').getByRole('button', { name: 'Send' }).click();
    await log(page, 'alice')
      .getByText(/Thanks!\s+See you there\./)
      .waitFor();
    await composer(page, 'dr-rivera').fill('typing...');
    await pane(page, 'alice').getByText('Dr. Sam Rivera is typing…').waitFor();
    const participants = await pane(page, 'bob')
      .getByRole('list', { name: 'Participants' })
      .innerText();
    expect(participants).toContain('Family · brother');
    expect(participants).toContain('Care team · Therapist');
    expect(await pane(page, 'dr-rivera').getByRole('note').innerText()).toContain('988');
  });

  it('renders markup in messages as text', async () => {
    await say(page, 'alice', '<img src=x onerror="window.pwned=1"><b>bold?</b>');
    await log(page, 'bob').getByText('<b>bold?</b>', { exact: false }).waitFor();
    expect(await page.evaluate(() => (globalThis as { pwned?: number }).pwned)).toBeUndefined();
    expect(await log(page, 'bob').locator('img, b').count()).toBe(0);
  });

  it('brings a person who was away up to date, with nothing lost', async () => {
    const bobAlone = await openPortal('bob', '?persona=bob');
    await log(bobAlone, 'bob').getByText('bold?', { exact: false }).waitFor();
    await bobAlone.close();
    for (let i = 1; i <= 5; i++) await say(page, 'dr-rivera', `While Bob was away ${String(i)}`);
    await log(page, 'alice').getByText('While Bob was away 5').waitFor();
    const bobBack = await openPortal('bob again', '?persona=bob');
    await log(bobBack, 'bob').getByText('While Bob was away 5').waitFor();
    const texts = await log(bobBack, 'bob').locator('.text').allInnerTexts();
    const away = texts.filter((t) => t.startsWith('While Bob was away'));
    expect(away).toEqual([1, 2, 3, 4, 5].map((i) => `While Bob was away ${String(i)}`));
  });

  it('runs under the strict policy the docs promise, with Trusted Types required', async () => {
    // A bare host page with nothing but the script tag and the element, served by the portal
    // under its policy, which holds every directive of the documented one.
    writeFileSync(
      path.join(webRoot, 'strict.html'),
      `<!doctype html><html lang="en"><head><title>Strict host</title><link rel="icon" href="/favicon.svg">
        <script src="/carethread.js"></script></head><body>
        <carethread-chat server="http://localhost:${String(relayPort)}" conversation="c-demo"
          token-url="/carethread/token?persona=alice"></carethread-chat></body></html>`,
    );
    const documented = [
      "default-src 'self'",
      "script-src 'self'",
      "style-src 'self'",
      `connect-src 'self' http://localhost:${String(relayPort)} ws://localhost:${String(relayPort)}`,
      "require-trusted-types-for 'script'",
    ];
    const strict = await openPortal('strict');
    await strict.addInitScript(() => {
      const seen: string[] = [];
      (globalThis as { violations?: string[] }).violations = seen;
      // In the page, where the DOM exists; typed here against the Node test's globals.
      const page = globalThis as unknown as {
        addEventListener(
          type: string,
          listener: (event: { violatedDirective: string; blockedURI: string }) => void,
        ): void;
      };
      page.addEventListener('securitypolicyviolation', (event) => {
        seen.push(`${event.violatedDirective} ${event.blockedURI}`);
      });
    });
    const response = await strict.goto(`${portalUrl}/strict.html`);
    const served = (await response?.headerValue('content-security-policy')) ?? '';
    for (const directive of documented) expect(served.split('; ')).toContain(directive);
    await strict
      .getByRole('log', { name: 'Messages' })
      .getByText('bold?', { exact: false })
      .waitFor();
    await strict.getByRole('textbox', { name: 'Message' }).fill('Sent under a strict policy');
    await strict.getByRole('textbox', { name: 'Message' }).press('Enter');
    await log(page, 'bob').getByText('Sent under a strict policy').waitFor();
    expect(
      await strict.evaluate(() => (globalThis as { violations?: string[] }).violations),
    ).toEqual([]);
  });

  it('queues a message while the relay is down and sends it when the relay is back', async () => {
    await relay.close();
    await pane(page, 'alice')
      .getByRole('status')
      .getByText(/offline|Reconnecting/)
      .waitFor();
    await say(page, 'alice', 'Sent while the relay was down');
    await pane(page, 'alice').getByText('Waiting for connection…').waitFor();
    await startRelay(relayPort);
    await log(page, 'bob').getByText('Sent while the relay was down').waitFor({ timeout: 30_000 });
    await expect
      .poll(() => pane(page, 'alice').getByText('Waiting for connection…').count())
      .toBe(0);
    expect(problems.filter((p) => !/WebSocket|ERR_CONNECTION_REFUSED|socket\.io/.test(p))).toEqual(
      [],
    );
  });
});
