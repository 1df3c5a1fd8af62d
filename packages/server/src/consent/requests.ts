// Consent requests and signing: who may ask whom to sign what, viewing, signing in one
// transaction with its receipt, and declining. Every state change is an audit event.
import { createHash } from 'node:crypto';
import {
  chooseLanguage,
  grantedScopes,
  matchSignatureName,
  signatureMeaning,
  templateLanguages,
  templateText,
  type SignatureNameMatch,
  type ConsentPdfResult,
  type ConsentRecipient,
  type ConsentRecordView,
  type ConsentRequestCreate,
  type ConsentRequestView,
  type ConsentRevocationView,
  type ConsentSign,
  type ConsentSignResult,
  type ConsentState,
  type ConsentViewResult,
  type TemplateVersionView,
} from '@carethread/shared';
import type { Identity } from '../auth/tokens.js';
import type { ChatService } from '../services/chat.js';
import { RelayError } from '../core/errors.js';
import type { Store } from '../store/types.js';
import { canonicalHash, canonicalJson } from '../core/canonical.js';
import { answerProblems, disclosureFor, versionIn } from './forms.js';
import type { ConsentPdfSealer } from './pdf.js';
import type { ReceiptSigner } from './receipts.js';

const OPEN: readonly ConsentState[] = ['requested', 'viewed'];
const CARE_TEAM = new Set(['provider', 'staff']);

/** Where a signature came from, as the transport saw it. */
export interface SigningContext {
  ip: string;
  userAgent: string;
}

export interface ConsentServiceDeps {
  store: Store;
  chat: ChatService;
  receipts: ReceiptSigner;
  pdfs: ConsentPdfSealer;
  now?: () => Date;
}

/**
 * How the typed name matches the name in the person's token; a name that is not theirs is refused
 * with the name to type, which is the person's own.
 */
function requireOwnName(identity: Identity, typed: string): SignatureNameMatch {
  const match = matchSignatureName(typed, identity.displayName);
  if (!match)
    throw new RelayError(
      'SIGNER_NAME_MISMATCH',
      `Type your full name as your care team has it: ${identity.displayName}.`,
    );
  return match;
}

/** Whether a repeated create asks for the same thing as the stored request (a safe retry). */
function sameRequest(stored: ConsentRequestView, asked: ConsentRequestView): boolean {
  return (
    stored.templateId === asked.templateId &&
    stored.templateVersion === asked.templateVersion &&
    stored.conversationId === asked.conversationId &&
    stored.patientId === asked.patientId &&
    stored.signerId === asked.signerId &&
    stored.capacity === asked.capacity &&
    stored.purpose === asked.purpose &&
    stored.expiresAt === asked.expiresAt &&
    stored.scopes.join(',') === asked.scopes.join(',') &&
    stored.recipients.map((r) => r.userId).join(',') ===
      asked.recipients.map((r) => r.userId).join(',')
  );
}

export function createConsentService({
  store,
  chat,
  receipts,
  pdfs,
  now = () => new Date(),
}: ConsentServiceDeps) {
  const requestNotFound = () => new RelayError('NOT_FOUND', 'This consent request does not exist.');

  async function requestOf(identity: Identity, requestId: string): Promise<ConsentRequestView> {
    const request = await store.getConsentRequest(identity.tenantId, requestId);
    if (!request) throw requestNotFound();
    return request;
  }

  /**
   * The signer, the patient, and the care team of the conversation may see a request. To someone
   * outside the conversation it answers like a request that does not exist.
   */
  async function requireReader(identity: Identity, request: ConsentRequestView): Promise<void> {
    if (identity.userId === request.signerId || identity.userId === request.patientId) return;
    const member = await chat
      .requireMember(identity, request.conversationId)
      .catch((error: unknown) => {
        throw error instanceof RelayError && error.code === 'NOT_FOUND' ? requestNotFound() : error;
      });
    if (!CARE_TEAM.has(member.role)) {
      throw new RelayError('FORBIDDEN', 'This consent request is not addressed to you.');
    }
  }

  async function patientName(identity: Identity, request: ConsentRequestView): Promise<string> {
    const patient = await store.getParticipant(
      identity.tenantId,
      request.conversationId,
      request.patientId,
    );
    return patient?.displayName ?? request.patientId;
  }

  function requireSigner(identity: Identity, request: ConsentRequestView): void {
    if (identity.userId !== request.signerId) {
      throw new RelayError('FORBIDDEN', 'Only the person asked to sign can answer this request.');
    }
  }

  async function templateOf(identity: Identity, request: ConsentRequestView) {
    const template = await store.getTemplateVersion(
      identity.tenantId,
      request.templateId,
      request.templateVersion,
    );
    if (!template) throw new RelayError('INTERNAL', 'The template of this request is missing.');
    return template;
  }

  /** The language a signer says the form was shown in: one the template has, its default if none. */
  function shownLanguage(template: TemplateVersionView, language: string | undefined): string {
    if (language === undefined) return template.language;
    const shown = templateText(template, language)?.language;
    if (shown === undefined)
      throw new RelayError(
        'VALIDATION',
        `This form is not offered in "${language}"; it is offered in ${templateLanguages(template).join(', ')}. Send the language it was shown in.`,
      );
    return shown;
  }

  function requireOpen(request: ConsentRequestView): void {
    if (!OPEN.includes(request.state)) {
      throw new RelayError('CONFLICT', `This consent request is already ${request.state}.`);
    }
  }

  return {
    async request(
      identity: Identity,
      input: ConsentRequestCreate,
      /** For the host: the care-team member it asks for, recorded as the requester. */
      onBehalfOf?: string,
    ): Promise<ConsentRequestView> {
      const member = await chat.requireMember(identity, input.conversationId);
      if (!CARE_TEAM.has(member.role)) {
        throw new RelayError('FORBIDDEN', 'Only the care team can ask for a consent signature.');
      }
      if (onBehalfOf !== undefined) {
        const clinician = await store.getParticipant(
          identity.tenantId,
          input.conversationId,
          onBehalfOf,
        );
        if (!identity.host || !clinician || !CARE_TEAM.has(clinician.role))
          throw new RelayError(
            'VALIDATION',
            'onBehalfOf must name a care-team member of this conversation (and only the host may use it).',
          );
      }
      const template = await store.getTemplateVersion(
        identity.tenantId,
        input.templateId,
        input.templateVersion,
      );
      if (!template)
        throw new RelayError('NOT_FOUND', 'That consent template version does not exist.');
      const participants = await store.listParticipants(identity.tenantId, input.conversationId);
      const byId = new Map(participants.map((p) => [p.userId, p]));
      if (byId.get(input.patientId)?.role !== 'patient') {
        throw new RelayError('VALIDATION', 'The patient must be a patient in this conversation.');
      }
      const notFamily = input.recipients.filter((id) => byId.get(id)?.role !== 'family');
      if (notFamily.length > 0) {
        throw new RelayError(
          'VALIDATION',
          `Recipients must be family members in this conversation: ${notFamily.join(', ')} is not.`,
        );
      }
      const representative = input.representative;
      if (representative && byId.get(representative.userId)?.role !== 'family') {
        throw new RelayError(
          'VALIDATION',
          'A representative must be a family member in this conversation, to be able to sign.',
        );
      }
      const at = now().toISOString();
      if (new Date(input.expiresAt).toISOString() <= at) {
        throw new RelayError('VALIDATION', 'The consent must expire in the future.');
      }
      const recipients: ConsentRecipient[] = [...new Set(input.recipients)].map((id) => {
        const person = byId.get(id);
        return {
          userId: id,
          displayName: person?.displayName ?? id,
          relationship: person?.relationship ?? null,
        };
      });
      const request: ConsentRequestView = {
        requestId: input.requestId,
        templateId: template.templateId,
        templateVersion: template.version,
        templateHash: template.hash,
        conversationId: input.conversationId,
        patientId: input.patientId,
        signerId: representative?.userId ?? input.patientId,
        capacity: representative?.capacity ?? 'self',
        recipients,
        purpose: input.purpose,
        expiresAt: new Date(input.expiresAt).toISOString(),
        scopes: grantedScopes(input.scopes),
        state: 'requested',
        requestedBy: onBehalfOf ?? identity.userId,
        requestedAt: at,
        updatedAt: at,
      };
      const created = await store.createConsentRequest(identity.tenantId, request, {
        type: 'requested',
        at,
        actorId: identity.userId,
        detail: {
          templateId: template.templateId,
          templateVersion: template.version,
          templateHash: template.hash,
          signerId: request.signerId,
          capacity: request.capacity,
          recipients: recipients.map((r) => r.userId).join(','),
          scopes: request.scopes.join(','),
          onBehalfOf: onBehalfOf ?? null,
        },
      });
      if (!created.created && !sameRequest(created.request, request)) {
        throw new RelayError(
          'CONFLICT',
          'A consent request with this id already exists with other content. Use a new id for a new request.',
        );
      }
      return created.request;
    },

    /**
     * The request with its form in the language closest to `language`. The signer's first look
     * moves it to `viewed`; `viewedNow` says whether this call did.
     */
    async view(
      identity: Identity,
      requestId: string,
      language?: string,
    ): Promise<{ view: ConsentViewResult; viewedNow: boolean }> {
      let request = await requestOf(identity, requestId);
      await requireReader(identity, request);
      let viewedNow = false;
      if (identity.userId === request.signerId && request.state === 'requested') {
        const moved = await store.transitionConsentRequest(
          identity.tenantId,
          requestId,
          ['requested'],
          'viewed',
          { type: 'viewed', at: now().toISOString(), actorId: identity.userId, detail: {} },
        );
        viewedNow = moved !== undefined;
        request = moved ?? (await requestOf(identity, requestId));
      }
      const template = await templateOf(identity, request);
      const languages = templateLanguages(template);
      const shown = chooseLanguage(languages, language);
      return {
        view: {
          request,
          language: shown,
          languages,
          signatureName: identity.displayName,
          template: versionIn(template, shown),
          disclosure: disclosureFor(shown),
          meaning: signatureMeaning(request.capacity, await patientName(identity, request), shown),
        },
        viewedNow,
      };
    },

    async sign(
      identity: Identity,
      input: ConsentSign,
      context: SigningContext,
    ): Promise<{ request: ConsentRequestView; result: ConsentSignResult }> {
      const request = await requestOf(identity, input.requestId);
      requireSigner(identity, request);
      requireOpen(request);
      const signedAt = now().toISOString();
      if (request.expiresAt <= signedAt) {
        throw new RelayError('CONFLICT', 'This consent request has expired. Ask for a new one.');
      }
      const template = await templateOf(identity, request);
      const language = shownLanguage(template, input.language);
      if (input.disclosureHash !== disclosureFor(language).hash) {
        throw new RelayError(
          'VALIDATION',
          `Accept the electronic-records disclosure shown with the form (${language}) before signing.`,
        );
      }
      const problems = answerProblems(versionIn(template, language).blocks, input);
      if (problems.length > 0) throw new RelayError('VALIDATION', problems.join(' '));
      const { signature } = input;
      const match = requireOwnName(identity, signature.name);

      const record: ConsentRecordView = {
        requestId: request.requestId,
        templateId: request.templateId,
        templateVersion: request.templateVersion,
        templateHash: request.templateHash,
        conversationId: request.conversationId,
        patientId: request.patientId,
        recipients: request.recipients,
        purpose: request.purpose,
        expiresAt: request.expiresAt,
        signer: {
          tenantId: identity.tenantId,
          userId: identity.userId,
          role: identity.role,
          displayName: identity.displayName,
          authTime: identity.authTime?.toISOString() ?? null,
        },
        capacity: request.capacity,
        language,
        scopes: request.scopes,
        meaning: signatureMeaning(request.capacity, await patientName(identity, request), language),
        disclosureHash: input.disclosureHash,
        acknowledgements: [...input.acknowledgements].sort(),
        answers: input.answers,
        signature: {
          method: signature.method,
          name: signature.name,
          imageHash:
            signature.method === 'drawn'
              ? `sha256:${createHash('sha256').update(signature.image).digest('hex')}`
              : null,
          checkedAgainst: identity.displayName,
          match,
        },
        signedAt,
        ip: context.ip,
        userAgent: context.userAgent.slice(0, 500),
      };
      const { canonical, recordHash, receipt } = await receipts.sign(record);
      const signed = await store.signConsentRequest(
        identity.tenantId,
        request.requestId,
        OPEN,
        {
          canonical,
          recordHash,
          receipt,
          signatureImage: signature.method === 'drawn' ? signature.image : null,
        },
        {
          type: 'signed',
          at: signedAt,
          actorId: identity.userId,
          detail: { recordHash, method: signature.method, capacity: request.capacity },
        },
      );
      if (!signed) {
        throw new RelayError('CONFLICT', 'This consent request changed while you were signing.');
      }
      return { request: signed, result: { record, recordHash, receipt } };
    },

    async decline(identity: Identity, requestId: string, reason: string | undefined) {
      const request = await requestOf(identity, requestId);
      requireSigner(identity, request);
      requireOpen(request);
      const declined = await store.transitionConsentRequest(
        identity.tenantId,
        requestId,
        OPEN,
        'declined',
        {
          type: 'declined',
          at: now().toISOString(),
          actorId: identity.userId,
          // The signer's own words, kept with the decision they explain.
          detail: { reason: reason ?? null },
        },
      );
      if (!declined) throw new RelayError('CONFLICT', 'This consent request changed meanwhile.');
      return declined;
    },

    /** The care team (or the host) withdraws a request nobody has answered yet. */
    async cancel(identity: Identity, requestId: string, reason: string | undefined) {
      const request = await requestOf(identity, requestId);
      const member = await chat.requireMember(identity, request.conversationId);
      if (!CARE_TEAM.has(member.role))
        throw new RelayError('FORBIDDEN', 'Only the care team can cancel a consent request.');
      requireOpen(request);
      const cancelled = await store.transitionConsentRequest(
        identity.tenantId,
        requestId,
        OPEN,
        'cancelled',
        {
          type: 'cancelled',
          at: now().toISOString(),
          actorId: identity.userId,
          detail: { reason: reason ?? null },
        },
      );
      if (!cancelled) throw new RelayError('CONFLICT', 'This consent request changed meanwhile.');
      return cancelled;
    },

    /** The patient or the signer withdraws a signed consent; it ends at once, for every recipient. */
    async revoke(
      identity: Identity,
      requestId: string,
      typedName: string,
      context: SigningContext,
    ) {
      const request = await requestOf(identity, requestId);
      if (identity.userId !== request.patientId && identity.userId !== request.signerId) {
        throw new RelayError(
          'FORBIDDEN',
          'Only the patient or the signer can revoke this consent.',
        );
      }
      if (request.state !== 'signed') {
        throw new RelayError('CONFLICT', `This consent is ${request.state}, not in effect.`);
      }
      const match = requireOwnName(identity, typedName);
      const revocation: ConsentRevocationView = {
        requestId,
        revokedBy: {
          tenantId: identity.tenantId,
          userId: identity.userId,
          role: identity.role,
          displayName: identity.displayName,
          authTime: identity.authTime?.toISOString() ?? null,
        },
        revokedAt: now().toISOString(),
        signature: {
          method: 'typed',
          name: typedName,
          checkedAgainst: identity.displayName,
          match,
        },
        ip: context.ip,
        userAgent: context.userAgent.slice(0, 500),
      };
      const revoked = await store.revokeConsent(
        identity.tenantId,
        requestId,
        {
          type: 'revoked',
          at: revocation.revokedAt,
          actorId: identity.userId,
          // The typed name is the signature of the revocation: it is kept with the record, and
          // the audit, which holds no names, keeps hashes only.
          detail: {
            signature: canonicalHash(typedName),
            method: 'typed',
            match,
            revocationHash: canonicalHash(revocation),
          },
        },
        canonicalJson(revocation),
      );
      if (!revoked) throw new RelayError('CONFLICT', 'This consent changed meanwhile.');
      return revoked;
    },

    /** The sealed PDF of a signed record, made on first request and the same bytes after. */
    async pdf(identity: Identity, requestId: string): Promise<ConsentPdfResult> {
      const request = await requestOf(identity, requestId);
      await requireReader(identity, request);
      const stored = await store.getConsentRecord(identity.tenantId, requestId);
      if (!stored) throw new RelayError('NOT_FOUND', 'This consent has not been signed.');
      let pdf = await store.getConsentPdf(identity.tenantId, requestId);
      if (pdf === undefined) {
        const made = await pdfs.make({
          record: JSON.parse(stored.canonical) as ConsentRecordView,
          recordHash: stored.recordHash,
          template: await templateOf(identity, request),
          patientName: await patientName(identity, request),
          events: await store.listConsentEvents(identity.tenantId, requestId),
          signatureImage: stored.signatureImage,
        });
        pdf = await store.saveConsentPdf(identity.tenantId, requestId, made.toString('base64'));
      }
      const sha256 = createHash('sha256').update(Buffer.from(pdf, 'base64')).digest('hex');
      return { pdf, sha256: `sha256:${sha256}` };
    },

    /** Marks consents past their expiry as expired; the changed requests with their tenant. */
    expireDue: () => store.expireDueConsents(now().toISOString()),

    /** The care team sees a conversation's requests; others only those they are part of. */
    async list(identity: Identity, conversationId: string | undefined) {
      if (conversationId !== undefined) {
        const member = await chat.requireMember(identity, conversationId);
        if (CARE_TEAM.has(member.role))
          return store.listConsentRequests(identity.tenantId, { conversationId });
      }
      return store.listConsentRequests(identity.tenantId, {
        userId: identity.userId,
        ...(conversationId === undefined ? {} : { conversationId }),
      });
    },
  };
}

export type ConsentService = ReturnType<typeof createConsentService>;
