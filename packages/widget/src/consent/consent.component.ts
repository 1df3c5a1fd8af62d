// <carethread-consent>: review and e-sign one consent request, list and revoke one's consents, or
// ask for a consent as the care team. This module only declares the class and moves between the
// steps; each step renders in its own module, and `consent.ts` registers the tag.
import { html, nothing, type PropertyValues, type TemplateResult } from 'lit';
import { msg } from '@lit/localize';
import type {
  ConsentRequestView,
  ConsentSignResult,
  ConsentViewResult,
  ErrorBody,
  ParticipantView,
} from '@carethread/shared';
import { RelayElement } from '../base/relay-element.js';
import { themeStyles } from '../base/theme.styles.js';
import { CareThreadError, createClient, type CareThreadClient } from '../client/index.js';
import { newMessageId } from '../client/ids.js';
import { languageOf, supportedLocale } from '../i18n/localization.js';
import { askedHeading, patientName, readAsk, renderAsk } from './consent-ask.js';
import {
  consentErrorText,
  fromBase64,
  markInvalid,
  missing,
  nameInToken,
  nameProblems,
  textOf,
  type Problem,
} from './consent-checks.js';
import { people, renderFacts, status, wasSigned } from './consent-facts.js';
import { renderSignForm } from './consent-form.js';
import { renderConsentList } from './consent-list.js';
import { outcomeText, renderOutcome, type Outcome } from './consent-receipt.js';
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
 * signing: the receipt and the signed PDF. Without `request` it lists the reader's consents, with
 * their signed copies and revocation; with `conversation` and `template` instead, the care team
 * asks for a consent and follows the request as the patient answers.
 *
 * Focus moves to the heading or first field of each new step, and one polite live region
 * announces outcomes.
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
 * @csspart receipt - What follows an answer: the receipt, a decline, the care team's request.
 *
 * @cssproperty --carethread-font-family - Font of the element (default: the page's).
 * @cssproperty --carethread-font-size - Base font size (default 1rem).
 * @cssproperty --carethread-accent - Accent colour: buttons, links, focus ring.
 * @cssproperty --carethread-accent-contrast - Text on the accent colour.
 * @cssproperty --carethread-background - Background of the element and its fields.
 * @cssproperty --carethread-surface - Background of buttons and the signature box.
 * @cssproperty --carethread-text - Main text colour.
 * @cssproperty --carethread-muted - Secondary text colour (hints, field borders).
 * @cssproperty --carethread-border - Border colour.
 * @cssproperty --carethread-danger - Colour of errors, required markers and revocation.
 * @cssproperty --carethread-danger-contrast - Text on the danger colour (the "Revoke this consent" button).
 * @cssproperty --carethread-radius - Corner radius of the element.
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
  /** Why the element could not load (phase `failed`). */
  private error: ErrorBody | undefined;
  /** What is wrong with the step's form: its error summary. */
  private problems: Problem[] = [];
  /** What the live region says. */
  private said = '';
  /** Where focus goes once the step `[0]` has rendered: a selector in the shadow root. */
  private focusNext: [Phase, string] | undefined;
  /** The signed-in person's name, from their token. */
  private signerName: string | undefined;
  /** Without a `request`: the reader's consents, and the one being revoked. */
  private consents: ConsentRequestView[] = [];
  private revoking: string | undefined;
  /** Links to signed copies by request id, made as they arrive. */
  private readonly pdfs = new Map<string, string>();
  /** After a decline: the reader's consents still in effect for the same people. */
  private stillShared: ConsentRequestView[] = [];
  /** In "ask" mode: the conversation's patient and family members, and the latest request. */
  private people: ParticipantView[] = [];
  private asked: ConsentRequestView | undefined;
  private readonly signing = new DrawnSignatureController(this, (error) => {
    this.problems = [{ text: error.message }];
    this.requestUpdate();
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

  protected override updated(): void {
    const [phase, selector] = this.focusNext ?? [];
    const target =
      phase === this.phase && selector
        ? this.renderRoot.querySelector<HTMLElement>(selector)
        : null;
    if (!target) return;
    this.focusNext = undefined;
    target.focus();
  }

  // --- handlers ------------------------------------------------------------------------------

  private stop(): void {
    this.client?.close();
    this.client = undefined;
    this.view = undefined;
    for (const url of this.pdfs.values()) URL.revokeObjectURL(url);
    this.pdfs.clear();
  }

  private show(phase: Phase): void {
    this.phase = phase;
    this.problems = [];
    this.requestUpdate();
  }

  private fail(error: unknown): void {
    // Without a code, the sentence for "unavailable".
    this.error = error instanceof CareThreadError ? error : undefined;
    // Focus that was on its way to the step goes to the title above the refusal.
    if (this.focusNext) this.focusNext = ['failed', 'h2'];
    this.show('failed');
  }

  /** Says `text` in the live region. */
  private announce(text: string): void {
    this.said = text;
    this.requestUpdate();
  }

  /** Moves focus to `selector` once `phase` has rendered. */
  private focusAfter(phase: Phase, selector: string): void {
    this.focusNext = [phase, selector];
    this.requestUpdate();
  }

  /**
   * Shows `problems` in the summary of `form` and takes focus there; true when there are any, so
   * that the submit stops.
   */
  private refused(form: HTMLFormElement, problems: Problem[]): boolean {
    markInvalid(form, problems);
    this.problems = problems;
    if (problems.length > 0) this.focusAfter(this.phase, '.error-summary');
    this.requestUpdate();
    return problems.length > 0;
  }

  /** A refusal of the relay as an entry of the summary; a name refused belongs to `nameField`. */
  private relayProblem(error: unknown, nameField: string): Problem {
    const body = error instanceof CareThreadError ? error : undefined;
    return {
      text: consentErrorText(body, this.signerName, this.phase === 'ask'),
      ...(body?.code === 'SIGNER_NAME_MISMATCH' && { field: nameField }),
    };
  }

  private readonly focusField = (id: string): void => {
    (this.renderRoot as ShadowRoot).getElementById(id)?.focus();
  };

  private async load(): Promise<void> {
    const tokens = this.tokenSource;
    const client = createClient({
      url: this.server,
      tokenProvider: async () => {
        const token = await tokens();
        this.signerName = nameInToken(token);
        return token;
      },
    });
    this.client = client;
    client.socket.on('consent.updated', (request) => {
      // A request made or changed elsewhere shows up in the list at once.
      if (this.phase === 'list') void this.loadList();
      this.follow(request);
    });
    this.show('loading');
    try {
      if (!this.request && this.conversation && this.template) {
        const [{ participants }, { requests }] = await Promise.all([
          client.request('conversation.open', { conversationId: this.conversation }),
          client.request('consent.list', { conversationId: this.conversation }),
        ]);
        this.people = participants;
        this.asked = requests
          .filter((r) => r.templateId === this.template)
          .sort((a, b) => b.requestedAt.localeCompare(a.requestedAt))[0];
        this.show(this.asked ? 'asked' : 'ask');
      } else if (!this.request) {
        await this.loadList();
      } else {
        // The form in the element's language when the template offers it (the relay picks the
        // closest one and says which it showed; sign names it).
        this.view = await client.request('consent.view', {
          requestId: this.request,
          language: supportedLocale(languageOf(this)),
        });
        const { state } = this.view.request;
        if (wasSigned(this.view.request)) void this.loadPdf(this.request);
        if (state === 'declined') await this.findStillShared();
        this.show(state === 'requested' || state === 'viewed' ? 'form' : 'closed');
      }
    } catch (error) {
      this.fail(error);
    }
  }

  /** The care team's latest request changed: show it, and say where it stands now. */
  private follow(request: ConsentRequestView): void {
    const asked = this.asked;
    if (request.requestId !== asked?.requestId) return;
    const patient = patientName(this.people);
    const now = status(request, this.locale, patient);
    if (this.phase === 'asked' && now !== status(asked, this.locale, patient))
      this.announce(`${askedHeading(this.people)}: ${now}`);
    this.asked = request;
    this.requestUpdate();
  }

  private async loadList(): Promise<void> {
    try {
      this.consents = (await this.client?.request('consent.list', {}))?.requests ?? [];
      for (const consent of this.consents)
        if (wasSigned(consent)) void this.loadPdf(consent.requestId);
      this.phase = 'list';
      this.requestUpdate();
    } catch (error) {
      this.fail(error);
    }
  }

  /** Fetches the signed copy of `requestId` once; without it, its link is left out. */
  private async loadPdf(requestId: string): Promise<void> {
    const client = this.client;
    if (!client || this.pdfs.has(requestId)) return;
    try {
      const { pdf } = await client.request('consent.pdf', { requestId });
      if (client !== this.client) return; // another request or reader meanwhile
      const blob = new Blob([fromBase64(pdf)], { type: 'application/pdf' });
      this.pdfs.set(requestId, URL.createObjectURL(blob));
      this.requestUpdate();
    } catch {
      // The rest stands on its own; only the link is missing.
    }
  }

  /** The reader's consents in effect that share this request's conversation with its people. */
  private async findStillShared(): Promise<void> {
    const request = this.view?.request;
    if (!request || !this.client) return;
    const { requests } = await this.client.request('consent.list', {});
    this.stillShared = requests.filter(
      (c) =>
        c.state === 'signed' &&
        c.conversationId === request.conversationId &&
        c.recipients.some((r) => request.recipients.some((q) => q.userId === r.userId)),
    );
  }

  private async onAsk(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const { problems, recipients, purpose, expiresAt } = readAsk(form);
    const patient = this.people.find((p) => p.role === 'patient');
    if (this.refused(form, problems) || !this.client || !patient) return;
    try {
      const request = await this.client.request('consent.request', {
        requestId: newMessageId(),
        templateId: this.template,
        conversationId: this.conversation,
        patientId: patient.userId,
        recipients,
        purpose,
        expiresAt,
      });
      this.asked = request;
      this.show('asked');
      this.focusAfter('asked', '[part="receipt"] h3');
      this.announce(status(request, this.locale, patient.displayName));
      this.dispatchEvent(
        new CustomEvent('carethread-requested', { detail: request, bubbles: true, composed: true }),
      );
    } catch (error) {
      this.refused(form, [this.relayProblem(error, '')]);
    }
  }

  private async onRevoke(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const requestId = this.revoking;
    const name = textOf(new FormData(form), 'confirm-name').trim();
    const problems = [...missing(form), ...nameProblems(name, this.signerName, 'confirm-name')];
    if (this.refused(form, problems) || !requestId || !this.client) return;
    try {
      const revoked = await this.client.request('consent.revoke', {
        requestId,
        signature: { method: 'typed', name },
      });
      this.revoking = undefined;
      this.focusAfter('list', `[data-id="${requestId}"] h3`);
      this.announce(`${people(revoked.recipients)}: ${status(revoked, this.locale)}`);
      await this.loadList();
    } catch (error) {
      this.refused(form, [this.relayProblem(error, 'confirm-name')]);
    }
  }

  private async onSign(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const view = this.view;
    const client = this.client;
    if (!view || !client) return;
    const form = event.target as HTMLFormElement;
    const data = new FormData(form);
    const text = (name: string) => textOf(data, name);
    const typed = text('signature').trim();
    const problems = [...missing(form), ...nameProblems(typed, this.signerName, 'signature')];
    const signature = this.signing.signature(typed);
    if (problems.length === 0 && !signature)
      problems.push({
        text: msg('Draw your signature in the box, or choose to type it.', {
          id: 'consent-draw-empty',
        }),
      });
    if (this.refused(form, problems) || !signature) return;
    const answers: Record<string, string | boolean> = {};
    for (const block of view.template.blocks) {
      if (block.type !== 'field') continue;
      answers[block.id] =
        block.input === 'checkbox' ? data.has(`field-${block.id}`) : text(`field-${block.id}`);
    }
    this.show('sending');
    try {
      const signed = await client.request('consent.sign', {
        requestId: view.request.requestId,
        language: view.language,
        disclosureHash: view.disclosure.hash,
        acknowledgements: data.getAll('ack').filter((v): v is string => typeof v === 'string'),
        answers,
        signature,
      });
      this.view = {
        ...view,
        request: { ...view.request, state: 'signed', updatedAt: signed.record.signedAt },
      };
      void this.loadPdf(view.request.requestId);
      this.answered('signed');
      this.dispatchEvent(
        new CustomEvent('carethread-signed', { detail: signed, bubbles: true, composed: true }),
      );
    } catch (error) {
      this.show('form');
      this.refused(form, [this.relayProblem(error, 'signature')]);
    }
  }

  private async onDecline(): Promise<void> {
    const view = this.view;
    const client = this.client;
    if (!view || !client) return;
    const reason = this.renderRoot
      .querySelector<HTMLTextAreaElement>('#decline-reason')
      ?.value.trim();
    const form = this.renderRoot.querySelector('form');
    this.show('sending');
    try {
      const request = await client.request('consent.decline', {
        requestId: view.request.requestId,
        ...(reason ? { reason } : {}),
      });
      this.view = { ...view, request };
      await this.findStillShared().catch(() => undefined);
      this.answered('declined');
    } catch (error) {
      this.show('form');
      if (form) this.refused(form, [this.relayProblem(error, 'signature')]);
    }
  }

  /** The signer answered: the outcome takes focus and its sentences are spoken. */
  private answered(phase: 'signed' | 'declined'): void {
    this.show(phase);
    this.focusAfter(phase, '[part="receipt"] h3');
    const outcome = this.outcome();
    if (outcome) this.announce(outcomeText(outcome));
  }

  // --- rendering -----------------------------------------------------------------------------

  private outcome(): Outcome | undefined {
    const request = this.view?.request;
    return (
      request && {
        request,
        pdfUrl: this.pdfs.get(request.requestId),
        stillShared: this.stillShared,
        locale: this.locale,
        toList: () => {
          this.request = '';
          this.focusAfter('list', 'h2');
        },
      }
    );
  }

  private renderBody(): TemplateResult | typeof nothing {
    const problem = this.configProblem();
    if (problem) return html`<p role="alert">${problem}</p>`;
    const { phase, view } = this;
    if (phase === 'loading')
      return html`<p>${msg('Loading the form…', { id: 'consent-loading' })}</p>`;
    if (phase === 'ask' || phase === 'asked')
      return renderAsk({
        people: this.people,
        asked: this.asked,
        showAsked: phase === 'asked',
        problems: this.problems,
        locale: this.locale,
        submit: (event) => void this.onAsk(event),
        again: () => {
          this.show('ask');
          this.focusAfter('ask', 'form input');
        },
        focusField: this.focusField,
      });
    if (phase === 'list')
      return renderConsentList({
        consents: this.consents,
        locale: this.locale,
        revoking: this.revoking,
        problems: this.problems,
        pdfs: this.pdfs,
        review: (requestId) => {
          this.request = requestId;
          this.focusAfter('form', 'h2');
        },
        startRevoking: (requestId) => {
          this.revoking = requestId;
          this.problems = [];
          this.focusAfter('list', '#confirm-name');
        },
        stopRevoking: () => {
          this.focusAfter('list', `[data-id="${this.revoking ?? ''}"] .danger`);
          this.revoking = undefined;
          this.problems = [];
        },
        revoke: (event) => void this.onRevoke(event),
        focusField: this.focusField,
      });
    if (phase === 'failed' || !view)
      return html`<p class="error" role="alert">
        ${consentErrorText(this.error, this.signerName, !!this.conversation)}
      </p>`;
    if (phase === 'form' || phase === 'sending')
      return renderSignForm({
        view,
        busy: phase === 'sending',
        problems: this.problems,
        signing: this.signing,
        locale: this.locale,
        sign: (event) => void this.onSign(event),
        decline: () => void this.onDecline(),
        focusField: this.focusField,
      });
    const outcome = this.outcome();
    return outcome ? renderOutcome(outcome) : nothing;
  }

  protected override render(): TemplateResult {
    const view = this.request ? this.view : undefined;
    return html`<section part="base" class="consent" aria-labelledby="title">
      <h2 id="title" tabindex="-1" lang=${view?.template.language ?? nothing}>
        ${
          this.request
            ? (view?.template.title ?? msg('Consent form', { id: 'consent-title' }))
            : this.conversation && this.template
              ? msg('Ask for consent', { id: 'consent-ask' })
              : msg('Your consents', { id: 'consent-list-title' })
        }
      </h2>
      ${view ? renderFacts(view.request, this.locale, true) : nothing} ${this.renderBody()}
      <p class="visually-hidden" role="status">${this.said}</p>
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
