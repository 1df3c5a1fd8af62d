// <carethread-consent>: review and e-sign one consent request. This module only declares the
// class; `consent.ts` registers the tag.
import { html, nothing, type PropertyValues, type TemplateResult } from 'lit';
import { msg, str } from '@lit/localize';
import type {
  ConsentBlock,
  ConsentRequestView,
  ParticipantView,
  ConsentSignResult,
  ConsentViewResult,
  ErrorBody,
} from '@carethread/shared';
import { RelayElement } from '../base/relay-element.js';
import { themeStyles } from '../base/theme.styles.js';
import { errorText } from '../chat/messages.js';
import { CareThreadError, createClient, type CareThreadClient } from '../client/index.js';
import { newMessageId } from '../client/ids.js';
import type SignaturePad from 'signature_pad';
import { loadSignaturePad } from './signature-pad.js';
import { consentStyles } from './consent.styles.js';

/**
 * A refusal as the consent element says it. The relay answers a request of someone else's
 * conversation like one that does not exist, so NOT_FOUND speaks of both.
 */
function consentErrorText(error: ErrorBody | undefined): string {
  return error?.code === 'NOT_FOUND'
    ? msg(
        'This consent request does not exist, or it is not addressed to you. Check the link or ask your care team.',
        { id: 'error-consent-not-found' },
      )
    : errorText(error);
}

/** Fired after the signer signed; `detail` is the record, its hash and the receipt. */
export type ConsentSignedEvent = CustomEvent<ConsentSignResult>;

type Phase =
  | 'loading'
  | 'list'
  | 'ask'
  | 'asked'
  | 'form'
  | 'sending'
  | 'signed'
  | 'declined'
  | 'closed'
  | 'failed';

/**
 * Shows one consent request to the person asked to sign it: the electronic-records disclosure to
 * accept, the form with its acknowledgements and fields, what the signature means, and a typed
 * signature with an explicit "Sign and submit", or a decline with an optional reason. After
 * signing: the receipt and the signed PDF. Without `request` it lists the reader's consents (with
 * revocation); with `conversation` and `template` instead, the care team asks for a consent.
 *
 * @summary Review and e-sign a consent form.
 *
 * @example
 * ```html
 * <carethread-consent server="https://relay.example" request="req-123"
 *   token-url="/carethread/token"></carethread-consent>
 * ```
 *
 * @event carethread-signed - The signer signed; `detail` holds the record, its hash and the receipt.
 * @event carethread-requested - The care team asked for a consent; `detail` is the request.
 * @event carethread-config-error - The element is missing or has wrong configuration.
 *
 * @csspart base - The whole form.
 * @csspart disclosure - The electronic-records disclosure.
 * @csspart form - The consent's own content.
 * @csspart signature - The signature step.
 * @csspart sign - The "Sign and submit" button.
 * @csspart receipt - What is shown after signing.
 */
export class CareThreadConsent extends RelayElement {
  static override styles = [themeStyles, consentStyles];

  static override properties = {
    ...RelayElement.properties,
    request: { type: String },
    conversation: { type: String },
    template: { type: String },
  };

  /** Id of the consent request to show; without one, the reader's consents with revocation. */
  declare request: string;
  /** With `template`, for the care team: ask the patient of this conversation to consent. */
  declare conversation: string;
  /** The consent template the care team asks the patient to sign. */
  declare template: string;

  private client: CareThreadClient | undefined;
  private phase: Phase = 'loading';
  private view: ConsentViewResult | undefined;
  private signed: ConsentSignResult | undefined;
  private pdfUrl: string | undefined;
  private error: ErrorBody | undefined;
  /** Without a `request`: the reader's consents, and the one being revoked. */
  private consents: ConsentRequestView[] = [];
  /** In "ask" mode: the conversation's patient and family members. */
  private people: ParticipantView[] = [];
  private revoking: string | undefined;
  /** How the signer signs: typed name (the keyboard path) or drawn with pointer, pen or touch. */
  private method: 'typed' | 'drawn' = 'typed';
  private pad: SignaturePad | undefined;
  /** The canvas the pad is being loaded for, so one load serves one drawing surface. */
  private padCanvas: HTMLCanvasElement | undefined;

  constructor() {
    super();
    this.request = '';
    this.conversation = '';
    this.template = '';
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.stop();
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (
      changed.has('server') ||
      changed.has('request') ||
      changed.has('conversation') ||
      changed.has('template') ||
      changed.has('tokenUrl') ||
      changed.has('tokenProvider')
    ) {
      const problem = this.configProblem();
      this.reportConfigError(problem);
      this.stop();
      if (!problem) void this.load();
    }
  }

  // --- handlers ------------------------------------------------------------------------------

  protected override updated(): void {
    // The drawing surface exists only while "draw" is chosen; attach the pad to it once.
    const canvas = this.renderRoot.querySelector('canvas') ?? undefined;
    if (canvas === this.padCanvas) return;
    this.pad?.off();
    this.pad = undefined;
    this.padCanvas = canvas;
    if (canvas) void this.attachPad(canvas);
  }

  private async attachPad(canvas: HTMLCanvasElement): Promise<void> {
    let Pad: typeof SignaturePad;
    try {
      Pad = await loadSignaturePad();
    } catch {
      this.method = 'typed';
      this.show(
        'form',
        new CareThreadError(
          'UNAVAILABLE',
          msg('The signature box could not load. Type your name to sign, or try again later.', {
            id: 'consent-pad-unavailable',
          }),
        ),
      );
      return;
    }
    if (canvas !== this.padCanvas) return; // "type" was chosen again meanwhile
    const ratio = Math.max(window.devicePixelRatio, 1);
    canvas.width = canvas.offsetWidth * ratio;
    canvas.height = canvas.offsetHeight * ratio;
    canvas.getContext('2d')?.scale(ratio, ratio);
    this.pad = new Pad(canvas, {
      penColor: getComputedStyle(this).getPropertyValue('color') || '#000',
    });
    canvas.removeAttribute('aria-busy');
  }

  private choose(method: 'typed' | 'drawn'): void {
    this.method = method;
    this.requestUpdate();
  }

  private clearDrawing(): void {
    this.pad?.clear();
  }

  private stop(): void {
    this.client?.close();
    this.client = undefined;
    this.view = undefined;
    this.signed = undefined;
    if (this.pdfUrl) URL.revokeObjectURL(this.pdfUrl);
    this.pdfUrl = undefined;
  }

  private show(phase: Phase, error?: unknown): void {
    this.phase = phase;
    this.error =
      error === undefined
        ? undefined
        : error instanceof CareThreadError
          ? { code: error.code, message: error.message }
          : {
              code: 'UNAVAILABLE',
              message: error instanceof Error ? error.message : 'Unavailable',
            };
    this.requestUpdate();
  }

  private async load(): Promise<void> {
    const client = createClient({ url: this.server, tokenProvider: this.tokenSource });
    this.client = client;
    // A request made or changed elsewhere shows up in the list at once.
    client.socket.on('consent.updated', () => {
      if (this.phase === 'list') void this.loadList();
    });
    this.show('loading');
    if (!this.request && this.conversation && this.template) {
      try {
        const { participants } = await client.request('conversation.open', {
          conversationId: this.conversation,
        });
        this.people = participants;
        this.show('ask');
      } catch (error) {
        this.show('failed', error);
      }
      return;
    }
    if (!this.request) {
      await this.loadList();
      return;
    }
    try {
      this.view = await client.request('consent.view', { requestId: this.request });
      const { state } = this.view.request;
      if (state === 'signed') await this.loadPdf();
      this.show(state === 'requested' || state === 'viewed' ? 'form' : 'closed');
    } catch (error) {
      this.show('failed', error);
    }
  }

  private async loadList(): Promise<void> {
    try {
      this.consents = (await this.client?.request('consent.list', {}))?.requests ?? [];
      this.show('list');
    } catch (error) {
      this.show('failed', error);
    }
  }

  private async onAsk(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const data = new FormData(event.target as HTMLFormElement);
    const patient = this.people.find((p) => p.role === 'patient');
    const purpose = data.get('purpose');
    const until = data.get('until');
    if (!this.client || !patient || typeof purpose !== 'string' || typeof until !== 'string')
      return;
    try {
      const request = await this.client.request('consent.request', {
        requestId: newMessageId(),
        templateId: this.template,
        conversationId: this.conversation,
        patientId: patient.userId,
        recipients: data.getAll('recipient').filter((v): v is string => typeof v === 'string'),
        purpose: purpose.trim(),
        expiresAt: new Date(`${until}T23:59:59`).toISOString(),
      });
      this.show('asked');
      this.dispatchEvent(
        new CustomEvent('carethread-requested', { detail: request, bubbles: true, composed: true }),
      );
    } catch (error) {
      this.show('ask', error);
    }
  }

  private renderAsk(): TemplateResult {
    const patient = this.people.find((p) => p.role === 'patient')?.displayName ?? '';
    if (this.phase === 'asked')
      return html`<p role="status">
        ${msg(str`Asked. ${patient} will find the request in the portal.`, { id: 'consent-asked' })}
        <button
          type="button"
          @click=${() => {
            this.show('ask');
          }}
        >
          ${msg('Ask again', { id: 'consent-ask-again' })}
        </button>
      </p>`;
    const nextYear = new Date(Date.now() + 365 * 86_400_000).toISOString().slice(0, 10);
    return html`<form @submit=${this.onAsk}>
      <fieldset>
        <legend>
          ${msg(str`Share with (family of ${patient})`, { id: 'consent-ask-recipients' })}
        </legend>
        ${this.people
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
      ${this.error ? html`<p class="error" role="alert">${consentErrorText(this.error)}</p>` : nothing}
      <button class="primary" type="submit">
        ${msg('Ask for consent', { id: 'consent-ask' })}
      </button>
    </form>`;
  }

  private async onRevoke(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const requestId = this.revoking;
    const name = new FormData(event.target as HTMLFormElement).get('confirm-name');
    if (!requestId || !this.client || typeof name !== 'string') return;
    try {
      await this.client.request('consent.revoke', {
        requestId,
        signature: { method: 'typed', name: name.trim() },
      });
      this.revoking = undefined;
      await this.loadList();
    } catch (error) {
      this.show('list', error);
    }
  }

  private async loadPdf(): Promise<void> {
    if (!this.client) return;
    try {
      const { pdf } = await this.client.request('consent.pdf', { requestId: this.request });
      const bytes = Uint8Array.from(atob(pdf), (c) => c.charCodeAt(0));
      this.pdfUrl = URL.createObjectURL(new Blob([bytes], { type: 'application/pdf' }));
    } catch {
      // The receipt stands on its own; the PDF link is only left out.
    }
  }

  private async onSign(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const view = this.view;
    const client = this.client;
    if (!view || !client) return;
    const form = event.target as HTMLFormElement;
    const data = new FormData(form);
    /** Text of a form control; files never appear in this form. */
    const text = (name: string) => {
      const value = data.get(name);
      return typeof value === 'string' ? value : '';
    };
    const answers: Record<string, string | boolean> = {};
    for (const block of view.template.blocks) {
      if (block.type !== 'field') continue;
      answers[block.id] =
        block.input === 'checkbox' ? data.has(`field-${block.id}`) : text(`field-${block.id}`);
    }
    const name = text('signature').trim();
    const pad = this.pad;
    if (this.method === 'drawn' && (!pad || pad.isEmpty())) {
      this.show(
        'form',
        new CareThreadError(
          'VALIDATION',
          msg('Draw your signature in the box, or choose to type it.', {
            id: 'consent-draw-empty',
          }),
        ),
      );
      return;
    }
    const signature =
      this.method === 'drawn' && pad
        ? { method: 'drawn' as const, name, image: pad.toDataURL('image/png') }
        : { method: 'typed' as const, name };
    this.show('sending');
    try {
      this.signed = await client.request('consent.sign', {
        requestId: view.request.requestId,
        disclosureHash: view.disclosure.hash,
        acknowledgements: data.getAll('ack').filter((v): v is string => typeof v === 'string'),
        answers,
        signature,
      });
      await this.loadPdf();
      this.show('signed');
      this.dispatchEvent(
        new CustomEvent('carethread-signed', {
          detail: this.signed,
          bubbles: true,
          composed: true,
        }),
      );
    } catch (error) {
      this.show('form', error);
    }
  }

  private async onDecline(): Promise<void> {
    const client = this.client;
    if (!client) return;
    const reason = this.renderRoot
      .querySelector<HTMLTextAreaElement>('#decline-reason')
      ?.value.trim();
    this.show('sending');
    try {
      await client.request('consent.decline', {
        requestId: this.request,
        ...(reason ? { reason } : {}),
      });
      this.show('declined');
    } catch (error) {
      this.show('form', error);
    }
  }

  // --- rendering -----------------------------------------------------------------------------

  private renderBlock(block: ConsentBlock): TemplateResult {
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
            ><input type="checkbox" name=${name} ?required=${block.required} />
            ${block.label}</label
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

  private renderForm(view: ConsentViewResult): TemplateResult {
    const busy = this.phase === 'sending';
    return html`<form @submit=${this.onSign}>
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
        ${view.template.blocks.map((block) => this.renderBlock(block))}
      </fieldset>
      <fieldset part="signature">
        <legend>${msg('3. Signature', { id: 'consent-step-signature' })}</legend>
        <p class="meaning">${view.meaning}</p>
        <label class="field"
          >${msg('Type your full name to sign', { id: 'consent-typed-name' })}
          <input name="signature" autocomplete="name" required maxlength="200"
        /></label>
        <div
          class="methods"
          role="radiogroup"
          aria-label=${msg('How to sign', { id: 'consent-method' })}
        >
          <label class="check"
            ><input
              type="radio"
              name="method"
              ?checked=${this.method === 'typed'}
              @change=${() => {
                this.choose('typed');
              }}
            />
            ${msg('My typed name is my signature', { id: 'consent-method-typed' })}</label
          >
          <label class="check"
            ><input
              type="radio"
              name="method"
              ?checked=${this.method === 'drawn'}
              @change=${() => {
                this.choose('drawn');
              }}
            />
            ${msg('Also draw my signature', { id: 'consent-method-drawn' })}</label
          >
        </div>
        ${
          this.method === 'drawn'
            ? html`<canvas
                  class="pad"
                  aria-busy="true"
                  role="img"
                  aria-label=${msg('Signature box: draw with a mouse, pen or finger', { id: 'consent-pad' })}
                ></canvas>
                <button type="button" @click=${this.clearDrawing}>
                  ${msg('Clear and redo', { id: 'consent-pad-clear' })}
                </button>`
            : nothing
        }
        ${this.error ? html`<p class="error" role="alert">${consentErrorText(this.error)}</p>` : nothing}
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
        <button type="button" ?disabled=${busy} @click=${this.onDecline}>
          ${msg('Decline', { id: 'consent-decline' })}
        </button>
      </details>
    </form>`;
  }

  private renderOutcome(): TemplateResult {
    const state = this.phase === 'declined' ? 'declined' : this.view?.request.state;
    const text =
      this.phase === 'signed' || state === 'signed'
        ? msg('Signed. A copy is below; the receipt proves what you signed and when.', {
            id: 'consent-signed',
          })
        : state === 'declined'
          ? msg('You declined this request. Nothing was shared.', { id: 'consent-declined' })
          : msg(str`This request is ${state ?? ''} and can no longer be signed.`, {
              id: 'consent-closed',
            });
    return html`<div part="receipt" class="receipt" role="status">
      <p>${text}</p>
      ${
        this.signed
          ? html`<p class="hash">
              ${msg('Record', { id: 'consent-record' })}: <code>${this.signed.recordHash}</code>
            </p>`
          : nothing
      }
      ${
        this.pdfUrl
          ? html`<a href=${this.pdfUrl} download="consent-${this.request}.pdf"
              >${msg('Download the signed PDF', { id: 'consent-pdf' })}</a
            >`
          : nothing
      }
      <button
        type="button"
        @click=${() => {
          this.request = '';
        }}
      >
        ${msg('Your consents', { id: 'consent-list-title' })}
      </button>
    </div>`;
  }

  private renderList(): TemplateResult {
    const date = new Intl.DateTimeFormat(this.locale, { dateStyle: 'medium' });
    const states: Record<string, string> = {
      requested: msg('waiting for your signature', { id: 'consent-state-requested' }),
      viewed: msg('waiting for your signature', { id: 'consent-state-requested' }),
      signed: msg('in effect', { id: 'consent-state-signed' }),
      declined: msg('declined', { id: 'consent-state-declined' }),
      revoked: msg('revoked', { id: 'consent-state-revoked' }),
      expired: msg('expired', { id: 'consent-state-expired' }),
      cancelled: msg('withdrawn by your care team', { id: 'consent-state-cancelled' }),
    };
    if (this.consents.length === 0)
      return html`<p>${msg('You have no consents.', { id: 'consent-none' })}</p>`;
    return html`<ul class="consents">
      ${this.consents.map(
        (c) =>
          html`<li>
            <p>
              <strong>${c.recipients.map((r) => r.displayName).join(', ')}</strong> —
              ${states[c.state]}
              ${
                // The end date says how long a consent runs (or ran); a request that never took
                // effect, or one withdrawn early, has none to show.
                c.state === 'declined' || c.state === 'revoked' || c.state === 'cancelled'
                  ? nothing
                  : html`(${msg(str`until ${date.format(new Date(c.expiresAt))}`, {
                      id: 'consent-list-until',
                    })})`
              }
            </p>
            ${
              c.state === 'requested' || c.state === 'viewed'
                ? html`<button
                    type="button"
                    @click=${() => {
                      this.request = c.requestId;
                    }}
                  >
                    ${msg('Review and sign', { id: 'consent-review' })}
                  </button>`
                : nothing
            }
            ${
              c.state === 'signed' && this.revoking !== c.requestId
                ? html`<button
                    type="button"
                    @click=${() => {
                      this.revoking = c.requestId;
                      this.requestUpdate();
                    }}
                  >
                    ${msg('Revoke…', { id: 'consent-revoke-open' })}
                  </button>`
                : nothing
            }
            ${
              this.revoking === c.requestId
                ? html`<form class="confirm" @submit=${this.onRevoke}>
                    <p>
                      ${msg(
                        'Revoking stops sharing at once. What was already shared stays shared. Type your name to sign the revocation.',
                        { id: 'consent-revoke-explain' },
                      )}
                    </p>
                    <label class="field"
                      >${msg('Your full name', { id: 'consent-revoke-name' })}
                      <input name="confirm-name" autocomplete="name" required maxlength="200"
                    /></label>
                    <button class="primary" type="submit">
                      ${msg('Revoke this consent', { id: 'consent-revoke' })}
                    </button>
                  </form>`
                : nothing
            }
          </li>`,
      )}
    </ul>`;
  }

  protected override render(): TemplateResult {
    const problem = this.configProblem();
    const view = this.view;
    let body: TemplateResult | typeof nothing = nothing;
    if (problem) body = html`<p role="alert">${problem}</p>`;
    else if (this.phase === 'loading')
      body = html`<p>${msg('Loading the form…', { id: 'consent-loading' })}</p>`;
    else if (this.phase === 'ask' || this.phase === 'asked') body = this.renderAsk();
    else if (this.phase === 'list')
      body = html`${
        this.error
          ? html`<p class="error" role="alert">${consentErrorText(this.error)}</p>`
          : nothing
      }${this.renderList()}`;
    else if (this.phase === 'failed' || !view)
      body = html`<p class="error" role="alert">${consentErrorText(this.error)}</p>`;
    else if (this.phase === 'form' || this.phase === 'sending') body = this.renderForm(view);
    else body = this.renderOutcome();
    const recipients = view?.request.recipients
      .map((r) => (r.relationship ? `${r.displayName} (${r.relationship})` : r.displayName))
      .join(', ');
    return html`<section part="base" class="consent" aria-labelledby="title">
      <h2 id="title">
        ${
          this.request
            ? (view?.template.title ?? msg('Consent form', { id: 'consent-title' }))
            : this.conversation && this.template
              ? msg('Ask for consent', { id: 'consent-ask' })
              : msg('Your consents', { id: 'consent-list-title' })
        }
      </h2>
      ${
        view
          ? html`<p class="summary">
              ${msg(str`Shares your care conversation with ${recipients ?? ''}.`, {
                id: 'consent-summary',
              })}
              ${view.request.purpose}
              ${msg(
                str`Until ${new Intl.DateTimeFormat(this.locale, { dateStyle: 'long' }).format(new Date(view.request.expiresAt))}.`,
                { id: 'consent-until' },
              )}
            </p>`
          : nothing
      }
      ${body}
    </section>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'carethread-consent': CareThreadConsent;
  }
  interface GlobalEventHandlersEventMap {
    'carethread-signed': ConsentSignedEvent;
    'carethread-requested': CustomEvent<ConsentRequestView>;
  }
}
