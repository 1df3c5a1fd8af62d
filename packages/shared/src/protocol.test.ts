import { describe, expect, it } from 'vitest';
import { errorSentences } from './codes.js';
import { ErrorCode } from './errors.js';
import { describeIssues, isOnlyTooBig } from './issues.js';
import {
  EditView,
  Entry,
  MessageSend,
  clientEvents,
  isClientEventName,
  serverEvents,
} from './protocol.js';

describe('error codes', () => {
  it('give every code a sentence that tells the reader what to do', () => {
    for (const code of ErrorCode.options) {
      expect(errorSentences[code].length, code).toBeGreaterThan(20);
      expect(errorSentences[code], code).toMatch(/\.$/);
    }
  });
});

describe('event maps', () => {
  it('recognise only own event names, not inherited ones', () => {
    expect(isClientEventName('message.send')).toBe(true);
    for (const name of ['__proto__', 'constructor', 'toString', 123, undefined, 'message']) {
      expect(isClientEventName(name), String(name)).toBe(false);
    }
  });

  it('keep client and server event names apart', () => {
    const shared = Object.keys(clientEvents).filter((name) => Object.hasOwn(serverEvents, name));
    // `typing` is both a request (I am typing) and an event (they are typing), with different shapes.
    expect(shared).toEqual(['typing']);
  });
});

describe('validation messages', () => {
  it('name the offending field and the bound', () => {
    const result = MessageSend.safeParse({ conversationId: 'c-1', id: 'abc', text: 7 });
    expect(result.success).toBe(false);
    expect(describeIssues(result.error?.issues ?? [])).toBe(
      'id is too short (at least 8); text must be string',
    );
  });

  it('tell an oversized message apart from a malformed one', () => {
    const long = MessageSend.safeParse({
      conversationId: 'c-1',
      id: 'abcdefgh',
      text: 'x'.repeat(20_000),
    });
    expect(isOnlyTooBig(long.error?.issues ?? [])).toBe(true);
    const bad = MessageSend.safeParse({
      conversationId: 'c-1',
      id: 'abc',
      text: 'x'.repeat(20_000),
    });
    expect(isOnlyTooBig(bad.error?.issues ?? [])).toBe(false);
  });
});

describe('corrections', () => {
  const edit = {
    kind: 'edit',
    conversationId: 'c-1',
    seq: 2,
    id: 'abcdefgh',
    targetSeq: 1,
    sender: { userId: 'alice', role: 'patient', displayName: 'Alice' },
    editedAt: '2026-12-01T10:00:00.000Z',
  } as const;

  it('have text, except a deletion, which has none', () => {
    expect(EditView.safeParse({ ...edit, text: 'fixed' }).success).toBe(true);
    expect(EditView.safeParse({ ...edit, text: '' }).success).toBe(false);
    expect(Entry.safeParse({ ...edit, text: '', deleted: true }).success).toBe(true);
    expect(EditView.safeParse({ ...edit, text: 'kept', deleted: true }).success).toBe(false);
  });
});
