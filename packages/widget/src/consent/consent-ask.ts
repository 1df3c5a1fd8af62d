// The care team's side: the form that asks the patient of a conversation to consent to sharing it
// with family members, and the request once made, kept current as the patient answers.
import { html, nothing, type TemplateResult } from 'lit';
import { msg, str } from '@lit/localize';
import type { ConsentRequestView, ParticipantView } from '@carethread/shared';
import { requiredField, requiredNote } from './consent-blocks.js';
import { missing, renderProblems, textOf, type Problem } from './consent-checks.js';
import { people, renderFacts, status } from './consent-facts.js';

/** What the care team's step shows and what its buttons do, as of this render. */
export interface Ask {
  readonly people: readonly ParticipantView[];
  /** The latest request made; the form starts from its purpose. */
  readonly asked: ConsentRequestView | undefined;
  /** Shows the latest request instead of the form. */
  readonly showAsked: boolean;
  readonly problems: readonly Problem[];
  readonly locale: string;
  readonly submit: (event: SubmitEvent) => void;
  /** Back to the form, for a new request. */
  readonly again: () => void;
  readonly focusField: (id: string) => void;
}

export const patientName = (people: readonly ParticipantView[]) =>
  people.find((p) => p.role === 'patient')?.displayName ?? '';

export const askedHeading = (people: readonly ParticipantView[]) =>
  msg(str`Consent request for ${patientName(people)}`, { id: 'consent-asked' });

/**
 * The request `form` asks for, and its required fields left empty. The relay refuses the rest (no
 * one to share with, an end date past), and the summary says so.
 */
export function readAsk(form: HTMLFormElement) {
  const data = new FormData(form);
  const until = textOf(data, 'until');
  return {
    problems: missing(form),
    recipients: data.getAll('recipient').filter((v): v is string => typeof v === 'string'),
    purpose: textOf(data, 'purpose').trim(),
    // To the end of the chosen day, where the asker is.
    expiresAt: until && new Date(`${until}T23:59:59`).toISOString(),
  };
}

export function renderAsk(ask: Ask): TemplateResult {
  const patient = patientName(ask.people);
  const { asked, locale } = ask;
  if (asked && ask.showAsked)
    return html`<div part="receipt" class="receipt">
      <h3 tabindex="-1">${askedHeading(ask.people)}</h3>
      <p class="state">${status(asked, locale, patient)}</p>
      ${renderFacts(asked, locale, true)}
      <button type="button" @click=${ask.again}>
        ${msg('Ask again', { id: 'consent-ask-again' })}
      </button>
    </div>`;
  const nextYear = new Date(Date.now() + 365 * 86_400_000).toISOString().slice(0, 10);
  return html`<form novalidate @submit=${ask.submit}>
    ${renderProblems(ask.problems, ask.focusField)} ${requiredNote()}
    <fieldset>
      <legend class="req">
        ${msg(str`Share with (family of ${patient})`, { id: 'consent-ask-recipients' })}
      </legend>
      ${ask.people
        .filter((p) => p.role === 'family')
        .map(
          (p, i) =>
            html`<label class="check"
              ><input
                type="checkbox"
                id=${i === 0 ? 'recipient' : nothing}
                name="recipient"
                value=${p.userId}
                checked
              />
              ${people([p])}</label
            >`,
        )}
    </fieldset>
    ${requiredField('purpose', msg('Purpose', { id: 'consent-ask-purpose' }), {
      value: asked?.purpose ?? '',
    })}
    ${requiredField('until', msg('Until', { id: 'consent-ask-until' }), {
      type: 'date',
      value: nextYear,
    })}
    <button class="primary" type="submit">${msg('Ask for consent', { id: 'consent-ask' })}</button>
  </form>`;
}
