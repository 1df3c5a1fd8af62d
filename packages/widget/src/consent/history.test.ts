// <carethread-consent> tells a person what they agreed to and when: the list of their consents
// with recipients, state and dates and a link to each signed copy, the receipt after signing, the
// form's summary, and what a decline does and does not change.
import { expect, waitUntil } from '@open-wc/testing';
import type { ConsentRequestView } from '@carethread/shared';
import { consentRequest, signAsPatient } from '../test-support/chat.js';
import { $, $$, consentAs, listAs, root, said, signForm, text } from '../test-support/consent.js';

const dateTime = (iso: string) =>
  new Intl.DateTimeFormat('en', { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(iso));
const longDate = (iso: string) =>
  new Intl.DateTimeFormat('en', { dateStyle: 'long' }).format(new Date(iso));

/** A second request to share the same conversation with the same person, for another purpose. */
async function askAgain(
  { id, provider, patient }: Awaited<ReturnType<typeof consentRequest>>,
  purpose: string,
): Promise<ConsentRequestView> {
  return provider.request('consent.request', {
    requestId: `req-${crypto.randomUUID()}`,
    templateId: 'wtr-family-sharing',
    conversationId: id,
    patientId: patient,
    recipients: [`bob-${id}`],
    purpose,
    expiresAt: new Date(Date.now() + 60 * 86_400_000).toISOString(),
  });
}

describe('<carethread-consent> history and receipts', () => {
  it('lists each consent with recipients, state in words, its dates and a named link to its signed copy', async () => {
    const asked = await consentRequest();
    const { requestId, patient, provider } = asked;
    const client = await signAsPatient(patient, requestId);
    await client.request('consent.revoke', {
      requestId,
      signature: { method: 'typed', name: 'Alice Moreno' },
    });
    const second = await askAgain(asked, 'Round 2');
    const { template, disclosure } = await client.request('consent.view', {
      requestId: second.requestId,
    });
    await client.request('consent.sign', {
      requestId: second.requestId,
      disclosureHash: disclosure.hash,
      acknowledgements: template.blocks.flatMap((b) =>
        b.type === 'acknowledgement' ? [b.id] : [],
      ),
      answers: { 'signing-as': 'The patient' },
      signature: { method: 'typed', name: 'Alice Moreno' },
    });
    const third = await askAgain(asked, 'Round 3');
    const { requests } = await provider.request('consent.list', { conversationId: asked.id });
    const byId = new Map(requests.map((r) => [r.requestId, r]));
    const revoked = byId.get(requestId) as ConsentRequestView;
    const inEffect = byId.get(second.requestId) as ConsentRequestView;

    const list = await listAs(patient);
    const items = $$(list, '.consents > li');
    // Waiting first, then in effect, then what has ended.
    expect(items.map((li) => li.querySelector('dl')?.textContent.replace(/\s+/g, ' '))).to.satisfy(
      (texts: string[]) =>
        texts[0]?.includes('Round 3') &&
        texts[1]?.includes('Round 2') &&
        texts[2]?.includes('So my brother can support me.'),
    );
    for (const li of items)
      expect(li.querySelector('h3')?.textContent.trim()).to.equal('Bob Moreno (brother)');
    const [waiting, current, ended] = items.map((li) => li.textContent.replace(/\s+/g, ' ').trim());
    expect(waiting).to.contain('Waiting for your signature');
    expect(waiting).to.contain(`Requested ${dateTime(third.requestedAt)}`);
    expect(waiting).to.contain(`Until ${longDate(third.expiresAt)}`);
    expect(current).to.contain(`In effect since ${dateTime(inEffect.updatedAt)}`);
    expect(current).to.contain(`Requested ${dateTime(inEffect.requestedAt)}`);
    expect(current).to.contain(`Until ${longDate(inEffect.expiresAt)}`);
    expect(ended).to.contain(`Revoked on ${dateTime(revoked.updatedAt)}`);
    expect(ended).to.contain(`Requested ${dateTime(revoked.requestedAt)}`);
    expect(ended).to.not.contain('Until');

    // A link to the signed copy for each consent that was signed, named for what it is.
    await waitUntil(() => $$(list, '.consents a[download]').length === 2, 'no PDF links');
    expect(items[0]?.querySelector('a')).to.equal(null);
    for (const [li, request] of [
      [items[1], inEffect],
      [items[2], revoked],
    ] as const) {
      const link = li?.querySelector('a[download]') as HTMLAnchorElement;
      expect(link.textContent.trim()).to.equal('Download the signed copy (PDF)');
      expect(link.download).to.equal(
        `Signed consent, Bob Moreno (brother), ${request.requestedAt.slice(0, 10)}.pdf`,
      );
      expect((await (await fetch(link.href)).blob()).type).to.equal('application/pdf');
    }
    await expect(list).to.be.accessible();
  });

  it('puts who, what is shared, the purpose and the end date of a form on their own labelled lines', async () => {
    const { requestId, patient } = await consentRequest();
    const element = await consentAs(requestId, patient);
    const terms = $$(element, '.summary dt').map((dt) => dt.textContent.trim());
    const values = $$(element, '.summary dd').map((dd) => dd.textContent.trim());
    expect(terms).to.deep.equal(['Shared with', 'What is shared', 'Purpose', 'Requested', 'Until']);
    expect(values[0]).to.equal('Bob Moreno (brother)');
    expect(values[1]).to.equal('the care conversation and the files shared in it');
    expect(values[2]).to.equal('So my brother can support me.');
  });

  it('says in words what a consent with scopes shares, on the form and on the receipt', async () => {
    const { requestId, patient } = await consentRequest(['goals', 'scores']);
    const element = await consentAs(requestId, patient);
    expect($$(element, '.summary dd.scopes').map((dd) => dd.textContent.trim())).to.deep.equal([
      'the care plan and its progress and questionnaire scores',
    ]);
    await signForm(element);
    expect(said(element)).to.contain(
      'Bob Moreno (brother) can see the care plan and its progress and questionnaire scores until',
    );
  });

  it('gives a receipt a person reads: who may read until when, and a download, without the hash', async () => {
    const { requestId, patient } = await consentRequest();
    const element = await consentAs(requestId, patient);
    await signForm(element);
    const receipt = $(element, '[part="receipt"]');
    expect(text(element, '[part="receipt"] h3')).to.equal('You signed this form');
    expect(text(element, '[part="receipt"] p')).to.match(
      /^Bob Moreno \(brother\) can see the care conversation and the files shared in it until \w+ \d+, \d{4}\. You can revoke this at any time under “Your consents”\.$/,
    );
    await waitUntil(() => receipt.querySelector('a[download]'), 'no PDF link');
    const link = receipt.querySelector('a[download]') as HTMLAnchorElement;
    expect(link.textContent.trim()).to.equal('Download the signed copy (PDF)');
    expect(link.download).to.match(
      /^Signed consent, Bob Moreno \(brother\), \d{4}-\d{2}-\d{2}\.pdf$/,
    );
    // The record's hash is on the signed copy's audit page, not in the sentence for people.
    expect(receipt.textContent).to.not.match(/sha256|Record:/);
    expect(receipt.textContent).to.not.contain('A copy is below');
    expect(said(element)).to.contain(
      'Bob Moreno (brother) can see the care conversation and the files shared in it',
    );
    await expect(element).to.be.accessible();
  });

  it('says after a decline that an earlier consent still shares, until when, and how to stop it', async () => {
    const asked = await consentRequest();
    const { requestId, patient } = asked;
    await signAsPatient(patient, requestId);
    const current = (await asked.provider.request('consent.list', { conversationId: asked.id }))
      .requests[0] as ConsentRequestView;
    const second = await askAgain(asked, 'Round 2');
    const element = await consentAs(second.requestId, patient);
    $(element, 'summary').click();
    $(element, 'details button').click();
    await waitUntil(() => root(element).querySelector('[part="receipt"]'), 'no outcome');
    const outcome = text(element, '[part="receipt"]');
    expect(outcome).to.not.contain('Nothing was shared');
    expect(outcome).to.contain(
      `Your earlier consent still lets Bob Moreno (brother) see the care conversation and the files shared in it until ${longDate(current.expiresAt)}.`,
    );
    expect(outcome).to.contain('To stop it, revoke it under “Your consents”.');
    await expect(element).to.be.accessible();
  });

  it('says after a decline with nothing in effect that nothing was shared', async () => {
    const { requestId, patient } = await consentRequest();
    const element = await consentAs(requestId, patient);
    $(element, 'summary').click();
    $(element, 'details button').click();
    await waitUntil(() => root(element).querySelector('[part="receipt"]'), 'no outcome');
    expect(text(element, '[part="receipt"]')).to.contain('Nothing was shared.');
  });
});
