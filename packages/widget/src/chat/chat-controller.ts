// The chat element's connection to the relay, as a Lit reactive controller: it owns the headless
// client and the conversation handle, follows their events and asks the element to re-render.
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import {
  isRetryable,
  type AttachmentView,
  type ConversationSnapshot,
  type ErrorBody,
  type EventView,
  type MessageView,
  type ParticipantView,
} from '@carethread/shared';
import {
  CareThreadError,
  createClient,
  type CareThreadClient,
  type ConnectionState,
  type Conversation,
  type OutboxItem,
} from '../client/index.js';

export interface ChatTarget {
  server: string;
  conversationId: string;
  tokenProvider: () => Promise<string>;
}

export interface ChatHooks {
  /** The conversation opened and its newest page is loaded. */
  opened(): void;
  /** A page of older messages is about to be shown above: keep the reader's position. */
  history(): void;
  /** A message arrived live (not from a history page). */
  liveMessage(message: MessageView): void;
}

/** How long a "typing" signal lasts without a refresh, so a lost "stopped" cannot stick. */
const TYPING_TTL_MS = 6000;
/** How long to wait before opening again after a failure a retry can mend. */
const OPEN_RETRY_MS = 2000;
/** Images every browser can show as a thumbnail (HEIC shows as a card). */
const PREVIEWABLE = /^image\/(png|jpeg)$/;

export class ChatController implements ReactiveController {
  client: CareThreadClient | undefined;
  conversation: Conversation | undefined;
  state: ConnectionState = 'connecting';
  error: ErrorBody | undefined;
  /** Set once access to the conversation ended; the content is gone from the page. */
  closed: ErrorBody | undefined;
  snapshot: ConversationSnapshot | undefined;
  messages: MessageView[] = [];
  outbox: OutboxItem[] = [];
  loaded = false;
  /** The conversation was open on this page at some point (so a closing takes something away). */
  hadAccess = false;
  loadingOlder = false;
  /** The reader's read mark when the conversation opened: where the "new messages" line goes. */
  readSeqAtOpen = 0;
  /** Object URLs of shown images, by file id; revoked when the conversation leaves the page. */
  readonly previews = new Map<string, string>();
  private readonly typingTimers = new Map<string, ReturnType<typeof setTimeout>>();
  private subscriptions: (() => void)[] = [];
  private target: ChatTarget | undefined;

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly hooks: ChatHooks,
  ) {
    host.addController(this);
  }

  /** People typing now, other than the reader. */
  get typing(): ParticipantView[] {
    const people = this.snapshot?.participants ?? [];
    return people.filter((p) => this.typingTimers.has(p.userId));
  }

  get me(): string | undefined {
    return this.snapshot?.you.userId;
  }

  /** Loaded system entries, oldest first; none once access ended. */
  get events(): EventView[] {
    return this.closed ? [] : (this.conversation?.events ?? []);
  }

  hostConnected(): void {
    if (this.target && !this.client) this.start(this.target);
  }

  hostDisconnected(): void {
    this.stop();
  }

  /** Connects to `target`, or reconnects when it changed. */
  connect(target: ChatTarget): void {
    const same =
      this.target?.server === target.server &&
      this.target.conversationId === target.conversationId &&
      this.target.tokenProvider === target.tokenProvider;
    if (same && this.client) return;
    this.stop();
    this.target = target;
    this.start(target);
  }

  stop(): void {
    for (const unsubscribe of this.subscriptions.splice(0)) unsubscribe();
    for (const timer of this.typingTimers.values()) clearTimeout(timer);
    this.typingTimers.clear();
    this.client?.close();
    this.client = undefined;
    this.conversation = undefined;
    this.snapshot = undefined;
    this.messages = [];
    this.outbox = [];
    this.loaded = false;
    this.hadAccess = false;
    this.closed = undefined;
    this.clearPreviews();
  }

  /**
   * A shared file's bytes as an object URL, for opening or saving: the shown image's own, or
   * fetched now (through a fresh signed link) and revoked a minute later.
   */
  async fileUrl(attachment: AttachmentView): Promise<string> {
    const shown = this.previews.get(attachment.fileId);
    if (shown) return shown;
    const client = this.client;
    if (!client) throw new CareThreadError('UNAVAILABLE', 'Not connected to the chat relay.');
    const url = URL.createObjectURL(await client.downloadFile(attachment.fileId));
    setTimeout(() => {
      URL.revokeObjectURL(url);
    }, 60_000);
    return url;
  }

  /** Fetches a thumbnail for each PNG or JPEG of `messages` not shown yet. */
  private loadPreviews(messages: readonly MessageView[]): void {
    const client = this.client;
    for (const message of messages)
      for (const { fileId, contentType } of message.attachments ?? []) {
        if (!client || !PREVIEWABLE.test(contentType) || this.previews.has(fileId)) continue;
        // Held with an empty URL while loading, so it is fetched once; a failure shows the card.
        this.previews.set(fileId, '');
        client.downloadFile(fileId).then(
          (blob) => {
            if (this.client !== client) return;
            this.previews.set(fileId, URL.createObjectURL(blob));
            this.host.requestUpdate();
          },
          () => undefined,
        );
      }
  }

  private clearPreviews(): void {
    for (const url of this.previews.values()) if (url) URL.revokeObjectURL(url);
    this.previews.clear();
  }

  async loadOlder(): Promise<void> {
    const conversation = this.conversation;
    if (!conversation || this.loadingOlder || !conversation.hasMoreHistory) return;
    this.loadingOlder = true;
    this.host.requestUpdate();
    try {
      await conversation.loadOlder();
    } catch {
      // Offline: the reader can scroll up again once reconnected.
    } finally {
      this.loadingOlder = false;
      this.host.requestUpdate();
    }
  }

  private start(target: ChatTarget): void {
    const client = createClient({ url: target.server, tokenProvider: target.tokenProvider });
    const conversation = client.conversation(target.conversationId);
    this.client = client;
    this.conversation = conversation;
    this.state = client.state;
    const update = () => {
      this.host.requestUpdate();
    };
    this.subscriptions = [
      client.on('state', ({ state, error }) => {
        this.state = state;
        this.error = error;
        update();
      }),
      conversation.on('participants', (participants) => {
        this.snapshot = conversation.snapshot;
        // A "typing" from someone who left must not linger.
        for (const userId of this.typingTimers.keys())
          if (!participants.some((p) => p.userId === userId)) this.setTyping(userId, false);
        update();
      }),
      conversation.on('message', (message) => {
        this.messages = conversation.messages;
        this.loadPreviews([message]);
        this.setTyping(message.sender.userId, false);
        update();
        this.hooks.liveMessage(message);
      }),
      conversation.on('event', update),
      conversation.on('edit', () => {
        this.messages = conversation.messages;
        update();
      }),
      conversation.on('history', (page) => {
        this.messages = conversation.messages;
        this.loadPreviews(page);
        update();
        this.hooks.history();
      }),
      conversation.on('outbox', (items) => {
        this.outbox = items;
        update();
      }),
      conversation.on('typing', ({ userId, typing }) => {
        if (userId !== this.me) this.setTyping(userId, typing);
      }),
      conversation.on('receipt', update),
      conversation.on('presence', update),
      conversation.on('opened', (snapshot) => {
        // Also after access came back (a consent was signed while the chat was open), and after
        // a reconnection when the first open failed for want of a connection.
        const first = !this.loaded;
        this.closed = undefined;
        this.snapshot = snapshot;
        this.messages = conversation.messages;
        this.loaded = true;
        this.hadAccess = true;
        if (first)
          this.readSeqAtOpen =
            snapshot.participants.find((p) => p.userId === snapshot.you.userId)?.readSeq ?? 0;
        update();
        if (first) this.hooks.opened();
      }),
      conversation.on('closed', (error) => {
        // Nothing of the conversation stays on the page once access ended.
        this.closed = error;
        this.snapshot = undefined;
        this.messages = [];
        this.outbox = [];
        this.clearPreviews();
        update();
      }),
    ];
    this.open(conversation);
  }

  /**
   * Opens the conversation. A refusal (no access, no such conversation) closes it for good; a
   * failure a retry can mend (the connection dropped, the relay busy) is tried again: by the
   * client itself once it reconnects, or here after a pause while it stays connected.
   */
  private open(conversation: Conversation): void {
    conversation.open().catch((error: unknown) => {
      if (this.conversation !== conversation) return;
      const failure =
        error instanceof CareThreadError
          ? { code: error.code, message: error.message }
          : { code: 'UNAVAILABLE' as const, message: String(error) };
      if (!conversation.closed && isRetryable(failure.code)) {
        setTimeout(() => {
          if (this.conversation === conversation && !this.loaded && this.client?.socket.connected)
            this.open(conversation);
        }, OPEN_RETRY_MS);
        return;
      }
      this.closed = conversation.closed ?? failure;
      this.loaded = true;
      this.host.requestUpdate();
    });
  }

  private setTyping(userId: string, typing: boolean): void {
    clearTimeout(this.typingTimers.get(userId));
    this.typingTimers.delete(userId);
    if (typing) {
      this.typingTimers.set(
        userId,
        setTimeout(() => {
          this.setTyping(userId, false);
        }, TYPING_TTL_MS),
      );
    }
    this.host.requestUpdate();
  }
}
