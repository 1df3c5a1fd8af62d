// Deleting one's own message in <carethread-chat>, in real Chromium against the real relay: asked
// for confirmation, done with the keyboard, and seen by the others as a placeholder.
import { expect, waitUntil } from '@open-wc/testing';
import { sendKeys } from '@web/test-runner-commands';
import { careConversation, chatAs, shadow, texts, type } from '../test-support/chat.js';
import type { CareThreadChat } from './chat.component.js';

const focused = (element: CareThreadChat) => shadow(element).activeElement;

describe('<carethread-chat> deleting a message', () => {
  it('asks first, deletes for everyone with the keyboard, and shows the others a placeholder', async () => {
    const { id, patient } = await careConversation();
    const alice = await chatAs(id, patient);
    const therapist = await chatAs(id, `dr-${id}`, 'provider');
    await type(alice, 'Sent to the wrong person', { key: 'Enter' });
    await waitUntil(() => shadow(alice).querySelector('.message.mine .delete'), 'no Delete', {
      timeout: 10000,
    });
    await waitUntil(() => texts(therapist, '.message .text').includes('Sent to the wrong person'));
    // Only one's own messages can be deleted.
    expect(shadow(therapist).querySelector('.delete')).to.equal(null);

    // The first press only asks; Cancel puts things back, focus on Delete again.
    const deleteButton = shadow(alice).querySelector<HTMLButtonElement>('.message.mine .delete');
    deleteButton?.focus();
    await sendKeys({ press: 'Enter' });
    await alice.updateComplete;
    expect(texts(alice, '.message.mine .meta span')).to.include('Delete for everyone?');
    expect(focused(alice)?.className).to.equal('confirm-delete');
    await expect(alice).to.be.accessible();
    await sendKeys({ press: 'Tab' });
    expect(focused(alice)?.className).to.equal('cancel-delete');
    await sendKeys({ press: 'Enter' });
    await alice.updateComplete;
    expect(shadow(alice).querySelector('.confirm-delete')).to.equal(null);
    expect(focused(alice)?.className).to.equal('delete');
    expect(texts(therapist, '.message .text')).to.include('Sent to the wrong person');

    // Asked again and confirmed: deleted for everyone.
    await sendKeys({ press: 'Enter' });
    await alice.updateComplete;
    await sendKeys({ press: 'Enter' });
    const placeholder = 'This message was deleted.';
    for (const element of [alice, therapist])
      await waitUntil(() => texts(element, '.message .text.deleted').includes(placeholder), '', {
        timeout: 10000,
      });
    expect(texts(therapist, '.message .text')).not.to.include('Sent to the wrong person');
    expect(shadow(alice).querySelector('.delete')).to.equal(null);
    await expect(therapist).to.be.accessible();

    // Someone opening the conversation afterwards sees the placeholder too.
    const later = await chatAs(id, `dr-${id}`, 'provider');
    expect(texts(later, '.message .text.deleted')).to.deep.equal([placeholder]);
  });

  it('says it in Spanish', async () => {
    const { id, patient } = await careConversation();
    const alice = await chatAs(id, patient, 'patient', 'es');
    await type(alice, 'Borrar esto', { key: 'Enter' });
    await waitUntil(() => shadow(alice).querySelector('.message.mine .delete'), 'no Eliminar', {
      timeout: 10000,
    });
    shadow(alice).querySelector<HTMLButtonElement>('.message.mine .delete')?.click();
    await alice.updateComplete;
    expect(texts(alice, '.message.mine .meta span')).to.include('¿Eliminar para todos?');
    shadow(alice).querySelector<HTMLButtonElement>('.confirm-delete')?.click();
    await waitUntil(
      () => texts(alice, '.message .text.deleted').includes('Este mensaje fue eliminado.'),
      'no placeholder',
      { timeout: 10000 },
    );
  });
});
