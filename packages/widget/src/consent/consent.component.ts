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
import { CareThreadError, createClient, type CareThreadClient } from '../client/index.js';
import { newMessageId } from '../client/ids.js';
import { renderAsk } from './consent-ask.js';
import { consentErrorText } from './consent-checks.js';
import { renderSignForm } from './consent-form.js';
import { renderConsentList, type ConsentList } from './consent-list.js';
import { renderOutcome } from './consent-receipt.js';
import { DrawnSignatureController } from './drawn-signature.js';
import { consentStyles } from './consent.styles.js';

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
    else if (this.phase === 'ask' || this.phase === 'asked')
      body = renderAsk({
        people: this.people,
        asked: this.phase === 'asked',
        error: this.error,
        submit: (event) => void this.onAsk(event),
        again: () => {
          this.show('ask');
        },
      });
    else if (this.phase === 'list')
      body = html`${
        this.error
          ? html`<p class="error" role="alert">${consentErrorText(this.error)}</p>`
          : nothing
      }${renderConsentList(this.consentList())}`;
    else if (this.phase === 'failed' || !view)
      body = html`<p class="error" role="alert">${consentErrorText(this.error)}</p>`;
    else if (this.phase === 'form' || this.phase === 'sending')
      body = renderSignForm({
        view,
        busy: this.phase === 'sending',
        error: this.error,
        signing: this.signing,
        sign: (event) => void this.onSign(event),
        decline: () => void this.onDecline(),
      });
    else
      body = renderOutcome({
        requestId: this.request,
        state:
          this.phase === 'signed' || this.phase === 'declined' ? this.phase : view.request.state,
        signed: this.signed,
        pdfUrl: this.pdfUrl,
        toList: () => {
          this.request = '';
        },
      });
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
