import { describe, expect, it } from 'vitest';
import { Entry, SyncResult } from './protocol.js';
import { CONSENT_EVENT_TYPES, EventView, mayReadEvent } from './system-entries.js';

const bob = { userId: 'bob', displayName: 'Bob Moreno', relationship: 'brother' };
const joined = {
  kind: 'event',
  conversationId: 'c-1',
  seq: 3,
  at: '2027-01-01T10:00:00.000Z',
  event: {
    type: 'participant.added',
    participant: { ...bob, role: 'family', title: null },
    by: { userId: 'dr', displayName: 'Dr. Rivera' },
  },
} as const;
const consent = (type: (typeof CONSENT_EVENT_TYPES)[number]): EventView => ({
  ...joined,
  event: {
    type,
    requestId: 'req-00000001',
    by: null,
    signer: { userId: 'alice', displayName: 'Alice Moreno' },
    recipients: [bob],
    expiresAt: '2027-12-04T00:00:00.000Z',
  },
});

describe('system entries', () => {
  it('are entries of the log, beside messages and corrections, in catch-up pages', () => {
    expect(Entry.parse(joined)).toEqual(joined);
    for (const type of CONSENT_EVENT_TYPES)
      expect(Entry.parse(consent(type))).toEqual(consent(type));
    expect(SyncResult.safeParse({ entries: [joined], lastSeq: 3, hasMore: false }).success).toBe(
      true,
    );
  });

  it('carry ids and stored names, never a sentence: anything else is dropped', () => {
    const declined = consent('consent.declined');
    const parsed = EventView.parse({
      ...declined,
      text: 'Alice declined',
      event: { ...declined.event, reason: 'my own words' },
    });
    expect(parsed).toEqual(consent('consent.declined'));
    expect(EventView.safeParse({ ...joined, event: { type: 'said', text: 'hi' } }).success).toBe(
      false,
    );
  });

  it("show a consent's steps to the patient and the care team, never to family members", () => {
    expect(mayReadEvent(joined.event, 'family')).toBe(true);
    for (const type of CONSENT_EVENT_TYPES) {
      const event = consent(type).event;
      expect(mayReadEvent(event, 'family'), type).toBe(false);
      for (const role of ['patient', 'provider', 'staff'] as const)
        expect(mayReadEvent(event, role), `${type} for ${role}`).toBe(true);
    }
  });
});
