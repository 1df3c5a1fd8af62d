// The look every CareThread element shares: colours as --carethread-* custom properties with light
// and dark defaults that pass WCAG AA contrast. Light or dark follows the page's color-scheme, or
// the theme attribute (light, dark, system).
import { css } from 'lit';

export const themeStyles = css`
  :host {
    /* light-dark() picks by the used color-scheme: the page's unless the theme attribute sets it. */
    --_accent: var(--carethread-accent, light-dark(#1d5fa8, #8cc4ff));
    --_accent-contrast: var(--carethread-accent-contrast, light-dark(#fff, #0b1a2b));
    --_background: var(--carethread-background, light-dark(#fff, #12171d));
    --_surface: var(--carethread-surface, light-dark(#f1f4f8, #1f2731));
    --_text: var(--carethread-text, light-dark(#1b2430, #e8edf3));
    --_muted: var(--carethread-muted, light-dark(#4f5b6a, #a9b4c2));
    --_border: var(--carethread-border, light-dark(#c9d1db, #3a4656));
    --_danger: var(--carethread-danger, light-dark(#b3261e, #ffb4ab));
    --_danger-contrast: var(--carethread-danger-contrast, light-dark(#fff, #690005));
    --_online: light-dark(#2e7d32, #81c784);
    --_radius: var(--carethread-radius, 0.75rem);
    display: block;
    font-family: var(--carethread-font-family, inherit);
    font-size: var(--carethread-font-size, 1rem);
    line-height: 1.45;
    color: var(--_text);
  }
  :host([hidden]) {
    display: none;
  }
  /* relay-element.ts: the reader's language is still loading. */
  :host([data-locale-loading]) {
    visibility: hidden;
  }
  :host([theme='light']) {
    color-scheme: light;
  }
  :host([theme='dark']) {
    color-scheme: dark;
  }
  :host([theme='system']) {
    color-scheme: light dark;
  }
  * {
    box-sizing: border-box;
  }
  .visually-hidden {
    position: absolute;
    width: 1px;
    height: 1px;
    overflow: hidden;
    clip: rect(0 0 0 0);
    white-space: nowrap;
  }
`;
