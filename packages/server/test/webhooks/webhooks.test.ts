// Webhooks end to end: a real relay, its outbox and dispatcher, and a real HTTP receiver on
// loopback that verifies signatures, fails, hangs, answers late and comes back.
import { afterEach, describe, expect, it } from 'vitest';
import { ApiDeadLetterPage, type WebhookEvent } from '@carethread/shared';
import {
  signWebhook,
  UnknownWebhookEventError,
  verifyWebhook,
  WebhookVerificationError,
} from '../../src/webhooks/signature.js';
import {
  connectAs,
  grantConsent,
  ok,
  startRelay,
  waitFor,
  type RawSocket,
  type TestRelay,
} from '../helpers.js';
import { startReceiver, WEBHOOK_SECRET, type Receiver } from './receiver.js';

let relay: TestRelay | undefined;
let receiver: Receiver | undefined;
const sockets: RawSocket[] = [];

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.close();
  await relay?.close();
  await receiver?.close();
  relay = undefined;
  receiver = undefined;
});

/** A relay whose development tenant sends webhooks to `receiver`, retrying fast for the tests. */
async function relayWithWebhooks(
  target: Receiver,
  options: {
    payload?: 'full' | 'ids';
    giveUpAfterMs?: number;
    events?: WebhookEvent['type'][];
  } = {},
): Promise<TestRelay> {
  return startRelay({
    devTenantWebhooks: [
      {
        id: 'ehr',
        url: target.url,
        secret: WEBHOOK_SECRET,
        payload: options.payload ?? 'full',
        ...(options.events ? { events: options.events } : {}),
      },
    ],
    webhookDelivery: {
      timeoutMs: 300,
      retryBaseMs: 20,
      retryMaxMs: 100,
      giveUpAfterMs: options.giveUpAfterMs ?? 60_000,
      pollMs: 20,
    },
  });
}

async function api(target: TestRelay, method: string, path: string, body?: unknown) {
  const response = await fetch(`${target.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${target.apiKey}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as unknown) : undefined };
}

async function conversationWithMessages(target: TestRelay, count: number): Promise<RawSocket> {
  await api(target, 'POST', '/api/v1/conversations', {
    conversationId: 'c-1',
    title: 'Alice and her care team',
    participants: [
      { userId: 'dr-rivera', role: 'provider', displayName: 'Dr. Rivera' },
      { userId: 'alice', role: 'patient', displayName: 'Alice Moreno' },
    ],
  });
  const doctor = await connectAs(target, await target.token('dr-rivera', 'provider'));
  sockets.push(doctor);
  for (let i = 1; i <= count; i++)
    await ok(doctor, 'message.send', {
      conversationId: 'c-1',
      id: `msg-${String(i).padStart(4, '0')}`,
      text: `Private note number ${String(i)}`,
    });
  return doctor;
}

describe('webhook signatures', () => {
  const body = JSON.stringify({
    id: 'e-1',
    type: 'participant.removed',
    tenantId: 'dev',
    time: '2026-12-01T10:00:00.000Z',
    version: 1,
    data: { conversationId: 'c-1', userId: 'bob' },
  });
  const now = new Date('2026-12-01T10:00:10Z');
  const signature = signWebhook(WEBHOOK_SECRET, body, Math.floor(now.getTime() / 1000) - 10);

  it('accepts a delivery signed with the secret within the tolerance window', () => {
    expect(verifyWebhook({ body, signature, secret: WEBHOOK_SECRET, now }).id).toBe('e-1');
  });

  it('tells a verified event of an unknown type apart from a forged one', () => {
    const future = JSON.stringify({
      ...(JSON.parse(body) as object),
      type: 'conversation.renamed',
    });
    const signedFuture = signWebhook(WEBHOOK_SECRET, future, Math.floor(now.getTime() / 1000));
    expect(() =>
      verifyWebhook({ body: future, signature: signedFuture, secret: WEBHOOK_SECRET, now }),
    ).toThrow(UnknownWebhookEventError);
    expect(() => verifyWebhook({ body: future, signature, secret: WEBHOOK_SECRET, now })).toThrow(
      WebhookVerificationError,
    );
  });

  it('refuses a changed body, another secret, a missing header and a replay', () => {
    const cases = [
      { body: body.replace('bob', 'eve'), signature, secret: WEBHOOK_SECRET, now },
      { body, signature, secret: 'another-secret-of-at-least-32-characters!', now },
      { body, signature: undefined, secret: WEBHOOK_SECRET, now },
      { body, signature, secret: WEBHOOK_SECRET, now: new Date(now.getTime() + 10 * 60_000) },
    ];
    for (const options of cases)
      expect(() => verifyWebhook(options)).toThrow(WebhookVerificationError);
  });
});

describe('webhook delivery', () => {
  it('announces every committed change once, signed, in commit order', async () => {
    receiver = await startReceiver();
    relay = await relayWithWebhooks(receiver);
    await conversationWithMessages(relay, 3);
    await api(relay, 'POST', '/api/v1/conversations/c-1/participants', {
      userId: 'bob',
      role: 'family',
      displayName: 'Bob Moreno',
      relationship: 'brother',
    });
    await grantConsent(relay, 'c-1', 'alice', ['bob']);
    await api(relay, 'DELETE', '/api/v1/conversations/c-1/participants/bob');

    const expected = [
      'message.created',
      'message.created',
      'message.created',
      'participant.added',
      'consent.requested',
      'consent.viewed',
      'consent.signed',
      'participant.removed',
    ];
    const target = receiver;
    await waitFor(() => target.deliveries.length >= expected.length, 10_000, 'all webhooks');
    const events = target.deliveries.map((d) => d.event);
    expect(events.map((e) => e.type)).toEqual(expected);
    expect(new Set(events.map((e) => e.id)).size).toBe(expected.length);
    expect(receiver.rejected).toBe(0);
    const first = events[0];
    expect(first?.type === 'message.created' && first.data).toMatchObject({
      conversationId: 'c-1',
      seq: 1,
      messageId: 'msg-0001',
      text: 'Private note number 1',
      sender: { userId: 'dr-rivera', role: 'provider' },
    });
    const signed = events.find((e) => e.type === 'consent.signed');
    expect(signed?.type === 'consent.signed' && signed.data.request?.state).toBe('signed');
    expect(target.deliveries[0]?.headers['carethread-event-id']).toBe(first?.id);
  });

  it('announces a deletion as message.deleted, without the text it hides', async () => {
    receiver = await startReceiver();
    relay = await relayWithWebhooks(receiver);
    const doctor = await conversationWithMessages(relay, 1);
    await ok(doctor, 'message.delete', { conversationId: 'c-1', id: 'delete-0001', targetSeq: 1 });
    const target = receiver;
    await waitFor(() => target.deliveries.length >= 2, 10_000, 'webhooks');
    const deletion = target.deliveries[1];
    expect(deletion?.event).toMatchObject({
      type: 'message.deleted',
      data: { conversationId: 'c-1', seq: 2, messageId: 'delete-0001', targetSeq: 1 },
    });
    expect(deletion?.event.data).not.toHaveProperty('text');
  });

  it('sends notification-only payloads without message text or form content', async () => {
    receiver = await startReceiver();
    relay = await relayWithWebhooks(receiver, { payload: 'ids' });
    await conversationWithMessages(relay, 2);
    const target = receiver;
    await waitFor(() => target.deliveries.length >= 2, 10_000, 'webhooks');
    for (const delivery of target.deliveries) {
      expect(delivery.raw).not.toContain('Private note');
      expect(delivery.event.data).not.toHaveProperty('text');
    }
    expect(target.deliveries[1]?.event.data).toMatchObject({ conversationId: 'c-1', seq: 2 });
  });

  it('sends only the subscribed event types', async () => {
    receiver = await startReceiver();
    relay = await relayWithWebhooks(receiver, { events: ['participant.added'] });
    await conversationWithMessages(relay, 3);
    await api(relay, 'POST', '/api/v1/conversations/c-1/participants', {
      userId: 'nurse-kim',
      role: 'staff',
      displayName: 'Nurse Kim',
    });
    const target = receiver;
    await waitFor(() => target.deliveries.length >= 1, 10_000, 'the subscribed webhook');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(target.deliveries.map((d) => d.event.type)).toEqual(['participant.added']);
  });

  it('loses nothing while the receiver fails, times out and answers late, and keeps the order', async () => {
    receiver = await startReceiver();
    relay = await relayWithWebhooks(receiver);
    const target = receiver;
    target.behaviour = 'fail';
    const doctor = await conversationWithMessages(relay, 5);
    await new Promise((resolve) => setTimeout(resolve, 300));
    target.behaviour = 'hang';
    for (let i = 6; i <= 10; i++)
      await ok(doctor, 'message.send', {
        conversationId: 'c-1',
        id: `msg-${String(i).padStart(4, '0')}`,
        text: `Private note number ${String(i)}`,
      });
    await new Promise((resolve) => setTimeout(resolve, 700));
    target.behaviour = 'late';
    await waitFor(() => target.deliveries.length >= 1, 10_000, 'a late delivery');
    target.behaviour = 'ok';
    await waitFor(() => target.unique().length >= 10, 15_000, 'every event');

    const unique = target.unique();
    expect(unique.map((e) => (e.type === 'message.created' ? e.data.seq : 0))).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
    ]);
    // The late answer made the relay send that event again; the receiver's dedupe absorbed it.
    expect(target.deliveries.length).toBeGreaterThan(unique.length);
  });

  it('dead-letters an event after its retry window, moves on, and redelivers it through the API', async () => {
    receiver = await startReceiver();
    relay = await relayWithWebhooks(receiver, { giveUpAfterMs: 300 });
    const target = receiver;
    target.behaviour = 'fail';
    const current = relay;
    const doctor = await conversationWithMessages(current, 1);
    const deadLetters = async () =>
      ApiDeadLetterPage.parse((await api(current, 'GET', '/api/v1/webhooks/dead-letters')).body);
    let letters = await deadLetters();
    for (let tries = 0; letters.items.length === 0 && tries < 200; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      letters = await deadLetters();
    }
    expect(letters.items).toHaveLength(1);
    const letter = letters.items[0];
    expect(letter).toMatchObject({ endpointId: 'ehr', lastError: 'HTTP 500', redeliveredAt: null });
    expect(letter?.attempts).toBeGreaterThan(1);

    // While the receiver still fails, a redelivery says so with UNAVAILABLE.
    const eventId = letter?.event.id ?? '';
    const refused = await api(
      current,
      'POST',
      `/api/v1/webhooks/dead-letters/ehr/${eventId}/redeliver`,
    );
    expect(refused.status).toBe(503);

    target.behaviour = 'ok';
    await ok(doctor, 'message.send', { conversationId: 'c-1', id: 'msg-0002', text: 'after' });
    await waitFor(() => target.deliveries.length === 1, 10_000, 'the next event');
    expect(
      target.deliveries[0]?.event.type === 'message.created' && target.deliveries[0].event.data.seq,
    ).toBe(2);

    const redelivered = await api(
      current,
      'POST',
      `/api/v1/webhooks/dead-letters/ehr/${eventId}/redeliver`,
    );
    expect(redelivered.status).toBe(200);
    expect(target.unique().map((e) => e.id)).toContain(eventId);
    expect((await deadLetters()).items[0]?.redeliveredAt).not.toBeNull();
    expect(
      (await api(current, 'POST', '/api/v1/webhooks/dead-letters/ehr/no-such-event/redeliver'))
        .status,
    ).toBe(404);
  });
});
