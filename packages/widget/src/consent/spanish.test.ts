// <carethread-consent> in Spanish, in every state a person meets: no English of the element's own
// (only the relay's electronic-records disclosure and signature meaning, marked lang="en"), and
// the accessibility checks in each.
import { expect, waitUntil } from '@open-wc/testing';
import { careConversation, clientFor } from '../test-support/chat.js';
import {
  $,
  askAs,
  consentAs,
  englishIn,
  fillForm,
  listAs,
  root,
  signForm,
} from '../test-support/consent.js';
import type { CareThreadConsent } from './consent.component.js';

/** A Spanish form, as a host would publish it for Spanish-speaking patients. */
const FORMULARIO = {
  templateId: 'wtr-familia-es',
  kind: 'general' as const,
  language: 'es',
  title: 'Compartir mi conversación de atención con mi familia',
  blocks: [
    { type: 'paragraph' as const, text: 'Sunrise Recovery puede compartir mi conversación.' },
    {
      type: 'acknowledgement' as const,
      id: 'puedo-revocar',
      text: 'Puedo revocar esto en cualquier momento.',
    },
    {
      type: 'field' as const,
      id: 'firmo-como',
      label: 'Firmo como',
      input: 'choice' as const,
      required: true,
      options: ['El paciente', 'Tutor legal'],
    },
  ],
};

async function spanishRequest() {
  const conversation = await careConversation();
  const { id, provider, patient } = conversation;
  await clientFor(`admin-${id}`, 'staff').request('consent.template.publish', FORMULARIO);
  const ask = (purpose: string) =>
    provider.request('consent.request', {
      requestId: `req-${crypto.randomUUID()}`,
      templateId: FORMULARIO.templateId,
      conversationId: id,
      patientId: patient,
      recipients: [`bob-${id}`],
      purpose,
      expiresAt: new Date(Date.now() + 30 * 86_400_000).toISOString(),
    });
  return { ...conversation, ask };
}

/** The patient signs the Spanish form through the headless client. */
async function firmar(patient: string, requestId: string) {
  const client = clientFor(patient, 'patient', { name: 'Alice Moreno' });
  const { disclosure } = await client.request('consent.view', { requestId });
  await client.request('consent.sign', {
    requestId,
    disclosureHash: disclosure.hash,
    acknowledgements: ['puedo-revocar'],
    answers: { 'firmo-como': 'El paciente' },
    signature: { method: 'typed', name: 'Alice Moreno' },
  });
}

async function expectSpanish(element: CareThreadConsent, where: string) {
  await element.updateComplete;
  expect(englishIn(element), `English in ${where}`).to.deep.equal([]);
  await expect(element).to.be.accessible();
}

describe('<carethread-consent> in Spanish', () => {
  it('has no English in the form, its checks, the receipt, a decline and the list', async () => {
    const { patient, ask } = await spanishRequest();
    const first = await ask('Para que mi hermano me apoye.');
    const form = await consentAs(first.requestId, patient, 'es');
    await waitUntil(() => $(form, '[part="sign"]').textContent.trim() === 'Firmar y enviar');
    await expectSpanish(form, 'the form');
    $(form, '[part="sign"]').click();
    await waitUntil(() => root(form).querySelector('.error-summary'), 'no summary');
    await expectSpanish(form, 'the error summary');
    fillForm(form, 'zzz');
    $(form, '[part="sign"]').click();
    await waitUntil(() => $(form, '.error-summary').textContent.includes('Alice Moreno'));
    await expectSpanish(form, 'the name check');
    await signForm(form);
    await waitUntil(() => root(form).querySelector('[part="receipt"] a[download]'), 'no PDF');
    await expectSpanish(form, 'the receipt');

    const second = await ask('Segunda ronda');
    const declined = await consentAs(second.requestId, patient, 'es');
    $(declined, 'summary').click();
    $(declined, 'details button').click();
    await waitUntil(() => root(declined).querySelector('[part="receipt"]'), 'no outcome');
    expect($(declined, '[part="receipt"]').textContent).to.contain('Su consentimiento anterior');
    await expectSpanish(declined, 'a decline while an earlier consent is in effect');

    await ask('Tercera ronda');
    const list = await listAs(patient, 'es');
    await waitUntil(() => root(list).querySelector('.consents a[download]'), 'no PDF');
    await expectSpanish(list, 'the list');
    $(list, '.consents button.danger').click();
    await list.updateComplete;
    ($(list, 'input[name="confirm-name"]') as HTMLInputElement).value = 'zzz';
    $(list, 'form.confirm button[type="submit"]').click();
    await waitUntil(() => root(list).querySelector('form.confirm .error-summary'), 'no summary');
    await expectSpanish(list, 'the revocation form');
    ($(list, 'input[name="confirm-name"]') as HTMLInputElement).value = 'Alice Moreno';
    $(list, 'form.confirm button[type="submit"]').click();
    await waitUntil(() => $(list, '[role="status"]').textContent.includes('Bob Moreno'));
    await expectSpanish(list, 'the list after revoking');

    const closed = await consentAs(first.requestId, patient, 'es');
    await expectSpanish(closed, 'a revoked request');
  });

  it('has no English for the care team, asking and following the request', async () => {
    const { id, patient } = await spanishRequest();
    const element = await askAs(id, 'es', FORMULARIO.templateId);
    await waitUntil(() => root(element).querySelector('input[name="purpose"]'), 'no form');
    await expectSpanish(element, 'the ask form');
    $(element, 'button.primary').click();
    await waitUntil(() => root(element).querySelector('.error-summary'), 'no summary');
    await expectSpanish(element, 'the ask form with errors');
    const requested = new Promise<CustomEvent<{ requestId: string }>>((resolve) => {
      element.addEventListener('carethread-requested', resolve, { once: true });
    });
    ($(element, 'input[name="purpose"]') as HTMLInputElement).value = 'Apoyo familiar';
    $(element, 'button.primary').click();
    const { requestId } = (await requested).detail;
    await waitUntil(() => root(element).querySelector('[part="receipt"]'), 'no request');
    await expectSpanish(element, 'the request, waiting');
    await firmar(patient, requestId);
    await waitUntil(() => $(element, '[part="receipt"]').textContent.includes('En vigor'));
    await expectSpanish(element, 'the request, signed');
  });
});
