// What the EHR sets up in CareThread on start: the demo encounter's conversation and the consent
// form its clinicians ask patients to sign. Both calls are safe to repeat.
import { createHash } from 'node:crypto';
import type { ApiConversation } from '@carethread/shared';
import { FAMILY_DISCLOSURE_FORM } from './consent-form.js';
import { HostApiError, type HostApi } from './host-api.js';
import { DEMO_CONVERSATION, users } from './users.js';

export async function seed(api: HostApi): Promise<void> {
  const { conversationId, title } = DEMO_CONVERSATION;
  try {
    await api.get<ApiConversation>(`/api/v1/conversations/${conversationId}`);
  } catch (error) {
    if (!(error instanceof HostApiError && error.code === 'NOT_FOUND')) throw error;
    // The key is derived from the encounter, so a crash between the relay's commit and our
    // seeing the answer is retried on the next start without a second conversation.
    await api.post(
      '/api/v1/conversations',
      {
        conversationId,
        title,
        participants: users.map((u) => ({
          userId: u.id,
          role: u.role,
          displayName: u.name,
          ...(u.relationship ? { relationship: u.relationship } : {}),
          ...(u.title ? { title: u.title } : {}),
        })),
      },
      `create-conversation:${conversationId}`,
    );
  }
  // Publishing the same content again returns the existing version; the key names the content.
  const contentHash = createHash('sha256')
    .update(JSON.stringify(FAMILY_DISCLOSURE_FORM))
    .digest('hex');
  await api.post('/api/v1/consent-templates', FAMILY_DISCLOSURE_FORM, `template:${contentHash}`);
}
