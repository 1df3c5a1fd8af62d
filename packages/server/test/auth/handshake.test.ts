// Every way a connection must be refused at the handshake, each with its stable code.
import { SignJWT, base64url, exportSPKI, generateKeyPair, importJWK } from 'jose';

type KeyObjectOrCryptoKey = Parameters<typeof exportSPKI>[0];
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '@carethread/shared';
import { createClient } from '@carethread/widget/client';
import { DEV_AUDIENCE, DEV_ISSUER } from '../../src/auth/dev-tenant.js';
import {
  call,
  connectAs,
  makeTenant,
  ok,
  rawConnect,
  seedConversation,
  startRelay,
  waitFor,
  type TestRelay,
  type TestTenant,
} from '../helpers.js';

let relay: TestRelay;
let other: TestTenant;

beforeAll(async () => {
  other = await makeTenant('st-marys');
  relay = await startRelay({ tenants: [other.config] });
  await seedConversation(relay, 'c-1', [{ userId: 'alice', role: 'patient' }]);
});
afterAll(async () => {
  await relay.close();
});

/** Connects with raw auth and resolves with the refusal's code, or 'connected'. */
async function outcome(
  auth: Record<string, unknown>,
  options: Parameters<typeof rawConnect>[2] = {},
): Promise<string> {
  try {
    const socket = await rawConnect(relay.url, auth, options);
    socket.close();
    return 'connected';
  } catch (error) {
    const data = (error as { data?: { code: string; message: string } }).data;
    return data?.code ?? `transport:${(error as Error).message}`;
  }
}

const claims = { name: 'Alice', role: 'patient' };
function devToken() {
  const key = relay.relay.devKey!;
  return new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: key.kid }).setSubject('alice');
}
const withToken = (token: string) => ({ token, protocol: PROTOCOL_VERSION });

describe('tokens', () => {
  it('accepts a well-formed token for the development tenant', async () => {
    expect(await outcome(withToken(await relay.token('alice', 'patient')))).toBe('connected');
  });

  it('refuses a connection without a token', async () => {
    expect(await outcome({ protocol: PROTOCOL_VERSION })).toBe('UNAUTHENTICATED');
    expect(await outcome({})).toBe('UNAUTHENTICATED');
  });

  it('refuses a token in the query string even when it is valid', async () => {
    const token = await relay.token('alice', 'patient');
    expect(await outcome(withToken(token), { query: { token } })).toBe('UNAUTHENTICATED');
  });

  it('refuses a token signed with another key', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    const token = await devToken()
      .setIssuer(DEV_ISSUER)
      .setAudience(DEV_AUDIENCE)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(privateKey);
    expect(await outcome(withToken(token))).toBe('UNAUTHENTICATED');
  });

  it('refuses alg "none"', async () => {
    const header = base64url.encode(JSON.stringify({ alg: 'none', typ: 'JWT' }));
    const now = Math.floor(Date.now() / 1000);
    const body = base64url.encode(
      JSON.stringify({
        ...claims,
        sub: 'alice',
        iss: DEV_ISSUER,
        aud: DEV_AUDIENCE,
        iat: now,
        exp: now + 300,
      }),
    );
    expect(await outcome(withToken(`${header}.${body}.`))).toBe('UNAUTHENTICATED');
  });

  it('refuses HS256 signed with the public key (algorithm confusion)', async () => {
    const publicJwk = relay.relay.devKey!.publicJwk;
    const publicKey = await importJWK(publicJwk, 'ES256', { extractable: true });
    const pem = await exportSPKI(publicKey as KeyObjectOrCryptoKey);
    for (const secret of [pem, JSON.stringify(publicJwk)]) {
      const token = await new SignJWT(claims)
        .setProtectedHeader({ alg: 'HS256', kid: relay.relay.devKey!.kid })
        .setSubject('alice')
        .setIssuer(DEV_ISSUER)
        .setAudience(DEV_AUDIENCE)
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(new TextEncoder().encode(secret));
      expect(await outcome(withToken(token))).toBe('UNAUTHENTICATED');
    }
  });

  it('refuses a missing or wrong audience and a wrong issuer', async () => {
    const key = relay.relay.devKey!.privateKey;
    const noAud = await devToken()
      .setIssuer(DEV_ISSUER)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(key);
    const wrongAud = await devToken()
      .setIssuer(DEV_ISSUER)
      .setAudience('someone-else')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(key);
    const wrongIss = await devToken()
      .setIssuer('https://evil.example')
      .setAudience(DEV_AUDIENCE)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(key);
    const noIss = await devToken()
      .setAudience(DEV_AUDIENCE)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(key);
    for (const token of [noAud, wrongAud, wrongIss, noIss])
      expect(await outcome(withToken(token))).toBe('UNAUTHENTICATED');
  });

  it('refuses a token without exp, without iat, or without the role claim', async () => {
    const key = relay.relay.devKey!.privateKey;
    const noExp = await devToken()
      .setIssuer(DEV_ISSUER)
      .setAudience(DEV_AUDIENCE)
      .setIssuedAt()
      .sign(key);
    const noIat = await devToken()
      .setIssuer(DEV_ISSUER)
      .setAudience(DEV_AUDIENCE)
      .setExpirationTime('5m')
      .sign(key);
    const noRole = await new SignJWT({ name: 'Alice' })
      .setProtectedHeader({ alg: 'ES256' })
      .setSubject('alice')
      .setIssuer(DEV_ISSUER)
      .setAudience(DEV_AUDIENCE)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(key);
    for (const token of [noExp, noIat, noRole])
      expect(await outcome(withToken(token))).toBe('UNAUTHENTICATED');
  });

  it('refuses an expired token with TOKEN_EXPIRED', async () => {
    const key = relay.relay.devKey!.privateKey;
    const now = Math.floor(Date.now() / 1000);
    const expired = await devToken()
      .setIssuer(DEV_ISSUER)
      .setAudience(DEV_AUDIENCE)
      .setIssuedAt(now - 600)
      .setExpirationTime(now - 120)
      .sign(key);
    expect(await outcome(withToken(expired))).toBe('TOKEN_EXPIRED');
  });

  it("refuses a token signed by one tenant that claims another tenant's issuer", async () => {
    const token = await devToken()
      .setIssuer(DEV_ISSUER)
      .setAudience(DEV_AUDIENCE)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(other.key);
    expect(await outcome(withToken(token))).toBe('UNAUTHENTICATED');
  });

  it("keeps tenants apart: a valid token of another tenant sees none of this tenant's conversations", async () => {
    const socket = await connectAs(relay, await relay.token('alice', 'patient', { tenant: other }));
    expect(await call(socket, 'conversation.open', { conversationId: 'c-1' })).toMatchObject({
      ok: false,
      error: { code: 'NOT_FOUND' },
    });
    expect(await ok(socket, 'conversation.list', {})).toEqual({ conversations: [] });
    socket.close();
  });
});

describe('protocol version', () => {
  it('refuses a client that speaks another version, and one that does not say', async () => {
    const token = await relay.token('alice', 'patient');
    expect(await outcome({ token, protocol: 99 })).toBe('UNSUPPORTED_VERSION');
    expect(await outcome({ token })).toBe('UNSUPPORTED_VERSION');
  });
});

describe('origins', () => {
  it('refuses a foreign origin over WebSocket and over polling, before authentication', async () => {
    const token = await relay.token('alice', 'patient');
    const foreign = { extraHeaders: { origin: 'https://evil.example' } };
    expect(await outcome(withToken(token), { ...foreign, transports: ['websocket'] })).toMatch(
      /^transport:/,
    );
    expect(await outcome(withToken(token), { ...foreign, transports: ['polling'] })).toMatch(
      /^transport:/,
    );
  });

  it('accepts the development origins on any port', async () => {
    const token = await relay.token('alice', 'patient');
    for (const origin of ['http://localhost:5173', 'http://127.0.0.1:8080', 'http://localhost']) {
      expect(await outcome(withToken(token), { extraHeaders: { origin } })).toBe('connected');
    }
    expect(
      await outcome(withToken(token), {
        extraHeaders: { origin: 'http://localhost.evil.example:80' },
      }),
    ).toMatch(/^transport:/);
  });

  it('refuses an origin that only another tenant allows', async () => {
    const token = await relay.token('alice', 'patient');
    expect(
      await outcome(withToken(token), {
        extraHeaders: { origin: 'https://st-marys.portal.example' },
      }),
    ).toBe('FORBIDDEN_ORIGIN');
    const theirs = await relay.token('alice', 'patient', { tenant: other });
    expect(
      await outcome(withToken(theirs), {
        extraHeaders: { origin: 'https://st-marys.portal.example' },
      }),
    ).toBe('connected');
  });

  it('tells the headless client why a foreign origin was refused', async () => {
    const client = createClient({
      url: relay.url,
      transports: ['polling'],
      tokenProvider: () => relay.token('alice', 'patient'),
      // Node has no Origin of its own; send the one a foreign page would send.
      extraHeaders: { origin: 'https://evil.example' },
    });
    await expect(client.ready()).rejects.toMatchObject({ code: 'FORBIDDEN_ORIGIN' });
    expect(client.state).toBe('ended');
    client.close();
  });
});

describe('session expiry', () => {
  it('warns before expiry, takes a fresh token, and keeps the session', async () => {
    let minted = 0;
    const client = createClient({
      url: relay.url,
      transports: ['websocket'],
      tokenProvider: () => {
        minted++;
        return relay.token('alice', 'patient', { ttlSeconds: 3 });
      },
    });
    await client.ready();
    const socketId = client.socket.id;
    await new Promise((resolve) => setTimeout(resolve, 4500));
    expect(minted).toBeGreaterThanOrEqual(2);
    expect(client.state).toBe('connected');
    expect(client.socket.id).toBe(socketId);
    client.close();
  });

  it('ends the session at expiry when no fresh token comes', async () => {
    const socket = await connectAs(relay, await relay.token('alice', 'patient', { ttlSeconds: 2 }));
    const events: string[] = [];
    socket.on('session.expiring', () => events.push('expiring'));
    socket.on('session.ended', (e) => events.push(e.code));
    socket.on('disconnect', (reason) => events.push(reason));
    await waitFor(() => events.length === 3, 6000, 'expiry');
    expect(events).toEqual(['expiring', 'TOKEN_EXPIRED', 'io server disconnect']);
  });

  it('refuses a refreshed token for someone else', async () => {
    const socket = await connectAs(relay, await relay.token('alice', 'patient'));
    const bobs = await relay.token('bob', 'patient');
    expect(await call(socket, 'auth.refresh', { token: bobs })).toMatchObject({
      ok: false,
      error: { code: 'FORBIDDEN' },
    });
    socket.close();
  });

  it('ends the headless client with a clear reason when the host has no fresh token', async () => {
    let first = true;
    const client = createClient({
      url: relay.url,
      transports: ['websocket'],
      reconnectDelayMs: { min: 50, max: 100 },
      tokenProvider: async () => {
        if (first) {
          first = false;
          return relay.token('alice', 'patient', { ttlSeconds: 2 });
        }
        throw new Error('host session over');
      },
    });
    await client.ready();
    await waitFor(() => client.state === 'ended', 8000, 'session end');
    expect(client.error?.code).toBe('UNAUTHENTICATED');
    client.close();
  });
});
