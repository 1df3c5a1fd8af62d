// The care team's side: the form that asks the patient of a conversation to consent to sharing it
// with family members, and what follows once asked.
import { html, nothing, type TemplateResult } from 'lit';
import { msg, str } from '@lit/localize';
import type { ErrorBody, ParticipantView } from '@carethread/shared';
import { consentErrorText } from './consent-checks.js';

/** What the care team's step shows and what its buttons do, as of this render. */
export interface Ask {
  readonly people: readonly ParticipantView[];
  /** Asked: the confirmation instead of the form. */
  readonly asked: boolean;
  readonly error: ErrorBody | undefined;
  readonly submit: (event: SubmitEvent) => void;
  /** Back to the form, for a new request. */
  readonly again: () => void;
}

export function renderAsk(ask: Ask): TemplateResult {
  const patient = ask.people.find((p) => p.role === 'patient')?.displayName ?? '';
  if (ask.asked)
    return html`<p role="status">
      ${msg(str`Asked. ${patient} will find the request in the portal.`, { id: 'consent-asked' })}
      <button type="button" @click=${ask.again}>
        ${msg('Ask again', { id: 'consent-ask-again' })}
      </button>
    </p>`;
  const nextYear = new Date(Date.now() + 365 * 86_400_000).toISOString().slice(0, 10);
  return html`<form @submit=${ask.submit}>
    <fieldset>
      <legend>
        ${msg(str`Share with (family of ${patient})`, { id: 'consent-ask-recipients' })}
      </legend>
      ${ask.people
        .filter((p) => p.role === 'family')
        .map(
          (p) =>
            html`<label class="check"
              ><input type="checkbox" name="recipient" value=${p.userId} checked />
              ${p.relationship ? `${p.displayName} (${p.relationship})` : p.displayName}</label
            >`,
        )}
    </fieldset>
    <label class="field"
      >${msg('Purpose', { id: 'consent-ask-purpose' })}
      <input name="purpose" required maxlength="1000"
    /></label>
    <label class="field"
      >${msg('Until', { id: 'consent-ask-until' })}
      <input type="date" name="until" required value=${nextYear}
    /></label>
    ${ask.error ? html`<p class="error" role="alert">${consentErrorText(ask.error)}</p>` : nothing}
    <button class="primary" type="submit">${msg('Ask for consent', { id: 'consent-ask' })}</button>
  </form>`;
}
