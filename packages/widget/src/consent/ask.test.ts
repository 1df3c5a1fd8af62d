// <carethread-consent> for the care team: the request they made, kept current as the patient
// signs, declines or revokes it (consent.updated), with its time, and asking again.
import { expect, waitUntil } from '@open-wc/testing';
import { clientFor, consentRequest, signAsPatient } from '../test-support/chat.js';
import { $, askAs, askForm, root, said, text } from '../test-support/consent.js';
import type { CareThreadConsent } from './consent.component.js';

const dateTime = (iso: string) =>
  new Intl.DateTimeFormat('en', { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(iso));

/** Asks from the element and resolves with the new request's id. */
async function ask(element: CareThreadConsent, purpose = 'Family support'): Promise<string> {
  const requested = new Promise<CustomEvent<{ requestId: string }>>((resolve) => {
    element.addEventListener('carethread-requested', resolve, { once: true });
  });
  ($(element, 'input[name="purpose"]') as HTMLInputElement).value = purpose;
  $(element, 'button.primary').click();
  return (await requested).detail.requestId;
}

const state = (element: CareThreadConsent) => text(element, '[part="receipt"] .state');

describe('<carethread-consent> for the care team', () => {
  it('follows the request live from asked to signed, then revoked, with times, and asks again', async () => {
    const { id, patient, provider } = await consentRequest();
    const element = await askForm(id);
    const requestId = await ask(element);
    await waitUntil(() => root(element).querySelector('[part="receipt"]'), 'no request shown');
    expect(text(element, '[part="receipt"] h3')).to.equal('Consent request for Alice Moreno');
    expect(state(element)).to.equal('Waiting for Alice Moreno to sign');
    expect(text(element, '[part="receipt"]')).to.contain('Family support');

    const client = await signAsPatient(patient, requestId);
    await waitUntil(() => state(element).startsWith('In effect'), 'not signed live', {
      timeout: 10000,
    });
    const find = async () =>
      (await provider.request('consent.list', { conversationId: id })).requests.find(
        (r) => r.requestId === requestId,
      );
    const signed = await find();
    expect(state(element)).to.equal(`In effect since ${dateTime(signed?.updatedAt ?? '')}`);
    expect(said(element)).to.contain('In effect since');
    await expect(element).to.be.accessible();

    await client.request('consent.revoke', {
      requestId,
      signature: { method: 'typed', name: 'Alice Moreno' },
    });
    await waitUntil(() => state(element).startsWith('Revoked'), 'not revoked live');
    const revoked = await find();
    expect(state(element)).to.equal(`Revoked on ${dateTime(revoked?.updatedAt ?? '')}`);
    expect(said(element)).to.contain('Revoked on');

    $(element, '[part="receipt"] button').click(); // "Ask again"
    await waitUntil(() => root(element).querySelector('input[name="purpose"]'), 'no form');
    expect(($(element, 'input[name="purpose"]') as HTMLInputElement).value).to.equal(
      'Family support',
    );
  });

  it('shows a decline live', async () => {
    const { id, patient } = await consentRequest();
    const element = await askForm(id);
    const requestId = await ask(element);
    await waitUntil(() => root(element).querySelector('[part="receipt"]'), 'no request shown');
    await clientFor(patient, 'patient').request('consent.decline', { requestId });
    await waitUntil(() => state(element).startsWith('Declined on'), 'not declined live', {
      timeout: 10000,
    });
    await expect(element).to.be.accessible();
  });

  it("opens on the conversation's latest request and where it stands", async () => {
    const { id, patient, requestId } = await consentRequest();
    await signAsPatient(patient, requestId);
    const element = await askAs(id);
    await waitUntil(() => root(element).querySelector('[part="receipt"]'), 'no request shown');
    expect(state(element)).to.match(/^In effect since /);
    expect(root(element).activeElement).to.equal(null); // opening takes no one's focus
    $(element, '[part="receipt"] button').click(); // "Ask again"
    await waitUntil(() => root(element).querySelector('input[name="purpose"]'), 'no form');
  });
});
