// The store contract for system entries (issue 17): what the store writes into a conversation's
// log when its people or its consents change, in the same transaction, and who reads it. Called
// from describeStoreContract, so it runs unchanged against every engine.
import { expect, it } from 'vitest';
import type { ConsentRequestView, ConsentState, EventView } from '@carethread/shared';
import type { Store } from '../../src/store/types.js';

const at = (n: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString();
const bob = {
  userId: 'bob',
  role: 'family' as const,
  displayName: 'Bob',
  relationship: 'brother',
  title: null,
};
const dr = { userId: 'dr', displayName: 'Dr. Rivera' };
const alice = { userId: 'alice', displayName: 'Alice' };

function consentRequest(requestId: string, expiresAt = at(50)): ConsentRequestView {
  return {
    requestId,
    templateId: 'tpl',
    templateVersion: 1,
    templateHash: `sha256:${'a'.repeat(64)}`,
    conversationId: 'c1',
    patientId: 'alice',
    signerId: 'alice',
    capacity: 'self',
    recipients: [{ userId: 'bob', displayName: 'Bob', relationship: 'brother' }],
    purpose: 'Support',
    expiresAt,
    scopes: ['messages', 'files'],
    state: 'requested',
    requestedBy: 'dr',
    requestedAt: at(3),
    updatedAt: at(3),
  };
}

const step = (type: ConsentState, n: number, actorId = 'alice') => ({
  type,
  at: at(n),
  actorId,
  detail: {},
});
const record = { canonical: '{}', recordHash: 'sha256:r', receipt: 'jws', signatureImage: null };
const types = (entries: readonly { kind: string }[]) =>
  entries.map((e) => (e.kind === 'event' ? (e as EventView).event.type : e.kind));

export function systemEntryContract(store: () => Store): void {
  const message = (clientId: string, n: number) =>
    store().appendEntries([
      {
        kind: 'message',
        tenantId: 't1',
        conversationId: 'c1',
        clientId,
        sender: { userId: 'alice', role: 'patient', displayName: 'Alice' },
        text: `message ${clientId}`,
        at: at(n),
      },
    ]);

  it('writes a system entry with its own number when someone joins, changes role or leaves', async () => {
    const added = await store().addParticipant('t1', 'c1', bob, at(2), 'dr');
    expect(added.event).toEqual({
      entry: {
        kind: 'event',
        conversationId: 'c1',
        seq: 1,
        at: at(2),
        event: { type: 'participant.added', participant: bob, by: dr },
      },
      accessVersion: 0,
    });
    const [sent] = await message('id-after-join', 3);
    expect(sent).toMatchObject({ ok: true, entry: { seq: 2 } });
    // Details changed, same role: nothing to tell.
    const renamed = await store().addParticipant(
      't1',
      'c1',
      { ...bob, displayName: 'Bob M.' },
      at(4),
      'dr',
    );
    expect(renamed.event).toBeNull();
    // The organisation's back end is no participant: it acts without a name.
    const changed = await store().addParticipant(
      't1',
      'c1',
      { ...bob, displayName: 'Bob M.', role: 'staff', relationship: null, title: 'Volunteer' },
      at(5),
      'host:ehr',
    );
    expect(changed.event).toMatchObject({
      entry: {
        seq: 3,
        event: {
          type: 'participant.role-changed',
          participant: { userId: 'bob', role: 'staff', title: 'Volunteer' },
          previousRole: 'family',
          by: null,
        },
      },
      // A role change narrows access: the entry goes to readers checked after it.
      accessVersion: 1,
    });
    const removed = await store().removeParticipant('t1', 'c1', 'bob', at(6), 'dr');
    expect(removed).toMatchObject({
      entry: {
        seq: 4,
        at: at(6),
        event: {
          type: 'participant.removed',
          participant: { userId: 'bob', displayName: 'Bob M.', role: 'staff' },
          by: dr,
        },
      },
      accessVersion: 2,
    });
    expect(await store().removeParticipant('t1', 'c1', 'bob', at(7), 'dr')).toBeUndefined();
    // Back again: a join like the first.
    const back = await store().addParticipant('t1', 'c1', bob, at(8), 'dr');
    expect(back.event?.entry).toMatchObject({ seq: 5, event: { type: 'participant.added' } });

    const { entries, lastSeq } = await store().logAfter('t1', 'c1', 0, 10, 'family');
    expect(types(entries)).toEqual([
      'participant.added',
      'message',
      'participant.role-changed',
      'participant.removed',
      'participant.added',
    ]);
    expect(lastSeq).toBe(5);
    expect(entries[0]).toEqual(added.event?.entry);
    expect((await store().getConversation('t1', 'c1'))?.lastSeq).toBe(5);
    // Numbers stay gap-free for messages written after them.
    const [next] = await message('id-after-all', 9);
    expect(next).toMatchObject({ ok: true, entry: { seq: 6 } });
  });

  it("reports each consent step in the transaction that makes it (not the signer's viewing)", async () => {
    await store().addParticipant('t1', 'c1', bob, at(2), 'dr');
    const created = await store().createConsentRequest(
      't1',
      consentRequest('req-steps-1'),
      step('requested', 3, 'host:ehr'),
    );
    expect(created.created).toBe(true);
    // A repeated create is the same request: no second entry.
    await store().createConsentRequest(
      't1',
      consentRequest('req-steps-1'),
      step('requested', 3, 'host:ehr'),
    );
    await store().transitionConsentRequest('t1', 'req-steps-1', ['requested'], 'viewed', {
      ...step('viewed', 4),
    });
    // From a state it is not in: nothing moves, nothing is written.
    await store().transitionConsentRequest(
      't1',
      'req-steps-1',
      ['signed'],
      'declined',
      step('declined', 4),
    );
    await store().signConsentRequest(
      't1',
      'req-steps-1',
      ['requested', 'viewed'],
      record,
      step('signed', 5),
    );
    await store().revokeConsent('t1', 'req-steps-1', step('revoked', 6), '{"revoked":true}');
    await store().createConsentRequest(
      't1',
      consentRequest('req-steps-2'),
      step('requested', 7, 'dr'),
    );
    await store().transitionConsentRequest(
      't1',
      'req-steps-2',
      ['requested', 'viewed'],
      'declined',
      step('declined', 8),
    );
    await store().createConsentRequest(
      't1',
      consentRequest('req-steps-3'),
      step('requested', 9, 'dr'),
    );
    await store().transitionConsentRequest(
      't1',
      'req-steps-3',
      ['requested', 'viewed'],
      'cancelled',
      step('cancelled', 10, 'dr'),
    );

    const { entries } = await store().logAfter('t1', 'c1', 0, 20, 'reader');
    expect(types(entries)).toEqual([
      'participant.added',
      'consent.requested',
      'consent.signed',
      'consent.revoked',
      'consent.requested',
      'consent.declined',
      'consent.requested',
      'consent.cancelled',
    ]);
    const recipients = [{ userId: 'bob', displayName: 'Bob', relationship: 'brother' }];
    expect(entries[1]).toEqual({
      kind: 'event',
      conversationId: 'c1',
      seq: 2,
      at: at(3),
      // Asked by the care-team member the request names, whoever sent it.
      event: {
        type: 'consent.requested',
        requestId: 'req-steps-1',
        by: dr,
        signer: alice,
        recipients,
        expiresAt: at(50),
      },
    });
    expect(entries.slice(2, 4).map((e) => (e as EventView).event)).toMatchObject([
      { type: 'consent.signed', by: alice, signer: alice, recipients },
      { type: 'consent.revoked', by: alice },
    ]);
    expect((entries[7] as EventView).event).toMatchObject({ type: 'consent.cancelled', by: dr });

    // The transport finds the entry of a step by the request and the state it reached.
    expect(await store().consentEntry('t1', 'req-steps-1', 'signed')).toEqual({
      entry: entries[2],
      accessVersion: 1,
    });
    expect(await store().consentEntry('t1', 'req-steps-1', 'viewed')).toBeUndefined();
    expect(await store().consentEntry('t2', 'req-steps-1', 'signed')).toBeUndefined();
  });

  it('reports expiry: a signed consent ends, an unanswered request lapses', async () => {
    await store().createConsentRequest(
      't1',
      consentRequest('req-expire-1', at(20)),
      step('requested', 3, 'dr'),
    );
    await store().signConsentRequest(
      't1',
      'req-expire-1',
      ['requested'],
      record,
      step('signed', 4),
    );
    await store().createConsentRequest(
      't1',
      consentRequest('req-expire-2', at(20)),
      step('requested', 5, 'dr'),
    );
    const expired = await store().expireDueConsents(at(21));
    expect(expired.map((e) => e.request.requestId).sort()).toEqual([
      'req-expire-1',
      'req-expire-2',
    ]);
    expect((await store().consentEntry('t1', 'req-expire-1', 'expired'))?.entry).toMatchObject({
      at: at(21),
      event: { type: 'consent.expired', by: null, signer: alice },
    });
    expect((await store().consentEntry('t1', 'req-expire-2', 'expired'))?.entry).toMatchObject({
      event: { type: 'consent.request-expired', by: null },
    });
    expect((await store().logAfter('t1', 'c1', 0, 10, 'reader')).entries).toHaveLength(5);
  });

  it("shows joins to every reader and a consent's steps to the patient and care team only", async () => {
    await store().addParticipant('t1', 'c1', bob, at(2), 'dr');
    await store().createConsentRequest(
      't1',
      consentRequest('req-seen-1'),
      step('requested', 3, 'dr'),
    );
    await store().signConsentRequest('t1', 'req-seen-1', ['requested'], record, step('signed', 4));
    await message('id-seen-001', 5);
    await store().createConsentRequest(
      't1',
      consentRequest('req-seen-2'),
      step('requested', 6, 'dr'),
    );

    // Catch-up: the family's page skips what they may not see, and says how far it reached.
    const family = await store().logAfter('t1', 'c1', 0, 10, 'family');
    expect(family.entries.map((e) => e.seq)).toEqual([1, 4]);
    expect(family).toMatchObject({ lastSeq: 5, hasMore: false });
    const short = await store().logAfter('t1', 'c1', 1, 2, 'family');
    expect(short).toEqual({ entries: [], lastSeq: 3, hasMore: true });
    const reader = await store().logAfter('t1', 'c1', 0, 10, 'reader');
    expect(reader.entries.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect((await store().logAfter('t1', 'c1', 0, 10, 'record')).entries).toEqual(reader.entries);
    // Messages and corrections alone (FHIR Communications): no system entry, counted alike.
    const messages = await store().entriesAfter('t1', 'c1', 0, 10, 'record');
    expect(types(messages.entries)).toEqual(['message']);
    expect(await store().countEntriesAfter('t1', 'c1', 0)).toBe(1);
    expect(await store().countEntriesAfter('t1', 'c1', 4)).toBe(0);

    // History: messages and the events a reader may see, `limit` counting both.
    const familyPage = await store().history('t1', 'c1', undefined, 10, 'family');
    expect(familyPage.messages.map((m) => m.seq)).toEqual([4]);
    expect(familyPage.events.map((e) => [e.seq, e.event.type])).toEqual([[1, 'participant.added']]);
    const newest = await store().history('t1', 'c1', undefined, 2, 'reader');
    expect([newest.messages.map((m) => m.seq), newest.events.map((e) => e.seq)]).toEqual([
      [4],
      [5],
    ]);
    expect(newest.hasMore).toBe(true);
    const older = await store().history('t1', 'c1', 4, 10, 'reader');
    expect([older.messages, older.events.map((e) => e.seq), older.hasMore]).toEqual([
      [],
      [1, 2, 3],
      false,
    ]);
    expect((await store().history('t1', 'c1', undefined, 10)).events).toEqual(familyPage.events);
  });

  it('counts only messages and corrections as what may be unread', async () => {
    await message('id-unread-01', 2);
    await store().markRead('t1', 'c1', 'alice', 1);
    await store().addParticipant('t1', 'c1', bob, at(3), 'dr');
    const mine = await store().listConversationsOf('t1', 'alice');
    expect(mine.find((c) => c.conversationId === 'c1')).toMatchObject({ lastSeq: 1, readSeq: 1 });
    // The conversation itself has two entries.
    expect((await store().getConversation('t1', 'c1'))?.lastSeq).toBe(2);
  });
}
