// The signing step: the electronic-records disclosure to accept, the form, what the signature means
// and the signature itself, with the error summary at the top and a way to decline at the bottom.
import { html, type TemplateResult } from 'lit';
import { msg } from '@lit/localize';
import type { ConsentViewResult } from '@carethread/shared';
import { checkbox, renderBlock, requiredField, requiredNote } from './consent-blocks.js';
import { renderProblems, type Problem } from './consent-checks.js';
import type { DrawnSignatureController } from './drawn-signature.js';

/** What the form shows and what its buttons do; the consent element provides it at each render. */
export interface SignForm {
  readonly view: ConsentViewResult;
  /** The signature or decline is on its way: the buttons wait. */
  readonly busy: boolean;
  readonly problems: readonly Problem[];
  readonly signing: DrawnSignatureController;
  /** The reader's locale, for the parts in the element's own words. */
  readonly locale: string;
  readonly sign: (event: SubmitEvent) => void;
  readonly decline: () => void;
  readonly focusField: (id: string) => void;
}

export function renderSignForm(form: SignForm): TemplateResult {
  const { view, busy, locale } = form;
  // The disclosure and the meaning are the relay's texts (English), recorded as shown; the form is
  // in its template's language.
  return html`<form novalidate @submit=${form.sign}>
    ${renderProblems(form.problems, form.focusField)} ${requiredNote()}
    <fieldset part="disclosure">
      <legend>${msg('1. Electronic records', { id: 'consent-step-disclosure' })}</legend>
      ${view.disclosure.text.split('\n').map((line) => html`<p lang="en">${line}</p>`)}
      ${checkbox(
        'disclosure',
        'disclosure',
        msg('I agree to use electronic records and signatures.', {
          id: 'consent-accept-disclosure',
        }),
        true,
      )}
    </fieldset>
    <fieldset part="form" lang=${view.template.language}>
      <legend lang=${locale}>${msg('2. The form', { id: 'consent-step-form' })}</legend>
      ${view.template.blocks.map((block) => renderBlock(block))}
    </fieldset>
    <fieldset part="signature">
      <legend>${msg('3. Signature', { id: 'consent-step-signature' })}</legend>
      <p class="meaning" lang="en">${view.meaning}</p>
      ${requiredField(
        'signature',
        msg('Type your full name to sign', { id: 'consent-typed-name' }),
        {
          named: msg('Your full name', { id: 'consent-revoke-name' }),
          autocomplete: 'name',
          maxlength: 200,
        },
      )}
      ${form.signing.render()}
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
