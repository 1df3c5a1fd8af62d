// Consents reaching their expiry are recorded as expired, audited, and announced to the
// conversation's followers and to the host (relay.events), after the commit.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ConsentRequestView } from '@carethread/shared';
import type { ConsentChange } from '../../src/index.js';
import {
  connectAs,
  grantConsent,
  ok,
  seedConversation,
  startRelay,
  waitFor,
  type TestRelay,
} from '../helpers.js';

let relay: TestRelay;
beforeAll(async () => {
  relay = await startRelay({ consentSweepMs: 200 });
});
afterAll(async () => {
  await relay.close();
});

it('marks a signed consent expired at its expiry, audits it and tells followers and the host', async () => {
  await seedConversation(
    relay,
    'c-expiry',
    [
      { userId: 'alice', role: 'patient' },
      { userId: 'bob', role: 'family' },
    ],
    'dr-rivera',
    { consent: false },
  );
  const host: ConsentChange[] = [];
  relay.relay.events.on('consent', (change) => host.push(change));
  const dr = await connectAs(relay, await relay.token('dr-rivera', 'provider'));
  try {
    await ok(dr, 'conversation.open', { conversationId: 'c-expiry' });
    const updates: ConsentRequestView[] = [];
    dr.on('consent.updated', (request: ConsentRequestView) => updates.push(request));
    const requestId = await grantConsent(relay, 'c-expiry', 'alice', ['bob'], {
      expiresAt: new Date(Date.now() + 1000).toISOString(),
    });
    await waitFor(() => updates.some((u) => u.state === 'expired'), 5000);
    const events = await relay.relay.store.listConsentEvents('dev', requestId);
    expect(events.map((e) => [e.type, e.actorId])).toEqual([
      ['requested', 'dr-rivera'],
      ['viewed', 'alice'],
      ['signed', 'alice'],
      ['expired', 'relay'],
    ]);
    expect(host.map((c) => c.request.state)).toEqual(['requested', 'viewed', 'signed', 'expired']);
    expect(host.every((c) => c.tenantId === 'dev' && c.request.requestId === requestId)).toBe(true);
  } finally {
    dr.close();
  }
});
