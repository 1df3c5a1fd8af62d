// <carethread-consent> with the keyboard and a screen reader: where focus lands after each step,
// the one polite live region that announces outcomes, and the revocation form's way out.
import { expect, fixture, html, waitUntil } from '@open-wc/testing';
import { sendKeys } from '@web/test-runner-commands';
import { consentRequest, relay, signAsPatient, tokenUrl } from '../test-support/chat.js';
import {
  $,
  $$,
  askForm,
  consentAs,
  fillForm,
  focused,
  listAs,
  root,
  said,
  signForm,
  text,
} from '../test-support/consent.js';
import type { CareThreadConsent } from './consent.component.js';

/** Waits until focus rests on what `selector` matches. */
async function focusOn(element: CareThreadConsent, selector: string, what: string) {
  await waitUntil(
    () => {
      const target = root(element).querySelector(selector);
      return target && focused(element) === target;
    },
    `focus is not on ${what} but on ${focused(element)?.outerHTML.slice(0, 80) ?? 'the page'}`,
    { timeout: 10000 },
  );
}

describe('<carethread-consent> focus and announcements', () => {
  it('has one polite live region from the first render, before anything loads', async () => {
    const element = await fixture<CareThreadConsent>(
      html`<carethread-consent
        server=${relay}
        token-url=${tokenUrl('nobody', 'patient')}
      ></carethread-consent>`,
    );
    const regions = $$(element, '[role="status"], [role="log"], [aria-live]');
    expect(regions).to.have.length(1);
    expect(regions[0]?.getAttribute('role')).to.equal('status');
    expect(regions[0]?.getAttribute('aria-live') ?? 'polite').to.equal('polite');
  });

  it('moves focus from the list to the form, to the receipt after signing, and back to the list', async () => {
    const { requestId, patient } = await consentRequest();
    const list = await listAs(patient);
    $(list, '.consents button').click(); // "Review and sign"
    await focusOn(list, 'h2', 'the form title');
    expect(text(list, 'h2')).to.equal('Sharing my care conversation with my family');
    expect($(list, 'h2').tabIndex).to.equal(-1);
    await signForm(list);
    await focusOn(list, '[part="receipt"] h3', 'the receipt heading');
    expect(said(list)).to.contain('Bob Moreno');
    ($$(list, '[part="receipt"] button').at(-1) as HTMLElement).click(); // "Your consents"
    await waitUntil(() => root(list).querySelector('.consents'), 'no list', { timeout: 10000 });
    await focusOn(list, 'h2', 'the list title');
    expect(text(list, 'h2')).to.equal('Your consents');
    expect(requestId).to.be.a('string');
  });

  it('moves focus to the outcome after declining, and announces it', async () => {
    const { requestId, patient } = await consentRequest();
    const element = await consentAs(requestId, patient);
    $(element, 'summary').click();
    $(element, 'details button').click();
    await focusOn(element, '[part="receipt"] h3', 'the outcome heading');
    expect(text(element, '[part="receipt"] h3')).to.contain('You declined');
    await waitUntil(() => said(element).includes('Nothing was shared'), 'not announced');
  });

  it('puts the revocation form under focus; Escape and Cancel close it and return focus to "Revoke…"', async () => {
    const { requestId, patient } = await consentRequest();
    await signAsPatient(patient, requestId);
    const list = await listAs(patient);
    const opener = () => $(list, '.consents button.danger') as HTMLButtonElement;
    expect(opener().textContent.trim()).to.equal('Revoke…');
    opener().click();
    await focusOn(list, 'input[name="confirm-name"]', 'the name field');
    await sendKeys({ type: 'Alice' });
    await sendKeys({ press: 'Escape' });
    await waitUntil(() => !root(list).querySelector('form.confirm'), 'Escape did not cancel');
    await focusOn(list, '.consents button.danger', '"Revoke…"');

    opener().click();
    await focusOn(list, 'input[name="confirm-name"]', 'the name field');
    const cancel = $$(list, 'form.confirm button').find((b) => b.textContent.trim() === 'Cancel');
    expect(cancel, 'a Cancel button').to.not.equal(undefined);
    cancel?.click();
    await focusOn(list, '.consents button.danger', '"Revoke…"');
    await expect(list).to.be.accessible();

    opener().click();
    await focusOn(list, 'input[name="confirm-name"]', 'the name field');
    const submit = $(list, 'form.confirm button[type="submit"]');
    expect(submit.classList.contains('danger'), 'revoking looks destructive').to.equal(true);
    await sendKeys({ type: 'Alice Moreno' });
    await sendKeys({ press: 'Enter' });
    await waitUntil(() => said(list).includes('Revoked'), 'not announced');
    expect(said(list)).to.contain('Bob Moreno');
    await focusOn(list, '.consents li h3', 'the revoked consent');
    await expect(list).to.be.accessible();
  });

  it('moves the care team from the form to the request they made, and back to the first field', async () => {
    const { id } = await consentRequest();
    const element = await askForm(id);
    ($(element, 'input[name="purpose"]') as HTMLInputElement).value = 'Family support';
    $(element, 'button.primary').click();
    await focusOn(element, '[part="receipt"] h3', 'the request heading');
    await waitUntil(() => said(element).includes('Alice Moreno'), 'not announced');
    $(element, '[part="receipt"] button').click(); // "Ask again"
    await focusOn(element, 'form input', 'the first field');
  });

  it('keeps focus in the form after a refusal and takes it to the error summary', async () => {
    const { requestId, patient } = await consentRequest();
    const element = await consentAs(requestId, patient);
    fillForm(element, 'zzz');
    $(element, '[part="sign"]').click();
    await focusOn(element, '.error-summary', 'the error summary');
  });
});
