// <carethread-chat> on a phone (issue 17): at 320 and 375 px wide, in real Chromium against the
// real relay, the message box runs across the width, Attach and Send are icons that keep their
// names, the header leaves the messages most of the height, file names stay on one line, and
// nothing is wider than the element.
import { expect, waitUntil } from '@open-wc/testing';
import { setViewport } from '@web/test-runner-commands';
import { careConversation, chatAs, shadow } from '../test-support/chat.js';
import type { CareThreadChat } from './chat.component.js';

const box = (element: CareThreadChat, selector: string) =>
  (shadow(element).querySelector(selector) as HTMLElement).getBoundingClientRect();

/** Elements of the shadow tree that stick out of the element's right edge. */
function overflowing(element: CareThreadChat): string[] {
  const right = element.getBoundingClientRect().right;
  return [...shadow(element).querySelectorAll<HTMLElement>('*')]
    .filter((node) => node.getClientRects().length > 0)
    .filter((node) => node.getBoundingClientRect().right > right + 0.5)
    .map((node) => `${node.localName}.${node.className}`);
}

/** Picks a file with a long name as the file dialog would. */
async function pickLongName(element: CareThreadChat): Promise<void> {
  const data = new DataTransfer();
  data.items.add(
    new File(['%PDF-1.4\n'], 'discharge-summary-and-medication-plan-december-2026-final.pdf', {
      type: 'application/pdf',
    }),
  );
  const picker = shadow(element).querySelector('input[type="file"]') as HTMLInputElement;
  picker.files = data.files;
  picker.dispatchEvent(new Event('change', { bubbles: true }));
  await element.updateComplete;
}

describe('<carethread-chat> on a phone', () => {
  // The element is the page's full width, as in a portal's phone layout.
  before(() => {
    document.body.style.margin = '0';
  });
  after(async () => {
    document.body.style.margin = '';
    await setViewport({ width: 800, height: 600 });
  });

  for (const width of [320, 375]) {
    it(`fits ${String(width)} px: the box across the width, icons with names, room for messages`, async () => {
      await setViewport({ width, height: 667 });
      const { id, patient, provider } = await careConversation();
      await provider.conversation(id).open();
      await provider.conversation(id).send('Your appointment moved to Thursday at 10.');
      const element = await chatAs(id, patient);
      element.style.width = '100%';
      await waitUntil(() => shadow(element).querySelector('.message'), 'no message');
      const whole = element.getBoundingClientRect();
      expect(whole.width).to.equal(width);
      // The header and the notice leave the messages most of the height.
      expect(box(element, '[part="log"]').height).to.be.at.least(whole.height * 0.55);
      await pickLongName(element);
      await element.updateComplete;

      // The message box takes most of the width (it was about 120 px at 375).
      expect(box(element, 'textarea').width).to.be.at.least(width * 0.6);
      for (const [part, name] of [
        ['attach', 'Attach'],
        ['send', 'Send'],
      ] as const) {
        const button = shadow(element).querySelector(`[part="${part}"]`) as HTMLElement;
        expect(button.getBoundingClientRect().width).to.be.at.most(48);
        expect(button.getBoundingClientRect().height).to.be.at.least(44);
        expect(button.textContent.trim()).to.equal(name);
      }
      // The keyboard hint means nothing on a phone.
      expect(box(element, '.hint').height).to.equal(0);
      // A long file name stays on one line, cut with an ellipsis, its whole name in the title.
      const chip = shadow(element).querySelector('.draft .file-name') as HTMLElement;
      expect(chip.getBoundingClientRect().height).to.be.below(24);
      expect(chip.title).to.equal('discharge-summary-and-medication-plan-december-2026-final.pdf');
      expect(overflowing(element)).to.deep.equal([]);
      await expect(element).to.be.accessible();
    });
  }

  it('keeps the words on the buttons where there is room', async () => {
    await setViewport({ width: 1024, height: 768 });
    const { id, patient } = await careConversation();
    const element = await chatAs(id, patient);
    element.style.width = '40rem';
    await element.updateComplete;
    expect(box(element, '[part="send"] .label').width).to.be.above(20);
  });
});
