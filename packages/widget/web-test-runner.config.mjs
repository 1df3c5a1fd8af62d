// Component tests in real Chromium (Debian's, never a downloaded one) against a real CareThread
// relay started for the run: embedded SQLite in a temporary folder, the development tenant.
// The test page gets tokens from /test/token, a stand-in for a host's token endpoint.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { esbuildPlugin } from '@web/dev-server-esbuild';
import { chromeLauncher } from '@web/test-runner-chrome';
import {
  DEV_AUDIENCE,
  DEV_ISSUER,
  createRelay,
  loadDevSigningKey,
  mintToken,
  parseConfig,
} from '@carethread/server';

const ROLES = new Set(['patient', 'family', 'provider', 'staff']);

/** How long the second relay's sessions may stay idle (the idle timeout tests). */
const IDLE_TIMEOUT_SECONDS = 2;

/**
 * Starts the relay with the test server and serves the page /test/relay (its address),
 * /test/token (tokens) and POST /test/relay/stop|start (to take it down and bring it back on the
 * same port and data, for offline tests). A second relay, whose sessions end after
 * IDLE_TIMEOUT_SECONDS without activity, is at /test/idle-relay; `relay=idle` asks for its tokens.
 */
function relayPlugin() {
  let relay;
  let relayUrl;
  let relayPort = 0;
  let devKey;
  let dataDir;
  const idle = {};
  async function start() {
    relay = await createRelay(
      parseConfig({
        port: relayPort,
        host: '127.0.0.1',
        dataDir,
        devTenant: true,
        logLevel: 'warn',
        // The XSS corpus tests open a chat per conversation title and send a message per payload.
        limits: { connectionsPerMinutePerAddress: 10_000 },
        devTenantLimits: { sendPerSecond: 1000, sendBurst: 1000 },
        // The XSS corpus test shares a file per payload name, faster than a person would.
        devTenantFiles: { uploadsPerMinute: 6000, uploadBurst: 1000 },
      }),
    );
    relayPort = await relay.listen();
    relayUrl = `http://127.0.0.1:${String(relayPort)}`;
  }
  return {
    name: 'carethread-relay',
    async serverStart() {
      dataDir = mkdtempSync(path.join(tmpdir(), 'carethread-wtr-'));
      await start();
      devKey = await loadDevSigningKey(dataDir);
      idle.dataDir = mkdtempSync(path.join(tmpdir(), 'carethread-wtr-idle-'));
      idle.relay = await createRelay(
        parseConfig({
          port: 0,
          host: '127.0.0.1',
          dataDir: idle.dataDir,
          devTenant: true,
          devTenantIdleTimeoutSeconds: IDLE_TIMEOUT_SECONDS,
          logLevel: 'warn',
        }),
      );
      idle.url = `http://127.0.0.1:${String(await idle.relay.listen())}`;
      idle.devKey = await loadDevSigningKey(idle.dataDir);
    },
    async serverStop() {
      await relay?.close();
      await idle.relay?.close();
      for (const dir of [dataDir, idle.dataDir])
        if (dir) rmSync(dir, { recursive: true, force: true });
    },
    async serve(context) {
      if (context.path === '/test/relay') return { body: relayUrl, type: 'text/plain' };
      if (context.path === '/test/idle-relay') return { body: idle.url, type: 'text/plain' };
      if (context.path === '/test/relay/stop' && context.method === 'POST') {
        await relay.close();
        return { body: 'stopped', type: 'text/plain' };
      }
      if (context.path === '/test/relay/start' && context.method === 'POST') {
        await start();
        return { body: 'started', type: 'text/plain' };
      }
      if (context.path !== '/test/token') return undefined;
      const { sub, role = 'patient', name = sub, ttl = '600', relationship, title } = context.query;
      if (typeof sub !== 'string' || !ROLES.has(role)) {
        context.status = 400;
        return { body: 'sub and a known role are required', type: 'text/plain' };
      }
      const key = context.query.relay === 'idle' ? idle.devKey : devKey;
      const token = await mintToken({
        issuer: DEV_ISSUER,
        audience: DEV_AUDIENCE,
        key: key.privateKey,
        kid: key.kid,
        sub,
        name,
        role,
        ...(relationship ? { relationship } : {}),
        ...(title ? { title } : {}),
        ttlSeconds: Number(ttl),
      });
      return { body: token, type: 'text/plain' };
    },
  };
}

export default {
  // src/i18n's tests read the source files and run in Node, under vitest (vitest.config.ts).
  files: ['src/**/*.test.ts', '!src/i18n/**'],
  // Browser builds of dependencies (engine.io-client otherwise resolves to its Node build).
  nodeResolve: { browser: true, exportConditions: ['browser', 'production'] },
  concurrency: 1,
  testFramework: { config: { timeout: 15000 } },
  plugins: [esbuildPlugin({ ts: true, target: 'es2022' }), relayPlugin()],
  browsers: [
    chromeLauncher({
      launchOptions: {
        executablePath: process.env.CHROME_PATH ?? '/usr/bin/chromium',
        headless: true,
        args: [
          '--no-sandbox',
          '--disable-gpu',
          '--disable-dev-shm-usage',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          '--no-first-run',
        ],
      },
    }),
  ],
};
