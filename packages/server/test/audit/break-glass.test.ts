// Break-glass: a provider whose token carries a `break_glass` reason reads a conversation they
// are not a member of, for a limited time, read-only; every read is flagged in the audit trail
// and the host is told. Without the claim, no access.
import { SignJWT } from 'jose';
import { afterEach, expect, it } from 'vitest';
import type { WebhookEvent } from '@carethread/shared';
import {
  call,
  connectAs,
  makeTenant,
  ok,
  seedConversation,
  startRelay,
  waitFor,
  type TestRelay,
} from '../helpers.js';
import { startReceiver, WEBHOOK_SECRET, type Receiver } from '../webhooks/receiver.js';

const REASON = 'Patient unresponsive in the emergency department; need recent messages.';
let relay: TestRelay | undefined;
let receiver: Receiver | undefined;
afterEach(async () => {
  await relay?.close();
  await receiver?.close();
  relay = undefined;
  receiver = undefined;
});

it('lets a provider with a break-glass reason read, flags every read, tells the host; writes stay closed', async () => {
  const target = await startReceiver();
  receiver = target;
  const node = await startRelay({
    devTenantWebhooks: [{ id: 'ehr', url: target.url, secret: WEBHOOK_SECRET, payload: 'full' }],
    webhookDelivery: {
      timeoutMs: 2_000,
      retryBaseMs: 20,
      retryMaxMs: 100,
      giveUpAfterMs: 60_000,
      pollMs: 20,
      leaseMs: 1_000,
    },
  });
  relay = node;
  await seedConversation(node, 'c-er', [{ userId: 'alice', role: 'patient' }]);
  const doctor = await connectAs(node, await node.token('dr-rivera', 'provider'));
  await ok(doctor, 'message.send', {
    conversationId: 'c-er',
    id: 'er-msg-0001',
    text: 'Allergies',
  });

  // Without the claim: no access.
  const outsider = await connectAs(node, await node.token('dr-house', 'provider'));
  expect(await call(outsider, 'conversation.open', { conversationId: 'c-er' })).toMatchObject({
    ok: false,
    error: { code: 'NOT_FOUND' },
  });

  const emergency = await connectAs(
    node,
    await mintWith(node, { sub: 'dr-house', role: 'provider', break_glass: REASON }),
  );
  const opened = await ok(emergency, 'conversation.open', { conversationId: 'c-er' });
  expect(opened.you).toEqual({ userId: 'dr-house', role: 'provider' });
  const page = await ok(emergency, 'history.page', { conversationId: 'c-er', limit: 10 });
  expect(page.messages.map((m) => m.text)).toEqual(['Allergies']);
  await ok(emergency, 'sync', { conversationId: 'c-er', afterSeq: 0 });
  // Read-only: breaking the glass does not make them a member.
  expect(
    await call(emergency, 'message.send', { conversationId: 'c-er', id: 'er-msg-0002', text: 'x' }),
  ).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
  expect(
    await call(emergency, 'participant.add', {
      conversationId: 'c-er',
      participant: { userId: 'dr-house', role: 'provider', displayName: 'Dr. House' },
    }),
  ).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });

  const trail = await node.relay.store.listAuditEvents('dev', { userId: 'dr-house' }, 0, 100);
  expect(trail.find((e) => e.action === 'breakglass.opened')).toMatchObject({
    conversationId: 'c-er',
    detail: { reason: REASON },
  });
  const reads = trail.filter((e) => e.action === 'conversation.read');
  expect(reads.map((e) => [e.detail.via, e.detail.breakGlass])).toEqual([
    ['open', true],
    ['history', true],
    ['sync', true],
  ]);
  await waitFor(
    () => target.unique().some((e) => e.type === 'breakglass.opened'),
    5_000,
    'the host to be told',
  );
  const told = target.unique().find((e) => e.type === 'breakglass.opened') as Extract<
    WebhookEvent,
    { type: 'breakglass.opened' }
  >;
  expect(told.data).toMatchObject({ conversationId: 'c-er', userId: 'dr-house', reason: REASON });
  for (const socket of [doctor, outsider, emergency]) socket.close();
});

it('ends break-glass access when its time is up, on a live socket too', async () => {
  const tenant = await makeTenant('riverside', { breakGlass: { enabled: true, minutes: 1 } });
  const node = await startRelay({ tenants: [tenant.config], devTenant: false });
  relay = node;
  const admin = await connectAs(node, await node.token('dr-rivera', 'provider', { tenant }), {
    extraHeaders: { origin: 'https://riverside.portal.example' },
  });
  await ok(admin, 'conversation.create', {
    conversationId: 'c-short',
    title: 'Short',
    participants: [{ userId: 'alice', role: 'patient', displayName: 'Alice' }],
  });
  // Issued 58 to 59 s ago (iat is whole seconds): one to two seconds of the minute are left.
  const issuedAt = Math.floor(Date.now() / 1000) - 58;
  const token = await new SignJWT({ name: 'Dr. House', role: 'provider', break_glass: REASON })
    .setProtectedHeader({ alg: 'ES256', kid: tenant.kid, typ: 'JWT' })
    .setIssuer(tenant.config.issuer)
    .setAudience(tenant.config.audience)
    .setSubject('dr-house')
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + 600)
    .sign(tenant.key);
  const emergency = await connectAs(node, token, {
    extraHeaders: { origin: 'https://riverside.portal.example' },
  });
  const removed: unknown[] = [];
  emergency.on('participant.removed', (event) => removed.push(event));
  await ok(emergency, 'conversation.open', { conversationId: 'c-short' });
  await waitFor(() => removed.length === 1, 5_000, 'the access to end');
  expect(removed[0]).toMatchObject({ userId: 'dr-house', reason: { code: 'FORBIDDEN' } });
  expect(await call(emergency, 'sync', { conversationId: 'c-short', afterSeq: 0 })).toMatchObject({
    ok: false,
    error: { code: 'FORBIDDEN' },
  });
  admin.close();
  emergency.close();
});

it('refuses a break-glass token for anyone but a provider, and where the tenant has not enabled it', async () => {
  const closed = await makeTenant('closed');
  const node = await startRelay({ tenants: [closed.config] });
  relay = node;
  await expect(
    connectAs(node, await mintWith(node, { sub: 'bob', role: 'family', break_glass: REASON })),
  ).rejects.toMatchObject({ data: { code: 'FORBIDDEN' } });
  const token = await new SignJWT({ name: 'Dr. House', role: 'provider', break_glass: REASON })
    .setProtectedHeader({ alg: 'ES256', kid: closed.kid, typ: 'JWT' })
    .setIssuer(closed.config.issuer)
    .setAudience(closed.config.audience)
    .setSubject('dr-house')
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(closed.key);
  await expect(
    connectAs(node, token, { extraHeaders: { origin: 'https://closed.portal.example' } }),
  ).rejects.toMatchObject({ data: { code: 'FORBIDDEN' } });
});

/** A development-tenant token with the given claims (the test relay's own key). */
function mintWith(
  node: TestRelay,
  claims: { sub: string; role: string; break_glass?: string },
): Promise<string> {
  const key = node.relay.devKey;
  if (!key) throw new Error('the development tenant is off');
  const { sub, ...rest } = claims;
  return new SignJWT({ name: sub, ...rest })
    .setProtectedHeader({ alg: 'ES256', kid: key.kid, typ: 'JWT' })
    .setIssuer('carethread-dev')
    .setAudience('carethread')
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(key.privateKey);
}
