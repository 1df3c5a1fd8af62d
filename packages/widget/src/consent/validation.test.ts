// <carethread-consent> checks its forms itself: required fields marked (visibly and for screen
// readers), one error summary at the top of the step whose entries take focus to each field, and
// the typed name compared with the signer's before anything is sent.
import { expect, waitUntil } from '@open-wc/testing';
import { sendKeys } from '@web/test-runner-commands';
import { consentRequest, signAsPatient } from '../test-support/chat.js';
import {
  $,
  $$,
  askForm,
  consentAs,
  fillForm,
  focused,
  listAs,
  root,
  text,
} from '../test-support/consent.js';
import type { CareThreadConsent } from './consent.component.js';

const summaryItems = (element: CareThreadConsent) =>
  $$(element, '.error-summary li').map((li) => li.textContent.replace(/\s+/g, ' ').trim());

describe('<carethread-consent> form checks', () => {
  it('marks every required field visibly and with aria-required, and checks it itself', async () => {
    const { requestId, patient } = await consentRequest();
    const element = await consentAs(requestId, patient);
    expect(($(element, 'form') as HTMLFormElement).noValidate).to.equal(true);
    const required = $$(element, '[aria-required="true"]');
    // The disclosure, the acknowledgement, the choice and the typed name.
    expect(required.map((c) => c.getAttribute('name'))).to.deep.equal([
      'disclosure',
      'ack',
      'field-signing-as',
      'signature',
    ]);
    for (const control of required) {
      const marker = control.closest('label')?.querySelector('.req');
      expect(marker, `a marker for ${control.getAttribute('name') ?? ''}`).to.not.equal(null);
      expect(getComputedStyle(marker as Element, '::after').content).to.contain('*');
    }
    expect(text(element, 'form')).to.contain('* Required');
  });

  it('shows an error summary at the top of the form whose entries move focus to each field', async () => {
    const { requestId, patient, provider, id } = await consentRequest();
    const element = await consentAs(requestId, patient);
    $(element, '[part="sign"]').click();
    await waitUntil(() => root(element).querySelector('.error-summary'), 'no summary');
    const summary = $(element, '.error-summary');
    expect(summary.getAttribute('role')).to.equal('alert');
    expect(summary.compareDocumentPosition($(element, '[part="disclosure"]'))).to.equal(
      Node.DOCUMENT_POSITION_FOLLOWING,
    );
    await waitUntil(() => focused(element) === summary, 'focus is not on the summary');
    expect(summaryItems(element)).to.deep.equal([
      'Check “I agree to use electronic records and signatures.”',
      'Check “I can revoke this at any time; what was shared before stays shared.”',
      'Choose an answer for “I am signing as”',
      'Fill in “Your full name”',
    ]);
    const entries = $$(element, '.error-summary button');
    const targets = ['disclosure', 'ack', 'field-signing-as', 'signature'];
    for (const [i, name] of targets.entries()) {
      entries[i]?.click();
      expect(focused(element)?.getAttribute('name')).to.equal(name);
      expect(focused(element)?.getAttribute('aria-invalid')).to.equal('true');
    }
    await expect(element).to.be.accessible();
    const { requests } = await provider.request('consent.list', { conversationId: id });
    expect(requests.map((r) => r.state)).to.deep.equal(['viewed']);
  });

  it('refuses a typed name that is not the signer\'s ("zzz") with a sentence that says whose', async () => {
    const { requestId, patient, provider, id } = await consentRequest();
    const element = await consentAs(requestId, patient);
    fillForm(element, 'zzz');
    $(element, '[part="sign"]').click();
    await waitUntil(() => root(element).querySelector('.error-summary'), 'zzz was accepted');
    expect(summaryItems(element)).to.deep.equal([
      'Type your name as your account shows it: Alice Moreno.',
    ]);
    expect($(element, 'input[name="signature"]').getAttribute('aria-invalid')).to.equal('true');
    await expect(element).to.be.accessible();
    let { requests } = await provider.request('consent.list', { conversationId: id });
    expect(requests.map((r) => r.state)).to.deep.equal(['viewed']);

    // Case, accents, spaces and punctuation do not count.
    ($(element, 'input[name="signature"]') as HTMLInputElement).value = '  alice   MORENÓ. ';
    $(element, '[part="sign"]').click();
    await waitUntil(() => root(element).querySelector('[part="receipt"]'), 'not signed');
    ({ requests } = await provider.request('consent.list', { conversationId: id }));
    expect(requests.map((r) => r.state)).to.deep.equal(['signed']);
  });

  it('refuses "zzz" as the signature of a revocation, in the form\'s own summary', async () => {
    const { requestId, patient } = await consentRequest();
    await signAsPatient(patient, requestId);
    const list = await listAs(patient);
    $(list, '.consents button.danger').click();
    await waitUntil(() => focused(list) === $(list, 'input[name="confirm-name"]'), 'no focus');
    await sendKeys({ press: 'Enter' });
    await waitUntil(() => root(list).querySelector('form.confirm .error-summary'), 'no summary');
    expect(summaryItems(list)).to.deep.equal(['Fill in “Your full name”']);
    $(list, '.error-summary button').click();
    await sendKeys({ type: 'zzz' });
    await sendKeys({ press: 'Enter' });
    await waitUntil(
      () => summaryItems(list)[0]?.includes('Alice Moreno'),
      'zzz was accepted for a revocation',
    );
    expect(summaryItems(list)).to.deep.equal([
      'Type your name as your account shows it: Alice Moreno.',
    ]);
    expect(text(list, '.consents')).to.contain('In effect');
    await expect(list).to.be.accessible();
  });

  it('asks the care team for a purpose and an end date, and says what the relay refused', async () => {
    const { id } = await consentRequest();
    const element = await askForm(id);
    expect(($(element, 'form') as HTMLFormElement).noValidate).to.equal(true);
    expect($$(element, '[aria-required="true"]').map((c) => c.getAttribute('name'))).to.deep.equal([
      'purpose',
      'until',
    ]);
    ($(element, 'input[name="purpose"]') as HTMLInputElement).value = ''; // was the last request's
    ($(element, 'input[name="until"]') as HTMLInputElement).value = '';
    $(element, 'button.primary').click();
    await waitUntil(() => root(element).querySelector('.error-summary'), 'no summary');
    expect(summaryItems(element)).to.deep.equal(['Fill in “Purpose”', 'Fill in “Until”']);
    $$(element, '.error-summary button')[1]?.click();
    expect(focused(element)?.getAttribute('name')).to.equal('until');
    await expect(element).to.be.accessible();

    // An end date in the past: the relay's refusal, in the same place.
    ($(element, 'input[name="purpose"]') as HTMLInputElement).value = 'Family support';
    ($(element, 'input[name="until"]') as HTMLInputElement).value = '2020-01-01';
    $(element, 'button.primary').click();
    await waitUntil(
      () =>
        summaryItems(element)[0] === 'Some answers were not accepted. Check them and try again.',
      'no refusal',
    );
    await waitUntil(() => focused(element) === $(element, '.error-summary'), 'no focus');
  });
});
