// Family access follows consent, tested on the wire: a family member takes part only while the
// patient's signed consent naming them is in effect; revocation and expiry end it at the commit,
// for connected and reconnecting sockets alike, at read and at write time.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MessageView, ServerPayloadOf } from '@carethread/shared';
import {
  codeOf,
  connectAs,
  grantConsent,
  ok,
  seedConversation,
  startRelay,
  waitFor,
  type TestRelay,
} from '../helpers.js';

let relay: TestRelay;
let counter = 0;
beforeAll(async () => {
  relay = await startRelay();
});
afterAll(async () => {
  await relay.close();
});

/** A conversation of Alice (patient), Bob (family) and Dr. Rivera, with no consent yet. */
async function setUp() {
  const conversationId = `c-family-${String(++counter)}`;
  await seedConversation(
    relay,
    conversationId,
    [
      { userId: 'alice', role: 'patient', displayName: 'Alice' },
      { userId: 'bob', role: 'family', displayName: 'Bob', relationship: 'father' },
    ],
    'dr-rivera',
    { consent: false },
  );
  const dr = await connectAs(relay, await relay.token('dr-rivera', 'provider'));
  const alice = await connectAs(relay, await relay.token('alice', 'patient'));
  const bob = await connectAs(
    relay,
    await relay.token('bob', 'family', { relationship: 'father' }),
  );
  await ok(dr, 'conversation.open', { conversationId });
  await ok(alice, 'conversation.open', { conversationId });
  return {
    conversationId,
    dr,
    alice,
    bob,
    close: () => {
      for (const socket of [dr, alice, bob]) socket.close();
    },
  };
}

let ids = 0;
const nextId = () => `msg-family-${String(++ids).padStart(6, '0')}`;

describe('family access follows consent', () => {
  it('keeps a family member out until the patient signs, then lets them in', async () => {
    const { conversationId, dr, bob, close } = await setUp();
    try {
      expect(await codeOf(bob, 'conversation.open', { conversationId })).toBe('CONSENT_REQUIRED');
      expect(await codeOf(bob, 'history.page', { conversationId })).toBe('CONSENT_REQUIRED');
      expect(await codeOf(bob, 'sync', { conversationId, afterSeq: 0 })).toBe('CONSENT_REQUIRED');
      expect(await codeOf(bob, 'message.send', { conversationId, id: nextId(), text: 'hi' })).toBe(
        'CONSENT_REQUIRED',
      );
      await ok(dr, 'message.send', { conversationId, id: nextId(), text: 'Before consent' });

      await grantConsent(relay, conversationId, 'alice', ['bob']);
      await ok(bob, 'conversation.open', { conversationId });
      const { messages } = await ok(bob, 'history.page', { conversationId });
      expect(messages.map((m) => m.text)).toEqual(['Before consent']);
      await ok(bob, 'message.send', { conversationId, id: nextId(), text: 'Thanks for having me' });
    } finally {
      close();
    }
  });

  it('stops delivery to a connected family member at the revocation commit', async () => {
    const { conversationId, dr, alice, bob, close } = await setUp();
    try {
      const requestId = await grantConsent(relay, conversationId, 'alice', ['bob']);
      await ok(bob, 'conversation.open', { conversationId });
      // What Bob's socket sees, in order; the relay removes him right after the commit.
      const seen: string[] = [];
      bob.on('message', (m: MessageView) => seen.push(m.text));
      const removed = new Promise<ServerPayloadOf<'participant.removed'>>((resolve) => {
        bob.on('participant.removed', (event) => {
          seen.push('<removed>');
          resolve(event);
        });
      });

      // Messages keep flowing from the care team while the patient revokes.
      const load = { sending: true };
      let sent = 0;
      const traffic = (async () => {
        while (load.sending) {
          await ok(dr, 'message.send', {
            conversationId,
            id: nextId(),
            text: `live ${String(++sent)}`,
          });
        }
      })();
      await waitFor(() => seen.length >= 3);
      const revoked = await ok(alice, 'consent.revoke', {
        requestId,
        signature: { method: 'typed', name: 'Alice' },
      });
      expect(revoked.state).toBe('revoked');
      expect((await removed).reason?.code).toBe('CONSENT_REQUIRED');
      const sentAtRevocation = sent;
      await waitFor(() => sent >= sentAtRevocation + 10);
      load.sending = false;
      await traffic;

      // Nothing reached Bob after his removal, though the care team kept sending.
      expect(seen.at(-1)).toBe('<removed>');
      const { entries } = await ok(dr, 'sync', { conversationId, afterSeq: 0 });
      expect(entries.length).toBeGreaterThan(seen.length + 5);
      expect(await codeOf(bob, 'history.page', { conversationId })).toBe('CONSENT_REQUIRED');
      expect(await codeOf(bob, 'message.send', { conversationId, id: nextId(), text: 'x' })).toBe(
        'CONSENT_REQUIRED',
      );
    } finally {
      close();
    }
  });

  it('gives a family member who was offline during the revocation nothing on reconnect', async () => {
    const { conversationId, dr, alice, bob, close } = await setUp();
    try {
      const requestId = await grantConsent(relay, conversationId, 'alice', ['bob']);
      await ok(bob, 'conversation.open', { conversationId });
      const { lastSeq } = await ok(bob, 'sync', { conversationId, afterSeq: 0 });
      bob.close();
      await ok(alice, 'consent.revoke', {
        requestId,
        signature: { method: 'typed', name: 'Alice' },
      });
      await ok(dr, 'message.send', { conversationId, id: nextId(), text: 'After revocation' });
      const back = await connectAs(relay, await relay.token('bob', 'family'));
      try {
        expect(await codeOf(back, 'conversation.open', { conversationId })).toBe(
          'CONSENT_REQUIRED',
        );
        expect(await codeOf(back, 'sync', { conversationId, afterSeq: lastSeq })).toBe(
          'CONSENT_REQUIRED',
        );
      } finally {
        back.close();
      }
    } finally {
      close();
    }
  });

  it('ends access when the consent expires, for a live socket and afterwards', async () => {
    const { conversationId, dr, bob, close } = await setUp();
    try {
      await grantConsent(relay, conversationId, 'alice', ['bob'], {
        expiresAt: new Date(Date.now() + 1500).toISOString(),
      });
      await ok(bob, 'conversation.open', { conversationId });
      const removed = new Promise<ServerPayloadOf<'participant.removed'>>((resolve) => {
        bob.on('participant.removed', resolve);
      });
      const received: string[] = [];
      bob.on('message', (m: MessageView) => received.push(m.text));
      expect((await removed).reason?.message).toContain('expired');
      await ok(dr, 'message.send', { conversationId, id: nextId(), text: 'After expiry' });
      expect(await codeOf(bob, 'history.page', { conversationId })).toBe('CONSENT_REQUIRED');
      expect(await codeOf(bob, 'message.send', { conversationId, id: nextId(), text: 'x' })).toBe(
        'CONSENT_REQUIRED',
      );
      expect(received).not.toContain('After expiry');
    } finally {
      close();
    }
  });

  it('lets only the patient or the signer revoke, and only a consent in effect', async () => {
    const { conversationId, dr, alice, bob, close } = await setUp();
    try {
      const requestId = await grantConsent(relay, conversationId, 'alice', ['bob']);
      const revoke = { requestId, signature: { method: 'typed' as const, name: 'alice' } };
      expect(await codeOf(dr, 'consent.revoke', revoke)).toBe('FORBIDDEN');
      expect(await codeOf(bob, 'consent.revoke', revoke)).toBe('FORBIDDEN');
      // A revocation is signed with the revoker's own name, not any text.
      const unsigned = { requestId, signature: { method: 'typed' as const, name: 'X' } };
      expect(await codeOf(alice, 'consent.revoke', unsigned)).toBe('SIGNER_NAME_MISMATCH');
      await ok(alice, 'consent.revoke', revoke);
      expect(await codeOf(alice, 'consent.revoke', revoke)).toBe('CONFLICT');
      const events = await relay.relay.store.listConsentEvents('dev', requestId);
      expect(events.map((e) => e.type)).toEqual(['requested', 'viewed', 'signed', 'revoked']);
    } finally {
      close();
    }
  });
});
