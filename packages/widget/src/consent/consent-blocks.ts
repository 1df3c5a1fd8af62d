// The consent's own content as the signer sees it: headings, paragraphs and lists, the
// acknowledgements to tick and the fields to fill, named as the signing request reads them, and
// required ones marked (a visible "*" and aria-required; the element checks them itself).
import { html, nothing, type TemplateResult } from 'lit';
import { msg } from '@lit/localize';
import type { ConsentBlock } from '@carethread/shared';

/** The note that explains the "*" of required fields. */
export const requiredNote = () =>
  html`<p class="hint">${msg('* Required', { id: 'consent-required' })}</p>`;

/** A checkbox with its label; `required` ones are marked and checked before sending. */
export function checkbox(
  id: string,
  name: string,
  label: string,
  required: boolean,
  value = 'on',
): TemplateResult {
  return html`<label class="check"
    ><input
      type="checkbox"
      id=${id}
      name=${name}
      value=${value}
      aria-required=${required ? 'true' : nothing}
      data-label=${label}
    />
    <span class=${required ? 'req' : ''}>${label}</span></label
  >`;
}

/** How a required text or date field is filled in and named. */
export interface FieldOptions {
  readonly type?: 'text' | 'date';
  readonly value?: string;
  /** How the error summary calls the field, when not by its label. */
  readonly named?: string;
  readonly autocomplete?: string;
  readonly maxlength?: number;
}

/** A required text or date field whose name and id are `id`. */
export function requiredField(id: string, label: string, options: FieldOptions = {}) {
  return html`<label class="field"
    ><span class="req">${label}</span>
    <input
      type=${options.type ?? 'text'}
      id=${id}
      name=${id}
      maxlength=${options.maxlength ?? 1000}
      autocomplete=${options.autocomplete ?? nothing}
      aria-required="true"
      data-label=${options.named ?? label}
      .value=${options.value ?? ''}
  /></label>`;
}

export function renderBlock(block: ConsentBlock): TemplateResult {
  switch (block.type) {
    case 'heading':
      return html`<h3>${block.text}</h3>`;
    case 'paragraph':
      return html`<p>${block.text}</p>`;
    case 'list':
      return html`<ul>
        ${block.items.map((item) => html`<li>${item}</li>`)}
      </ul>`;
    case 'acknowledgement':
      return checkbox(`ack-${block.id}`, 'ack', block.text, true, block.id);
    case 'field': {
      const name = `field-${block.id}`;
      if (block.input === 'checkbox') return checkbox(name, name, block.label, block.required);
      const required = block.required ? 'true' : nothing;
      return html`<label class="field"
        ><span class=${block.required ? 'req' : ''}>${block.label}</span> ${
          block.input === 'choice'
            ? html`<select
                id=${name}
                name=${name}
                aria-required=${required}
                data-label=${block.label}
              >
                <option value="">${msg('Choose…', { id: 'consent-choose' })}</option>
                ${(block.options ?? []).map((option) => html`<option>${option}</option>`)}
              </select>`
            : html`<input
                type=${block.input === 'date' ? 'date' : 'text'}
                id=${name}
                name=${name}
                aria-required=${required}
                data-label=${block.label}
              />`
        }</label
      >`;
    }
  }
}
