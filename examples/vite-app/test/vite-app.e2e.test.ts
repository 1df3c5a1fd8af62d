// The npm/ESM way end to end: this app served by Vite's dev server (the element resolved from
// @carethread/widget like any dependency), in real Chromium, against a real relay.
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { createServer, type ViteDevServer } from 'vite';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  DEV_AUDIENCE,
  DEV_ISSUER,
  createRelay,
  mintToken,
  parseConfig,
  type Relay,
} from '@carethread/server';
import { createClient, type CareThreadClient } from '@carethread/widget/client';

const appRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dataDir = mkdtempSync(path.join(tmpdir(), 'carethread-vite-app-'));
let relay: Relay;
let vite: ViteDevServer;
let browser: Browser;
let provider: CareThreadClient;

beforeAll(async () => {
  relay = await createRelay(
    parseConfig({ port: 0, host: '127.0.0.1', dataDir, devTenant: true, logLevel: 'silent' }),
  );
  const relayUrl = `http://localhost:${String(await relay.listen())}`;
  const devKey = relay.devKey!;
  provider = createClient({
    url: relayUrl,
    transports: ['websocket'],
    tokenProvider: () =>
      mintToken({
        issuer: DEV_ISSUER,
        audience: DEV_AUDIENCE,
        key: devKey.privateKey,
        kid: devKey.kid,
        sub: 'dr-rivera',
        name: 'Dr. Sam Rivera',
        role: 'provider',
        ttlSeconds: 600,
      }),
  });
  await provider.createConversation({
    conversationId: 'c-demo',
    title: 'Alice — family support',
    participants: [{ userId: 'alice', role: 'patient', displayName: 'Alice Moreno' }],
  });

  process.env.CARETHREAD_DATA_DIR = dataDir;
  process.env.VITE_CARETHREAD_RELAY = relayUrl;
  vite = await createServer({
    root: appRoot,
    configFile: path.join(appRoot, 'vite.config.ts'),
    logLevel: 'silent',
    server: { port: 0, host: '127.0.0.1' },
  });
  await vite.listen();
  browser = await chromium.launch({
    executablePath: process.env.CHROME_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run'],
  });
});

afterAll(async () => {
  await browser.close();
  await vite.close();
  provider.close();
  await relay.close();
  rmSync(dataDir, { recursive: true, force: true });
});

it('imports the element from npm, signs in through tokenProvider and talks', async () => {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  const port = (vite.httpServer?.address() as AddressInfo).port;
  await page.goto(`http://localhost:${String(port)}/`);
  await page.getByRole('list', { name: 'Participants' }).getByText('Alice Moreno (you)').waitFor();

  const conversation = provider.conversation('c-demo');
  await conversation.open();
  const received = new Promise<string>((resolve) => {
    conversation.on('message', (message) => {
      resolve(message.text);
    });
  });
  await page.getByRole('textbox', { name: 'Message' }).fill('Hello from the Vite app');
  await page.getByRole('textbox', { name: 'Message' }).press('Enter');
  expect(await received).toBe('Hello from the Vite app');
  expect(errors).toEqual([]);
});
