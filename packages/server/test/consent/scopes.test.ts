// Consent scopes on the wire (ADR 26): what a signed consent shares with a family member is
// exactly what every path lets them read and do. A consent naming no scopes shares the
// conversation with its files, as every consent did before scopes; one that keeps files back lets
// the family member talk but never see a file, live or afterwards; one that shares no messages
// keeps them out of the conversation as if there were no consent.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConsentScope, MessageView, ServerPayloadOf } from '@carethread/shared';
import { get, link, put } from '../files/file-helpers.js';
import {
  call,
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

const pdf = Buffer.concat([Buffer.from('%PDF-1.7\n'), randomBytes(2_000)]);
const fileId = () => `f-${randomBytes(8).toString('hex')}`;
const messageId = () => `msg-scope-${randomBytes(6).toString('hex')}`;

/**
 * A conversation of Alice (patient) and Bob (family) with Dr. Rivera, where Alice signed a consent
 * naming Bob with `scopes` (none: the default), and Alice has shared a PDF in a message.
 */
async function sharedWithBob(scopes: ConsentScope[] | undefined) {
  const conversationId = `c-scopes-${String(++counter)}`;
  await seedConversation(
    relay,
    conversationId,
    [
      { userId: 'alice', role: 'patient', displayName: 'Alice' },
      { userId: 'bob', role: 'family', displayName: 'Bob', relationship: 'brother' },
    ],
    'dr-rivera',
    { consent: false },
  );
  const requestId = await grantConsent(relay, conversationId, 'alice', ['bob'], {
    ...(scopes ? { scopes } : {}),
  });
  const aliceToken = await relay.token('alice', 'patient');
  const bobToken = await relay.token('bob', 'family', { relationship: 'brother' });
  const alice = await connectAs(relay, aliceToken);
  const bob = await connectAs(relay, bobToken);
  await ok(alice, 'conversation.open', { conversationId });
  const url = (id: string) =>
    `${relay.url}/files/${id}?conversationId=${conversationId}&name=results.pdf`;
  const shared = fileId();
  expect((await put(url(shared), aliceToken, pdf)).status).toBe(201);
  await ok(alice, 'message.send', {
    conversationId,
    id: messageId(),
    text: 'My lab results',
    attachments: [shared],
  });
  return {
    conversationId,
    requestId,
    alice,
    bob,
    bobToken,
    url,
    shared,
    close: () => {
      alice.close();
      bob.close();
    },
  };
}

describe('what a consent shares with a family member', () => {
  it('shares the conversation with its files when the consent names no scopes, as before scopes', async () => {
    const { conversationId, requestId, alice, bob, bobToken, shared, close } =
      await sharedWithBob(undefined);
    try {
      const { requests } = await ok(alice, 'consent.list', { conversationId });
      expect(requests.find((r) => r.requestId === requestId)?.scopes).toEqual([
        'messages',
        'files',
      ]);
      await ok(bob, 'conversation.open', { conversationId });
      const page = await ok(bob, 'history.page', { conversationId });
      expect(page.messages.at(-1)?.attachments?.map((a) => a.fileId)).toEqual([shared]);
      const answer = await link(relay.url, bobToken, shared);
      expect(answer.status).toBe(200);
      expect((await get(answer.body.url ?? '')).body.equals(pdf)).toBe(true);
    } finally {
      close();
    }
  });

  it('lets a family member whose consent keeps files back talk, and never shows them a file', async () => {
    const { conversationId, alice, bob, bobToken, url, shared, close } = await sharedWithBob([
      'messages',
    ]);
    try {
      await ok(bob, 'conversation.open', { conversationId });
      // Reading afterwards: the message is there, its file is not.
      const page = await ok(bob, 'history.page', { conversationId });
      const results = page.messages.find((m) => m.text === 'My lab results');
      expect(results).toBeDefined();
      expect(results?.attachments).toBeUndefined();
      const sync = await ok(bob, 'sync', { conversationId, afterSeq: 0 });
      expect(JSON.stringify(sync.entries)).not.toContain(shared);

      // Reading live: Bob gets the next shared file's message without it; Alice gets it whole.
      const live: ServerPayloadOf<'message'>[] = [];
      bob.on('message', (message: MessageView) => live.push(message));
      const another = fileId();
      const aliceToken = await relay.token('alice', 'patient');
      expect((await put(url(another), aliceToken, pdf)).status).toBe(201);
      const aliceLive: ServerPayloadOf<'message'>[] = [];
      alice.on('message', (message: MessageView) => aliceLive.push(message));
      await ok(alice, 'message.send', {
        conversationId,
        id: messageId(),
        text: 'And the scan',
        attachments: [another],
      });
      await waitFor(() => live.some((m) => m.text === 'And the scan'), 5000, 'the live message');
      expect(live.find((m) => m.text === 'And the scan')?.attachments).toBeUndefined();
      expect(JSON.stringify(live)).not.toContain(another);
      await waitFor(() => aliceLive.some((m) => m.text === 'And the scan'), 5000, "Alice's copy");
      expect(aliceLive.find((m) => m.text === 'And the scan')?.attachments?.[0]?.fileId).toBe(
        another,
      );

      // Bob talks, but neither downloads, uploads nor attaches a file.
      expect(
        await codeOf(bob, 'message.send', { conversationId, id: messageId(), text: 'Thanks' }),
      ).toBe('ok');
      const refusedLink = await link(relay.url, bobToken, shared);
      expect(refusedLink.status).toBe(403);
      expect(refusedLink.body.error?.code).toBe('CONSENT_REQUIRED');
      const upload = await put(url(fileId()), bobToken, pdf);
      expect(upload.status).toBe(403);
      expect(
        await codeOf(bob, 'message.send', {
          conversationId,
          id: messageId(),
          text: 'Reusing it',
          attachments: [shared],
        }),
      ).toBe('CONSENT_REQUIRED');
    } finally {
      close();
    }
  });

  it('keeps a family member whose consent shares only goals out of the conversation, on every path', async () => {
    const { conversationId, bob, bobToken, shared, close } = await sharedWithBob(['goals']);
    try {
      expect(await codeOf(bob, 'conversation.open', { conversationId })).toBe('CONSENT_REQUIRED');
      expect(await codeOf(bob, 'history.page', { conversationId })).toBe('CONSENT_REQUIRED');
      expect(await codeOf(bob, 'sync', { conversationId, afterSeq: 0 })).toBe('CONSENT_REQUIRED');
      expect(
        await codeOf(bob, 'message.send', { conversationId, id: messageId(), text: 'hi' }),
      ).toBe('CONSENT_REQUIRED');
      const { conversations } = await ok(bob, 'conversation.list', {});
      expect(conversations.find((c) => c.conversationId === conversationId)).toEqual({
        conversationId,
        access: 'consent-required',
      });
      expect((await link(relay.url, bobToken, shared)).status).toBe(403);
    } finally {
      close();
    }
  });

  it('refuses a request whose scopes share files without messages, or name one twice', async () => {
    const { conversationId, close } = await sharedWithBob(undefined);
    const dr = await connectAs(relay, await relay.token('dr-rivera', 'provider'));
    try {
      for (const scopes of [['files'], ['messages', 'messages'], []]) {
        const ack = await call(dr, 'consent.request', {
          requestId: `scopes-${randomBytes(6).toString('hex')}`,
          templateId: 'family-disclosure',
          conversationId,
          patientId: 'alice',
          recipients: ['bob'],
          purpose: 'Family support',
          expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
          scopes,
        } as never);
        expect(ack.ok ? 'ok' : ack.error.code, JSON.stringify(scopes)).toBe('VALIDATION');
      }
    } finally {
      dr.close();
      close();
    }
  });
});
