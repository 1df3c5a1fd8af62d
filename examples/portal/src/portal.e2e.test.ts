// The example portal end to end in real Chromium: the page built by Vite, served under its strict
// CSP, talking through the headless client to a real relay that is stopped and restarted.
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRelay, parseConfig, type Relay } from '@carethread/server';
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

async function signIn(name: string): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`${name}: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`${name}: ${error.message}`));
  await page.goto(portalUrl);
  await page.getByRole('button', { name: new RegExp(name) }).click();
  await page.getByRole('log', { name: 'Messages' }).waitFor();
  return page;
}

const composer = (page: Page) => page.getByRole('textbox', { name: 'Message' });
const log = (page: Page) => page.getByRole('log', { name: 'Messages' });

describe('example portal', () => {
  let alice: Page;
  let bob: Page;

  it('lets two people sign in and talk, with roles, presence and typing', async () => {
    alice = await signIn('Alice Moreno');
    bob = await signIn('Bob Moreno');
    await composer(alice).fill('Hi Bob! The family session moved to Thursday.');
    await composer(alice).press('Enter');
    await log(bob).getByText('The family session moved to Thursday.').waitFor();
    await composer(bob).fill('Thanks!');
    await composer(bob).press('Shift+Enter');
    await composer(bob).pressSequentially('See you there.');
    await bob.getByRole('button', { name: 'Send' }).click();
    await log(alice)
      .getByText(/Thanks!\s+See you there\./)
      .waitFor();
    await composer(alice).fill('typing...');
    await bob.getByText('Alice Moreno is typing…').waitFor();
    const participants = await bob.getByRole('list', { name: 'Participants' }).innerText();
    expect(participants).toContain('Family · brother');
    expect(participants).toContain('Patient');
    expect(
      await bob
        .getByRole('list', { name: 'Participants' })
        .getByRole('img', { name: 'online' })
        .count(),
    ).toBe(2);
  });

  it('renders markup in messages as text', async () => {
    await composer(alice).fill('<img src=x onerror="window.pwned=1"><b>bold?</b>');
    await composer(alice).press('Enter');
    await log(bob).getByText('<b>bold?</b>', { exact: false }).waitFor();
    expect(await bob.evaluate(() => (globalThis as { pwned?: number }).pwned)).toBeUndefined();
    expect(await log(bob).locator('img, b').count()).toBe(0);
  });

  it('queues a message while the relay is down and sends it when the relay is back', async () => {
    await relay.close();
    await alice
      .getByRole('status')
      .getByText(/Connection lost|relay is restarting|cannot be reached/)
      .waitFor();
    await composer(alice).fill('Sent while the relay was down');
    await composer(alice).press('Enter');
    await alice.getByText('Waiting for connection…').waitFor();
    await startRelay(relayPort);
    await log(bob).getByText('Sent while the relay was down').waitFor({ timeout: 30_000 });
    await expect.poll(() => alice.getByText('Waiting for connection…').count()).toBe(0);
    expect(problems.filter((p) => !/WebSocket|ERR_CONNECTION_REFUSED|socket\.io/.test(p))).toEqual(
      [],
    );
  });
});
