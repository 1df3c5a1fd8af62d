// The pure layout helpers: day headings, runs by sender, the unread line, and safe links.
import { expect } from '@open-wc/testing';
import type { EventView, MessageView } from '@carethread/shared';
import { linkify, timelineItems } from './timeline.js';

function message(seq: number, sender: string, sentAt: Date): MessageView {
  return {
    kind: 'message',
    conversationId: 'c',
    seq,
    id: `m${String(seq)}`,
    sender: { userId: sender, role: 'patient', displayName: sender },
    text: `text ${String(seq)}`,
    sentAt: sentAt.toISOString(),
    editedAt: null,
  };
}

describe('timelineItems', () => {
  it("puts a heading before each of the viewer's days and starts runs by sender and silence", () => {
    const day1 = new Date(2026, 10, 20, 9, 0);
    const at = (base: Date, minutes: number) => new Date(base.getTime() + minutes * 60_000);
    const day2 = new Date(2026, 10, 21, 9, 0);
    const items = timelineItems(
      [
        message(1, 'alice', day1),
        message(2, 'alice', at(day1, 1)),
        message(3, 'bob', at(day1, 2)),
        message(4, 'bob', at(day1, 30)), // same sender after a long pause: a new run
        message(5, 'bob', day2), // a new day: a heading, and a new run
      ],
      undefined,
    );
    expect(
      items.map((item) =>
        item.kind === 'message'
          ? `${item.message.seq.toString()}${item.startsRun ? '*' : ''}`
          : item.kind,
      ),
    ).to.deep.equal(['day', '1*', '2', '3*', '4*', 'day', '5*']);
    expect(new Set(items.map((item) => item.key)).size).to.equal(items.length);
  });

  it('places the unread line before the first unread message, which starts a run', () => {
    const now = new Date(2026, 10, 20, 9, 0);
    const items = timelineItems([message(1, 'bob', now), message(2, 'bob', now)], 2);
    expect(items.map((item) => item.kind)).to.deep.equal(['day', 'message', 'unread', 'message']);
    const last = items.at(-1);
    expect(last?.kind === 'message' && last.startsRun).to.equal(true);
  });

  it('gives a system entry a line of its own, by its time, after which a run starts again', () => {
    const now = new Date(2026, 10, 20, 9, 0);
    const joined: EventView = {
      kind: 'event',
      conversationId: 'c',
      seq: 2,
      at: new Date(2026, 10, 21, 9, 0).toISOString(),
      event: {
        type: 'participant.added',
        participant: {
          userId: 'carol',
          role: 'family',
          displayName: 'Carol',
          relationship: null,
          title: null,
        },
        by: null,
      },
    };
    const log: (MessageView | EventView)[] = [
      message(1, 'bob', now),
      joined,
      message(3, 'bob', now),
    ];
    const items = timelineItems(log, undefined);
    expect(
      items.map((item) =>
        item.kind === 'message' ? `${item.kind}${item.startsRun ? '*' : ''}` : item.kind,
      ),
    ).to.deep.equal(['day', 'message*', 'day', 'event', 'day', 'message*']);
    expect(items[3]?.key).to.equal('event-2');
  });
});

describe('linkify', () => {
  it('turns http(s) and www. addresses into links and leaves trailing punctuation as text', () => {
    expect(linkify('See https://clinic.example/plan. Or www.example.org!')).to.deep.equal([
      { kind: 'text', text: 'See ' },
      { kind: 'link', text: 'https://clinic.example/plan', href: 'https://clinic.example/plan' },
      { kind: 'text', text: '. Or ' },
      { kind: 'link', text: 'www.example.org', href: 'https://www.example.org/' },
      { kind: 'text', text: '!' },
    ]);
  });

  it('never links other schemes', () => {
    for (const text of ['javascript:alert(1)', 'data:text/html,<b>x</b>', 'file:///etc/passwd']) {
      expect(linkify(text)).to.deep.equal([{ kind: 'text', text }]);
    }
  });
});
