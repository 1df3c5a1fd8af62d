// Conversation entries exported as Communications: valid R4, the sender by role, corrections that
// point at what they correct, and a searchset that pages by sequence number.
import type { Sender } from '@carethread/shared';
import { expect, it } from 'vitest';
import { patientCollectionBundle } from '../../src/fhir/bundle.js';
import {
  communicationFromEntry,
  communicationId,
  communicationSearchset,
  type ConversationEntry,
} from '../../src/fhir/communication.js';
import { CARETHREAD_EXTENSION } from '../../src/fhir/ids.js';
import {
  participantResource,
  patientId,
  practitionerId,
  relatedPersonId,
} from '../../src/fhir/people.js';
import { BASE_URL, TENANT } from './fixtures.js';
import { r4Errors } from './r4-validator.js';

const CONVERSATION = 'enc-2025-0042';
const alice: Sender = { userId: 'alice', role: 'patient', displayName: 'Alice Moreno' };
const bob: Sender = { userId: 'bob', role: 'family', displayName: 'Bob Moreno' };
const rivera: Sender = { userId: 'dr-rivera', role: 'provider', displayName: 'Dr. Rivera' };
const sam: Sender = { userId: 'sam', role: 'staff', displayName: 'Sam (front desk)' };

const message = (seq: number, sender: Sender, text: string): ConversationEntry => ({
  kind: 'message',
  conversationId: CONVERSATION,
  seq,
  id: `msg-000000${seq}`,
  sender,
  text,
  sentAt: `2025-03-05T10:0${seq}:00.000Z`,
  editedAt: null,
});

const entries: ConversationEntry[] = [
  message(1, rivera, 'Good morning Alice, how was the weekend?'),
  message(2, alice, 'Better. I went to two meetings <3 & called my sponsor.'),
  message(3, bob, 'We are proud of her.'),
  {
    kind: 'edit',
    conversationId: CONVERSATION,
    seq: 4,
    id: 'edit-0000004',
    targetSeq: 2,
    sender: alice,
    text: 'Better. I went to three meetings and called my sponsor.',
    editedAt: '2025-03-05T10:06:00.000Z',
  },
  message(5, sam, 'Your next appointment is Thursday at 10:00.'),
];

it('maps each entry to a valid completed Communication from its sender, by role', () => {
  const communications = entries.map((entry) =>
    communicationFromEntry({ tenantId: TENANT, entry, patientId: 'alice' }),
  );
  for (const communication of communications) expect(r4Errors(communication)).toEqual([]);
  expect(communications.map((c) => c.sender?.reference)).toEqual([
    `Practitioner/${practitionerId(TENANT, 'dr-rivera')}`,
    `Patient/${patientId(TENANT, 'alice')}`,
    `RelatedPerson/${relatedPersonId(TENANT, 'alice', 'bob')}`,
    `Patient/${patientId(TENANT, 'alice')}`,
    `Practitioner/${practitionerId(TENANT, 'sam')}`,
  ]);
  const [first] = communications;
  expect(first).toMatchObject({
    status: 'completed',
    subject: { reference: `Patient/${patientId(TENANT, 'alice')}` },
    sent: '2025-03-05T10:01:00.000Z',
    payload: [{ contentString: 'Good morning Alice, how was the weekend?' }],
  });
  expect(first!.id).toBe(communicationId(TENANT, CONVERSATION, 1));
});

it('maps an edit to its own Communication that says which one it corrects', () => {
  const edit = communicationFromEntry({ tenantId: TENANT, entry: entries[3]!, patientId: 'alice' });
  expect(edit.id).toBe(communicationId(TENANT, CONVERSATION, 4));
  expect(edit.sent).toBe('2025-03-05T10:06:00.000Z');
  expect(edit.inResponseTo).toBeUndefined();
  expect(edit.extension).toContainEqual({
    url: CARETHREAD_EXTENSION.corrects,
    valueReference: { reference: `Communication/${communicationId(TENANT, CONVERSATION, 2)}` },
  });
});

it('without a known patient: no subject, a family sender named by identifier only', () => {
  const communication = communicationFromEntry({ tenantId: TENANT, entry: entries[2]! });
  expect(r4Errors(communication)).toEqual([]);
  expect(communication.subject).toBeUndefined();
  expect(communication.sender).toEqual({
    type: 'RelatedPerson',
    identifier: { system: 'https://carethread.dev/fhir/sid/sunrise/user', value: 'bob' },
    display: 'Bob Moreno',
  });
});

it('pages a conversation as searchset Bundles linked by sequence number', () => {
  const page = (afterSeq: number) =>
    communicationSearchset({
      tenantId: TENANT,
      baseUrl: `${BASE_URL}/`,
      conversationId: CONVERSATION,
      patientId: 'alice',
      entries: entries.filter((e) => e.seq > afterSeq).slice(0, 2),
      afterSeq,
      count: 2,
      lastSeq: 5,
    });
  const first = page(0);
  expect(r4Errors(first)).toEqual([]);
  expect(first.type).toBe('searchset');
  expect(first.total).toBe(5);
  const link = (bundle: typeof first, relation: string) =>
    bundle.link?.find((l) => l.relation === relation)?.url;
  const search = `${BASE_URL}/Communication?conversation=${CONVERSATION}`;
  expect(link(first, 'self')).toBe(`${search}&_count=2`);
  expect(link(first, 'next')).toBe(`${search}&seq=gt2&_count=2`);
  expect(link(first, 'previous')).toBeUndefined();
  expect(first.entry?.map((e) => e.fullUrl)).toEqual([
    `${BASE_URL}/Communication/${communicationId(TENANT, CONVERSATION, 1)}`,
    `${BASE_URL}/Communication/${communicationId(TENANT, CONVERSATION, 2)}`,
  ]);
  expect(first.entry?.every((e) => e.search?.mode === 'match')).toBe(true);

  const second = page(2);
  expect(r4Errors(second)).toEqual([]);
  expect(second.total).toBe(3);
  expect(link(second, 'self')).toBe(`${search}&seq=gt2&_count=2`);
  expect(link(second, 'previous')).toBe(`${search}&_count=2`);
  expect(link(second, 'next')).toBe(`${search}&seq=gt4&_count=2`);

  const last = page(4);
  expect(r4Errors(last)).toEqual([]);
  expect(last.entry).toHaveLength(1);
  expect(link(last, 'next')).toBeUndefined();
});

it('an empty conversation is an empty, valid searchset', () => {
  const empty = communicationSearchset({
    tenantId: TENANT,
    baseUrl: BASE_URL,
    conversationId: CONVERSATION,
    entries: [],
    afterSeq: 0,
    count: 50,
    lastSeq: 0,
  });
  expect(r4Errors(empty)).toEqual([]);
  expect(empty.total).toBe(0);
  expect(empty.link?.map((l) => l.relation)).toEqual(['self', 'first']);
});

it('joins the per-patient Bundle with its senders, every reference resolving inside it', () => {
  const people = [alice, bob, rivera, sam].map((sender) =>
    participantResource(TENANT, 'alice', {
      ...sender,
      relationship: sender === bob ? 'mother' : null,
    }),
  );
  const communications = entries.map((entry) =>
    communicationFromEntry({ tenantId: TENANT, entry, patientId: 'alice' }),
  );
  const bundle = patientCollectionBundle({
    tenantId: TENANT,
    baseUrl: BASE_URL,
    patientId: 'alice',
    resources: [...people, ...communications],
  });
  expect(r4Errors(bundle)).toEqual([]);
  const inBundle = new Set(bundle.entry?.map((e) => e.fullUrl!.slice(BASE_URL.length + 1)));
  const references = JSON.stringify(bundle).match(/"reference":"[^"]+"/g) ?? [];
  for (const ref of references) expect(inBundle).toContain(ref.slice(13, -1));
});
