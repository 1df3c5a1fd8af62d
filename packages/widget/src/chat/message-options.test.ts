// One's own messages in <carethread-chat>, in real Chromium against the real relay: their options
// (who read it, Edit, Delete) behind one quiet button, done with the keyboard, seen by the others;
// and the log as one Tab stop with the arrow keys inside (issue 17).
import { expect, waitUntil } from '@open-wc/testing';
import { sendKeys } from '@web/test-runner-commands';
import { careConversation, chatAs, shadow, texts, type } from '../test-support/chat.js';
import type { CareThreadChat } from './chat.component.js';

const focused = (element: CareThreadChat) => shadow(element).activeElement;
/** The reader's first message the relay stored (not one still being sent). */
const mine = (element: CareThreadChat) =>
  shadow(element).querySelector('.message.mine[data-seq]') as HTMLElement;

async function shiftTab(): Promise<void> {
  await sendKeys({ down: 'Shift' });
  await sendKeys({ press: 'Tab' });
  await sendKeys({ up: 'Shift' });
}

async function sent(element: CareThreadChat, text: string): Promise<void> {
  await type(element, text, { key: 'Enter' });
  await waitUntil(
    () => texts(element, '.message.mine[data-seq] .text').includes(text),
    `${text} not sent`,
    {
      timeout: 10000,
    },
  );
}

describe('<carethread-chat> options of one’s own message', () => {
  it('keeps Delete and the readers out of sight until asked, and asks before deleting for everyone', async () => {
    const { id, patient } = await careConversation();
    const alice = await chatAs(id, patient);
    const therapist = await chatAs(id, `dr-${id}`, 'provider');
    await sent(alice, 'Sent to the wrong person');
    await waitUntil(() => texts(therapist, '.message .text').includes('Sent to the wrong person'));
    // No always-visible pills: one options button, faded until the message is hovered or focused
    // where a pointer can hover, and shown where none can (touch).
    expect(mine(alice).querySelectorAll('.meta button')).to.have.length(1);
    expect(getComputedStyle(mine(alice).querySelector('.options') as Element).opacity).to.equal(
      matchMedia('(hover: hover)').matches ? '0' : '1',
    );
    // Only one's own messages have options.
    expect(shadow(therapist).querySelector('.options')).to.equal(null);

    (mine(alice).querySelector('.options') as HTMLButtonElement).focus();
    await sendKeys({ press: 'Enter' });
    await alice.updateComplete;
    // The therapist's chat is open on the latest message, so it was read.
    expect(texts(alice, '.actions .readers')).to.deep.equal(['Read by Dr. Rivera']);
    expect(focused(alice)?.className).to.equal('edit');
    await expect(alice).to.be.accessible();
    await sendKeys({ press: 'Tab' });
    expect(focused(alice)?.className).to.equal('delete');

    // The first press only asks; Cancel goes back to the choices.
    await sendKeys({ press: 'Enter' });
    await alice.updateComplete;
    expect(texts(alice, '.actions .question')).to.deep.equal(['Delete for everyone?']);
    expect(focused(alice)?.className).to.equal('confirm-delete danger');
    await sendKeys({ press: 'Tab' });
    await sendKeys({ press: 'Enter' });
    await alice.updateComplete;
    expect(shadow(alice).querySelector('.confirm-delete')).to.equal(null);
    expect(focused(alice)?.className).to.equal('edit');
    // Escape closes the options; focus goes back to their button.
    await sendKeys({ press: 'Escape' });
    await alice.updateComplete;
    expect(shadow(alice).querySelector('.actions')).to.equal(null);
    expect(focused(alice)?.className).to.equal('options');
    expect(texts(therapist, '.message .text')).to.include('Sent to the wrong person');

    // Asked again and confirmed: deleted for everyone; focus stays on the message.
    await sendKeys({ press: 'Enter' });
    await alice.updateComplete;
    await sendKeys({ press: 'Tab' });
    await sendKeys({ press: 'Enter' });
    await alice.updateComplete;
    await sendKeys({ press: 'Enter' });
    const placeholder = 'This message was deleted.';
    for (const element of [alice, therapist])
      await waitUntil(() => texts(element, '.message .text.deleted').includes(placeholder), '', {
        timeout: 10000,
      });
    expect(texts(therapist, '.message .text')).not.to.include('Sent to the wrong person');
    expect(shadow(alice).querySelector('.options')).to.equal(null);
    expect(focused(alice)).to.equal(mine(alice));
    await expect(therapist).to.be.accessible();

    // Someone opening the conversation afterwards sees the placeholder too.
    const later = await chatAs(id, `dr-${id}`, 'provider');
    expect(texts(later, '.message .text.deleted')).to.deep.equal([placeholder]);
  });

  it('corrects a message in place: Enter saves, everyone sees it marked edited; Escape keeps it', async () => {
    const { id, patient } = await careConversation();
    const alice = await chatAs(id, patient);
    const therapist = await chatAs(id, `dr-${id}`, 'provider');
    await sent(alice, 'See you on Thursdya');
    (mine(alice).querySelector('.options') as HTMLButtonElement).click();
    await alice.updateComplete;
    (shadow(alice).querySelector('.actions .edit') as HTMLButtonElement).click();
    await alice.updateComplete;
    const editor = focused(alice) as HTMLTextAreaElement;
    expect(editor.localName).to.equal('textarea');
    expect(editor.value).to.equal('See you on Thursdya');
    await expect(alice).to.be.accessible();

    // Escape leaves it as it was.
    await sendKeys({ press: 'Escape' });
    await alice.updateComplete;
    expect(texts(alice, '.message.mine .text')).to.deep.equal(['See you on Thursdya']);
    expect(focused(alice)?.className).to.equal('options');

    await sendKeys({ press: 'Enter' });
    await alice.updateComplete;
    (shadow(alice).querySelector('.actions .edit') as HTMLButtonElement).click();
    await alice.updateComplete;
    const again = focused(alice) as HTMLTextAreaElement;
    again.select();
    await sendKeys({ type: 'See you on Thursday' });
    await sendKeys({ press: 'Enter' });
    for (const element of [alice, therapist])
      await waitUntil(
        () =>
          texts(element, '.message .text').includes('See you on Thursday') &&
          texts(element, '.message .edited').includes('edited'),
        'edit not shown',
        { timeout: 10000 },
      );
    expect(texts(therapist, '.message .text')).not.to.include('See you on Thursdya');
    expect(focused(alice)?.className).to.equal('options');
  });

  it('makes the log one Tab stop, with the arrow keys between messages', async () => {
    const { id, patient, provider } = await careConversation();
    await provider.conversation(id).open();
    await provider.conversation(id).send('See https://clinic.example/plan before Thursday');
    const alice = await chatAs(id, patient);
    for (const text of ['One', 'Two', 'Three']) await sent(alice, text);
    const before = document.createElement('button');
    before.textContent = 'host page button';
    document.body.prepend(before);
    try {
      before.focus();
      await sendKeys({ press: 'Tab' });
      expect(focused(alice)?.getAttribute('role')).to.equal('log');
      // Three own messages, each with options, and a link: none of them is a Tab stop.
      await sendKeys({ press: 'Tab' });
      expect(focused(alice)?.localName).to.equal('textarea');

      await shiftTab();
      expect(focused(alice)?.getAttribute('role')).to.equal('log');
      await sendKeys({ press: 'ArrowUp' });
      expect(focused(alice)?.textContent).to.contain('Three');
      await sendKeys({ press: 'ArrowUp' });
      await sendKeys({ press: 'ArrowUp' });
      await sendKeys({ press: 'ArrowUp' });
      expect(focused(alice)?.textContent).to.contain('clinic.example');
      // Within a message, Tab reaches its controls (here the link), then the message box.
      await sendKeys({ press: 'Tab' });
      expect(focused(alice)?.localName).to.equal('a');
      await sendKeys({ press: 'Tab' });
      expect(focused(alice)?.localName).to.equal('textarea');
      await shiftTab();
      await shiftTab();
      await sendKeys({ press: 'End' });
      expect(focused(alice)?.textContent).to.contain('Three');
      await sendKeys({ press: 'Tab' });
      expect(focused(alice)?.className).to.equal('options');
      await sendKeys({ press: 'Escape' });
      await sendKeys({ press: 'Escape' });
      expect(focused(alice)?.getAttribute('role')).to.equal('log');
      await expect(alice).to.be.accessible();
    } finally {
      before.remove();
    }
  });

  it('says it in Spanish', async () => {
    const { id, patient } = await careConversation();
    const alice = await chatAs(id, patient, 'patient', 'es');
    await sent(alice, 'Borrar esto');
    const options = mine(alice).querySelector('.options') as HTMLButtonElement;
    expect(options.getAttribute('aria-label')).to.match(/^Opciones de su mensaje de las /);
    options.click();
    await alice.updateComplete;
    expect(texts(alice, '.actions button')).to.deep.equal(['Editar', 'Eliminar']);
    expect(texts(alice, '.actions .readers')).to.deep.equal(['Nadie lo ha leído todavía']);
    (shadow(alice).querySelector('.actions .delete') as HTMLButtonElement).click();
    await alice.updateComplete;
    expect(texts(alice, '.actions .question')).to.deep.equal(['¿Eliminar para todos?']);
    (shadow(alice).querySelector('.confirm-delete') as HTMLButtonElement).click();
    await waitUntil(
      () => texts(alice, '.message .text.deleted').includes('Este mensaje fue eliminado.'),
      'no placeholder',
      { timeout: 10000 },
    );
  });
});
