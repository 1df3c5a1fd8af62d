// The conversation's system entries in <carethread-chat> (issue 17), in real Chromium against the
// real relay: a quiet line with its time, live and after a reload, in the reader's language, and
// a consent's steps for the patient only, never for the family.
import { expect, waitUntil } from '@open-wc/testing';
import { chatAs, consentRequest, shadow, signAsPatient, texts } from '../test-support/chat.js';
import type { CareThreadChat } from './chat.component.js';
import './chat.js';

const lines = (element: CareThreadChat) => texts(element, '.system-entry span');

describe('system entries in <carethread-chat>', () => {
  it('shows who joined and each consent step as a line with its time, live and after a reload', async () => {
    const { id, provider, patient, requestId } = await consentRequest();
    const element = await chatAs(id, patient);
    await waitUntil(() => lines(element).length === 1, 'the request is not shown');
    expect(lines(element)).to.deep.equal([
      'Dr. Rivera asked Alice Moreno to share this conversation with Bob Moreno',
    ]);

    // Live: a join, then the patient's signature.
    await provider.request('participant.add', {
      conversationId: id,
      participant: {
        userId: `carol-${id}`,
        role: 'family',
        displayName: 'Carol Moreno',
        relationship: 'mother',
      },
    });
    await waitUntil(() => lines(element).length === 2, 'the join is not shown live');
    expect(lines(element)[1]).to.equal('Carol Moreno (mother) joined');
    await signAsPatient(patient, requestId);
    await waitUntil(() => lines(element).length === 3, 'the signature is not shown live');
    expect(lines(element)[2]).to.match(
      /^Alice Moreno shared this conversation with Bob Moreno until \w{3} \d{1,2}, \d{4}$/,
    );
    const line = shadow(element).querySelector('.system-entry');
    expect(line?.getAttribute('part')).to.equal('system-entry');
    expect(line?.querySelector('time')?.getAttribute('datetime')).to.match(/^\d{4}-/);
    await expect(element).to.be.accessible();

    // A reload, in Spanish: the same lines from history, in the reader's language.
    const again = await chatAs(id, patient, 'patient', 'es');
    await waitUntil(() => lines(again).length === 3, 'the lines are not there after a reload');
    await waitUntil(() => lines(again)[1] === 'Carol Moreno (madre) se unió a la conversación');
    expect(lines(again)[0]).to.equal(
      'Dr. Rivera pidió a Alice Moreno que compartiera esta conversación con Bob Moreno',
    );
    expect(lines(again)[2]).to.match(
      /^Alice Moreno compartió esta conversación con Bob Moreno hasta el \d{1,2} \S+ \d{4}$/,
    );
    await expect(again).to.be.accessible();

    // Bob, now consented, sees the join: the consent steps are not his to see.
    const bob = await chatAs(id, `bob-${id}`, 'family', 'es');
    await waitUntil(() => lines(bob).length > 0, 'the join is not shown to the family');
    expect(lines(bob)).to.deep.equal(['Carol Moreno (madre) se unió a la conversación']);
  });
});
