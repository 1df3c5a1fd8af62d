// Free text from outside (issue 15): ill-formed UTF-16 is refused before anything is acked, and
// a message or correction with nothing visible in it counts as empty, on every path in.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  call,
  connectAs,
  ok,
  seedConversation,
  startRelay,
  type RawSocket,
  type TestRelay,
} from '../helpers.js';

let relay: TestRelay;
let doctor: RawSocket;

beforeEach(async () => {
  relay = await startRelay();
  await seedConversation(relay, 'c-1', [{ userId: 'alice', role: 'patient' }]);
  doctor = await connectAs(relay, await relay.token('dr-rivera', 'provider'));
});
afterEach(async () => {
  doctor.close();
  await relay.close();
});

const rows = async () => (await relay.relay.store.entriesAfter('dev', 'c-1', 0, 1000)).entries;

async function hostPost(path: string, body: unknown) {
  const response = await fetch(`${relay.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${relay.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

describe('lone surrogates', () => {
  it('are refused in message text, before the ack, and nothing is stored', async () => {
    for (const [i, text] of ['\uD800', 'x\uDFFFy', 'ok \uDBFF'].entries()) {
      const ack = await call(doctor, 'message.send', {
        conversationId: 'c-1',
        id: `lone-${String(i).padStart(4, '0')}`,
        text,
      });
      expect(ack, JSON.stringify(text)).toMatchObject({
        ok: false,
        error: { code: 'VALIDATION', message: expect.stringContaining('well-formed') as unknown },
      });
    }
    expect(await rows()).toEqual([]);
  });

  it('are refused in corrections, titles and participant names', async () => {
    const { seq } = await ok(doctor, 'message.send', {
      conversationId: 'c-1',
      id: 'msg-0001',
      text: 'Hello',
    });
    const refusals = await Promise.all([
      call(doctor, 'message.edit', {
        conversationId: 'c-1',
        id: 'edit-0001',
        targetSeq: seq,
        text: 'x\uDFFFy',
      }),
      call(doctor, 'conversation.create', {
        conversationId: 'c-2',
        title: 'Care \uD800 team',
        participants: [],
      }),
      call(doctor, 'participant.add', {
        conversationId: 'c-1',
        participant: { userId: 'bob', role: 'staff', displayName: 'Bob \uDC00' },
      }),
    ]);
    for (const ack of refusals)
      expect(ack).toMatchObject({ ok: false, error: { code: 'VALIDATION' } });
    expect(await rows()).toHaveLength(1);
  });

  it('are refused in the host API', async () => {
    const text = await hostPost('/api/v1/conversations/c-1/messages', {
      id: 'host-0001',
      text: 'Reminder \uD800',
    });
    const sender = await hostPost('/api/v1/conversations/c-1/messages', {
      id: 'host-0002',
      text: 'Reminder',
      senderName: 'Clinic \uDFFF',
    });
    for (const refused of [text, sender])
      expect(refused).toMatchObject({ status: 400, body: { error: { code: 'VALIDATION' } } });
    expect(await rows()).toEqual([]);
  });
});

describe('text with nothing visible', () => {
  const invisible = ['\u200B', ' \u200B\u200D ', '\uFEFF', '\uFE0F', '\u2060\u3164', '\u2800'];

  it('is an empty message', async () => {
    for (const [i, text] of invisible.entries()) {
      const ack = await call(doctor, 'message.send', {
        conversationId: 'c-1',
        id: `blank-${String(i).padStart(4, '0')}`,
        text,
      });
      expect(ack, JSON.stringify(text)).toEqual({
        ok: false,
        error: { code: 'VALIDATION', message: 'A message needs text, files, or both.' },
      });
    }
    expect(await rows()).toEqual([]);
  });

  it('is an empty correction', async () => {
    const { seq } = await ok(doctor, 'message.send', {
      conversationId: 'c-1',
      id: 'msg-0001',
      text: 'Hello',
    });
    const ack = await call(doctor, 'message.edit', {
      conversationId: 'c-1',
      id: 'edit-0001',
      targetSeq: seq,
      text: '\u200B',
    });
    expect(ack).toEqual({
      ok: false,
      error: { code: 'VALIDATION', message: 'A correction cannot be empty.' },
    });
    expect(await rows()).toHaveLength(1);
  });

  it('is an empty host message, and no name for its sender', async () => {
    const blank = await hostPost('/api/v1/conversations/c-1/messages', {
      id: 'host-0001',
      text: '\u200B',
    });
    const nameless = await hostPost('/api/v1/conversations/c-1/messages', {
      id: 'host-0002',
      text: 'Reminder',
      senderName: '\u200B',
    });
    for (const refused of [blank, nameless])
      expect(refused).toMatchObject({ status: 400, body: { error: { code: 'VALIDATION' } } });
    expect(await rows()).toEqual([]);
  });

  it('is no name for a participant', async () => {
    for (const displayName of ['\u200B', ' ', 'Bob\tBrown']) {
      const ack = await call(doctor, 'participant.add', {
        conversationId: 'c-1',
        participant: { userId: 'bob', role: 'staff', displayName },
      });
      expect(ack, JSON.stringify(displayName)).toMatchObject({
        ok: false,
        error: { code: 'VALIDATION' },
      });
    }
  });
});

describe('file names', () => {
  it('refuse text-direction controls and names with nothing visible, storing nothing', async () => {
    const token = await relay.token('alice', 'patient');
    // "\u202Efdp.exe" shows as "exe.pdf": a program dressed as a document.
    for (const [i, name] of ['\u202Efdp.exe', 'plan\u2066.pdf', '\u200B', '   '].entries()) {
      const response = await fetch(
        `${relay.url}/files/file-name-${String(i).padStart(4, '0')}?conversationId=c-1&name=${encodeURIComponent(name)}`,
        {
          method: 'PUT',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain' },
          body: 'hello',
        },
      );
      expect(response.status, JSON.stringify(name)).toBe(400);
      expect(await response.json()).toMatchObject({ error: { code: 'VALIDATION' } });
    }
    const files = await relay.relay.store.getFile('dev', 'file-name-0000');
    expect(files).toBeUndefined();
  });
});
