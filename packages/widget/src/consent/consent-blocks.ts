// The consent's own content as the signer sees it: headings, paragraphs and lists, the
// acknowledgements to tick and the fields to fill, named as the signing request reads them.
import { html, type TemplateResult } from 'lit';
import { msg } from '@lit/localize';
import type { ConsentBlock } from '@carethread/shared';

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
      return html`<label class="check"
        ><input type="checkbox" name="ack" value=${block.id} required /> ${block.text}</label
      >`;
    case 'field': {
      const name = `field-${block.id}`;
      if (block.input === 'checkbox')
        return html`<label class="check"
          ><input type="checkbox" name=${name} ?required=${block.required} /> ${block.label}</label
        >`;
      return html`<label class="field"
        >${block.label}
        ${
          block.input === 'choice'
            ? html`<select name=${name} ?required=${block.required}>
                <option value="">${msg('Choose…', { id: 'consent-choose' })}</option>
                ${(block.options ?? []).map((option) => html`<option>${option}</option>`)}
              </select>`
            : html`<input
                type=${block.input === 'date' ? 'date' : 'text'}
                name=${name}
                ?required=${block.required}
              />`
        }</label
      >`;
    }
  }
}
