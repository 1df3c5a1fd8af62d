// Every free-text field of the protocol refuses ill-formed UTF-16 (lone surrogates): the relay
// stores UTF-8, so what it acked would differ from what it stores and reads back (issue 15).
import { describe, expect, it } from 'vitest';
import { ApiConsentCancel, ApiConversationCreate, ApiSystemMessage } from './api.js';
import { ConsentDecline, ConsentRequestCreate, ConsentRevoke, ConsentSign } from './consent.js';
import {
  ConversationCreate,
  MessageEdit,
  MessageSend,
  ParticipantAdd,
  Sender,
} from './protocol.js';

const loneSurrogates = ['\uD800', 'x\uDFFFy', 'ends high \uDBFF', '\uDC00\uD800'];
const participant = { userId: 'alice', role: 'patient', displayName: 'Alice Moreno' } as const;
const requestId = 'consent-c-1-abcdef12';

/** Each field, as a function from its text to the whole payload carrying it. */
const fields: [string, { safeParse(v: unknown): { success: boolean } }, (s: string) => unknown][] =
  [
    ['message text', MessageSend, (text) => ({ conversationId: 'c-1', id: 'msg-0001', text })],
    [
      'edited text',
      MessageEdit,
      (text) => ({ conversationId: 'c-1', id: 'msg-0002', targetSeq: 1, text }),
    ],
    [
      'conversation title',
      ConversationCreate,
      (title) => ({ conversationId: 'c-1', title, participants: [] }),
    ],
    [
      'participant name',
      ParticipantAdd,
      (displayName) => ({ conversationId: 'c-1', participant: { ...participant, displayName } }),
    ],
    [
      'participant relationship',
      ParticipantAdd,
      (relationship) => ({ conversationId: 'c-1', participant: { ...participant, relationship } }),
    ],
    [
      'participant id',
      ParticipantAdd,
      (userId) => ({ conversationId: 'c-1', participant: { ...participant, userId } }),
    ],
    [
      'host conversation participant name',
      ApiConversationCreate,
      (displayName) => ({
        conversationId: 'c-1',
        title: 'Care team',
        participants: [{ ...participant, displayName }],
      }),
    ],
    ['host message text', ApiSystemMessage, (text) => ({ id: 'msg-0003', text })],
    [
      'host sender name',
      ApiSystemMessage,
      (senderName) => ({ id: 'msg-0004', text: 'Hi', senderName }),
    ],
    ['cancel reason', ApiConsentCancel, (reason) => ({ reason })],
    ['decline reason', ConsentDecline, (reason) => ({ requestId, reason })],
    [
      'consent purpose',
      ConsentRequestCreate,
      (purpose) => ({
        requestId,
        templateId: 'family-disclosure',
        conversationId: 'c-1',
        patientId: 'alice',
        recipients: ['bob'],
        purpose,
        expiresAt: '2099-01-01T00:00:00.000Z',
      }),
    ],
    ['signer name', ConsentRevoke, (name) => ({ requestId, signature: { method: 'typed', name } })],
    [
      'form answer',
      ConsentSign,
      (answer) => ({
        requestId,
        disclosureHash: 'sha256:00',
        acknowledgements: [],
        answers: { capacity: answer },
        signature: { method: 'typed', name: 'Alice Moreno' },
      }),
    ],
    [
      'sender name (a view)',
      Sender,
      (displayName) => ({ userId: 'alice', role: 'patient', displayName }),
    ],
  ];

describe('free text', () => {
  it.each(fields)('accepts well-formed %s, emoji included', (_, schema, payload) => {
    expect(schema.safeParse(payload('Zoë 👋🏽 ok')).success).toBe(true);
  });

  it.each(fields)('refuses a lone surrogate in %s', (_, schema, payload) => {
    for (const text of loneSurrogates)
      expect(schema.safeParse(payload(text)).success, JSON.stringify(text)).toBe(false);
  });
});
