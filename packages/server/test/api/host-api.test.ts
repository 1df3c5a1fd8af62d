// The host API end to end: a real relay over HTTP, with real sockets watching the live effects.
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ApiAuditEventPage,
  ApiConsentEventPage,
  ApiConsentRecord,
  ApiConversation,
  ApiConversationPage,
  ApiEntryPage,
  ApiErrorResponse,
  ConsentRequestView,
  MessageView,
  type ParticipantAddedEvent,
  type ParticipantRemovedEvent,
} from '@carethread/shared';
import { verifyReceipt } from '../../src/consent/receipts.js';
import { familyDisclosureTemplate } from '../consent/fixtures.js';
import {
  call,
  connectAs,
  makeTenant,
  ok,
  startRelay,
  waitFor,
  type RawSocket,
  type TestRelay,
  type TestTenant,
} from '../helpers.js';

let relay: TestRelay;
let other: TestTenant;
const sockets: RawSocket[] = [];

beforeEach(async () => {
  other = await makeTenant('northside');
  relay = await startRelay({ tenants: [other.config] });
});
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.close();
  await relay.close();
});

interface Answer {
  status: number;
  headers: Headers;
  body: unknown;
  text: string;
}

async function api(
  method: string,
  path: string,
  options: { body?: unknown; key?: string | null; idempotencyKey?: string; rawBody?: string } = {},
): Promise<Answer> {
  const headers: Record<string, string> = {};
  const key = options.key === undefined ? relay.apiKey : options.key;
  if (key !== null) headers.authorization = `Bearer ${key}`;
  if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
  let payload: string | undefined;
  if (options.rawBody !== undefined || options.body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = options.rawBody ?? JSON.stringify(options.body);
  }
  const response = await fetch(`${relay.url}${path}`, {
    method,
    headers,
    ...(payload === undefined ? {} : { body: payload }),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: a PDF, a receipt or an empty 204
  }
  return { status: response.status, headers: response.headers, body, text };
}

function errorOf(answer: Answer) {
  return ApiErrorResponse.parse(answer.body).error;
}

/** A consent request for Alice in c-1, sharing with Bob unless `overrides` say otherwise. */
const consentRequest = (requestId: string, overrides: Record<string, unknown> = {}) => ({
  requestId,
  templateId: 'family-disclosure',
  conversationId: 'c-1',
  patientId: 'alice',
  recipients: ['bob'],
  purpose: 'Family support',
  expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
  ...overrides,
});

const conversation = (conversationId: string) => ({
  conversationId,
  title: 'Alice and her care team',
  participants: [
    {
      userId: 'dr-rivera',
      role: 'provider' as const,
      displayName: 'Dr. Rivera',
      title: 'Therapist',
    },
    { userId: 'alice', role: 'patient' as const, displayName: 'Alice Moreno' },
    { userId: 'bob', role: 'family' as const, displayName: 'Bob Moreno', relationship: 'brother' },
  ],
});

async function connected(
  userId: string,
  role: 'patient' | 'provider' | 'family',
  name: string = userId,
) {
  const socket = await connectAs(relay, await relay.token(userId, role, { name }));
  sockets.push(socket);
  return socket;
}

describe('the document and the door', () => {
  it('serves a valid OpenAPI 3.1 document that lists every route', async () => {
    const answer = await api('GET', '/openapi.json', { key: null });
    expect(answer.status).toBe(200);
    const validator = new Validator();
    const result = await validator.validate(answer.body as Parameters<Validator['validate']>[0]);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    const document = answer.body as { openapi: string; paths: Record<string, object> };
    expect(document.openapi).toBe('3.1.0');
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/conversations',
        '/api/v1/conversations/{conversationId}/participants/{userId}',
        '/api/v1/consent-requests/{requestId}/record.pdf',
      ]),
    );
  });

  it('refuses a missing, unknown or browser token, and never crosses tenants', async () => {
    for (const key of [null, 'ctk_not-a-key', await relay.token('dr-rivera', 'provider')]) {
      const answer = await api('GET', '/api/v1/conversations', { key });
      expect(answer.status).toBe(401);
      expect(errorOf(answer).code).toBe('UNAUTHENTICATED');
    }
    expect((await api('POST', '/api/v1/conversations', { body: conversation('c-1') })).status).toBe(
      201,
    );
    // The other tenant's key sees nothing of this tenant, not even that the id exists.
    const foreign = await api('GET', '/api/v1/conversations/c-1', { key: other.apiKey });
    expect(foreign.status).toBe(404);
    expect(errorOf(foreign).code).toBe('NOT_FOUND');
    const list = ApiConversationPage.parse(
      (await api('GET', '/api/v1/conversations', { key: other.apiKey })).body,
    );
    expect(list.items).toEqual([]);
  });

  it('answers bad input with VALIDATION naming the field, malformed JSON and unknown routes too', async () => {
    const bad = await api('POST', '/api/v1/conversations', {
      body: {
        ...conversation('c-1'),
        participants: [{ userId: 'x', role: 'pilot', displayName: 'X' }],
      },
    });
    expect(bad.status).toBe(400);
    expect(errorOf(bad)).toMatchObject({ code: 'VALIDATION' });
    expect(errorOf(bad).message).toContain('participants');

    const malformed = await api('POST', '/api/v1/conversations', { rawBody: '{"conversationId":' });
    expect(malformed.status).toBe(400);
    expect(errorOf(malformed).code).toBe('VALIDATION');

    const cursor = await api('GET', '/api/v1/conversations?cursor=bm9wZQ');
    expect(cursor.status).toBe(400);
    expect(errorOf(cursor).message).toContain('cursor');

    const unknown = await api('GET', '/api/v1/nothing-here');
    expect(unknown.status).toBe(404);
    expect(errorOf(unknown).code).toBe('NOT_FOUND');
  });
});

describe('conversations', () => {
  it('creates a conversation with exactly the listed participants; the id cannot be taken twice', async () => {
    const created = await api('POST', '/api/v1/conversations', { body: conversation('c-1') });
    expect(created.status).toBe(201);
    const view = ApiConversation.parse(created.body);
    expect(view.participants.map((p) => p.userId).sort()).toEqual(['alice', 'bob', 'dr-rivera']);
    expect(view.lastSeq).toBe(0);

    const again = await api('POST', '/api/v1/conversations', { body: conversation('c-1') });
    expect(again.status).toBe(409);
    expect(errorOf(again).code).toBe('CONFLICT');
  });

  it('replays a retried write with the same Idempotency-Key, and refuses the key for another body', async () => {
    const first = await api('POST', '/api/v1/conversations', {
      body: conversation('c-1'),
      idempotencyKey: 'create-c-1',
    });
    const retry = await api('POST', '/api/v1/conversations', {
      body: conversation('c-1'),
      idempotencyKey: 'create-c-1',
    });
    expect(retry.status).toBe(201);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.body).toEqual(first.body);

    const reused = await api('POST', '/api/v1/conversations', {
      body: conversation('c-2'),
      idempotencyKey: 'create-c-1',
    });
    expect(reused.status).toBe(409);
    expect(errorOf(reused).message).toContain('Idempotency-Key');
    expect((await api('GET', '/api/v1/conversations/c-2')).status).toBe(404);
  });

  it('pages through every conversation once', async () => {
    for (let i = 0; i < 5; i++)
      await api('POST', '/api/v1/conversations', { body: conversation(`c-${String(i)}`) });
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = cursor ? `?limit=2&cursor=${cursor}` : '?limit=2';
      const page = ApiConversationPage.parse(
        (await api('GET', `/api/v1/conversations${query}`)).body,
      );
      seen.push(...page.items.map((c) => c.conversationId));
      cursor = page.next;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual(['c-0', 'c-1', 'c-2', 'c-3', 'c-4']);
  });

  it('adds and removes participants with live effects on connected sockets', async () => {
    await api('POST', '/api/v1/conversations', { body: conversation('c-1') });
    const doctor = await connected('dr-rivera', 'provider');
    await ok(doctor, 'conversation.open', { conversationId: 'c-1' });
    const added: ParticipantAddedEvent[] = [];
    doctor.on('participant.added', (event) => added.push(event));

    const nurse = await api('POST', '/api/v1/conversations/c-1/participants', {
      body: { userId: 'nurse-kim', role: 'staff', displayName: 'Nurse Kim' },
    });
    expect(nurse.status).toBe(201);
    await waitFor(() => added.length === 1, 5000, 'participant.added');
    expect(added[0]?.participant.userId).toBe('nurse-kim');

    const kim = await connected('nurse-kim', 'provider');
    await ok(kim, 'conversation.open', { conversationId: 'c-1' });
    const removed: ParticipantRemovedEvent[] = [];
    const after: unknown[] = [];
    kim.on('participant.removed', (event) => removed.push(event));
    kim.on('message', (message) => after.push(message));

    const gone = await api('DELETE', '/api/v1/conversations/c-1/participants/nurse-kim');
    expect(gone.status).toBe(204);
    await waitFor(() => removed.length === 1, 5000, 'participant.removed');
    await ok(doctor, 'message.send', { conversationId: 'c-1', id: 'after-removal', text: 'hello' });
    const refused = await call(kim, 'history.page', { conversationId: 'c-1' });
    expect(refused).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    expect(after).toEqual([]);

    const missing = await api('DELETE', '/api/v1/conversations/c-1/participants/nurse-kim');
    expect(missing.status).toBe(404);

    // The trail pages with a cursor; with the changes it holds every access (API calls, reads).
    const trail = ApiAuditEventPage.parse(
      (await api('GET', '/api/v1/conversations/c-1/audit?limit=2')).body,
    );
    const rest = ApiAuditEventPage.parse(
      (await api('GET', `/api/v1/conversations/c-1/audit?cursor=${trail.next ?? ''}&limit=100`))
        .body,
    );
    expect(trail.items).toHaveLength(2);
    expect(rest.items[0]?.seq).toBeGreaterThan(trail.items[1]?.seq ?? Infinity);
    const all = [...trail.items, ...rest.items];
    const changes = ['conversation.created', 'participant.added', 'participant.removed'];
    expect(
      all.filter((e) => changes.includes(e.action)).map((e) => [e.action, e.actorId, e.subjectId]),
    ).toEqual([
      ['conversation.created', 'host:dev', null],
      ['participant.added', 'host:dev', 'nurse-kim'],
      ['participant.removed', 'host:dev', 'nurse-kim'],
    ]);
    expect(
      all.filter((e) => e.action === 'api.call').map((e) => [e.detail.operation, e.detail.status]),
    ).toContainEqual(['removeParticipant', 204]);
  });

  it('posts a message as the organisation, delivered live, once per id', async () => {
    await api('POST', '/api/v1/conversations', { body: conversation('c-1') });
    const alice = await connected('alice', 'patient');
    await ok(alice, 'conversation.open', { conversationId: 'c-1' });
    const received: MessageView[] = [];
    alice.on('message', (message) => received.push(message));
    const notice = {
      id: 'reminder-0001',
      text: 'Your group session moved to 10:00.',
      senderName: 'Riverside Clinic',
    };
    const posted = await api('POST', '/api/v1/conversations/c-1/messages', { body: notice });
    expect(posted.status).toBe(201);
    expect(MessageView.parse(posted.body)).toMatchObject({
      seq: 1,
      sender: { userId: 'host:dev', role: 'staff', displayName: 'Riverside Clinic' },
    });
    const repeated = await api('POST', '/api/v1/conversations/c-1/messages', { body: notice });
    expect(MessageView.parse(repeated.body).seq).toBe(1);
    await waitFor(() => received.length === 1, 5000, 'the live delivery');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(received).toHaveLength(1);
    const missing = await api('POST', '/api/v1/conversations/c-9/messages', { body: notice });
    expect(errorOf(missing).code).toBe('NOT_FOUND');
  });

  it('archives a conversation: readable, and nobody can write to it any more', async () => {
    await api('POST', '/api/v1/conversations', { body: conversation('c-1') });
    const doctor = await connected('dr-rivera', 'provider');
    await ok(doctor, 'message.send', { conversationId: 'c-1', id: 'before-0001', text: 'before' });
    const archived = await api('POST', '/api/v1/conversations/c-1/archive');
    expect(archived.status).toBe(200);
    expect(ApiConversation.parse(archived.body).archivedAt).not.toBeNull();

    const refused = await call(doctor, 'message.send', {
      conversationId: 'c-1',
      id: 'after-00001',
      text: 'after',
    });
    expect(refused).toMatchObject({ ok: false, error: { code: 'ARCHIVED' } });
    const notice = await api('POST', '/api/v1/conversations/c-1/messages', {
      body: { id: 'notice-0001', text: 'Closing note' },
    });
    expect(notice.status).toBe(409);
    expect(errorOf(notice).code).toBe('ARCHIVED');
    const history = await ok(doctor, 'history.page', { conversationId: 'c-1' });
    expect(history.messages.map((m) => m.text)).toEqual(['before']);
  });

  it('reads every entry in sequence order, page by page, for the archive', async () => {
    await api('POST', '/api/v1/conversations', { body: conversation('c-1') });
    const doctor = await connected('dr-rivera', 'provider');
    for (let i = 1; i <= 7; i++)
      await ok(doctor, 'message.send', {
        conversationId: 'c-1',
        id: `msg-${String(i).padStart(4, '0')}`,
        text: `note ${String(i)}`,
      });
    await ok(doctor, 'message.edit', {
      conversationId: 'c-1',
      id: 'edit-00001',
      targetSeq: 2,
      text: 'note 2, corrected',
    });
    const seqs: number[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `?limit=3&cursor=${cursor}` : '?limit=3';
      const page = ApiEntryPage.parse(
        (await api('GET', `/api/v1/conversations/c-1/entries${query}`)).body,
      );
      seqs.push(...page.items.map((e) => e.seq));
      cursor = page.next;
    } while (cursor);
    expect(seqs).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect((await api('GET', '/api/v1/conversations/c-9/entries')).status).toBe(404);
  });
});

describe('consent', () => {
  it('publishes a template, asks for a signature, and serves the signed record, receipt, PDF and audit trail', async () => {
    await api('POST', '/api/v1/conversations', { body: conversation('c-1') });
    const published = await api('POST', '/api/v1/consent-templates', {
      body: familyDisclosureTemplate(),
    });
    expect(published.status).toBe(200);
    const versions = await api('GET', '/api/v1/consent-templates/family-disclosure/versions');
    expect((versions.body as { items: unknown[] }).items).toHaveLength(1);

    const alice = await connected('alice', 'patient', 'Alice Moreno');
    const updates: ConsentRequestView[] = [];
    alice.on('consent.updated', (request) => updates.push(request));

    const asked = await api('POST', '/api/v1/consent-requests', {
      body: consentRequest('consent-api-0001', { onBehalfOf: 'dr-rivera' }),
    });
    expect(asked.status).toBe(201);
    expect(ConsentRequestView.parse(asked.body)).toMatchObject({
      state: 'requested',
      requestedBy: 'dr-rivera',
    });
    await waitFor(() => updates.length === 1, 5000, 'consent.updated to the patient');

    expect((await api('GET', '/api/v1/consent-requests/consent-api-0001/record')).status).toBe(404);

    const { template, disclosure } = await ok(alice, 'consent.view', {
      requestId: 'consent-api-0001',
    });
    await ok(alice, 'consent.sign', {
      requestId: 'consent-api-0001',
      disclosureHash: disclosure.hash,
      acknowledgements: template.blocks.flatMap((b) =>
        b.type === 'acknowledgement' ? [b.id] : [],
      ),
      answers: { capacity: 'The patient', 'ends-on': '2099-01-01' },
      signature: { method: 'typed', name: 'Alice Moreno' },
    });

    const state = ConsentRequestView.parse(
      (await api('GET', '/api/v1/consent-requests/consent-api-0001')).body,
    );
    expect(state.state).toBe('signed');
    const listed = await api('GET', '/api/v1/consent-requests?conversationId=c-1');
    expect((listed.body as { items: ConsentRequestView[] }).items.map((r) => r.requestId)).toEqual([
      'consent-api-0001',
    ]);

    const record = ApiConsentRecord.parse(
      (await api('GET', '/api/v1/consent-requests/consent-api-0001/record')).body,
    );
    expect(record.record.signature.name).toBe('Alice Moreno');

    const receipt = await api('GET', '/api/v1/consent-requests/consent-api-0001/receipt');
    expect(receipt.headers.get('content-type')).toContain('application/jose');
    const jwks = (await (await fetch(`${relay.url}/.well-known/jwks.json`)).json()) as {
      keys: [];
    };
    const verified = await verifyReceipt(receipt.text, jwks);
    expect(verified.recordHash).toBe(record.recordHash);

    const pdf = await fetch(`${relay.url}/api/v1/consent-requests/consent-api-0001/record.pdf`, {
      headers: { authorization: `Bearer ${relay.apiKey}` },
    });
    expect(pdf.headers.get('content-type')).toBe('application/pdf');
    expect(
      Buffer.from(await pdf.arrayBuffer())
        .subarray(0, 5)
        .toString(),
    ).toBe('%PDF-');

    const events = ApiConsentEventPage.parse(
      (await api('GET', '/api/v1/consent-requests/consent-api-0001/events')).body,
    );
    expect(events.items.map((e) => e.type)).toEqual(['requested', 'viewed', 'signed']);
    expect(events.items[1]?.prevHash).toBe(events.items[0]?.hash);
    expect(events.items[0]).toMatchObject({
      actorId: 'host:dev',
      detail: { onBehalfOf: 'dr-rivera' },
    });
  });

  it('cancels an unanswered request: the patient hears it, and it can no longer be signed', async () => {
    await api('POST', '/api/v1/conversations', { body: conversation('c-1') });
    await api('POST', '/api/v1/consent-templates', { body: familyDisclosureTemplate() });
    const alice = await connected('alice', 'patient');
    const updates: ConsentRequestView[] = [];
    alice.on('consent.updated', (request) => updates.push(request));
    await api('POST', '/api/v1/consent-requests', {
      body: consentRequest('consent-api-0003'),
    });
    const cancelled = await api('POST', '/api/v1/consent-requests/consent-api-0003/cancel', {
      body: { reason: 'Sent to the wrong family member' },
    });
    expect(cancelled.status).toBe(200);
    expect(ConsentRequestView.parse(cancelled.body).state).toBe('cancelled');
    await waitFor(() => updates.some((u) => u.state === 'cancelled'), 5000, 'the cancellation');

    const view = await call(alice, 'consent.view', { requestId: 'consent-api-0003' });
    expect(view.ok && view.data.request.state).toBe('cancelled');
    const again = await api('POST', '/api/v1/consent-requests/consent-api-0003/cancel', {
      body: {},
    });
    expect(again.status).toBe(409);
    const events = ApiConsentEventPage.parse(
      (await api('GET', '/api/v1/consent-requests/consent-api-0003/events')).body,
    );
    expect(events.items.map((e) => e.type)).toEqual(['requested', 'cancelled']);
  });

  it('treats a repeated request id as a retry only when it asks for the same thing', async () => {
    await api('POST', '/api/v1/conversations', { body: conversation('c-1') });
    await api('POST', '/api/v1/consent-templates', { body: familyDisclosureTemplate() });
    const body = consentRequest('consent-api-0004');
    expect((await api('POST', '/api/v1/consent-requests', { body })).status).toBe(201);
    expect((await api('POST', '/api/v1/consent-requests', { body })).status).toBe(201);
    const changed = await api('POST', '/api/v1/consent-requests', {
      body: { ...body, purpose: 'Something else' },
    });
    expect(changed.status).toBe(409);
    expect(errorOf(changed).message).toContain('new id');

    const pending = await api('GET', '/api/v1/consent-requests?patientId=alice&state=requested');
    expect((pending.body as { items: ConsentRequestView[] }).items.map((r) => r.requestId)).toEqual(
      ['consent-api-0004'],
    );
    const none = await api('GET', '/api/v1/consent-requests?patientId=alice&state=signed');
    expect((none.body as { items: unknown[] }).items).toEqual([]);
  });

  it('refuses a request the rules refuse, with their code', async () => {
    await api('POST', '/api/v1/conversations', { body: conversation('c-1') });
    await api('POST', '/api/v1/consent-templates', { body: familyDisclosureTemplate() });
    const notFamily = await api('POST', '/api/v1/consent-requests', {
      body: consentRequest('consent-api-0002', { recipients: ['dr-rivera'] }),
    });
    expect(notFamily.status).toBe(400);
    expect(errorOf(notFamily).message).toContain('family');
    const onBehalfOfPatient = await api('POST', '/api/v1/consent-requests', {
      body: consentRequest('consent-api-0005', { onBehalfOf: 'alice' }),
    });
    expect(onBehalfOfPatient.status).toBe(400);
    expect(errorOf(onBehalfOfPatient).message).toContain('care-team');
  });
});
