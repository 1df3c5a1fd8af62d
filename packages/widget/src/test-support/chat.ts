// Shared by the chat element's browser tests: the relay web-test-runner started, tokens from its
// /test/token endpoint, conversations made by a care-team client, and the element under test.
import { expect, fixture, html, waitUntil } from '@open-wc/testing';
import type { ConsentScope, ParticipantInput } from '@carethread/shared';
import { createClient, type CareThreadClient } from '../client/index.js';
import type { CareThreadChat } from '../chat/chat.component.js';
import '../chat/chat.js';

export const relay = await (await fetch('/test/relay')).text();

/** Stops or starts the test relay (same port and data), for offline tests. */
export async function relayControl(action: 'stop' | 'start'): Promise<void> {
  const response = await fetch(`/test/relay/${action}`, { method: 'POST' });
  expect(response.ok, `relay ${action}`).to.equal(true);
}

export function tokenUrl(sub: string, role: string, extra: Record<string, string> = {}): string {
  return `/test/token?${new URLSearchParams({ sub, role, ...extra }).toString()}`;
}

const opened: CareThreadClient[] = [];
afterEach(() => {
  for (const client of opened.splice(0)) client.close();
});

export function clientFor(sub: string, role: string, extra: Record<string, string> = {}) {
  const client = createClient({
    url: relay,
    tokenProvider: async () => (await fetch(tokenUrl(sub, role, extra))).text(),
  });
  opened.push(client);
  return client;
}

/** A fresh conversation started by a provider, with a patient and a family member. */
export async function careConversation(extra: ParticipantInput[] = []) {
  const id = `c-${crypto.randomUUID()}`;
  const provider = clientFor(`dr-${id}`, 'provider', { name: 'Dr. Rivera', title: 'Therapist' });
  await provider.createConversation({
    conversationId: id,
    title: 'Alice and her care team',
    participants: [
      { userId: `alice-${id}`, role: 'patient', displayName: 'Alice Moreno' },
      { userId: `bob-${id}`, role: 'family', displayName: 'Bob Moreno', relationship: 'brother' },
      ...extra,
    ],
  });
  return { id, provider, patient: `alice-${id}` };
}

export async function chatAs(conversation: string, sub: string, role = 'patient', lang?: string) {
  const element = await fixture<CareThreadChat>(
    html`<carethread-chat
      server=${relay}
      conversation=${conversation}
      token-url=${tokenUrl(sub, role, { name: 'Alice Moreno' })}
      lang=${lang ?? 'en'}
    ></carethread-chat>`,
  );
  // Open as a person finds it: history loaded and the message box enabled, or access refused.
  await waitUntil(
    () => {
      const root = element.shadowRoot;
      const open =
        root?.querySelector('.participants') && root.querySelector('textarea:not([disabled])');
      return open ?? root?.querySelector('[part="closed"]');
    },
    'the chat did not open',
    { timeout: 10000 },
  );
  return element;
}

export const shadow = (element: CareThreadChat) => element.shadowRoot as ShadowRoot;
export const texts = (element: CareThreadChat, selector: string) =>
  [...shadow(element).querySelectorAll(selector)].map((node) => node.textContent.trim());

export async function type(element: CareThreadChat, text: string, key?: KeyboardEventInit) {
  const input = shadow(element).querySelector('textarea') as HTMLTextAreaElement;
  input.focus();
  input.value = text;
  input.dispatchEvent(new InputEvent('input', { bubbles: true, composed: true }));
  await element.updateComplete;
  if (key) {
    input.dispatchEvent(new KeyboardEvent('keydown', { bubbles: true, cancelable: true, ...key }));
    await element.updateComplete;
  }
  return input;
}

/** The element signing in through a `tokenProvider` property instead of `token-url`. */
export function chatWithProvider(conversation: string, tokenProvider: () => Promise<string>) {
  return fixture<CareThreadChat>(
    html`<carethread-chat
      server=${relay}
      conversation=${conversation}
      .tokenProvider=${tokenProvider}
    ></carethread-chat>`,
  );
}

/** A short disclosure authorization covering every required element, as staff publish it. */
const FAMILY_FORM = {
  templateId: 'wtr-family-sharing',
  kind: 'disclosure-authorization' as const,
  language: 'en',
  title: 'Sharing my care conversation with my family',
  blocks: [
    {
      type: 'paragraph' as const,
      text: 'Sunrise Recovery may share my care conversation, including substance use treatment information, with the people named, to support my recovery, until the date given.',
      covers: [
        'discloser' as const,
        'recipients' as const,
        'information' as const,
        'substance-use' as const,
        'purpose' as const,
        'expiry' as const,
        'copy-to-signer' as const,
      ],
    },
    {
      type: 'acknowledgement' as const,
      id: 'can-revoke',
      text: 'I can revoke this at any time; what was shared before stays shared.',
      covers: ['revocation' as const, 'treatment-conditioning' as const, 'redisclosure' as const],
    },
    {
      type: 'field' as const,
      id: 'signing-as',
      label: 'I am signing as',
      input: 'choice' as const,
      required: true,
      options: ['The patient', 'Legal guardian'],
      covers: ['signer-capacity' as const],
    },
  ],
};

/** A care conversation and a request asking its patient to share it with the family member. */
export async function consentRequest(scopes?: ConsentScope[]) {
  const { id, provider, patient } = await careConversation();
  const staff = clientFor(`admin-${id}`, 'staff');
  await staff.request('consent.template.publish', FAMILY_FORM);
  const request = await provider.request('consent.request', {
    requestId: `req-${id}`,
    templateId: FAMILY_FORM.templateId,
    conversationId: id,
    patientId: patient,
    recipients: [`bob-${id}`],
    purpose: 'So my brother can support me.',
    expiresAt: new Date(Date.now() + 30 * 86_400_000).toISOString(),
    ...(scopes ? { scopes } : {}),
  });
  return { id, provider, patient, requestId: request.requestId };
}

/** The patient signs `requestId` through the headless client, as the consent element would. */
export async function signAsPatient(patient: string, requestId: string) {
  // The relay takes a typed signature only in the name of the signer's token.
  const client = clientFor(patient, 'patient', { name: 'Alice Moreno' });
  const { template, disclosure } = await client.request('consent.view', { requestId });
  await client.request('consent.sign', {
    requestId,
    disclosureHash: disclosure.hash,
    acknowledgements: template.blocks.flatMap((b) => (b.type === 'acknowledgement' ? [b.id] : [])),
    answers: { 'signing-as': 'The patient' },
    signature: { method: 'typed', name: 'Alice Moreno' },
  });
  return client;
}
