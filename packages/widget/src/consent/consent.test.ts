// <carethread-consent> in real Chromium against the real relay: reviewing, signing with the
// keyboard, the receipt and PDF, declining, Spanish, and the accessibility checks.
import { expect, fixture, html, waitUntil } from '@open-wc/testing';
import { sendKeys, sendMouse } from '@web/test-runner-commands';
import { consentRequest, relay, tokenUrl } from '../test-support/chat.js';
import { $, consentAs, root } from '../test-support/consent.js';
import type { CareThreadConsent, ConsentSignedEvent } from './consent.component.js';

describe('<carethread-consent>', () => {
  it('shows the disclosure, the form and what the signature means', async () => {
    const { requestId, patient } = await consentRequest();
    const element = await consentAs(requestId, patient);
    expect($(element, 'h2').textContent.trim()).to.equal(
      'Sharing my care conversation with my family',
    );
    expect($(element, '.summary').textContent).to.contain('Bob Moreno (brother)');
    expect($(element, '[part="disclosure"]').textContent).to.contain('paper copy');
    expect($(element, '[part="form"]').textContent).to.contain('I can revoke this at any time');
    expect($(element, '.meaning').textContent).to.equal(
      'I authorize the disclosure described in this form.',
    );
    await expect(element).to.be.accessible();
  });

  it('signs with the keyboard: checks, choice, typed name, Enter; then the receipt and the PDF', async () => {
    const { requestId, patient, provider, id } = await consentRequest();
    const element = await consentAs(requestId, patient);
    const signed = new Promise<ConsentSignedEvent>((resolve) => {
      element.addEventListener('carethread-signed', resolve, { once: true });
    });
    $(element, 'input[name="disclosure"]').focus();
    await sendKeys({ press: 'Space' });
    await sendKeys({ press: 'Tab' });
    await sendKeys({ press: 'Space' }); // the acknowledgement
    await sendKeys({ press: 'Tab' });
    await sendKeys({ press: 'ArrowDown' }); // the choice: "The patient"
    await sendKeys({ press: 'Tab' });
    await sendKeys({ type: 'Alice Moreno' });
    await sendKeys({ press: 'Enter' });
    const { detail } = await signed;
    expect(detail.record.signature).to.deep.include({ method: 'typed', name: 'Alice Moreno' });
    expect(detail.record.answers).to.deep.equal({ 'signing-as': 'The patient' });
    await waitUntil(() => root(element).querySelector('[part="receipt"] a'), 'no PDF link', {
      timeout: 10000,
    });
    const link = $(element, '[part="receipt"] a') as HTMLAnchorElement;
    expect(link.href).to.match(/^blob:/);
    expect((await (await fetch(link.href)).blob()).type).to.equal('application/pdf');
    expect(detail.recordHash).to.match(/^sha256:[0-9a-f]{64}$/);
    await expect(element).to.be.accessible();
    const { requests } = await provider.request('consent.list', { conversationId: id });
    expect(requests.map((r) => r.state)).to.deep.equal(['signed']);
  });

  it('takes a drawn signature from the pointer, with clear and redo', async () => {
    const { requestId, patient } = await consentRequest();
    const element = await consentAs(requestId, patient);
    ($(element, 'input[name="disclosure"]') as HTMLInputElement).checked = true;
    ($(element, 'input[name="ack"]') as HTMLInputElement).checked = true;
    ($(element, 'select') as HTMLSelectElement).value = 'The patient';
    ($(element, 'input[name="signature"]') as HTMLInputElement).value = 'Alice Moreno';
    ($(element, 'input[name="method"]:not(:checked)') as HTMLInputElement).click();
    await element.updateComplete;
    // signature_pad loads only now, when drawing is chosen.
    await waitUntil(() => root(element).querySelector('canvas.pad:not([aria-busy])'), 'no pad');
    const canvas = $(element, 'canvas.pad');
    // Measured at each drawing: a refusal takes focus (and the page) up to the error summary.
    const draw = async () => {
      canvas.scrollIntoView();
      const box = canvas.getBoundingClientRect();
      await sendMouse({
        type: 'move',
        position: [Math.round(box.left + 20), Math.round(box.top + 30)],
      });
      await sendMouse({ type: 'down' });
      for (let i = 1; i <= 8; i++)
        await sendMouse({
          type: 'move',
          position: [Math.round(box.left + 20 + i * 25), Math.round(box.top + 30 + (i % 2) * 40)],
        });
      await sendMouse({ type: 'up' });
    };
    await draw();
    $(element, '.pad + button').click(); // clear and redo
    $(element, '[part="sign"]').click();
    await waitUntil(
      () => root(element).querySelector('[role="alert"]'),
      'an empty pad was accepted',
    );
    expect($(element, '[role="alert"]').textContent).to.contain('Draw your signature');
    await expect(element).to.be.accessible();
    await draw();
    const signed = new Promise<ConsentSignedEvent>((resolve) => {
      element.addEventListener('carethread-signed', resolve, { once: true });
    });
    $(element, '[part="sign"]').click();
    const { detail } = await signed;
    expect(detail.record.signature.method).to.equal('drawn');
    expect(detail.record.signature.imageHash).to.match(/^sha256:[0-9a-f]{64}$/);
    await waitUntil(() => root(element).querySelector('[part="receipt"] a'), 'no PDF link', {
      timeout: 10000,
    });
  });

  it('declines with a reason, after which nothing is shared', async () => {
    const { requestId, patient, provider, id } = await consentRequest();
    const element = await consentAs(requestId, patient);
    $(element, 'summary').click();
    ($(element, '#decline-reason') as HTMLTextAreaElement).value = 'Not yet';
    $(element, 'details button').click();
    await waitUntil(() => root(element).querySelector('[part="receipt"]'), 'no outcome');
    expect($(element, '[part="receipt"]').textContent).to.contain('You declined this request');
    await expect(element).to.be.accessible();
    const { requests } = await provider.request('consent.list', { conversationId: id });
    expect(requests.map((r) => r.state)).to.deep.equal(['declined']);
  });

  it('speaks Spanish, and refuses people the request is not for', async () => {
    const { requestId, patient } = await consentRequest();
    const element = await consentAs(requestId, patient, 'es');
    await waitUntil(() => $(element, 'legend').textContent === '1. Registros electrónicos');
    expect($(element, '[part="sign"]').textContent.trim()).to.equal('Firmar y enviar');
    await expect(element).to.be.accessible();
    const stranger = await consentAs(requestId, 'mallory');
    // Answered like a request that does not exist: the page learns nothing of it.
    expect($(stranger, '[role="alert"]').textContent).to.contain('not addressed to you');
  });

  it("lists the reader's consents and revokes one after a signed confirmation", async () => {
    const { requestId, patient, provider, id } = await consentRequest();
    const form = await consentAs(requestId, patient);
    ($(form, 'input[name="disclosure"]') as HTMLInputElement).checked = true;
    ($(form, 'input[name="ack"]') as HTMLInputElement).checked = true;
    ($(form, 'select') as HTMLSelectElement).value = 'The patient';
    ($(form, 'input[name="signature"]') as HTMLInputElement).value = 'Alice Moreno';
    $(form, '[part="sign"]').click();
    await waitUntil(() => root(form).querySelector('[part="receipt"]'), 'not signed');

    const list = await fixture<CareThreadConsent>(
      html`<carethread-consent
        server=${relay}
        token-url=${tokenUrl(patient, 'patient', { name: 'Alice Moreno' })}
      ></carethread-consent>`,
    );
    await waitUntil(() => root(list).querySelector('.consents'), 'no list');
    expect($(list, 'h2').textContent.trim()).to.equal('Your consents');
    expect($(list, '.consents').textContent).to.contain('Bob Moreno');
    expect($(list, '.consents').textContent).to.contain('In effect');
    await expect(list).to.be.accessible();
    $(list, '.consents button').click(); // "Revoke…": the confirmation step, nothing revoked yet
    await list.updateComplete;
    expect(
      (await provider.request('consent.list', { conversationId: id })).requests[0]?.state,
    ).to.equal('signed');
    ($(list, 'input[name="confirm-name"]') as HTMLInputElement).value = 'Alice Moreno';
    $(list, '.confirm button').click();
    await waitUntil(() => root(list).querySelector('.consents')?.textContent.includes('Revoked'));
    const { requests } = await provider.request('consent.list', { conversationId: id });
    expect(requests.map((r) => r.state)).to.deep.equal(['revoked']);
    await expect(list).to.be.accessible();
  });

  it('lets the care team ask the patient to consent, naming the family members', async () => {
    const { id, provider } = await consentRequest();
    const element = await fixture<CareThreadConsent>(
      html`<carethread-consent
        server=${relay}
        conversation=${id}
        template="wtr-family-sharing"
        token-url=${tokenUrl(`dr-${id}`, 'provider', { name: 'Dr. Rivera' })}
      ></carethread-consent>`,
    );
    // The conversation's request so far, then a new one.
    await waitUntil(() => root(element).querySelector('[part="receipt"] button'), 'no request');
    $(element, '[part="receipt"] button').click(); // "Ask again"
    await waitUntil(() => root(element).querySelector('input[name="recipient"]'), 'no ask form');
    expect($(element, 'fieldset').textContent).to.contain('Bob Moreno (brother)');
    await expect(element).to.be.accessible();
    const requested = new Promise<CustomEvent<{ requestId: string; recipients: unknown[] }>>(
      (resolve) => {
        element.addEventListener('carethread-requested', resolve, { once: true });
      },
    );
    ($(element, 'input[name="purpose"]') as HTMLInputElement).value = 'Family support';
    $(element, 'button.primary').click();
    const { detail } = await requested;
    expect(detail.recipients).to.have.length(1);
    await waitUntil(() => root(element).querySelector('[part="receipt"]'));
    expect($(element, '[part="receipt"] .state').textContent).to.contain(
      'Waiting for Alice Moreno',
    );
    const { requests } = await provider.request('consent.list', { conversationId: id });
    expect(requests.map((r) => r.requestId)).to.include(detail.requestId);
  });

  it("shows a new request in the reader's list as soon as it is made", async () => {
    const { id, provider, patient } = await consentRequest();
    const list = await fixture<CareThreadConsent>(
      html`<carethread-consent
        server=${relay}
        token-url=${tokenUrl(patient, 'patient', { name: 'Alice Moreno' })}
      ></carethread-consent>`,
    );
    await waitUntil(() => root(list).querySelectorAll('.consents li').length === 1, 'no list');
    await provider.request('consent.request', {
      requestId: `req2-${id}`,
      templateId: 'wtr-family-sharing',
      conversationId: id,
      patientId: patient,
      recipients: [`bob-${id}`],
      purpose: 'A second one',
      expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
    });
    await waitUntil(() => root(list).querySelectorAll('.consents li').length === 2, 'not live');
  });
});
