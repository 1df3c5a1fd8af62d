// What the consent element checks before it sends and how it says what is wrong: required fields,
// the typed name against the signer's, one error summary at the top of a step, and its own
// sentences for the relay's refusals of consent requests.
import { html, nothing, type TemplateResult } from 'lit';
import { msg, str } from '@lit/localize';
import { matchSignatureName, type ErrorBody } from '@carethread/shared';
import { errorText } from '../chat/messages.js';

/** One thing to fix: its sentence, and the id of the field to fix it in (none for the relay's). */
export interface Problem {
  readonly text: string;
  readonly field?: string;
}

/** The text of a form control (files never appear in these forms). */
export function textOf(data: FormData, name: string): string {
  const value = data.get(name);
  return typeof value === 'string' ? value : '';
}

export const fromBase64 = (base64: string) => Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));

/**
 * The signed-in person's name: the `name` claim of their token, which the relay shows and signs
 * with. Read only to warn before sending; the relay checks the token itself.
 */
export function nameInToken(token: string): string | undefined {
  try {
    const payload = (token.split('.')[1] ?? '').replace(/-/g, '+').replace(/_/g, '/');
    const { name } = JSON.parse(new TextDecoder().decode(fromBase64(payload))) as {
      name?: unknown;
    };
    return typeof name === 'string' ? name : undefined;
  } catch {
    return undefined;
  }
}

const nameMismatch = (signer: string) =>
  msg(str`Type your name as your account shows it: ${signer}.`, { id: 'consent-name-mismatch' });

/** The problem with `typed` as the signature of `signer` in the field `field`, if any. */
export function nameProblems(typed: string, signer: string | undefined, field: string): Problem[] {
  // The relay's own rule (ADR 22), so that the element never sends a name the relay refuses.
  return typed.trim() && signer && !matchSignatureName(typed, signer)
    ? [{ field, text: nameMismatch(signer) }]
    : [];
}

/**
 * The required controls of `form` (marked `aria-required`) left empty or unchecked, named by their
 * `data-label`.
 */
export function missing(form: HTMLFormElement): Problem[] {
  return [...form.querySelectorAll<HTMLInputElement>('[aria-required="true"]')].flatMap(
    (control): Problem[] => {
      const label = control.dataset.label ?? '';
      const field = control.id;
      if (control.type === 'checkbox')
        return control.checked
          ? []
          : [{ field, text: msg(str`Check “${label}”`, { id: 'consent-missing-check' }) }];
      if (control.value.trim()) return [];
      return [
        {
          field,
          text:
            control.localName === 'select'
              ? msg(str`Choose an answer for “${label}”`, { id: 'consent-missing-choice' })
              : msg(str`Fill in “${label}”`, { id: 'consent-missing-text' }),
        },
      ];
    },
  );
}

/** Marks the controls of `form` that `problems` name as invalid, described by their entry. */
export function markInvalid(form: HTMLFormElement, problems: readonly Problem[]): void {
  for (const control of form.querySelectorAll('input, select, textarea')) {
    if (problems.some((p) => p.field === control.id)) {
      control.setAttribute('aria-invalid', 'true');
      control.setAttribute('aria-describedby', `e-${control.id}`);
    } else {
      control.removeAttribute('aria-invalid');
      control.removeAttribute('aria-describedby');
    }
  }
}

/**
 * A refusal of the relay as the consent element says it. The relay answers a request of someone
 * else like one that does not exist, so NOT_FOUND speaks of both; `asking`: the care team's form,
 * where NOT_FOUND means the conversation.
 */
export function consentErrorText(
  error: ErrorBody | undefined,
  signer?: string,
  asking = false,
): string {
  // Without the signer's name, the relay's own sentence says it.
  const code = error?.code;
  if (code === 'NOT_FOUND' && !asking)
    return msg(
      'This consent request does not exist, or it is not addressed to you. Check the link or ask your care team.',
      { id: 'error-consent-not-found' },
    );
  if (code === 'SIGNER_NAME_MISMATCH' && signer) return nameMismatch(signer);
  if (code === 'CONFLICT')
    return msg('This consent changed meanwhile. Reload the page to see where it stands.', {
      id: 'consent-error-conflict',
    });
  if (code === 'VALIDATION')
    return msg('Some answers were not accepted. Check them and try again.', {
      id: 'consent-error-validation',
    });
  return errorText(error);
}

/**
 * The error summary at the top of a step: what to fix, each entry a button that takes focus to
 * its field. It is announced (role=alert) and takes focus itself after a refused submit.
 */
export function renderProblems(
  problems: readonly Problem[],
  focusField: (id: string) => void,
): TemplateResult | typeof nothing {
  if (problems.length === 0) return nothing;
  return html`<div class="error-summary" role="alert" tabindex="-1">
    <p class="error">${msg('There is a problem', { id: 'consent-problems' })}</p>
    <ul>
      ${problems.map(
        ({ field, text }) =>
          html`<li>
            ${
              field
                ? html`<button
                    type="button"
                    class="link"
                    id="e-${field}"
                    @click=${() => {
                      focusField(field);
                    }}
                  >
                    ${text}
                  </button>`
                : text
            }
          </li>`,
      )}
    </ul>
  </div>`;
}
