// Access holes found by testing from outside (issue 15, "Access"): a role change must narrow access
// like a removal, a family member without consent must not learn a conversation's title or
// activity from the list, and "someone else's" must answer exactly like "not there".
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClientEventName, MessageView, RequestOf } from '@carethread/shared';
import {
  call,
  connectAs,
  grantConsent,
  ok,
  seedConversation,
  startRelay,
  waitFor,
  type RawSocket,
  type TestRelay,
} from '../helpers.js';
import { link, put } from '../files/file-helpers.js';

let relay: TestRelay;
let counter = 0;
beforeAll(async () => {
  relay = await startRelay();
});
afterAll(async () => {
  await relay.close();
});

let ids = 0;
const nextId = () => `msg-access-${String(++ids).padStart(6, '0')}`;

async function answerOf<E extends ClientEventName>(
  socket: RawSocket,
  event: E,
  payload: RequestOf<E>,
) {
  const ack = await call(socket, event, payload);
  return ack.ok ? 'ok' : ack.error;
}

/** Alice (patient), Bob (family, no consent unless asked) and Dr. Rivera, who made it. */
async function conversationWithBob(options: { consent?: boolean } = {}) {
  const conversationId = `c-access-${String(++counter)}`;
  await seedConversation(
    relay,
    conversationId,
    [
      { userId: 'alice', role: 'patient', displayName: 'Alice' },
      { userId: 'bob', role: 'family', displayName: 'Bob', relationship: 'brother' },
      { userId: 'nurse-kim', role: 'staff', displayName: 'Nurse Kim' },
    ],
    'dr-rivera',
    options,
  );
  return conversationId;
}

/** The host API, as the development tenant's back end. */
async function hostApi(method: string, path: string, body?: unknown) {
  const response = await fetch(`${relay.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${relay.apiKey}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: await response.json() };
}

describe('a role change narrows access like a removal', () => {
  it('keeps a family member re-added as staff behind consent while their token says family', async () => {
    const conversationId = await conversationWithBob({ consent: false });
    const dr = await connectAs(relay, await relay.token('dr-rivera', 'provider'));
    const bob = await connectAs(relay, await relay.token('bob', 'family'));
    try {
      await ok(dr, 'message.send', { conversationId, id: nextId(), text: 'Private history' });
      await ok(dr, 'participant.add', {
        conversationId,
        participant: { userId: 'bob', role: 'staff', displayName: 'Bob' },
      });
      for (const [event, payload] of [
        ['conversation.open', { conversationId }],
        ['history.page', { conversationId }],
        ['sync', { conversationId, afterSeq: 0 }],
        ['message.send', { conversationId, id: nextId(), text: 'hello' }],
      ] as const) {
        const answer = await answerOf(bob, event, payload as never);
        expect(answer === 'ok' ? 'ok' : answer.code, event).toBe('CONSENT_REQUIRED');
      }
      // Nor can the person the store now calls staff change who is in the conversation.
      const added = await answerOf(bob, 'participant.add', {
        conversationId,
        participant: { userId: 'mallory', role: 'family', displayName: 'Mallory' },
      });
      expect(added === 'ok' ? 'ok' : added.code).toBe('CONSENT_REQUIRED');
    } finally {
      dr.close();
      bob.close();
    }
  });

  it('cuts a provider re-added as family off their live socket at once', async () => {
    const conversationId = await conversationWithBob();
    const dr = await connectAs(relay, await relay.token('dr-rivera', 'provider'));
    const nurse = await connectAs(relay, await relay.token('nurse-kim', 'staff'));
    try {
      await ok(dr, 'conversation.open', { conversationId });
      await ok(nurse, 'conversation.open', { conversationId });
      const seen: string[] = [];
      nurse.on('message', (m: MessageView) => seen.push(m.text));
      const removed = new Promise<{ code?: string }>((resolve) => {
        nurse.on('participant.removed', (event) => {
          if (event.userId === 'nurse-kim') resolve({ code: event.reason?.code });
        });
      });
      let accessChanged = 0;
      dr.on('access.changed', () => accessChanged++);
      await ok(dr, 'message.send', { conversationId, id: nextId(), text: 'before' });
      await waitFor(() => seen.includes('before'));

      await ok(dr, 'participant.add', {
        conversationId,
        participant: { userId: 'nurse-kim', role: 'family', displayName: 'Kim' },
      });
      expect((await removed).code).toBe('CONSENT_REQUIRED');
      await waitFor(() => accessChanged > 0);
      for (let i = 0; i < 20; i++)
        await ok(dr, 'message.send', { conversationId, id: nextId(), text: `after ${String(i)}` });
      await ok(dr, 'sync', { conversationId, afterSeq: 0 });
      expect(seen).toEqual(['before']);
      const reopened = await answerOf(nurse, 'conversation.open', { conversationId });
      expect(reopened === 'ok' ? 'ok' : reopened.code).toBe('CONSENT_REQUIRED');
    } finally {
      dr.close();
      nurse.close();
    }
  });

  it('does the same through the host API, and records the role it replaced', async () => {
    const conversationId = await conversationWithBob();
    const nurse = await connectAs(relay, await relay.token('nurse-kim', 'staff'));
    try {
      await ok(nurse, 'conversation.open', { conversationId });
      const seen: string[] = [];
      nurse.on('message', (m: MessageView) => seen.push(m.text));
      const removed = new Promise<string | undefined>((resolve) => {
        nurse.on('participant.removed', (event) => {
          resolve(event.reason?.code);
        });
      });
      const before = await relay.relay.store.getConversation('dev', conversationId);
      const answer = await hostApi('POST', `/api/v1/conversations/${conversationId}/participants`, {
        userId: 'nurse-kim',
        role: 'family',
        displayName: 'Kim',
      });
      expect(answer.status).toBe(201);
      expect(await removed).toBe('CONSENT_REQUIRED');
      const after = await relay.relay.store.getConversation('dev', conversationId);
      expect(after!.accessVersion).toBe(before!.accessVersion + 1);
      const posted = await hostApi('POST', `/api/v1/conversations/${conversationId}/messages`, {
        id: nextId(),
        text: 'after the change',
      });
      expect(posted.status).toBe(201);
      expect(seen).toEqual([]);
      const events = await relay.relay.store.listAuditEvents('dev', { conversationId }, 0, 1000);
      const change = events.findLast((e) => e.action === 'participant.added');
      expect(change?.detail).toMatchObject({ role: 'family', previousRole: 'staff' });
    } finally {
      nurse.close();
    }
  });

  it('re-adding someone in the role they have changes nobody’s access', async () => {
    const conversationId = await conversationWithBob();
    const before = await relay.relay.store.getConversation('dev', conversationId);
    const dr = await connectAs(relay, await relay.token('dr-rivera', 'provider'));
    try {
      await ok(dr, 'participant.add', {
        conversationId,
        participant: { userId: 'nurse-kim', role: 'staff', displayName: 'Nurse Kim' },
      });
      const after = await relay.relay.store.getConversation('dev', conversationId);
      expect(after!.accessVersion).toBe(before!.accessVersion);
    } finally {
      dr.close();
    }
  });
});

describe('the conversation list shows a family member only what they may read', () => {
  it('lists a conversation without consent by its id and consent state alone', async () => {
    const conversationId = await conversationWithBob({ consent: false });
    const dr = await connectAs(relay, await relay.token('dr-rivera', 'provider'));
    const bob = await connectAs(relay, await relay.token('bob', 'family'));
    try {
      await ok(dr, 'message.send', { conversationId, id: nextId(), text: 'activity' });
      const listed = (await ok(bob, 'conversation.list', {})).conversations.find(
        (c) => c.conversationId === conversationId,
      );
      expect(listed).toEqual({ conversationId, access: 'consent-required' });

      await grantConsent(relay, conversationId, 'alice', ['bob']);
      const granted = (await ok(bob, 'conversation.list', {})).conversations.find(
        (c) => c.conversationId === conversationId,
      );
      expect(granted).toMatchObject({
        conversationId,
        access: 'open',
        title: `Care team ${conversationId}`,
      });
      expect(granted && 'lastSeq' in granted ? granted.lastSeq : 0).toBeGreaterThan(0);
    } finally {
      dr.close();
      bob.close();
    }
  });

  it('hides the title from a family token even where the store lists the person as staff', async () => {
    const conversationId = await conversationWithBob({ consent: false });
    const dr = await connectAs(relay, await relay.token('dr-rivera', 'provider'));
    const bob = await connectAs(relay, await relay.token('bob', 'family'));
    try {
      await ok(dr, 'participant.add', {
        conversationId,
        participant: { userId: 'bob', role: 'staff', displayName: 'Bob' },
      });
      const listed = (await ok(bob, 'conversation.list', {})).conversations.find(
        (c) => c.conversationId === conversationId,
      );
      expect(listed).toEqual({ conversationId, access: 'consent-required' });
    } finally {
      dr.close();
      bob.close();
    }
  });
});

describe('"not yours" answers exactly like "not there"', () => {
  it('gives the same answer for someone else’s conversation and a missing one, on every event', async () => {
    const theirs = await conversationWithBob();
    const missing = `c-access-missing-${String(++counter)}`;
    const eve = await connectAs(relay, await relay.token('eve', 'provider'));
    try {
      const requests = (conversationId: string) =>
        [
          ['conversation.open', { conversationId }],
          ['history.page', { conversationId }],
          ['sync', { conversationId, afterSeq: 0 }],
          ['message.send', { conversationId, id: nextId(), text: 'probe' }],
          ['message.edit', { conversationId, id: nextId(), targetSeq: 1, text: 'probe' }],
          ['message.delete', { conversationId, id: nextId(), targetSeq: 1 }],
          ['typing', { conversationId, typing: true }],
          ['receipt.read', { conversationId, seq: 1 }],
          ['consent.list', { conversationId }],
          [
            'participant.add',
            { conversationId, participant: { userId: 'eve2', role: 'staff', displayName: 'E' } },
          ],
          ['participant.remove', { conversationId, userId: 'alice' }],
        ] as const;
      const forTheirs = requests(theirs);
      const forMissing = requests(missing);
      for (const [index, [event, payload]] of forTheirs.entries()) {
        const a = await answerOf(eve, event, payload as never);
        const b = await answerOf(eve, forMissing[index]![0], forMissing[index]![1] as never);
        expect(a, event).not.toBe('ok');
        expect(a, event).toEqual(b);
      }
    } finally {
      eve.close();
    }
  });

  it('answers a file link and an upload the same for someone else’s file as for a missing one', async () => {
    const theirs = await conversationWithBob();
    const mine = await conversationWithBob();
    const aliceToken = await relay.token('alice', 'patient');
    const fileId = `f-access-${String(++counter)}-aaaaaaaaaaaa`;
    const uploaded = await put(
      `${relay.url}/files/${fileId}?conversationId=${theirs}&name=plan.txt`,
      aliceToken,
      Buffer.from('the plan'),
      { contentType: 'text/plain' },
    );
    expect(uploaded.status).toBe(201);
    const eveToken = await relay.token('eve', 'provider');
    const stranger = await link(relay.url, eveToken, fileId);
    const nothing = await link(relay.url, eveToken, `f-access-none-${String(counter)}-aaaaaaa`);
    expect(stranger).toEqual(nothing);

    // Someone who may write in a conversation of their own, with a file id that is someone else's.
    const drToken = await relay.token('dr-rivera', 'provider');
    await seedConversation(relay, `${mine}-dr`, [{ userId: 'alice', role: 'patient' }]);
    const clash = await put(
      `${relay.url}/files/${fileId}?conversationId=${mine}-dr&name=x.txt`,
      drToken,
      Buffer.from('other bytes'),
      { contentType: 'text/plain' },
    );
    // The answer names no owner and is the one an uploader gets for their own id reused.
    const reused = await put(
      `${relay.url}/files/${fileId}?conversationId=${theirs}&name=plan.txt`,
      aliceToken,
      Buffer.from('different bytes'),
      { contentType: 'text/plain' },
    );
    expect(clash.status).toBe(reused.status);
    expect(clash.json()).toEqual(reused.json());
  });
});
