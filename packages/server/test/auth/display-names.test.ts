// Display names from tokens (issue 15): the host mints whatever its records hold, so the relay
// normalises names at the token boundary, refuses only what has nothing visible left, and never
// emits a webhook its own schemas (and so `verifyWebhook`) would refuse.
import fc from 'fast-check';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DisplayName, type WebhookEvent } from '@carethread/shared';
import {
  call,
  connectAs,
  connectOutcome,
  makeTenant,
  ok,
  startRelay,
  waitFor,
  type TestRelay,
} from '../helpers.js';
import { PROTOCOL_VERSION } from '@carethread/shared';
import { startReceiver, WEBHOOK_SECRET, type Receiver } from '../webhooks/receiver.js';

let relay: TestRelay;
let receiver: Receiver;

beforeAll(async () => {
  receiver = await startReceiver();
  relay = await startRelay({
    limits: { connectionsPerMinutePerAddress: 10_000 },
    devTenantWebhooks: [{ id: 'ehr', url: receiver.url, secret: WEBHOOK_SECRET, payload: 'full' }],
    webhookDelivery: {
      timeoutMs: 300,
      retryBaseMs: 20,
      retryMaxMs: 100,
      giveUpAfterMs: 60_000,
      pollMs: 10,
    },
  });
});
afterAll(async () => {
  await relay.close();
  await receiver.close();
});

let conversations = 0;

/**
 * Signs in a provider named `name`, opens a conversation and sends a message. Resolves with the
 * relay's refusal code, or with the name the message webhook carried once it arrived (verified).
 */
async function sendAs(name: string): Promise<{ refused: string } | { shownAs: string }> {
  const n = String(++conversations);
  const token = await relay.token(`dr-${n}`, 'provider', { name });
  const outcome = await connectOutcome(relay.url, { token, protocol: PROTOCOL_VERSION });
  if (outcome !== 'connected') return { refused: outcome };
  const socket = await connectAs(relay, token);
  try {
    await ok(socket, 'conversation.create', {
      conversationId: `c-${n}`,
      title: 'Care team',
      participants: [],
    });
    const sent = await call(socket, 'message.send', {
      conversationId: `c-${n}`,
      id: `msg-${n.padStart(6, '0')}`,
      text: 'Hello',
    });
    if (!sent.ok) throw new Error(`message.send: ${sent.error.code} ${sent.error.message}`);
  } finally {
    socket.close();
  }
  const created = (): WebhookEvent | undefined =>
    receiver
      .unique()
      .find((e) => e.type === 'message.created' && e.data.conversationId === `c-${n}`);
  await waitFor(() => created() !== undefined || receiver.rejected > 0, 5000, `webhook for c-${n}`);
  expect(receiver.rejected, 'deliveries refused by verifyWebhook').toBe(0);
  const event = created();
  if (event?.type !== 'message.created') throw new Error('no message.created');
  return { shownAs: event.data.sender.displayName };
}

describe('display names from tokens', () => {
  it('show with controls and line breaks turned into single spaces', async () => {
    expect(await sendAs('  Alice\tMoreno\n')).toEqual({ shownAs: 'Alice Moreno' });
    expect(await sendAs('Dr.\u0000\u0085Rivera')).toEqual({ shownAs: 'Dr. Rivera' });
  });

  it('refuse a name with nothing visible, saying which claim', async () => {
    for (const name of ['\u200B', ' \t\n', '\uFE0F\u2060']) {
      const token = await relay.token('dr-blank', 'provider', { name });
      await expect(connectAs(relay, token), JSON.stringify(name)).rejects.toMatchObject({
        data: { code: 'UNAUTHENTICATED', message: expect.stringContaining('"name"') as unknown },
      });
    }
  });

  it('refuse a name with a lone surrogate', async () => {
    expect(await sendAs('Alice \uD800')).toEqual({ refused: 'UNAUTHENTICATED' });
    expect(await sendAs('x\uDFFFy')).toEqual({ refused: 'UNAUTHENTICATED' });
  });

  it('never make the relay emit a webhook that verifyWebhook refuses (property)', async () => {
    const nasty = ['\t', '\n', '\r', '\u0000', '\u0085', '\u007F', '\u200B', '\u200D', '\u202E'];
    const more = ['\u2028', '\uFEFF', '\uFE0F', '\u00A0', '\u3000', 'e\u0301', ' ', '\uD800'];
    const name = fc.oneof(
      fc.string({ unit: 'binary', minLength: 1, maxLength: 24 }),
      fc
        .array(fc.constantFrom(...nasty, ...more, 'A', 'lice', 'Zoë', '👩\u200D⚕️'), {
          minLength: 1,
          maxLength: 12,
        })
        .map((parts) => parts.join('')),
    );
    await fc.assert(
      fc.asyncProperty(name, async (raw) => {
        const outcome = await sendAs(raw);
        if ('refused' in outcome) {
          expect(outcome.refused).toBe('UNAUTHENTICATED');
          return;
        }
        expect(DisplayName.safeParse(outcome.shownAs).success).toBe(true);
      }),
      { numRuns: 60 },
    );
  });
});

describe('other claims from the host', () => {
  it('refuse a token id the host API could not revoke', async () => {
    for (const jti of ['é-1', 'has space', 'tab\there']) {
      const token = await relay.token('dr-jti', 'provider', { jti });
      expect(await connectOutcome(relay.url, { token, protocol: PROTOCOL_VERSION }), jti).toBe(
        'UNAUTHENTICATED',
      );
    }
    const token = await relay.token('dr-jti', 'provider', { jti: 'session-0001' });
    expect(await connectOutcome(relay.url, { token, protocol: PROTOCOL_VERSION })).toBe(
      'connected',
    );
  });

  it('refuse a break-glass reason with nothing visible in it', async () => {
    const tenant = await makeTenant('glass', { breakGlass: { enabled: true, minutes: 5 } });
    const node = await startRelay({ tenants: [tenant.config], devTenant: false });
    try {
      const mint = (reason: string) =>
        new SignJWT({ name: 'Dr. House', role: 'provider', break_glass: reason })
          .setProtectedHeader({ alg: 'ES256', kid: tenant.kid, typ: 'JWT' })
          .setIssuer(tenant.config.issuer)
          .setAudience(tenant.config.audience)
          .setSubject('dr-house')
          .setIssuedAt()
          .setExpirationTime('10m')
          .sign(tenant.key);
      const outcome = (reason: string) =>
        mint(reason).then((token) =>
          connectOutcome(
            node.url,
            { token, protocol: PROTOCOL_VERSION },
            { extraHeaders: { origin: 'https://glass.portal.example' } },
          ),
        );
      expect(await outcome('\u200B'.repeat(12))).toBe('UNAUTHENTICATED');
      expect(await outcome('Unconscious patient in the ER')).toBe('connected');
    } finally {
      await node.close();
    }
  });
});
