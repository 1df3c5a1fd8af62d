// Every token and origin trap of ../shared/SECURITY.md (Authentication, Origins) against a real
// relay: each forged, broken or misplaced credential is refused with its stable code, no socket
// gets in, and `auth.refresh` holds a token to the same checks as the handshake.
import { request as httpRequest, createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  SignJWT,
  base64url,
  exportJWK,
  exportSPKI,
  generateKeyPair,
  importJWK,
  type CryptoKey,
  type JWTPayload,
} from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '@carethread/shared';
import { createClient } from '@carethread/widget/client';
import { DEV_AUDIENCE, DEV_ISSUER } from '../../src/auth/dev-tenant.js';
import {
  call,
  connectAs,
  connectOutcome,
  makeTenant,
  ok,
  rawConnect,
  seedConversation,
  startRelay,
  type RawSocket,
  type TestRelay,
  type TestTenant,
} from '../helpers.js';

type KeyLike = Parameters<typeof exportSPKI>[0];

let relay: TestRelay;
let stMarys: TestTenant;
/** Requires a `jti` on every token and a multi-factor sign-in of providers. */
let strict: TestTenant;
let attacker: { privateKey: CryptoKey; publicKey: CryptoKey };
let alice: RawSocket;

beforeAll(async () => {
  stMarys = await makeTenant('st-marys');
  strict = await makeTenant('strict', {
    requireJti: true,
    requireMfa: { roles: ['provider'], amr: ['mfa', 'otp', 'hwk'], acr: ['urn:strict:loa:2'] },
  });
  attacker = await generateKeyPair('ES256', { extractable: true });
  relay = await startRelay({ tenants: [stMarys.config, strict.config] });
  await seedConversation(relay, 'c-1', [{ userId: 'alice', role: 'patient' }]);
  alice = await connectAs(relay, await relay.token('alice', 'patient'));
});
afterAll(async () => {
  alice.close();
  await relay.close();
});

const withToken = (token: string) => ({ token, protocol: PROTOCOL_VERSION });
/** Sockets that passed the handshake, and engine.io sessions opened, since the relay started. */
let admitted = 0;
let engineSessions = 0;
beforeAll(() => {
  relay.relay.io.on('connection', () => admitted++);
  relay.relay.io.engine.on('connection', () => engineSessions++);
});

const outcome = (auth: Record<string, unknown>, options: Parameters<typeof rawConnect>[2] = {}) =>
  connectOutcome(relay.url, auth, options);

/** The refusal's code, having checked that the attempt left no socket on the relay. */
async function refusal(
  auth: Record<string, unknown>,
  options: Parameters<typeof rawConnect>[2] = {},
): Promise<string> {
  const before = admitted;
  const code = await outcome(auth, options);
  expect(code).not.toBe('connected');
  expect(admitted, 'a socket got in').toBe(before);
  return code;
}

const now = () => Math.floor(Date.now() / 1000);

/** Claims of a valid development-tenant token for Alice, with some replaced or left out. */
function claims(overrides: JWTPayload = {}, omit: string[] = []): JWTPayload {
  const t = now();
  const payload: JWTPayload = {
    iss: DEV_ISSUER,
    aud: DEV_AUDIENCE,
    sub: 'alice',
    name: 'Alice',
    role: 'patient',
    iat: t,
    exp: t + 300,
    ...overrides,
  };
  return Object.fromEntries(Object.entries(payload).filter(([key]) => !omit.includes(key)));
}

/** Signs with the development tenant's real key unless told otherwise. */
function sign(
  payload: JWTPayload,
  header: Record<string, unknown> = {},
  key: CryptoKey | Uint8Array = relay.relay.devKey!.privateKey,
): Promise<string> {
  return new SignJWT(payload)
    .setProtectedHeader({ alg: 'ES256', kid: relay.relay.devKey!.kid, ...header })
    .sign(key);
}

/** Signs any header as given (jose refuses to sign some of the headers tested here). */
async function signRaw(header: Record<string, unknown>, payload: JWTPayload): Promise<string> {
  const input = `${base64url.encode(JSON.stringify(header))}.${base64url.encode(JSON.stringify(payload))}`;
  const signature = await crypto.subtle.sign(
    { name: 'ECDSA', hash: 'SHA-256' },
    relay.relay.devKey!.privateKey,
    new TextEncoder().encode(input),
  );
  return `${input}.${base64url.encode(new Uint8Array(signature))}`;
}

/** A token with any header and body, and no signature: what `alg: none` looks like. */
function unsigned(header: Record<string, unknown>, payload: JWTPayload): string {
  return `${base64url.encode(JSON.stringify(header))}.${base64url.encode(JSON.stringify(payload))}.`;
}

interface Case {
  name: string;
  token: () => Promise<string> | string;
  code: string;
  /** Also offered to a connected socket as `auth.refresh` (development-tenant tokens for Alice). */
  refresh?: boolean;
}

const cases: Case[] = [
  // --- not a token at all
  {
    name: 'garbage instead of a JWT',
    token: () => 'not-a-jwt',
    code: 'UNAUTHENTICATED',
    refresh: true,
  },
  {
    name: 'three parts of base64 noise',
    token: () => 'eyJhbGciOi.eyJzdWIiOi.c2ln',
    code: 'UNAUTHENTICATED',
    refresh: true,
  },
  // --- algorithm traps (jose's defaults, with the tenant's allowlist)
  ...['none', 'None', 'NONE', 'nOnE'].map((alg): Case => ({
    name: `alg "${alg}" with no signature`,
    token: () => unsigned({ alg, typ: 'JWT' }, claims()),
    code: 'UNAUTHENTICATED',
    refresh: true,
  })),
  {
    name: 'alg "none" with the kid of the real key',
    token: () => unsigned({ alg: 'none', kid: relay.relay.devKey!.kid }, claims()),
    code: 'UNAUTHENTICATED',
    refresh: true,
  },
  {
    name: 'HS256 signed with the public key as PEM (key confusion)',
    token: async () => {
      const pub = await importJWK(relay.relay.devKey!.publicJwk, 'ES256', { extractable: true });
      const pem = await exportSPKI(pub as KeyLike);
      return sign(claims(), { alg: 'HS256' }, new TextEncoder().encode(pem));
    },
    code: 'UNAUTHENTICATED',
    refresh: true,
  },
  {
    name: 'HS256 signed with the public JWK as text (key confusion)',
    token: () =>
      sign(
        claims(),
        { alg: 'HS256' },
        new TextEncoder().encode(JSON.stringify(relay.relay.devKey!.publicJwk)),
      ),
    code: 'UNAUTHENTICATED',
    refresh: true,
  },
  {
    name: 'an asymmetric algorithm the tenant does not allow (RS256)',
    token: async () => {
      const rsa = await generateKeyPair('RS256');
      return sign(claims(), { alg: 'RS256' }, rsa.privateKey);
    },
    code: 'UNAUTHENTICATED',
    refresh: true,
  },
  // --- key selection traps
  {
    name: "an embedded jwk header carrying the attacker's own key",
    token: async () =>
      sign(
        claims(),
        { kid: undefined, jwk: { ...(await exportJWK(attacker.publicKey)), alg: 'ES256' } },
        attacker.privateKey,
      ),
    code: 'UNAUTHENTICATED',
    refresh: true,
  },
  {
    name: "an embedded jwk header beside the real key's kid",
    token: async () =>
      sign(claims(), { jwk: await exportJWK(attacker.publicKey) }, attacker.privateKey),
    code: 'UNAUTHENTICATED',
    refresh: true,
  },
  {
    name: "jku and x5u headers pointing at the attacker's keys",
    token: () =>
      sign(
        claims(),
        { jku: 'http://127.0.0.1:9/jwks.json', x5u: 'http://127.0.0.1:9/cert.pem' },
        attacker.privateKey,
      ),
    code: 'UNAUTHENTICATED',
    refresh: true,
  },
  ...['../../../../etc/passwd', "' OR '1'='1", '\u0000', 'x'.repeat(2000), 'st-marys-key', ''].map(
    (kid): Case => ({
      name: `an odd kid (${JSON.stringify(kid.slice(0, 24))}) signed by the attacker`,
      token: () => sign(claims(), { kid }, attacker.privateKey),
      code: 'UNAUTHENTICATED',
      refresh: true,
    }),
  ),
  {
    name: "an unknown kid, even when signed with the tenant's real key",
    token: () => sign(claims(), { kid: 'no-such-key' }),
    code: 'UNAUTHENTICATED',
    refresh: true,
  },
  {
    name: 'a numeric kid',
    token: () => sign(claims(), { kid: 123 }),
    code: 'UNAUTHENTICATED',
    refresh: true,
  },
  {
    name: "the real kid over another key's signature",
    token: () => sign(claims(), {}, attacker.privateKey),
    code: 'UNAUTHENTICATED',
    refresh: true,
  },
  {
    name: 'a critical header extension the relay does not understand',
    token: () =>
      signRaw(
        { alg: 'ES256', kid: relay.relay.devKey!.kid, crit: ['urn:x'], 'urn:x': 1 },
        claims(),
      ),
    code: 'UNAUTHENTICATED',
    refresh: true,
  },
  // --- audience, issuer and the required claims (jose accepts these unless told)
  {
    name: 'no aud',
    token: () => sign(claims({}, ['aud'])),
    code: 'UNAUTHENTICATED',
    refresh: true,
  },
  {
    name: 'a wrong aud',
    token: () => sign(claims({ aud: 'someone-else' })),
    code: 'UNAUTHENTICATED',
    refresh: true,
  },
  {
    name: 'an aud list without this relay',
    token: () => sign(claims({ aud: ['a', 'b'] })),
    code: 'UNAUTHENTICATED',
    refresh: true,
  },
  {
    name: 'a wrong issuer',
    token: () => sign(claims({ iss: 'https://evil.example' })),
    code: 'UNAUTHENTICATED',
    refresh: true,
  },
  {
    name: 'no issuer',
    token: () => sign(claims({}, ['iss'])),
    code: 'UNAUTHENTICATED',
    refresh: true,
  },
  {
    name: 'no exp',
    token: () => sign(claims({}, ['exp'])),
    code: 'UNAUTHENTICATED',
    refresh: true,
  },
  {
    name: 'no iat',
    token: () => sign(claims({}, ['iat'])),
    code: 'UNAUTHENTICATED',
    refresh: true,
  },
  {
    name: 'no sub',
    token: () => sign(claims({}, ['sub'])),
    code: 'UNAUTHENTICATED',
    refresh: true,
  },
  {
    name: 'no role',
    token: () => sign(claims({}, ['role'])),
    code: 'UNAUTHENTICATED',
    refresh: true,
  },
  {
    name: 'a role the relay does not know',
    token: () => sign(claims({ role: 'admin' })),
    code: 'UNAUTHENTICATED',
    refresh: true,
  },
  {
    name: 'exp as text',
    token: () => sign(claims({ exp: 'tomorrow' as unknown as number })),
    code: 'UNAUTHENTICATED',
    refresh: true,
  },
  // --- time (the development tenant allows 30 s of clock skew and tokens 24 h old)
  {
    name: 'an expired token',
    token: () => sign(claims({ iat: now() - 600, exp: now() - 120 })),
    code: 'TOKEN_EXPIRED',
    refresh: true,
  },
  {
    name: 'a token older than maxTokenAge whose exp is still ahead',
    token: () => sign(claims({ iat: now() - 24 * 3600 - 120, exp: now() + 600 })),
    code: 'TOKEN_EXPIRED',
    refresh: true,
  },
  {
    name: 'an iat beyond the clock tolerance in the future',
    token: () => sign(claims({ iat: now() + 120, exp: now() + 600 })),
    code: 'UNAUTHENTICATED',
    refresh: true,
  },
  {
    name: 'an nbf beyond the clock tolerance in the future',
    token: () => sign(claims({ nbf: now() + 120 })),
    code: 'UNAUTHENTICATED',
    refresh: true,
  },
  // --- tenants
  {
    name: "the development tenant's claims signed with St Mary's key",
    token: () => sign(claims(), { kid: stMarys.kid }, stMarys.key),
    code: 'UNAUTHENTICATED',
    refresh: true,
  },
  {
    name: "St Mary's claims signed with the development tenant's key",
    token: () => sign(claims({ iss: stMarys.config.issuer, aud: stMarys.config.audience })),
    code: 'UNAUTHENTICATED',
  },
  {
    name: "St Mary's claims with the development tenant's audience, signed by the attacker",
    token: () =>
      sign(claims({ iss: stMarys.config.issuer }), { kid: stMarys.kid }, attacker.privateKey),
    code: 'UNAUTHENTICATED',
  },
  // --- tenant opt-ins: a jti on every token, multi-factor sign-in for providers
  {
    name: 'no jti where the tenant requires one',
    token: () => relay.token('dr-strict', 'patient', { tenant: strict, amr: ['mfa'] }),
    code: 'UNAUTHENTICATED',
  },
  {
    name: 'a provider without amr or acr where the tenant requires MFA',
    token: () => relay.token('dr-strict', 'provider', { tenant: strict, jti: 'strict-1' }),
    code: 'MFA_REQUIRED',
  },
  {
    name: 'a provider signed in with a password alone',
    token: () =>
      relay.token('dr-strict', 'provider', { tenant: strict, jti: 'strict-2', amr: ['pwd'] }),
    code: 'MFA_REQUIRED',
  },
  {
    name: 'a provider with an acr the tenant does not accept',
    token: () =>
      relay.token('dr-strict', 'provider', { tenant: strict, jti: 'strict-3', acr: 'urn:loa:1' }),
    code: 'MFA_REQUIRED',
  },
  {
    name: 'a provider whose amr is text, not a list',
    token: () => {
      const t = now();
      return sign(
        {
          iss: strict.config.issuer,
          aud: strict.config.audience,
          sub: 'dr-strict',
          name: 'Dr',
          role: 'provider',
          jti: 'strict-4',
          amr: 'mfa',
          iat: t,
          exp: t + 300,
        },
        { kid: strict.kid },
        strict.key,
      );
    },
    code: 'UNAUTHENTICATED',
  },
];

describe('forged, broken and misplaced tokens', () => {
  it('lets a well-formed token in (the control every refusal below is measured against)', async () => {
    expect(await outcome(withToken(await sign(claims())))).toBe('connected');
    // Within the clock tolerance, time claims are accepted: the refusals below are not skew.
    expect(await outcome(withToken(await sign(claims({ iat: now() + 10, nbf: now() + 10 }))))).toBe(
      'connected',
    );
    expect(await outcome(withToken(await sign(claims({ exp: now() - 10 }))))).toBe('connected');
  });

  it.each(cases)('refuses $name with $code', async ({ token, code }) => {
    expect(await refusal(withToken(await token()))).toBe(code);
  });

  it.each(cases.filter((c) => c.refresh))(
    'refuses $name as auth.refresh too, and the session goes on',
    async ({ token, code }) => {
      const ack = await call(alice, 'auth.refresh', { token: await token() });
      expect(ack.ok ? 'ok' : ack.error.code).toBe(code);
      expect(alice.connected).toBe(true);
      await ok(alice, 'conversation.list', {});
    },
  );

  it('refuses a connection without a token, with an empty one, or with a non-string one', async () => {
    expect(await refusal({ protocol: PROTOCOL_VERSION })).toBe('UNAUTHENTICATED');
    expect(await refusal({})).toBe('UNAUTHENTICATED');
    expect(await refusal({ token: '', protocol: PROTOCOL_VERSION })).toBe('UNAUTHENTICATED');
    expect(await refusal({ token: { alg: 'none' }, protocol: PROTOCOL_VERSION })).toBe(
      'UNAUTHENTICATED',
    );
  });

  it('refuses a token longer than any real one as UNAUTHENTICATED, not as a version mismatch', async () => {
    const huge = `${await sign(claims())}${'A'.repeat(9000)}`;
    expect(await refusal(withToken(huge))).toBe('UNAUTHENTICATED');
  });

  it('refuses a token in the query string, even a valid one also sent in the auth payload', async () => {
    const token = await relay.token('alice', 'patient');
    expect(await refusal(withToken(token), { query: { token } })).toBe('UNAUTHENTICATED');
    expect(await refusal(withToken(token), { query: { access_token: token } })).toBe(
      'UNAUTHENTICATED',
    );
    expect(await refusal(withToken(token), { query: { token }, transports: ['polling'] })).toBe(
      'UNAUTHENTICATED',
    );
  });

  it("keeps tenants apart: a valid token of another tenant sees none of this tenant's conversations", async () => {
    const socket = await connectAs(
      relay,
      await relay.token('alice', 'patient', { tenant: stMarys }),
    );
    expect(await call(socket, 'conversation.open', { conversationId: 'c-1' })).toMatchObject({
      ok: false,
      error: { code: 'NOT_FOUND' },
    });
    expect(await ok(socket, 'conversation.list', {})).toEqual({ conversations: [] });
    socket.close();
  });
});

describe('tenant opt-ins: jti and multi-factor sign-in', () => {
  it('lets in providers who show a second factor, and other roles without one', async () => {
    const mint = (role: 'provider' | 'patient', extra: { amr?: string[]; acr?: string }) =>
      relay.token('dr-strict', role, { tenant: strict, jti: `ok-${Math.random()}`, ...extra });
    expect(await outcome(withToken(await mint('provider', { amr: ['pwd', 'otp'] })))).toBe(
      'connected',
    );
    expect(await outcome(withToken(await mint('provider', { amr: ['mfa'] })))).toBe('connected');
    expect(await outcome(withToken(await mint('provider', { acr: 'urn:strict:loa:2' })))).toBe(
      'connected',
    );
    expect(await outcome(withToken(await mint('patient', {})))).toBe('connected');
  });

  it('holds a refreshed token to the MFA rule: refused without it, the session kept', async () => {
    const socket = await connectAs(
      relay,
      await relay.token('dr-strict', 'provider', { tenant: strict, jti: 'mfa-r1', amr: ['hwk'] }),
    );
    const weak = await relay.token('dr-strict', 'provider', {
      tenant: strict,
      jti: 'mfa-r2',
      amr: ['pwd'],
    });
    expect(await call(socket, 'auth.refresh', { token: weak })).toMatchObject({
      ok: false,
      error: { code: 'MFA_REQUIRED', message: expect.stringMatching(/multi-factor/) as unknown },
    });
    const strong = await relay.token('dr-strict', 'provider', {
      tenant: strict,
      jti: 'mfa-r3',
      amr: ['pwd', 'otp'],
    });
    expect(await call(socket, 'auth.refresh', { token: strong })).toMatchObject({ ok: true });
    socket.close();
  });

  it('tells the headless client why, and does not retry', async () => {
    const client = createClient({
      url: relay.url,
      transports: ['websocket'],
      tokenProvider: () => relay.token('dr-strict', 'provider', { tenant: strict, jti: 'mfa-c1' }),
    });
    await expect(client.ready()).rejects.toMatchObject({ code: 'MFA_REQUIRED' });
    expect(client.state).toBe('ended');
    client.close();
  });

  it('keeps tokens without a jti working for tenants that do not require one', async () => {
    expect(await outcome(withToken(await relay.token('alice', 'patient')))).toBe('connected');
  });
});

describe('origins', () => {
  const foreign = { extraHeaders: { origin: 'https://evil.example' } };

  it('refuses a foreign origin over a direct WebSocket and over polling, before authentication', async () => {
    const token = await relay.token('alice', 'patient');
    const sessions = engineSessions;
    expect(await refusal(withToken(token), { ...foreign, transports: ['websocket'] })).toMatch(
      /^transport:/,
    );
    expect(await refusal(withToken(token), { ...foreign, transports: ['polling'] })).toMatch(
      /^transport:/,
    );
    // Refused before engine.io opened a session at all.
    expect(engineSessions).toBe(sessions);
  });

  /**
   * A bare WebSocket upgrade request, as a foreign page's `new WebSocket()` would send it (with
   * `sid`: the upgrade of a polling session); the status line, and the body of a refusal.
   */
  function upgrade(origin: string, sid?: string): Promise<string> {
    const query = sid === undefined ? '' : `&sid=${sid}`;
    return new Promise((resolve, reject) => {
      const req = httpRequest(`${relay.url}/socket.io/?EIO=4&transport=websocket${query}`, {
        headers: {
          connection: 'Upgrade',
          upgrade: 'websocket',
          'sec-websocket-version': '13',
          'sec-websocket-key': Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString(
            'base64',
          ),
          origin,
        },
      });
      req.on('upgrade', (res, socket) => {
        socket.destroy();
        resolve(String(res.statusCode));
      });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          resolve(`${String(res.statusCode)} ${Buffer.concat(chunks).toString()}`);
        });
      });
      req.on('error', reject);
      req.end();
    });
  }

  it('refuses a bare WebSocket upgrade from a foreign origin, and upgrades an allowed one', async () => {
    expect(await upgrade('http://localhost:5173')).toBe('101');
    for (const origin of ['https://evil.example', 'null', 'http://localhost.evil.example:80'])
      expect(await upgrade(origin), origin).toMatch(/^400 .*not allowed to connect/);
  });

  it('refuses to upgrade a polling session to a WebSocket from another origin', async () => {
    const open = await fetch(`${relay.url}/socket.io/?EIO=4&transport=polling`, {
      headers: { origin: 'http://localhost:5173' },
    });
    const { sid } = JSON.parse((await open.text()).slice(1)) as { sid: string };
    expect(await upgrade('https://evil.example', sid)).toMatch(/^400 /);
    // Nor may another origin go on polling it.
    const poll = await fetch(`${relay.url}/socket.io/?EIO=4&transport=polling&sid=${sid}`, {
      headers: { origin: 'https://evil.example' },
    });
    expect(poll.status).toBe(400);
    await poll.arrayBuffer();
  });

  it('answers a polling handshake from a foreign origin with 403', async () => {
    const status = (origin: string) =>
      fetch(`${relay.url}/socket.io/?EIO=4&transport=polling`, { headers: { origin } }).then(
        async (res) => {
          await res.arrayBuffer();
          return res.status;
        },
      );
    expect(await status('http://127.0.0.1:3000')).toBe(200);
    expect(await status('https://evil.example')).toBe(403);
    expect(await status('null')).toBe(403);
  });

  it('accepts the development origins on any port, and no lookalike', async () => {
    const token = await relay.token('alice', 'patient');
    for (const origin of ['http://localhost:5173', 'http://127.0.0.1:8080', 'http://localhost']) {
      expect(await outcome(withToken(token), { extraHeaders: { origin } })).toBe('connected');
    }
    for (const origin of [
      'http://localhost.evil.example:80',
      'http://localhost:80.evil.example',
      'https://localhost:5173',
      'null',
    ])
      expect(await refusal(withToken(token), { extraHeaders: { origin } }), origin).toMatch(
        /^transport:/,
      );
  });

  it('refuses an origin that only another tenant allows, after authentication', async () => {
    const token = await relay.token('alice', 'patient');
    expect(
      await refusal(withToken(token), {
        extraHeaders: { origin: 'https://st-marys.portal.example' },
      }),
    ).toBe('FORBIDDEN_ORIGIN');
    const theirs = await relay.token('alice', 'patient', { tenant: stMarys });
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

// Tenants whose keys come from the host's JWKS URL, fetched for real over HTTP: a clear refusal,
// not a hang, when the key server is slow, failing or returns garbage.
describe('remote JWKS', () => {
  let keyServer: Server;
  let remote: TestRelay;
  let good: TestTenant;
  let slow: TestTenant;
  let garbage: TestTenant;
  let failing: TestTenant;
  let fetches = 0;

  beforeAll(async () => {
    good = await makeTenant('good');
    slow = await makeTenant('slow');
    garbage = await makeTenant('garbage');
    failing = await makeTenant('failing');
    const goodJwks = good.config.jwks!;
    keyServer = createServer((req, res) => {
      fetches++;
      if (req.url === '/good/jwks.json') {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify(goodJwks));
      } else if (req.url === '/garbage/jwks.json') {
        res.setHeader('content-type', 'application/json');
        res.end('{"keys": "not a list"');
      } else if (req.url === '/failing/jwks.json') {
        res.statusCode = 500;
        res.end('oops');
      }
      // /slow never answers.
    });
    await new Promise<void>((resolve) => keyServer.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${String((keyServer.address() as AddressInfo).port)}`;
    const viaUrl = (t: TestTenant) => {
      const { jwks: _inline, ...rest } = t.config; // the keys come from the URL instead
      return { ...rest, jwksUrl: `${base}/${t.config.id}/jwks.json`, jwksTimeoutMs: 300 };
    };
    remote = await startRelay({
      devTenant: false,
      tenants: [good, slow, garbage, failing].map(viaUrl),
    });
  });
  afterAll(async () => {
    await remote.close();
    keyServer.closeAllConnections();
    await new Promise((resolve) => keyServer.close(resolve));
  });

  const remoteOutcome = async (tenant: TestTenant) =>
    connectOutcome(remote.url, withToken(await remote.token('alice', 'patient', { tenant })));

  it('verifies tokens with keys fetched from the host, and caches them', async () => {
    expect(await remoteOutcome(good)).toBe('connected');
    const after = fetches;
    expect(await remoteOutcome(good)).toBe('connected');
    expect(fetches).toBe(after);
  });

  it('refuses with UNAVAILABLE, within the fetch timeout, when the key server does not answer', async () => {
    const started = Date.now();
    expect(await remoteOutcome(slow)).toBe('UNAVAILABLE');
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('refuses with UNAVAILABLE when the key server returns garbage or fails', async () => {
    expect(await remoteOutcome(garbage)).toBe('UNAVAILABLE');
    expect(await remoteOutcome(failing)).toBe('UNAVAILABLE');
    expect(remote.relay.io.of('/').sockets.size).toBe(0);
  });

  it("does not mistake a key published elsewhere for the tenant's own", async () => {
    const impostor = await makeTenant('impostor');
    // Same issuer and kid as "good", another private key.
    const forged = {
      ...impostor,
      kid: good.kid,
      config: { ...impostor.config, issuer: good.config.issuer },
    };
    expect(await remoteOutcome(forged)).toBe('UNAUTHENTICATED');
  });
});
