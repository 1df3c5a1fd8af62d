// How the signer signs, as a Lit reactive controller: a typed name, or also a drawing on a
// signature pad that is loaded only for those who draw; the choice's template and what it sends.
import {
  html,
  nothing,
  type ReactiveController,
  type ReactiveControllerHost,
  type TemplateResult,
} from 'lit';
import { msg } from '@lit/localize';
import type { ConsentSign } from '@carethread/shared';
import type SignaturePad from 'signature_pad';
import { CareThreadError } from '../client/index.js';
import { loadSignaturePad } from './signature-pad.js';

/** The consent element, as far as its signature is concerned. */
export interface SignatureHost extends ReactiveControllerHost, Element {
  readonly renderRoot: HTMLElement | DocumentFragment;
}

export class DrawnSignatureController implements ReactiveController {
  /** How the signer signs: typed name (the keyboard path) or drawn with pointer, pen or touch. */
  private method: 'typed' | 'drawn' = 'typed';
  private pad: SignaturePad | undefined;
  /** The canvas the pad is being loaded for, so one load serves one drawing surface. */
  private padCanvas: HTMLCanvasElement | undefined;

  /** `unavailable`: the pad could not load; the signer is back to typing, and hears why. */
  constructor(
    private readonly host: SignatureHost,
    private readonly unavailable: (error: CareThreadError) => void,
  ) {
    host.addController(this);
  }

  hostUpdated(): void {
    // The drawing surface exists only while "draw" is chosen; attach the pad to it once.
    const canvas = this.host.renderRoot.querySelector('canvas') ?? undefined;
    if (canvas === this.padCanvas) return;
    this.pad?.off();
    this.pad = undefined;
    this.padCanvas = canvas;
    if (canvas) void this.attachPad(canvas);
  }

  /** The signature to send under `name`; undefined while the signer chose to draw and has not. */
  signature(name: string): ConsentSign['signature'] | undefined {
    const pad = this.pad;
    if (this.method === 'drawn' && (!pad || pad.isEmpty())) return undefined;
    return this.method === 'drawn' && pad
      ? { method: 'drawn' as const, name, image: pad.toDataURL('image/png') }
      : { method: 'typed' as const, name };
  }

  render(): TemplateResult {
    return html`<div
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
              <button
                type="button"
                @click=${() => {
                  this.pad?.clear();
                }}
              >
                ${msg('Clear and redo', { id: 'consent-pad-clear' })}
              </button>`
          : nothing
      }`;
  }

  private choose(method: 'typed' | 'drawn'): void {
    this.method = method;
    this.host.requestUpdate();
  }

  private async attachPad(canvas: HTMLCanvasElement): Promise<void> {
    let Pad: typeof SignaturePad;
    try {
      Pad = await loadSignaturePad();
    } catch {
      this.method = 'typed';
      this.unavailable(
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
      penColor: getComputedStyle(this.host).getPropertyValue('color') || '#000',
    });
    canvas.removeAttribute('aria-busy');
  }
}
