// The signing step: the electronic-records disclosure to accept, the form, what the signature means
// and the signature itself, and a way to decline at the bottom.
import { html, nothing, type TemplateResult } from 'lit';
import { msg } from '@lit/localize';
import type { ConsentViewResult, ErrorBody } from '@carethread/shared';
import { renderBlock } from './consent-blocks.js';
import { consentErrorText } from './consent-checks.js';
import type { DrawnSignatureController } from './drawn-signature.js';

/** What the form shows and what its buttons do; the consent element provides it at each render. */
export interface SignForm {
  readonly view: ConsentViewResult;
  /** The signature or decline is on its way: the buttons wait. */
  readonly busy: boolean;
  readonly error: ErrorBody | undefined;
  readonly signing: DrawnSignatureController;
  readonly sign: (event: SubmitEvent) => void;
  readonly decline: () => void;
}

export function renderSignForm(form: SignForm): TemplateResult {
  const { view, busy } = form;
  return html`<form @submit=${form.sign}>
    <fieldset part="disclosure">
      <legend>${msg('1. Electronic records', { id: 'consent-step-disclosure' })}</legend>
      ${view.disclosure.text.split('\n').map((line) => html`<p>${line}</p>`)}
      <label class="check"
        ><input type="checkbox" name="disclosure" required />
        ${msg('I agree to use electronic records and signatures.', { id: 'consent-accept-disclosure' })}</label
      >
    </fieldset>
    <fieldset part="form">
      <legend>${msg('2. The form', { id: 'consent-step-form' })}</legend>
      ${view.template.blocks.map((block) => renderBlock(block))}
    </fieldset>
    <fieldset part="signature">
      <legend>${msg('3. Signature', { id: 'consent-step-signature' })}</legend>
      <p class="meaning">${view.meaning}</p>
      <label class="field"
        >${msg('Type your full name to sign', { id: 'consent-typed-name' })}
        <input name="signature" autocomplete="name" required maxlength="200"
      /></label>
      ${form.signing.render()}
      ${form.error ? html`<p class="error" role="alert">${consentErrorText(form.error)}</p>` : nothing}
      <button part="sign" class="primary" type="submit" ?disabled=${busy}>
        ${msg('Sign and submit', { id: 'consent-sign' })}
      </button>
    </fieldset>
    <details>
      <summary>${msg('Decline this request', { id: 'consent-decline-open' })}</summary>
      <label class="field" for="decline-reason"
        >${msg('Reason (optional)', { id: 'consent-decline-reason' })}</label
      >
      <textarea id="decline-reason" maxlength="500"></textarea>
      <button type="button" ?disabled=${busy} @click=${form.decline}>
        ${msg('Decline', { id: 'consent-decline' })}
      </button>
    </details>
  </form>`;
}
