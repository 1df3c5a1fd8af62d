// Tenants whose keys come from the host's JWKS URL: fetched for real over HTTP, with a clear
// refusal (not a hang) when the host's key server is slow or returns garbage.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '@carethread/shared';
import { makeTenant, rawConnect, startRelay, type TestRelay, type TestTenant } from '../helpers.js';

let keyServer: Server;
let relay: TestRelay;
let good: TestTenant;
let slow: TestTenant;
let garbage: TestTenant;
let fetches = 0;

beforeAll(async () => {
  good = await makeTenant('good');
  slow = await makeTenant('slow');
  garbage = await makeTenant('garbage');
  const goodJwks = good.config.jwks!;
  keyServer = createServer((req, res) => {
    fetches++;
    if (req.url === '/good/jwks.json') {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(goodJwks));
    } else if (req.url === '/garbage/jwks.json') {
      res.setHeader('content-type', 'application/json');
      res.end('{"keys": "not a list"');
    }
    // /slow never answers.
  });
  await new Promise<void>((resolve) => keyServer.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(keyServer.address() as AddressInfo).port}`;
  const remote = (t: TestTenant, name: string) => {
    const { jwks: _inline, ...rest } = t.config; // the keys come from the URL instead
    return { ...rest, jwksUrl: `${base}/${name}/jwks.json`, jwksTimeoutMs: 300 };
  };
  relay = await startRelay({
    devTenant: false,
    tenants: [remote(good, 'good'), remote(slow, 'slow'), remote(garbage, 'garbage')],
  });
});
afterAll(async () => {
  await relay.close();
  keyServer.closeAllConnections();
  await new Promise((resolve) => keyServer.close(resolve));
});

async function outcome(tenant: TestTenant): Promise<string> {
  const token = await relay.token('alice', 'patient', { tenant });
  try {
    (await rawConnect(relay.url, { token, protocol: PROTOCOL_VERSION })).close();
    return 'connected';
  } catch (error) {
    return (error as { data?: { code: string } }).data?.code ?? 'transport';
  }
}

describe('remote JWKS', () => {
  it('verifies tokens with keys fetched from the host, and caches them', async () => {
    expect(await outcome(good)).toBe('connected');
    const after = fetches;
    expect(await outcome(good)).toBe('connected');
    expect(fetches).toBe(after);
  });

  it('refuses with UNAVAILABLE, quickly, when the key server does not answer', async () => {
    const started = Date.now();
    expect(await outcome(slow)).toBe('UNAVAILABLE');
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('refuses with UNAVAILABLE when the key server returns garbage', async () => {
    expect(await outcome(garbage)).toBe('UNAVAILABLE');
  });

  it("does not mistake a public key published elsewhere for the tenant's own", async () => {
    const impostor = await makeTenant('impostor');
    // Same issuer and kid as "good", different private key.
    const forged = {
      ...impostor,
      kid: good.kid,
      config: { ...impostor.config, issuer: good.config.issuer },
    };
    expect(await outcome(forged)).toBe('UNAUTHENTICATED');
    expect(await exportJWK(impostor.key)).toHaveProperty('d');
  });
});
