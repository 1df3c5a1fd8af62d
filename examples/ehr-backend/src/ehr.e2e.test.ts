// The example EHR end to end, as real processes over real HTTP: `node build/main.js` starts the
// EHR, which starts the relay; a patient signs in and connects with the EHR's token, the therapist
// asks for consent through the host API, the patient signs and revokes it over the socket
// protocol, and the chart folder fills with the FHIR resources the webhooks led the EHR to file.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signWebhook } from '@carethread/server';
import {
  PROTOCOL_VERSION,
  type Ack,
  type ClientEventName,
  type ClientToServerEvents,
  type RequestOf,
  type ResponseOf,
  type ServerToClientEvents,
} from '@carethread/shared';
import { DEMO_CONVERSATION } from './users.js';

type RelaySocket = Socket<ServerToClientEvents, ClientToServerEvents>;

const exampleDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const work = mkdtempSync(path.join(tmpdir(), 'carethread-ehr-'));
const chartDir = path.join(work, 'chart');

interface RunningEhr {
  child: ChildProcess;
  ehrUrl: string;
  relayUrl: string;
  /** Everything the EHR and the relay printed. */
  output: () => string;
}

let ehr: RunningEhr;
const sockets: RelaySocket[] = [];

async function waitFor<T>(
  probe: () => T | undefined | false,
  what: string,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Starts the EHR the way `pnpm start` does, on free ports, with the test's data folder. */
async function startEhr(): Promise<RunningEhr> {
  const child = spawn(process.execPath, [path.join(exampleDir, 'build/main.js')], {
    env: {
      ...process.env,
      // One relay on its embedded SQLite in `work`, even when the test run has DATABASE_URL / REDIS_URL.
      DATABASE_URL: '',
      REDIS_URL: '',
      EHR_DATA_DIR: work,
      EHR_PORT: '0',
      RELAY_PORT: '0',
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so that cleanup can reach the relay even if the EHR hangs.
    detached: true,
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const urls = await waitFor(() => {
    if (child.exitCode !== null) throw new Error(`the EHR exited:\n${output}`);
    const match = /EHR\s+(http\S+)[\s\S]*Relay\s+(http\S+)/.exec(output);
    return match ? { ehrUrl: match[1]!, relayUrl: match[2]! } : undefined;
  }, 'the EHR to start');
  return { child, ...urls, output: () => output };
}

async function stopEhr(running: RunningEhr): Promise<void> {
  const { child } = running;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => {
    process.kill(-child.pid!, 'SIGKILL');
  }, 15_000);
  await exited;
  clearTimeout(timer);
}

/** Signs in to the EHR and returns the session cookie. */
async function signIn(user: string, password: string): Promise<string> {
  const response = await fetch(`${ehr.ehrUrl}/login`, {
    method: 'POST',
    body: new URLSearchParams({ user, password }),
    redirect: 'manual',
  });
  const cookie = response.headers.get('set-cookie') ?? '';
  expect(cookie).toMatch(/HttpOnly/);
  expect(cookie).toMatch(/SameSite=Lax/);
  return cookie.split(';')[0]!;
}

async function tokenFor(cookie: string): Promise<string> {
  const response = await fetch(`${ehr.ehrUrl}/carethread/token`, { headers: { cookie } });
  expect(response.status).toBe(200);
  return response.text();
}

function connect(token: string): Promise<RelaySocket> {
  const socket: RelaySocket = io(ehr.relayUrl, {
    auth: { token, protocol: PROTOCOL_VERSION },
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
  });
  sockets.push(socket);
  return new Promise((resolve, reject) => {
    socket.once('connect', () => {
      resolve(socket);
    });
    socket.once('connect_error', reject);
  });
}

async function ok<E extends ClientEventName>(
  socket: RelaySocket,
  event: E,
  payload: RequestOf<E>,
): Promise<ResponseOf<E>> {
  const untyped = socket as unknown as Socket;
  const ack = (await untyped.timeout(10_000).emitWithAck(event, payload)) as Ack<ResponseOf<E>>;
  if (!ack.ok) throw new Error(`${event} failed: ${ack.error.code} ${ack.error.message}`);
  return ack.data;
}

interface ChartResource {
  resourceType: string;
  id: string;
  status?: string;
  identifier?: { value?: string }[] | { value?: string };
}

/** The chart folder's resources, by file name. */
function chart(): Map<string, ChartResource> {
  if (!existsSync(chartDir)) return new Map();
  return new Map(
    readdirSync(chartDir)
      .filter((name) => name.endsWith('.json'))
      .map((name) => [
        name,
        JSON.parse(readFileSync(path.join(chartDir, name), 'utf8')) as ChartResource,
      ]),
  );
}
const chartOfType = (type: string) => [...chart().values()].filter((r) => r.resourceType === type);

/** Event types the EHR has handled (its dedupe record), by event id. */
function handled(): Record<string, { type: string }> {
  const file = path.join(work, 'ehr', 'webhook-events.json');
  if (!existsSync(file)) return {};
  return JSON.parse(readFileSync(file, 'utf8')) as Record<string, { type: string }>;
}

function secrets(): { webhookSecret: string } {
  return JSON.parse(readFileSync(path.join(work, 'ehr', 'secrets.json'), 'utf8')) as {
    webhookSecret: string;
  };
}

function postWebhook(body: string, signature: string): Promise<Response> {
  return fetch(`${ehr.ehrUrl}/carethread/webhooks`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'carethread-signature': signature },
    body,
  });
}

beforeAll(async () => {
  // The test runs the compiled EHR, as `pnpm start` does; building is quick when up to date.
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '--build', exampleDir], { stdio: 'inherit' });
  ehr = await startEhr();
});

afterAll(async () => {
  for (const socket of sockets) socket.close();
  await stopEhr(ehr);
  rmSync(work, { recursive: true, force: true });
});

describe('example EHR back end', () => {
  let alice: RelaySocket;
  let requestId: string;

  it('publishes its public key and mints tokens for the signed-in user only', async () => {
    const published = (await (await fetch(`${ehr.ehrUrl}/.well-known/jwks.json`)).json()) as {
      keys: Record<string, string>[];
    };
    expect(published.keys).toHaveLength(1);
    expect(published.keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256' });
    expect(published.keys[0]).not.toHaveProperty('d');

    expect((await fetch(`${ehr.ehrUrl}/carethread/token`)).status).toBe(401);
    const wrong = await fetch(`${ehr.ehrUrl}/login`, {
      method: 'POST',
      body: new URLSearchParams({ user: 'alice', password: 'not-it' }),
      redirect: 'manual',
    });
    expect(wrong.headers.get('location')).toBe('/login?failed');
    expect(wrong.headers.get('set-cookie')).toBeNull();

    const token = await tokenFor(await signIn('alice', 'demo-alice'));
    const [header, payload] = token
      .split('.')
      .slice(0, 2)
      .map(
        (part) => JSON.parse(Buffer.from(part, 'base64url').toString()) as Record<string, unknown>,
      );
    expect(header).toMatchObject({ alg: 'ES256', kid: published.keys[0]!.kid });
    expect(payload).toMatchObject({
      iss: ehr.ehrUrl,
      aud: 'carethread',
      sub: 'alice',
      role: 'patient',
      name: 'Alice Moreno',
    });
    expect(Number(payload!.exp) - Number(payload!.iat)).toBe(600);
  });

  it('serves the page with the chat element under a strict CSP', async () => {
    const cookie = await signIn('alice', 'demo-alice');
    const page = await fetch(`${ehr.ehrUrl}/`, { headers: { cookie } });
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain(`connect-src 'self' ${ehr.relayUrl}`);
    expect(csp).toContain("require-trusted-types-for 'script'");
    const html = await page.text();
    expect(html).toContain('<script src="/carethread.js"></script>');
    expect(html).toMatch(
      /<carethread-chat server="http:\/\/127\.0\.0\.1:\d+" conversation="riverside-enc-1001" token-url="\/carethread\/token">/,
    );
    const script = await fetch(`${ehr.ehrUrl}/carethread.js`);
    expect(script.headers.get('content-type')).toMatch(/javascript/);
    expect((await script.text()).length).toBeGreaterThan(10_000);
    const anonymous = await fetch(`${ehr.ehrUrl}/`, { redirect: 'manual' });
    expect(anonymous.headers.get('location')).toBe('/login');
  });

  it("the relay accepts the EHR's token; the patient opens the demo conversation", async () => {
    alice = await connect(await tokenFor(await signIn('alice', 'demo-alice')));
    const snapshot = await ok(alice, 'conversation.open', {
      conversationId: DEMO_CONVERSATION.conversationId,
    });
    expect(snapshot.you).toEqual({ userId: 'alice', role: 'patient' });
    expect(snapshot.participants.map((p) => p.userId).sort()).toEqual([
      'alice',
      'bob',
      'dr-rivera',
    ]);

    // A message reaches the EHR as a webhook with ids only; its text is in no log.
    const text = `Session moved to Thursday ${Math.random().toString(36).slice(2)}`;
    const sent = await ok(alice, 'message.send', {
      conversationId: DEMO_CONVERSATION.conversationId,
      id: crypto.randomUUID(),
      text,
    });
    await waitFor(
      () =>
        ehr
          .output()
          .split('\n')
          .some(
            (line) => line.includes('"msg":"message noted"') && line.includes(`"seq":${sent.seq}`),
          ),
      'the message.created webhook',
    );
    expect(ehr.output()).not.toContain(text);
  });

  it('files the signed consent in the chart, then its revocation', async () => {
    const therapist = await signIn('dr-rivera', 'demo-rivera');
    const asked = await fetch(`${ehr.ehrUrl}/consent-requests`, {
      method: 'POST',
      headers: { cookie: therapist },
      redirect: 'manual',
    });
    expect(asked.status).toBe(303);
    requestId = /asked=(rq_\w+)/.exec(asked.headers.get('location') ?? '')![1]!;
    // Only the care team may ask.
    const patientAsks = await fetch(`${ehr.ehrUrl}/consent-requests`, {
      method: 'POST',
      headers: { cookie: await signIn('alice', 'demo-alice') },
      redirect: 'manual',
    });
    expect(patientAsks.status).toBe(403);

    const { template, disclosure, request } = await ok(alice, 'consent.view', { requestId });
    // The record names the therapist who asked, not only the EHR's API key.
    expect(request.requestedBy).toBe('dr-rivera');
    await ok(alice, 'consent.sign', {
      requestId,
      disclosureHash: disclosure.hash,
      acknowledgements: template.blocks.flatMap((b) =>
        b.type === 'acknowledgement' ? [b.id] : [],
      ),
      answers: { capacity: 'The patient', 'ends-on': '2099-01-01' },
      signature: { method: 'typed', name: 'Alice Moreno' },
    });

    const consent = await waitFor(
      () => chartOfType('Consent').find((c) => c.status === 'active'),
      'the active Consent in the chart',
    );
    expect([consent.identifier].flat().map((i) => i?.value)).toContain(requestId);
    expect(chart().has(`Consent-${consent.id}.json`)).toBe(true);
    await waitFor(() => chartOfType('DocumentReference').length === 1, 'the DocumentReference');
    await waitFor(() => chartOfType('Provenance').length === 1, 'the Provenance');
    expect(chartOfType('QuestionnaireResponse')).toHaveLength(1);

    await ok(alice, 'consent.revoke', {
      requestId,
      signature: { method: 'typed', name: 'Alice Moreno' },
    });
    // Remembered once every resource of the event is filed.
    await waitFor(
      () => Object.values(handled()).some((e) => e.type === 'consent.revoked'),
      'the consent.revoked webhook',
    );
    expect(chartOfType('Consent').find((c) => c.id === consent.id)?.status).toBe('inactive');
    expect(chartOfType('Consent')).toHaveLength(1);
  });

  it('refuses a webhook with a bad signature, and files a replayed event once', async () => {
    const { webhookSecret } = secrets();
    const signedId = Object.entries(handled()).find(([, e]) => e.type === 'consent.signed')![0];
    const event = (id: string) =>
      JSON.stringify({
        id,
        type: 'consent.signed',
        tenantId: 'riverside',
        time: new Date().toISOString(),
        version: 1,
        data: {
          requestId,
          conversationId: DEMO_CONVERSATION.conversationId,
          patientId: 'alice',
          state: 'signed',
        },
      });
    const now = Math.floor(Date.now() / 1000);

    const forged = event('evt-forged');
    expect(
      (await postWebhook(forged, signWebhook('not-the-secret-'.repeat(3), forged, now))).status,
    ).toBe(401);
    expect((await postWebhook(forged, '')).status).toBe(401);
    const stale = signWebhook(webhookSecret, forged, now - 3600); // outside the 5-minute window
    expect((await postWebhook(forged, stale)).status).toBe(401);

    // The same event id again, correctly signed (a redelivery): answered, not filed again.
    rmSync(chartDir, { recursive: true, force: true });
    const replay = event(signedId);
    expect((await postWebhook(replay, signWebhook(webhookSecret, replay, now))).status).toBe(204);
    expect(chart().size).toBe(0);

    // A new id is new work: filed, with the current state (revoked), not the event's.
    const fresh = event('evt-new-delivery');
    expect((await postWebhook(fresh, signWebhook(webhookSecret, fresh, now))).status).toBe(204);
    expect(chartOfType('Consent').map((c) => c.status)).toEqual(['inactive']);
  });

  it('keeps its key and its record of handled events across a restart', async () => {
    const kid = (
      (await (await fetch(`${ehr.ehrUrl}/.well-known/jwks.json`)).json()) as {
        keys: { kid: string }[];
      }
    ).keys[0]!.kid;
    for (const socket of sockets) socket.close();
    await stopEhr(ehr);
    ehr = await startEhr(); // seeding again on a second start is a no-op

    const again = (
      (await (await fetch(`${ehr.ehrUrl}/.well-known/jwks.json`)).json()) as {
        keys: { kid: string }[];
      }
    ).keys[0]!.kid;
    expect(again).toBe(kid);

    rmSync(chartDir, { recursive: true, force: true });
    const { webhookSecret } = secrets();
    const replay = JSON.stringify({
      id: 'evt-new-delivery',
      type: 'consent.revoked',
      tenantId: 'riverside',
      time: new Date().toISOString(),
      version: 1,
      data: {
        requestId,
        conversationId: DEMO_CONVERSATION.conversationId,
        patientId: 'alice',
        state: 'revoked',
      },
    });
    const signature = signWebhook(webhookSecret, replay, Math.floor(Date.now() / 1000));
    expect((await postWebhook(replay, signature)).status).toBe(204);
    expect(chart().size, ehr.output()).toBe(0);

    // And the new process's token works with the relay too (its issuer URL is the new port's).
    const socket = await connect(await tokenFor(await signIn('dr-rivera', 'demo-rivera')));
    const snapshot = await ok(socket, 'conversation.open', {
      conversationId: DEMO_CONVERSATION.conversationId,
    });
    expect(snapshot.you.role).toBe('provider');
  });
});
