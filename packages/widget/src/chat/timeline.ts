// Pure helpers that turn a conversation's messages into what the chat shows: timeline rows (day
// headings, runs of messages by one sender, the unread line) and text split into safe links.
import type { EventView, MessageView } from '@carethread/shared';

/** One row of the rendered timeline; `key` stays the same for the same row across renders. */
export type TimelineItem =
  | { kind: 'day'; key: string; date: Date }
  | { kind: 'unread'; key: 'unread' }
  | { kind: 'message'; key: string; message: MessageView; startsRun: boolean }
  | { kind: 'event'; key: string; entry: EventView };

function localDay(date: Date): string {
  const month = String(date.getMonth() + 1).padStart(2, '0');
  const day = String(date.getDate()).padStart(2, '0');
  return `${String(date.getFullYear())}-${month}-${day}`;
}

/**
 * Lays messages (oldest first) out as rows: a heading for each of the viewer's local days, the
 * "new messages" line before `firstUnreadSeq`, and messages, where `startsRun` marks the first of
 * a run by one sender (the row that shows the name). A run also breaks after `runGapMs` of
 * silence, so a reply hours later reads as a new turn. Keys are stable, so rendering with
 * `repeat` keeps each message's DOM node when older pages are added above.
 */
export function timelineItems(
  messages: readonly (MessageView | EventView)[],
  firstUnreadSeq: number | undefined,
  runGapMs = 5 * 60_000,
): TimelineItem[] {
  const items: TimelineItem[] = [];
  let previous: MessageView | undefined;
  let currentDay = '';
  for (const message of messages) {
    const sent = new Date(message.kind === 'event' ? message.at : message.sentAt);
    const day = localDay(sent);
    if (day !== currentDay) {
      currentDay = day;
      items.push({
        kind: 'day',
        key: `day-${day}`,
        date: new Date(sent.getFullYear(), sent.getMonth(), sent.getDate()),
      });
      previous = undefined;
    }
    // A system entry (someone joined, a consent step) is a line of its own and ends a run.
    if (message.kind === 'event') {
      items.push({ kind: 'event', key: `event-${String(message.seq)}`, entry: message });
      previous = undefined;
      continue;
    }
    let startsRun =
      previous?.sender.userId !== message.sender.userId ||
      sent.getTime() - new Date(previous.sentAt).getTime() >= runGapMs;
    if (message.seq === firstUnreadSeq) {
      items.push({ kind: 'unread', key: 'unread' });
      startsRun = true;
    }
    items.push({ kind: 'message', key: message.id, message, startsRun });
    previous = message;
  }
  return items;
}

export type TextPart =
  { kind: 'text'; text: string } | { kind: 'link'; text: string; href: string };

// http(s) URLs and bare www. hosts; trailing punctuation stays text ("see https://x.org.").
const LINK = /\b(?:https?:\/\/|www\.)[^\s<>"']+/gi;
const TRAILING = /[.,;:!?)\]}'"]+$/;

/**
 * Splits message text into text runs and links. Only http and https links are produced, so a
 * `javascript:` or `data:` URL in a message stays inert text. The caller renders every part as
 * text (Lit escapes it); links get `rel="noopener noreferrer"`.
 */
export function linkify(text: string): TextPart[] {
  const parts: TextPart[] = [];
  let last = 0;
  for (const match of text.matchAll(LINK)) {
    let raw = match[0];
    const trailing = TRAILING.exec(raw)?.[0] ?? '';
    raw = raw.slice(0, raw.length - trailing.length);
    const start = match.index;
    if (raw.length === 0) continue;
    const href = raw.toLowerCase().startsWith('www.') ? `https://${raw}` : raw;
    let url: URL;
    try {
      url = new URL(href);
    } catch {
      continue;
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') continue;
    if (start > last) parts.push({ kind: 'text', text: text.slice(last, start) });
    parts.push({ kind: 'link', text: raw, href: url.href });
    last = start + raw.length;
  }
  if (last < text.length) parts.push({ kind: 'text', text: text.slice(last) });
  return parts;
}
