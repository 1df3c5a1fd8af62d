// Files in <carethread-chat>, in real Chromium against the real relay web-test-runner starts:
// picked, pasted and dropped; uploaded with progress; shown as thumbnails and cards; downloaded.
import { expect, waitUntil } from '@open-wc/testing';
import { sendKeys } from '@web/test-runner-commands';
import {
  careConversation,
  chatAs,
  relayControl,
  shadow,
  texts,
  type,
} from '../test-support/chat.js';
import type { CareThreadChat } from './chat.component.js';

const pdf = (name = 'discharge-plan.pdf', bytes = 3000) =>
  new File(['%PDF-1.7\n', 'x'.repeat(bytes)], name, { type: 'application/pdf' });

/** A real PNG, drawn and encoded by the browser, so a thumbnail has something to decode. */
async function png(name = 'insurance-card.png'): Promise<File> {
  const canvas = document.createElement('canvas');
  canvas.width = 120;
  canvas.height = 80;
  const context = canvas.getContext('2d') as CanvasRenderingContext2D;
  context.fillStyle = '#2a6';
  context.fillRect(0, 0, 120, 80);
  const blob = await new Promise<Blob>((resolve) => {
    canvas.toBlob((b) => {
      resolve(b as Blob);
    }, 'image/png');
  });
  return new File([blob], name, { type: 'image/png' });
}

function transfer(files: File[]): DataTransfer {
  const data = new DataTransfer();
  for (const file of files) data.items.add(file);
  return data;
}

/** Picks files as the file dialog would. */
async function pick(element: CareThreadChat, files: File[]): Promise<void> {
  const picker = shadow(element).querySelector('input[type="file"]') as HTMLInputElement;
  picker.files = transfer(files).files;
  picker.dispatchEvent(new Event('change', { bubbles: true }));
  await element.updateComplete;
}

const $ = (element: CareThreadChat, selector: string) =>
  shadow(element).querySelector(selector) as HTMLElement;

/** Captures what the element saves through a download link, without leaving the page. */
function captureSaves(): { saved: { href: string; download: string }[]; restore: () => void } {
  const saved: { href: string; download: string }[] = [];
  const click = Object.getOwnPropertyDescriptor(HTMLAnchorElement.prototype, 'click');
  HTMLAnchorElement.prototype.click = function (this: HTMLAnchorElement) {
    saved.push({ href: this.href, download: this.download });
  };
  return {
    saved,
    restore: () => {
      if (click) Object.defineProperty(HTMLElement.prototype, 'click', click);
      delete (HTMLAnchorElement.prototype as Partial<HTMLAnchorElement>).click;
    },
  };
}

describe('<carethread-chat> files', () => {
  it('sends picked files with a message; the care team sees a card and a thumbnail, and saves the file', async () => {
    const { id, patient } = await careConversation();
    const alice = await chatAs(id, patient);
    const therapist = await chatAs(id, `dr-${id}`, 'provider');
    const document = pdf();
    await pick(alice, [document, await png()]);
    expect(texts(alice, '.draft .file-name')).to.deep.equal([
      'discharge-plan.pdf, PDF, 3 kB',
      texts(alice, '.draft .file-name')[1] ?? '',
    ]);
    expect(texts(alice, '.file-status')).to.deep.equal(['2 files attached.']);
    await expect(alice).to.be.accessible();
    await type(alice, 'My discharge plan and card', { key: 'Enter' });
    expect(shadow(alice).querySelectorAll('.draft')).to.have.length(0);

    await waitUntil(() => shadow(therapist).querySelector('.thumb img'), 'no thumbnail', {
      timeout: 10000,
    });
    const image = $(therapist, '.thumb img') as HTMLImageElement;
    await waitUntil(() => image.complete && image.naturalWidth === 120, 'the image did not decode');
    expect(image.src).to.match(/^blob:/);
    const card = $(therapist, '.files button.file');
    expect(card.getAttribute('aria-label')).to.equal('Download discharge-plan.pdf, PDF, 3 kB');
    expect(texts(therapist, '.message .text')).to.include('My discharge plan and card');
    await expect(therapist).to.be.accessible();

    const { saved, restore } = captureSaves();
    try {
      card.click();
      await waitUntil(() => saved.length > 0, 'nothing was saved');
    } finally {
      restore();
    }
    expect(saved[0]?.download).to.equal('discharge-plan.pdf');
    const bytes = await (await fetch(saved[0]?.href ?? '')).text();
    expect(bytes).to.equal(await document.text());

    // A picture opens in a tab, where it has no name; Save keeps its name.
    const save = $(therapist, '.save-file');
    expect(save.getAttribute('aria-label')).to.match(/^Save insurance-card\.png, PNG, /);
    const pictures = captureSaves();
    try {
      save.click();
      await waitUntil(() => pictures.saved.length > 0, 'the picture was not saved');
    } finally {
      pictures.restore();
    }
    expect(pictures.saved[0]?.download).to.equal('insurance-card.png');
  });

  it('opens at the newest message when it is a picture, also when the picture decodes late', async () => {
    const { id, patient, provider } = await careConversation();
    const conversation = provider.conversation(id);
    await conversation.open();
    for (let i = 1; i <= 12; i++) await conversation.send(`Note ${String(i)} of the week`);
    await conversation.send('The new card', [await png('card-front.png')]);
    const alice = await chatAs(id, patient);
    const log = $(alice, '[part="log"]');
    await waitUntil(
      () => (alice.shadowRoot?.querySelector('.thumb img') as HTMLImageElement | null)?.complete,
      'no picture',
      {
        timeout: 10000,
      },
    );
    const fromEnd = () => log.scrollHeight - log.scrollTop - log.clientHeight;
    await waitUntil(() => fromEnd() <= 1, 'not at the newest message');
    // The race seen in 3 of 11 loads: the picture grows the log after the element scrolled to
    // the end and before the browser's scroll event. That is not the reader scrolling away.
    ($(alice, '.thumb img') as HTMLImageElement).style.height = '400px';
    log.dispatchEvent(new Event('scroll'));
    await alice.updateComplete;
    expect(shadow(alice).querySelector('[part="jump"]')).to.equal(null);
    expect(fromEnd()).to.be.at.most(1);
    // The reader's own scroll up is: the view stays, with a way back below the log.
    log.scrollTop = 0;
    await waitUntil(() => shadow(alice).querySelector('[part="jump"]'), 'no Jump to latest');
    expect($(alice, '[part="jump"]').getBoundingClientRect().top).to.be.at.least(
      log.getBoundingClientRect().bottom - 1,
    );
  });

  it('reaches every file control by keyboard: cards in the log, then the box, Attach and Send', async () => {
    const { id, patient, provider } = await careConversation();
    const conversation = provider.conversation(id);
    await conversation.open();
    await conversation.send('Your plan', [pdf('plan.pdf')]);
    const alice = await chatAs(id, patient);
    await waitUntil(() => shadow(alice).querySelector('.files button.file'), 'no card');
    const focused = () => shadow(alice).activeElement;
    $(alice, '[part="log"]').focus();
    // The log is one Tab stop: the arrow keys reach the message, Tab its file.
    await sendKeys({ press: 'ArrowUp' });
    await sendKeys({ press: 'Tab' });
    expect(focused()?.getAttribute('aria-label')).to.equal('Download plan.pdf, PDF, 3 kB');
    const { saved, restore } = captureSaves();
    try {
      await sendKeys({ press: 'Enter' });
      await waitUntil(() => saved.length > 0, 'Enter did not save the file');
    } finally {
      restore();
    }
    expect(saved[0]?.download).to.equal('plan.pdf');
    await sendKeys({ press: 'Tab' });
    expect(focused()?.tagName).to.equal('TEXTAREA');
    await sendKeys({ type: 'Thanks' }); // Send is enabled (and focusable) once there is text
    await sendKeys({ press: 'Tab' });
    expect(focused()?.getAttribute('part')).to.equal('attach');
    await sendKeys({ press: 'Tab' });
    expect(focused()?.getAttribute('part')).to.equal('send');
  });

  it('takes pasted and dropped files, removes one, and sends files without text', async () => {
    const { id, patient } = await careConversation();
    const alice = await chatAs(id, patient);
    const input = $(alice, 'textarea');
    input.dispatchEvent(
      new ClipboardEvent('paste', {
        clipboardData: transfer([pdf('pasted.pdf')]),
        bubbles: true,
        cancelable: true,
        composed: true,
      }),
    );
    const chat = $(alice, '.chat');
    const dropped = transfer([pdf('dropped.pdf'), pdf('unwanted.pdf')]);
    chat.dispatchEvent(new DragEvent('dragover', { dataTransfer: dropped, cancelable: true }));
    await alice.updateComplete;
    expect(chat.classList.contains('dragging')).to.equal(true);
    chat.dispatchEvent(new DragEvent('drop', { dataTransfer: dropped, cancelable: true }));
    await alice.updateComplete;
    expect(chat.classList.contains('dragging')).to.equal(false);
    expect(texts(alice, '.draft .file-name').map((t) => t.split(',')[0])).to.deep.equal([
      'pasted.pdf',
      'dropped.pdf',
      'unwanted.pdf',
    ]);
    ($(alice, 'button[aria-label="Remove unwanted.pdf"]') as HTMLButtonElement).click();
    await alice.updateComplete;
    expect(texts(alice, '.file-status')).to.deep.equal(['unwanted.pdf removed.']);
    expect(shadow(alice).activeElement).to.equal(input);
    const send = $(alice, '[part="send"]') as HTMLButtonElement;
    expect(send.disabled).to.equal(false);
    send.click();
    await waitUntil(
      () => shadow(alice).querySelectorAll('.message:not(.pending) .files button').length === 2,
      'the files did not arrive',
      { timeout: 10000 },
    );
    expect(shadow(alice).querySelector('.message:not(.pending) .text')).to.equal(null);
  });

  it('shows why the relay refused a file (a program named .pdf), with retry and discard', async () => {
    const { id, patient } = await careConversation();
    const alice = await chatAs(id, patient);
    await pick(alice, [
      new File(['MZ\x90\x00 a program'], 'scan.pdf', { type: 'application/pdf' }),
    ]);
    await type(alice, 'Here it is', { key: 'Enter' });
    await waitUntil(() => shadow(alice).querySelector('.message.failed'), 'it was not refused', {
      timeout: 10000,
    });
    expect($(alice, '.message.failed .state').textContent).to.contain(
      'This kind of file cannot be shared here.',
    );
    expect(shadow(alice).querySelector('.message.failed .retry')).to.not.equal(null);
    ($(alice, '.message.failed .discard') as HTMLButtonElement).click();
    await alice.updateComplete;
    expect(shadow(alice).querySelector('.message.pending')).to.equal(null);
  });

  it('refuses a file over the size limit before uploading, and the relay refuses one byte over', async () => {
    const { id, patient } = await careConversation();
    const alice = await chatAs(id, patient);
    alice.maxFileSize = 1000;
    await pick(alice, [pdf('big.pdf', 2000)]);
    expect(shadow(alice).querySelectorAll('.draft')).to.have.length(0);
    expect(texts(alice, '.file-status')[0]).to.match(/^big\.pdf is larger than 1 kB\.$/);

    // The relay's own limit (20 MiB for the test tenant) when the page does not know it.
    alice.maxFileSize = 64 * 1024 * 1024;
    await pick(alice, [pdf('one-over.pdf', 20 * 1024 * 1024 + 1 - 9)]);
    await type(alice, 'Too big', { key: 'Enter' });
    await waitUntil(() => shadow(alice).querySelector('.message.failed'), 'it was not refused', {
      timeout: 20000,
    });
    expect($(alice, '.message.failed .state').textContent).to.contain('That file is larger');
  });

  it('cancels a message with files before it went out; nothing is sent when the relay is back', async () => {
    const { id, patient, provider } = await careConversation();
    const alice = await chatAs(id, patient);
    await pick(alice, [pdf('not-this-one.pdf')]);
    await relayControl('stop');
    try {
      await waitUntil(() => texts(alice, '.banner')[0]?.includes('offline'), 'still online', {
        timeout: 10000,
      });
      await type(alice, 'Never mind', { key: 'Enter' });
      await waitUntil(() => shadow(alice).querySelector('.pending .discard'), 'no cancel button');
      expect(texts(alice, '.pending .discard')).to.deep.equal(['Cancel']);
      ($(alice, '.pending .discard') as HTMLButtonElement).click();
      await alice.updateComplete;
      expect(shadow(alice).querySelector('.pending')).to.equal(null);
    } finally {
      await relayControl('start');
    }
    const view = provider.conversation(id);
    await view.open();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(view.messages.map((m) => m.text)).to.deep.equal([]);
  });
});
