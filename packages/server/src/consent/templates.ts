// Publishing consent templates: who may, what is refused (a disclosure authorization missing an
// element CONSENT.md requires, with the list), and the version and hash a published one gets.
import {
  templateProblems,
  type ConsentTemplateContent,
  type TemplatePublishResult,
  type TemplateVersionView,
} from '@carethread/shared';
import type { Identity } from '../auth/tokens.js';
import { RelayError } from '../core/errors.js';
import type { Store } from '../store/types.js';
import { canonicalHash } from '../core/canonical.js';

/**
 * The hashed content: exactly the publishable fields, so extra keys can never change a hash. No
 * translations and an empty list are the same content, hashed as a template in one language was
 * before templates had translations.
 */
function contentOf(input: ConsentTemplateContent): ConsentTemplateContent {
  const { templateId, kind, language, title, blocks, translations } = input;
  return {
    templateId,
    kind,
    language,
    title,
    blocks,
    ...(translations?.length
      ? {
          translations: translations.map((text) => ({
            language: text.language,
            title: text.title,
            blocks: text.blocks,
          })),
        }
      : {}),
  };
}

export function createTemplateService({
  store,
  now = () => new Date(),
}: {
  store: Store;
  now?: () => Date;
}) {
  return {
    /** Staff publish; the same content twice gives the same version, never a second one. */
    async publish(
      identity: Identity,
      input: ConsentTemplateContent,
    ): Promise<TemplatePublishResult> {
      if (identity.role !== 'staff') {
        throw new RelayError('FORBIDDEN', 'Only staff can publish consent templates.');
      }
      const content = contentOf(input);
      const problems = templateProblems(content);
      if (problems.length > 0) throw new RelayError('VALIDATION', problems.join(' '));
      return store.publishTemplateVersion({
        tenantId: identity.tenantId,
        content,
        hash: canonicalHash(content),
        publishedAt: now().toISOString(),
        publishedBy: identity.userId,
      });
    },

    /** The care team may list a template's versions (to request a signature on one). */
    async versions(identity: Identity, templateId: string): Promise<TemplateVersionView[]> {
      if (identity.role !== 'staff' && identity.role !== 'provider') {
        throw new RelayError('FORBIDDEN', 'Only the care team can list consent templates.');
      }
      const versions = await store.listTemplateVersions(identity.tenantId, templateId);
      if (versions.length === 0)
        throw new RelayError('NOT_FOUND', 'No consent template with this id has been published.');
      return versions;
    },
  };
}

export type TemplateService = ReturnType<typeof createTemplateService>;
