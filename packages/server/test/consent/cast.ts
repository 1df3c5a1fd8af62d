// The people of the consent tests and their steps: staff publish the family disclosure form, Dr.
// Rivera asks in a conversation of Alice Moreno (the patient) and Bob Moreno (her father), and
// Alice or Bob signs.
import type {
  ConsentRequestCreate,
  ConsentRequestView,
  ConsentSign,
  ConsentTemplateContent,
} from '@carethread/shared';
import { connectAs, ok, type RawSocket, type TestRelay } from '../helpers.js';
import { familyDisclosureTemplate } from './fixtures.js';

export const inAWeek = () => new Date(Date.now() + 7 * 86_400_000).toISOString();

export interface ConsentCast {
  provider: RawSocket;
  alice: RawSocket;
  bob: RawSocket;
  /** A new conversation of Alice and Bob, by Dr. Rivera; its id. */
  conversation(): Promise<string>;
  close(): void;
}

/** Publishes `template` (the family disclosure form) and connects Dr. Rivera, Alice and Bob. */
export async function consentCast(
  relay: TestRelay,
  template: ConsentTemplateContent = familyDisclosureTemplate(),
): Promise<ConsentCast> {
  const staff = await connectAs(relay, await relay.token('admin', 'staff'));
  await ok(staff, 'consent.template.publish', template);
  staff.close();
  const provider = await connectAs(
    relay,
    await relay.token('dr', 'provider', { name: 'Dr. Rivera' }),
  );
  const alice = await connectAs(
    relay,
    await relay.token('alice', 'patient', { name: 'Alice Moreno' }),
  );
  const bob = await connectAs(
    relay,
    await relay.token('bob', 'family', { name: 'Bob Moreno', relationship: 'father' }),
  );
  let conversations = 0;
  return {
    provider,
    alice,
    bob,
    async conversation() {
      const conversationId = `c-consent-${String(++conversations)}`;
      await ok(provider, 'conversation.create', {
        conversationId,
        title: 'Alice and her family',
        participants: [
          { userId: 'alice', role: 'patient', displayName: 'Alice Moreno' },
          { userId: 'bob', role: 'family', displayName: 'Bob Moreno', relationship: 'father' },
        ],
      });
      return conversationId;
    },
    close() {
      for (const socket of [provider, alice, bob]) socket.close();
    },
  };
}

/** A request that Alice share her conversation with Bob, on the family disclosure form. */
export function requestFor(
  conversationId: string,
  extra: Partial<ConsentRequestCreate> = {},
): ConsentRequestCreate {
  return {
    requestId: `req-${conversationId}-${String(Math.random()).slice(2, 10)}`,
    templateId: 'family-disclosure',
    conversationId,
    patientId: 'alice',
    recipients: ['bob'],
    purpose: 'So my father can support my recovery.',
    expiresAt: inAWeek(),
    ...extra,
  };
}

/** The signer views the request; a signing of it with every acknowledgement and answer given. */
export async function signable(
  request: ConsentRequestView,
  signer: RawSocket,
): Promise<Omit<ConsentSign, 'signature'>> {
  const { disclosure, template } = await ok(signer, 'consent.view', {
    requestId: request.requestId,
  });
  return {
    requestId: request.requestId,
    disclosureHash: disclosure.hash,
    acknowledgements: template.blocks.flatMap((b) => (b.type === 'acknowledgement' ? [b.id] : [])),
    answers: { capacity: 'The patient', 'ends-on': inAWeek().slice(0, 10) },
  };
}
