// The example portal end to end in real Chromium: the page built by Vite with the <carethread-chat>
// script tag, served under its strict CSP with Trusted Types, talking to a real relay that is
// stopped and restarted.
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRelay, parseConfig, type Relay } from '@carethread/server';
import { createClient } from '@carethread/widget/client';
import { askForConsent, signConsentForm } from './demo-steps.js';
import type { ConsentBlock } from '@carethread/shared';
import { personaById, type Persona } from './personas.js';
import { mintPersonaToken, seedDemoConversation } from './seed.js';
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
      // The XSS corpus test sends a message per payload.
      devTenantLimits: { sendPerSecond: 1000, sendBurst: 1000 },
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
    // Chromium warns of a WebSocket closed while it connects: a connection thrown away.
    if (
      message.type() === 'error' ||
      (message.type() === 'warning' && message.text().includes('WebSocket'))
    )
      problems.push(`${name}: ${message.text()}`);
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

/** A 160×100 PNG drawn and encoded by the browser, as a phone's picture would be. */
async function drawnPng(page: Page): Promise<Buffer> {
  // A string, evaluated in the page where the DOM exists (this file is typed for Node).
  const bytes = await page.evaluate<number[]>(`(async () => {
    const canvas = document.createElement('canvas');
    canvas.width = 160;
    canvas.height = 100;
    const context = canvas.getContext('2d');
    context.fillStyle = '#dfe7f2';
    context.fillRect(0, 0, 160, 100);
    context.fillStyle = '#1d4e89';
    context.fillText('INSURANCE CARD', 20, 50);
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/png'));
    return Array.from(new Uint8Array(await blob.arrayBuffer()));
  })()`);
  return Buffer.from(bytes);
}

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
    await bobStatus.getByText("Waiting for the patient's consent").waitFor();
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
    await bobStatus.getByText('No longer shared with you').waitFor();
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
    // The page drops the other panes as it starts, their chats still connecting: quietly.
    expect(problems.filter((p) => p.startsWith('bob: '))).toEqual([]);
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

  it('loads the Spanish strings from beside the script under the strict policy, and stays English without them', async () => {
    const violations: string[] = [];
    const hostPage = (folder: string) =>
      `<!doctype html><html lang="es"><head><title>Host</title><link rel="icon" href="/favicon.svg">
        <script src="${folder}/carethread.js"></script></head><body>
        <carethread-chat server="http://localhost:${String(relayPort)}" conversation="c-demo"
          token-url="/carethread/token?persona=alice"></carethread-chat></body></html>`;
    writeFileSync(path.join(webRoot, 'strict-es.html'), hostPage(''));
    const spanish = await openPortal('strict-es');
    spanish.on('console', (message) => {
      if (message.text().includes('Content Security Policy')) violations.push(message.text());
    });
    const loaded: string[] = [];
    spanish.on('response', (response) => loaded.push(new URL(response.url()).pathname));
    await spanish.goto(`${portalUrl}/strict-es.html`);
    await spanish.getByRole('textbox', { name: 'Mensaje', exact: true }).waitFor();
    await spanish.getByRole('log', { name: 'Mensajes' }).waitFor();
    expect(loaded).toContain('/carethread-es.js');
    expect(violations).toEqual([]);

    // A host that copied carethread.js alone: the chat works in English and the console says
    // which file to serve. The portal serves its web folder, where no Spanish file is.
    const alone = path.join(webRoot, 'alone');
    mkdirSync(alone, { recursive: true });
    copyFileSync(
      createRequire(import.meta.url).resolve('@carethread/widget/carethread.js'),
      path.join(alone, 'carethread.js'),
    );
    writeFileSync(path.join(webRoot, 'alone.html'), hostPage('/alone'));
    const before = problems.length;
    const english = await openPortal('alone');
    await english.goto(`${portalUrl}/alone.html`);
    await english.getByRole('textbox', { name: 'Message', exact: true }).waitFor();
    const logged = problems.splice(before);
    expect(logged.join('\n')).toContain('Serve carethread-es.js from the folder of carethread.js');
  });

  it('renders the XSS corpus inert under the strict policy: nothing runs, no violation', async () => {
    // The widget's browser tests render the same corpus field by field; here it goes through the
    // script-tag build under the portal's CSP, where an injected handler or script would also be
    // reported as a violation.
    const widget = path.dirname(
      createRequire(import.meta.url).resolve('@carethread/widget/package.json'),
    );
    const { payloads } = JSON.parse(
      readFileSync(path.join(widget, 'src/test-support/xss-corpus.json'), 'utf8'),
    ) as { payloads: { payload: string; repeat?: number }[] };
    const texts = payloads.map((p) => p.payload.repeat(p.repeat ?? 1));
    const labels = texts.filter((t) => /^[^\p{Cc}]*$/u.test(t)).map((t) => t.slice(0, 200));
    const label = (i: number) => labels[i % labels.length] ?? 'x';
    const devKey = relay.devKey!;
    const clientAs = (persona: Persona) =>
      createClient({
        url: `http://127.0.0.1:${String(relayPort)}`,
        transports: ['websocket'],
        tokenProvider: () => mintPersonaToken(devKey, persona, 60),
      });
    const therapist = clientAs({ ...personaById('dr-rivera')!, title: label(4) });
    const admin = clientAs({ sub: 'portal-admin', name: 'Portal admin', role: 'staff' });
    const blocks: ConsentBlock[] = labels.slice(0, 40).flatMap((text, i): ConsentBlock[] => [
      { type: 'heading', text },
      { type: 'paragraph', text },
      { type: 'acknowledgement', id: `ack-${String(i)}`, text },
      { type: 'field', id: `f-${String(i)}`, label: text, input: 'text', required: false },
    ]);
    blocks.push(
      { type: 'list', items: labels.slice(40, 80) },
      {
        type: 'field',
        id: 'choice',
        label: 'Choose',
        input: 'choice',
        required: false,
        options: labels.slice(40, 60),
      },
    );
    try {
      await therapist.createConversation({
        conversationId: 'c-xss',
        title: label(0),
        participants: [
          { userId: 'alice', role: 'patient', displayName: label(1) },
          ...labels.slice(2, 60).map((text, i) => ({
            userId: `xss-${String(i)}`,
            role: 'family' as const,
            displayName: text,
            relationship: text,
          })),
        ],
      });
      const chat = therapist.conversation('c-xss');
      await chat.open();
      for (const text of texts.slice(0, 40)) await chat.send(text);
      await admin.request('consent.template.publish', {
        templateId: 'xss-form',
        kind: 'general',
        language: 'en',
        title: label(2),
        blocks,
      });
      await therapist.request('consent.request', {
        requestId: 'req-xss-corpus',
        templateId: 'xss-form',
        conversationId: 'c-xss',
        patientId: 'alice',
        recipients: ['xss-0', 'xss-1'],
        purpose: label(3),
        expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
      });
    } finally {
      admin.close();
    }

    writeFileSync(
      path.join(webRoot, 'xss.html'),
      `<!doctype html><html lang="en"><head><title>Corpus host</title><link rel="icon" href="/favicon.svg">
        <script src="/carethread.js"></script></head><body>
        <carethread-chat server="http://localhost:${String(relayPort)}" conversation="c-xss"
          token-url="/carethread/token?persona=alice"></carethread-chat>
        <carethread-consent server="http://localhost:${String(relayPort)}" request="req-xss-corpus"
          token-url="/carethread/token?persona=alice"></carethread-consent></body></html>`,
    );
    const host = await openPortal('xss');
    // A trap for payloads that call __pwned() or alert(), and the policy's violation reports.
    await host.addInitScript(`
      window.ran = [];
      window.violations = [];
      window.__pwned = (id) => window.ran.push(String(id));
      for (const name of ['alert', 'confirm', 'prompt']) window[name] = () => window.ran.push(name);
      addEventListener('securitypolicyviolation', (event) => {
        window.violations.push(event.violatedDirective + ' ' + event.blockedURI);
      });`);
    await host.goto(`${portalUrl}/xss.html`);
    const messages = host.getByRole('log', { name: 'Messages' }).locator('.text');
    // The first 40 from history, the rest live.
    try {
      await expect.poll(() => messages.count(), { timeout: 30_000 }).toBe(40);
      for (const text of texts.slice(40)) await therapist.conversation('c-xss').send(text);
    } finally {
      therapist.close();
    }
    await expect.poll(() => messages.count(), { timeout: 30_000 }).toBe(texts.length);
    const consent = host.locator('carethread-consent');
    await consent.getByRole('button', { name: 'Sign and submit' }).waitFor();
    expect(await messages.allTextContents()).toEqual(texts);
    expect(await consent.locator('h2').textContent()).toBe(label(2));
    expect(await consent.locator('[part="form"] h3').allTextContents()).toEqual(
      labels.slice(0, 40),
    );
    // Elements and attributes no CareThread template makes, and links that are not http(s).
    const found = await host.evaluate(`(() => {
      const strangers = [];
      for (const el of document.querySelectorAll('carethread-chat, carethread-consent'))
        for (const node of el.shadowRoot.querySelectorAll('*')) {
          // The icons of Attach and Send, the only svg the templates make.
          const icon = node.closest('svg.icon') && node.closest('[part="attach"], [part="send"]');
          if (!icon && /^(script|img|svg|iframe|object|embed|math|style|base|meta|link|video|template)$/.test(node.localName))
            strangers.push(node.localName);
          for (const name of node.getAttributeNames())
            if (name.startsWith('on')) strangers.push(node.localName + '[' + name + ']');
          if (node.localName === 'a' && (!/^https?:/.test(node.href) || node.rel !== 'noopener noreferrer'))
            strangers.push('a ' + node.href);
        }
      return { strangers, ran: window.ran, violations: window.violations };
    })()`);
    expect(found).toEqual({ strangers: [], ran: [], violations: [] });
    // The drawing pad is a second file, imported from beside the script under the same policy.
    await consent.getByRole('radio', { name: 'Also draw my signature' }).check();
    await consent.locator('canvas.pad:not([aria-busy])').waitFor();
    expect(await host.evaluate(`window.violations`)).toEqual([]);
    await host.close();
  });

  it('shares a document and a picture: picked in the page, shown to the others, downloaded', async () => {
    const plan = Buffer.concat([Buffer.from('%PDF-1.7\n'), randomBytes(200_000)]);
    await pane(page, 'alice')
      .locator('input[type="file"]')
      .setInputFiles([
        { name: 'discharge-plan.pdf', mimeType: 'application/pdf', buffer: plan },
        { name: 'insurance-card.png', mimeType: 'image/png', buffer: await drawnPng(page) },
      ]);
    await say(page, 'alice', 'My discharge plan and insurance card');
    for (const persona of ['bob', 'dr-rivera']) {
      const shared = log(page, persona);
      await shared
        .getByRole('button', { name: 'Download discharge-plan.pdf, PDF, 200 kB' })
        .waitFor();
      // The thumbnail is decoded from the relay's bytes under the page's img-src blob:.
      const thumbnail = shared.getByRole('button', { name: /^Open insurance-card\.png, PNG, / });
      await thumbnail.waitFor();
      await expect
        .poll(() =>
          thumbnail.locator('img').evaluate((img: { naturalWidth: number }) => img.naturalWidth),
        )
        .toBe(160);
    }
    // A real download in the browser, under the file's name, byte for byte.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      log(page, 'bob')
        .getByRole('button', { name: /^Download discharge-plan\.pdf/ })
        .click(),
    ]);
    expect(download.suggestedFilename()).toBe('discharge-plan.pdf');
    expect(readFileSync(await download.path()).equals(plan)).toBe(true);
  });

  it('finishes an upload cut by a relay restart, sending the file again under the same id', async () => {
    // Uploads go at 2 MB/s, so the restart lands in the middle of this one.
    const network = await page.context().newCDPSession(page);
    await network.send('Network.enable');
    const throttle = (uploadThroughput: number) =>
      network.send('Network.emulateNetworkConditions', {
        offline: false,
        latency: 0,
        downloadThroughput: -1,
        uploadThroughput,
      });
    await throttle(2 * 1024 * 1024);
    const scan = Buffer.concat([Buffer.from('%PDF-1.7\n'), randomBytes(8 * 1024 * 1024)]);
    await pane(page, 'alice')
      .locator('input[type="file"]')
      .setInputFiles([{ name: 'full-scan.pdf', mimeType: 'application/pdf', buffer: scan }]);
    await say(page, 'alice', 'The full scan');
    const progress = pane(page, 'alice').getByRole('progressbar', {
      name: 'Uploading full-scan.pdf',
    });
    await expect
      .poll(() => progress.evaluate((bar: { value: number }) => bar.value), { timeout: 20_000 })
      .toBeGreaterThan(10);
    const before = await progress.evaluate((bar: { value: number }) => bar.value);
    expect(before).toBeLessThan(90);
    await relay.close();
    await startRelay(relayPort);
    // The file goes up again from its start: the cut attempt was not kept.
    await expect
      .poll(() => progress.evaluate((bar: { value: number }) => bar.value), { timeout: 20_000 })
      .toBeLessThan(before);
    await throttle(-1);
    const card = log(page, 'bob').getByRole('button', { name: /^Download full-scan\.pdf, PDF, / });
    await card.waitFor({ timeout: 30_000 });
    expect(await log(page, 'bob').getByText('The full scan').count()).toBe(1);
    const [download] = await Promise.all([page.waitForEvent('download'), card.click()]);
    expect(readFileSync(await download.path()).equals(scan)).toBe(true);
    await network.detach();
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
    // The relay restarts above: refused connections, and a stopping relay's 503 to an upload or
    // link the widget then retries, are what a restart looks like in the console.
    const restart = /WebSocket|ERR_CONNECTION_REFUSED|socket\.io|status of 503/;
    expect(problems.filter((p) => !restart.test(p))).toEqual([]);
  });
});
