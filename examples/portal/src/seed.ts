// Persona tokens and the demo conversation, shared by the portal server, the demo and its test.
import { DEV_AUDIENCE, DEV_ISSUER, mintToken, type DevSigningKey } from '@carethread/server';
import { CareThreadError, createClient } from '@carethread/widget/client';
import { DEMO_CONSENT_FORM } from './consent-form.js';
import { DEMO_CONVERSATION, personaById, type Persona } from './personas.js';

/** A CareThread token for a demo persona, signed with the development tenant's key. */
export function mintPersonaToken(
  devKey: DevSigningKey,
  persona: Persona,
  ttlSeconds: number,
): Promise<string> {
  return mintToken({
    issuer: DEV_ISSUER,
    audience: DEV_AUDIENCE,
    key: devKey.privateKey,
    kid: devKey.kid,
    sub: persona.sub,
    name: persona.name,
    role: persona.role,
    ...(persona.relationship ? { relationship: persona.relationship } : {}),
    ...(persona.title ? { title: persona.title } : {}),
    ttlSeconds,
  });
}

/**
 * The care team opens the conversation the portal shows and the program publishes its consent
 * form, through the protocol like any client. On later runs both already exist, which is fine.
 * Bob, the family member, is kept out until Alice signs a consent in the demo.
 */
export async function seedDemoConversation(relayUrl: string, devKey: DevSigningKey): Promise<void> {
  const provider = personaById('dr-rivera');
  if (!provider) throw new Error('The demo has no care-team persona.');
  const seeder = createClient({
    url: relayUrl,
    transports: ['websocket'],
    tokenProvider: () => mintPersonaToken(devKey, provider, 60),
  });
  try {
    await seeder.createConversation({
      conversationId: DEMO_CONVERSATION.id,
      title: DEMO_CONVERSATION.title,
      participants: [
        { userId: 'alice', role: 'patient', displayName: 'Alice Moreno' },
        { userId: 'bob', role: 'family', displayName: 'Bob Moreno', relationship: 'brother' },
      ],
    });
  } catch (error) {
    if (!(error instanceof CareThreadError && error.code === 'CONFLICT')) throw error;
  } finally {
    seeder.close();
  }
  await publishConsentForm(relayUrl, devKey);
}

/** Client for one persona of the demo, for the few calls the seed makes. */
function clientAs(relayUrl: string, devKey: DevSigningKey, persona: Persona) {
  return createClient({
    url: relayUrl,
    transports: ['websocket'],
    tokenProvider: () => mintPersonaToken(devKey, persona, 60),
  });
}

async function publishConsentForm(relayUrl: string, devKey: DevSigningKey): Promise<void> {
  const admin = clientAs(relayUrl, devKey, {
    sub: 'portal-admin',
    name: 'Portal admin',
    role: 'staff',
  });
  try {
    await admin.request('consent.template.publish', DEMO_CONSENT_FORM);
  } finally {
    admin.close();
  }
}
