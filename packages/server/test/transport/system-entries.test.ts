// System entries on the wire (issue 17): a conversation's log tells who joined, changed role and
// left to every reader, and each consent step to the patient and the care team only, live and on
// catch-up, history, the host's export and nowhere a family member reads.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ApiEntryPage, Entry, EventView } from '@carethread/shared';
import type { CareThreadClient, Conversation } from '@carethread/widget/client';
import {
  clientFor,
  connectAs,
  grantConsent,
  ok,
  seedConversation,
  startRelay,
  waitFor,
  type RawSocket,
  type TestRelay,
} from '../helpers.js';

let relay: TestRelay;
const clients: CareThreadClient[] = [];
const sockets: RawSocket[] = [];
beforeAll(async () => {
  relay = await startRelay({ consentSweepMs: 200 });
});
afterAll(async () => {
  for (const client of clients) client.close();
  for (const socket of sockets) socket.close();
  await relay.close();
});

const typesOf = (entries: readonly Entry[]) =>
  entries.flatMap((e) => (e.kind === 'event' ? [e.event.type] : []));

async function follow(
  sub: string,
  role: 'patient' | 'family' | 'provider',
  conversationId: string,
) {
  const client = clientFor(relay, sub, role);
  clients.push(client);
  const conversation = client.conversation(conversationId);
  await conversation.open();
  return conversation;
}

const eventTypes = (conversation: Conversation) => conversation.events.map((e) => e.event.type);

async function raw(sub: string, role: 'patient' | 'family' | 'provider', name = sub) {
  const socket = await connectAs(relay, await relay.token(sub, role, { name }));
  sockets.push(socket);
  const heard: EventView[] = [];
  socket.on('conversation.event', (entry) => heard.push(entry));
  return { socket, heard };
}

const api = async (method: string, path: string, body?: unknown) => {
  const response = await fetch(`${relay.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${relay.apiKey}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json: unknown = await response.json();
  return { status: response.status, body: json };
};

it('tells every reader who joined, changed role and left, live and after a reload', async () => {
  await seedConversation(relay, 'c-people', [
    { userId: 'alice', role: 'patient', displayName: 'Alice Moreno' },
    { userId: 'bob', role: 'family', displayName: 'Bob Moreno', relationship: 'brother' },
  ]);
  const [dr, alice, bob] = await Promise.all([
    follow('dr-rivera', 'provider', 'c-people'),
    follow('alice', 'patient', 'c-people'),
    follow('bob', 'family', 'c-people'),
  ]);
  // The patient's consent, given while seeding, is in the log: the family does not see it.
  expect(eventTypes(alice)).toEqual(['consent.requested', 'consent.signed']);
  expect(eventTypes(bob)).toEqual([]);

  const doctor = await raw('dr-rivera', 'provider', 'Dr. Rivera');
  const carol = { userId: 'carol', displayName: 'Carol Moreno', relationship: 'mother' };
  await ok(doctor.socket, 'participant.add', {
    conversationId: 'c-people',
    participant: { ...carol, role: 'family' },
  });
  for (const reader of [dr, alice, bob])
    await waitFor(() => eventTypes(reader).includes('participant.added'), 5_000, 'the join');
  expect(bob.events[0]?.event).toEqual({
    type: 'participant.added',
    participant: { ...carol, role: 'family', title: null },
    by: { userId: 'dr-rivera', displayName: 'Dr. Rivera' },
  });
  // A role change and a removal narrow access: readers open again and catch up, by themselves.
  await ok(doctor.socket, 'participant.add', {
    conversationId: 'c-people',
    participant: { ...carol, role: 'staff', relationship: null, title: 'Social worker' },
  });
  await ok(doctor.socket, 'participant.remove', { conversationId: 'c-people', userId: 'carol' });
  const people = ['participant.added', 'participant.role-changed', 'participant.removed'];
  for (const reader of [dr, alice, bob])
    await waitFor(() => eventTypes(reader).length >= (reader === bob ? 3 : 5), 5_000, 'changes');
  expect(eventTypes(bob)).toEqual(people);
  expect(eventTypes(alice)).toEqual(['consent.requested', 'consent.signed', ...people]);
  expect(eventTypes(dr)).toEqual(eventTypes(alice));
  expect(bob.events.at(-1)?.event).toMatchObject({
    type: 'participant.removed',
    participant: { userId: 'carol', role: 'staff', title: 'Social worker' },
  });

  // After a reload: the same lines, from history.
  expect(eventTypes(await follow('bob', 'family', 'c-people'))).toEqual(people);
  expect(eventTypes(await follow('alice', 'patient', 'c-people'))).toEqual(eventTypes(alice));

  // The organisation's export is the record: every entry. FHIR Communications are messages only.
  const entries = await api('GET', '/api/v1/conversations/c-people/entries');
  expect(typesOf((entries.body as ApiEntryPage).items)).toEqual(eventTypes(alice));
  await ok(doctor.socket, 'message.send', {
    conversationId: 'c-people',
    id: 'people-0001',
    text: 'hi',
  });
  const fhir = await api('GET', '/fhir/Communication?conversation=c-people');
  expect(fhir.body).toMatchObject({
    total: 1,
    entry: [{ resource: { resourceType: 'Communication', payload: [{ contentString: 'hi' }] } }],
  });
  // Only messages and corrections may be unread: a join after the message changes nothing.
  await ok(doctor.socket, 'participant.add', {
    conversationId: 'c-people',
    participant: { userId: 'dave', role: 'family', displayName: 'Dave Moreno' },
  });
  const list = await ok(doctor.socket, 'conversation.list', {});
  expect(list.conversations.find((c) => c.conversationId === 'c-people')).toMatchObject({
    lastSeq: 6,
  });
  expect(
    (await ok(doctor.socket, 'conversation.open', { conversationId: 'c-people' })).lastSeq,
  ).toBe(7);
});

it('tells each consent step to the patient and the care team, and none to the family', async () => {
  await seedConversation(
    relay,
    'c-steps',
    [
      { userId: 'alice', role: 'patient', displayName: 'Alice Moreno' },
      { userId: 'bob', role: 'family', displayName: 'Bob Moreno', relationship: 'brother' },
    ],
    'dr-rivera',
    { consent: false },
  );
  const [dr, alice] = await Promise.all([
    follow('dr-rivera', 'provider', 'c-steps'),
    follow('alice', 'patient', 'c-steps'),
  ]);
  // Bob hears everything his sockets are sent, from before the first step.
  const bob = await raw('bob', 'family');
  const doctor = await raw('dr-rivera', 'provider', 'Dr. Rivera');
  const patient = await raw('alice', 'patient', 'Alice Moreno');
  const ask = (requestId: string, expiresAt = new Date(Date.now() + 86_400_000).toISOString()) =>
    ok(doctor.socket, 'consent.request', {
      requestId,
      templateId: 'family-disclosure',
      conversationId: 'c-steps',
      patientId: 'alice',
      recipients: ['bob'],
      purpose: 'Family support',
      expiresAt,
    });

  // Declined, then withdrawn by the organisation, then signed and revoked, then signed and expired.
  await grantConsent(relay, 'c-steps', 'alice', ['bob'], {
    expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
  }).then(async (requestId) => {
    await ok(patient.socket, 'consent.revoke', {
      requestId,
      signature: { method: 'typed', name: 'Alice Moreno' },
    });
  });
  await ask('steps-declined');
  await ok(patient.socket, 'consent.decline', { requestId: 'steps-declined' });
  await ask('steps-cancelled');
  expect((await api('POST', '/api/v1/consent-requests/steps-cancelled/cancel', {})).status).toBe(
    200,
  );
  await grantConsent(relay, 'c-steps', 'alice', ['bob'], {
    expiresAt: new Date(Date.now() + 3_000).toISOString(),
  });
  await ask('steps-lapsed', new Date(Date.now() + 3_000).toISOString());
  const steps = [
    'consent.requested',
    'consent.signed',
    'consent.revoked',
    'consent.requested',
    'consent.declined',
    'consent.requested',
    'consent.cancelled',
    'consent.requested',
    'consent.signed',
    'consent.requested',
  ];
  for (const reader of [dr, alice])
    await waitFor(
      () => eventTypes(reader).filter((t) => t.endsWith('expired')).length === 2,
      10_000,
      'the expiries',
    );
  expect(eventTypes(alice).slice(0, steps.length)).toEqual(steps);
  expect(eventTypes(alice).slice(steps.length).sort()).toEqual([
    'consent.expired',
    'consent.request-expired',
  ]);
  expect(eventTypes(dr)).toEqual(eventTypes(alice));
  const byOrganisation = alice.events.find((e) => e.event.type === 'consent.cancelled');
  expect(byOrganisation?.event).toMatchObject({
    by: null,
    signer: { displayName: 'Alice Moreno' },
  });
  expect(alice.events.find((e) => e.event.type === 'consent.requested')?.event).toMatchObject({
    by: { userId: 'dr-rivera', displayName: 'Dr. Rivera' },
    recipients: [{ userId: 'bob', displayName: 'Bob Moreno', relationship: 'brother' }],
  });

  // Bob, consented again, reads the conversation: catch-up and history skip every step.
  await grantConsent(relay, 'c-steps', 'alice', ['bob']);
  await ok(bob.socket, 'conversation.open', { conversationId: 'c-steps' });
  const synced = await ok(bob.socket, 'sync', { conversationId: 'c-steps', afterSeq: 0 });
  expect(synced.entries).toEqual([]);
  expect(synced.lastSeq).toBeGreaterThan(12);
  const page = await ok(bob.socket, 'history.page', { conversationId: 'c-steps' });
  expect([page.messages, page.events]).toEqual([[], []]);
  expect(eventTypes(await follow('bob', 'family', 'c-steps'))).toEqual([]);
  await ok(doctor.socket, 'message.send', {
    conversationId: 'c-steps',
    id: 'steps-0001',
    text: 'hi',
  });
  const later = await follow('bob', 'family', 'c-steps');
  expect(later.messages.map((m) => m.text)).toEqual(['hi']);
  // Nothing of any step ever reached a socket of his.
  expect(bob.heard).toEqual([]);
});
