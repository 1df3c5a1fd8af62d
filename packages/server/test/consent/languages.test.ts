// Consent forms in more than one language through a real relay, on both engines: publishing a
// template with translations (the same structure in every language, one hash over all of them),
// reading it in the reader's language, and signing in the language shown.
import { createHash } from 'node:crypto';
import canonicalizeModule from 'canonicalize';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConsentViewResult,
  ELECTRONIC_RECORDS_DISCLOSURES,
  type ConsentBlock,
  type ConsentRequestView,
} from '@carethread/shared';
import { canonicalHash } from '../../src/core/canonical.js';
import { verifyReceipt } from '../../src/consent/receipts.js';
import { call, connectAs, ok, type RawSocket, type TestRelay } from '../helpers.js';
import { consentCast, inAWeek, requestFor, type ConsentCast } from './cast.js';
import { describeOnEachEngine } from './engines.js';
import {
  SPANISH_FAMILY_DISCLOSURE,
  bilingualFamilyDisclosureTemplate,
  familyDisclosureTemplate,
} from './fixtures.js';

const canonicalize = canonicalizeModule as unknown as (input: unknown) => string;
const sha256 = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`;
const acknowledgements = (blocks: ConsentBlock[]) =>
  blocks.flatMap((b) => (b.type === 'acknowledgement' ? [b.id] : []));

describeOnEachEngine('consent forms in several languages', (start) => {
  let relay: TestRelay;
  let cast: ConsentCast;
  let staff: RawSocket;
  let provider: RawSocket;
  let alice: RawSocket;

  beforeAll(async () => {
    relay = await start();
    cast = await consentCast(relay, bilingualFamilyDisclosureTemplate());
    ({ provider, alice } = cast);
    staff = await connectAs(relay, await relay.token('admin', 'staff'));
  });
  afterAll(async () => {
    cast.close();
    staff.close();
    await relay.close();
  });

  const asked = async (): Promise<ConsentRequestView> =>
    ok(provider, 'consent.request', requestFor(await cast.conversation()));

  describe('publishing', () => {
    it('hashes every language, and keeps a template without translations as it was', async () => {
      const bilingual = bilingualFamilyDisclosureTemplate('t-bilingual');
      const published = await ok(staff, 'consent.template.publish', bilingual);
      expect(published.template.hash).toBe(sha256(canonicalize(bilingual)));
      expect(published.template.translations).toEqual([SPANISH_FAMILY_DISCLOSURE]);
      const { versions } = await ok(staff, 'consent.template.versions', {
        templateId: 't-bilingual',
      });
      expect(versions).toEqual([published.template]);

      // Another Spanish word is another version; no translations at all is the English form.
      const [text] = bilingual.translations ?? [];
      const reworded = await ok(staff, 'consent.template.publish', {
        ...bilingual,
        translations: [{ ...SPANISH_FAMILY_DISCLOSURE, title: `${text?.title ?? ''} (revisada)` }],
      });
      expect(reworded.template.version).toBe(2);
      const english = familyDisclosureTemplate('t-english');
      const alone = await ok(staff, 'consent.template.publish', english);
      expect(alone.template.hash).toBe(sha256(canonicalize(english)));
      expect(alone.template).not.toHaveProperty('translations');
      const empty = await ok(staff, 'consent.template.publish', { ...english, translations: [] });
      expect(empty).toEqual({ ...alone, created: false });
    });

    it('refuses a translation that lacks a block or covers other elements, naming the language and the block', async () => {
      const template = bilingualFamilyDisclosureTemplate('t-refused');
      const spanish = SPANISH_FAMILY_DISCLOSURE;
      const cases: [ConsentBlock[], string][] = [
        [
          spanish.blocks.filter((b) => !(b.type === 'acknowledgement' && b.id === 'redisclosure')),
          'The "es" translation has 9 blocks; it must have the 10 of the default text ("en"), in the same order.',
        ],
        [
          spanish.blocks.map((b) =>
            b.type === 'acknowledgement' && b.id === 'revoke' ? { ...b, covers: [] } : b,
          ),
          'Block 5 ("revoke") of the "es" translation covers nothing; it must cover revocation, as in the default text.',
        ],
        [
          spanish.blocks.map((b) =>
            b.type === 'field' && b.input === 'choice'
              ? { ...b, options: ['Paciente', 'Tutor legal'] }
              : b,
          ),
          'Block 9 ("capacity") of the "es" translation has 2 options; it must have 3, as in the default text.',
        ],
      ];
      for (const [blocks, sentence] of cases) {
        const ack = await call(staff, 'consent.template.publish', {
          ...template,
          translations: [{ ...spanish, blocks }],
        });
        expect(ack.ok ? 'published' : ack.error).toEqual({ code: 'VALIDATION', message: sentence });
      }
      const twice = await call(staff, 'consent.template.publish', {
        ...template,
        translations: [spanish, { ...spanish, title: 'Otra vez' }],
      });
      expect(twice.ok ? 'published' : twice.error.message).toBe(
        'Each language may be given once: "es" is given 2 times.',
      );
      const versions = await call(staff, 'consent.template.versions', { templateId: 't-refused' });
      expect(versions.ok ? 'stored' : versions.error.code).toBe('NOT_FOUND');
    });
  });

  describe('reading', () => {
    it("answers in the reader's language, the closest one, or the default", async () => {
      const request = await asked();
      const cases = [
        [undefined, 'en'],
        ['es', 'es'],
        ['es-MX', 'es'],
        ['ES', 'es'],
        ['en-GB', 'en'],
        ['fr', 'en'],
      ] as const;
      for (const [language, shown] of cases) {
        const view = await ok(alice, 'consent.view', {
          requestId: request.requestId,
          ...(language ? { language } : {}),
        });
        expect([language, view.language, view.template.language]).toEqual([language, shown, shown]);
        expect(view.languages).toEqual(['en', 'es']);
        expect(view.template.hash).toBe(request.templateHash);
        expect(view.template).not.toHaveProperty('translations');
        expect(view.disclosure).toEqual({
          language: shown,
          text: ELECTRONIC_RECORDS_DISCLOSURES[shown],
          hash: canonicalHash(ELECTRONIC_RECORDS_DISCLOSURES[shown]),
        });
      }
      const spanish = await ok(alice, 'consent.view', {
        requestId: request.requestId,
        language: 'es',
      });
      expect(spanish.template.title).toBe(SPANISH_FAMILY_DISCLOSURE.title);
      expect(spanish.template.blocks).toEqual(SPANISH_FAMILY_DISCLOSURE.blocks);
      expect(spanish.meaning).toBe('Autorizo la divulgación descrita en este formulario.');
      const bad = await call(alice, 'consent.view', {
        requestId: request.requestId,
        language: 'español',
      });
      expect(bad.ok ? 'shown' : bad.error.code).toBe('VALIDATION');
    });

    it('gives the host the form in a language, without marking it viewed', async () => {
      const request = await asked();
      const form = async (query: string) => {
        const response = await fetch(
          `${relay.url}/api/v1/consent-requests/${request.requestId}/form${query}`,
          { headers: { authorization: `Bearer ${relay.apiKey}` } },
        );
        expect(response.status).toBe(200);
        return ConsentViewResult.parse(await response.json());
      };
      const spanish = await form('?language=es-US');
      expect(spanish.language).toBe('es');
      expect(spanish.template.title).toBe(SPANISH_FAMILY_DISCLOSURE.title);
      expect(spanish.request.state).toBe('requested');
      expect((await form('')).language).toBe('en');
      const bad = await fetch(
        `${relay.url}/api/v1/consent-requests/${request.requestId}/form?language=${encodeURIComponent('<es>')}`,
        { headers: { authorization: `Bearer ${relay.apiKey}` } },
      );
      expect(bad.status).toBe(400);
    });
  });

  describe('signing', () => {
    it('records the language shown, whose disclosure, meaning and answers the record holds', async () => {
      const request = await asked();
      const view = await ok(alice, 'consent.view', {
        requestId: request.requestId,
        language: 'es',
      });
      const signed = await ok(alice, 'consent.sign', {
        requestId: request.requestId,
        language: 'es',
        disclosureHash: view.disclosure.hash,
        acknowledgements: acknowledgements(view.template.blocks),
        answers: { capacity: 'Paciente', 'ends-on': inAWeek().slice(0, 10) },
        signature: { method: 'typed', name: 'Alice Moreno' },
      });
      expect(signed.record).toMatchObject({
        language: 'es',
        disclosureHash: canonicalHash(ELECTRONIC_RECORDS_DISCLOSURES.es),
        meaning: 'Autorizo la divulgación descrita en este formulario.',
        answers: { capacity: 'Paciente' },
      });
      // The language is part of what the hash and the receipt cover.
      expect(signed.recordHash).toBe(canonicalHash(signed.record));
      expect(signed.recordHash).not.toBe(canonicalHash({ ...signed.record, language: 'en' }));
      const jwks = (await (await fetch(`${relay.url}/.well-known/jwks.json`)).json()) as Parameters<
        typeof verifyReceipt
      >[1];
      expect((await verifyReceipt(signed.receipt, jwks)).record).toMatchObject({ language: 'es' });
    });

    it("refuses another language's disclosure, a language the form lacks, and answers from another language", async () => {
      const request = await asked();
      const english = await ok(alice, 'consent.view', { requestId: request.requestId });
      const spanish = await ok(alice, 'consent.view', {
        requestId: request.requestId,
        language: 'es',
      });
      const base = {
        requestId: request.requestId,
        acknowledgements: acknowledgements(english.template.blocks),
        signature: { method: 'typed' as const, name: 'Alice Moreno' },
      };
      const cases = [
        [
          'es',
          english.disclosure.hash,
          'Paciente',
          'Accept the electronic-records disclosure shown with the form (es) before signing.',
        ],
        [
          undefined,
          spanish.disclosure.hash,
          'The patient',
          'Accept the electronic-records disclosure shown with the form (en) before signing.',
        ],
        [
          'fr',
          english.disclosure.hash,
          'The patient',
          'This form is not offered in "fr"; it is offered in en, es. Send the language it was shown in.',
        ],
        [
          'es',
          spanish.disclosure.hash,
          'The patient',
          '"Firmo en calidad de" has an answer of the wrong kind.',
        ],
      ] as const;
      for (const [language, disclosureHash, capacity, message] of cases) {
        const ack = await call(alice, 'consent.sign', {
          ...base,
          ...(language ? { language } : {}),
          disclosureHash,
          answers: { capacity, 'ends-on': inAWeek().slice(0, 10) },
        });
        expect(ack.ok ? 'signed' : ack.error).toEqual({ code: 'VALIDATION', message });
      }
      // Without a language, the default one was shown.
      const signed = await ok(alice, 'consent.sign', {
        ...base,
        disclosureHash: english.disclosure.hash,
        answers: { capacity: 'The patient', 'ends-on': inAWeek().slice(0, 10) },
      });
      expect(signed.record.language).toBe('en');
      expect(signed.record.meaning).toBe('I authorize the disclosure described in this form.');
    });

    it('says what a representative signs as in the language shown', async () => {
      const request = await ok(
        provider,
        'consent.request',
        requestFor(await cast.conversation(), {
          representative: { userId: 'bob', capacity: 'guardian' },
        }),
      );
      const view = await ok(cast.bob, 'consent.view', {
        requestId: request.requestId,
        language: 'es',
      });
      expect(view.meaning).toBe(
        'Autorizo la divulgación descrita en este formulario y firmo como tutor legal de Alice Moreno.',
      );
    });
  });
});
