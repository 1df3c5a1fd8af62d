// <carethread-consent>: review and e-sign one consent request. This module only declares the
// class; `consent.ts` registers the tag.
import { html, nothing, type PropertyValues, type TemplateResult } from 'lit';
import { msg, str } from '@lit/localize';
import type {
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
import { renderBlock } from './consent-blocks.js';
import { renderConsentList, type ConsentList } from './consent-list.js';
import { DrawnSignatureController } from './drawn-signature.js';
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
  private readonly signing = new DrawnSignatureController(this, (error) => {
    this.show('form', error);
  });

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
    const signature = this.signing.signature(text('signature').trim());
    if (!signature) {
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
        ${view.template.blocks.map((block) => renderBlock(block))}
      </fieldset>
      <fieldset part="signature">
        <legend>${msg('3. Signature', { id: 'consent-step-signature' })}</legend>
        <p class="meaning">${view.meaning}</p>
        <label class="field"
          >${msg('Type your full name to sign', { id: 'consent-typed-name' })}
          <input name="signature" autocomplete="name" required maxlength="200"
        /></label>
        ${this.signing.render()}
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

  /** What the list of consents shows and what its buttons do, as of this render. */
  private consentList(): ConsentList {
    return {
      consents: this.consents,
      locale: this.locale,
      revoking: this.revoking,
      review: (requestId) => {
        this.request = requestId;
      },
      startRevoking: (requestId) => {
        this.revoking = requestId;
        this.requestUpdate();
      },
      revoke: (event) => void this.onRevoke(event),
    };
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
      }${renderConsentList(this.consentList())}`;
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
