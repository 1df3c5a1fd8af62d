// The message box's Send rule is the relay's (issue 15): text with nothing visible in it, such as
// a lone zero-width space, is empty, so the button stays disabled and Enter sends nothing.
import { expect } from '@open-wc/testing';
import { careConversation, chatAs, shadow, texts, type } from '../test-support/chat.js';
import './chat.js';

describe('<carethread-chat> with invisible text', () => {
  it('keeps Send disabled and sends nothing until something visible is typed', async () => {
    const { id, patient } = await careConversation();
    const element = await chatAs(id, patient);
    const send = () => shadow(element).querySelector('.send') as HTMLButtonElement;
    for (const text of ['\u200B', ' \u200B\uFEFF ', '\u2060\uFE0F', '\u3164']) {
      await type(element, text);
      expect(send().disabled, JSON.stringify(text)).to.equal(true);
      await type(element, text, { key: 'Enter' });
    }
    expect(texts(element, '.message .text')).to.deep.equal([]);
    await type(element, '\u200Bok');
    expect(send().disabled).to.equal(false);
    await expect(element).to.be.accessible();
  });
});
