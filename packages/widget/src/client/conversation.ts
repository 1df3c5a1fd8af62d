// One conversation as a client follows it: the ordered log (by sequence number, with no gap but
// the entries the reader may not see) and the people in it. Messages written here wait in its outbox (outbox.ts) until the relay stores them.
import {
  type ConversationSnapshot,
  type EditView,
  type Entry,
  type ErrorBody,
  type EventView,
  type MessageView,
  type ParticipantView,
  type ResponseOf,
  type ServerPayloadOf,
} from '@carethread/shared';
import type { RelayConnection } from './connection.js';
import { Emitter } from './emitter.js';
import { CareThreadError } from './errors.js';
import { fail } from './fail.js';
import { newMessageId } from './ids.js';
import { Outbox, type OutboxItem } from './outbox.js';

export interface ConversationEvents extends Record<string, unknown> {
  /** A new message in sequence order (live or caught up). */
  message: MessageView;
  /** A message's text was corrected. */
  edit: { message: MessageView; edit: EditView };
  /** Older messages (and the system entries among them) were loaded at the top. */
  history: MessageView[];
  /** A system entry (someone joined or left, a consent changed) in sequence order. */
  event: EventView;
  typing: ServerPayloadOf<'typing'>;
  receipt: ServerPayloadOf<'receipt'>;
  presence: ServerPayloadOf<'presence'>;
  participants: ParticipantView[];
  outbox: OutboxItem[];
  /** Access to the conversation ended (removed, consent withdrawn, session over). */
  closed: ErrorBody;
  /** The conversation (re)opened: access checked, newest page loaded. */
  opened: ConversationSnapshot;
}

type LiveEvent =
  | 'message'
  | 'message.edited'
  | 'conversation.event'
  | 'typing'
  | 'receipt'
  | 'presence'
  | 'participant.added'
  | 'participant.removed';

export class Conversation extends Emitter<ConversationEvents> {
  /** Loaded messages by sequence number. */
  private readonly messagesBySeq = new Map<number, MessageView>();
  /** Loaded system entries by sequence number. */
  private readonly eventsBySeq = new Map<number, EventView>();
  /** Entries that arrived ahead of a gap, waiting for the gap to be filled. */
  private readonly ahead = new Map<number, Entry>();
  private snapshotData: ConversationSnapshot | undefined;
  private lastAppliedSeq = 0;
  private oldestLoadedSeq: number | undefined;
  private moreHistory = true;
  private wanted = false;
  private catchingUp: Promise<void> | undefined;
  private opening: Promise<ConversationSnapshot> | undefined;
  private closedError: ErrorBody | undefined;
  /** Presence heard while an open is under way: it may be newer than the snapshot it answers. */
  private presenceWhileOpening: Map<string, boolean> | undefined;
  /** Messages written here, delivered in the order written until the relay stores them. */
  private readonly outgoing: Outbox;

  constructor(
    private readonly client: RelayConnection,
    readonly id: string,
  ) {
    super();
    this.outgoing = new Outbox(client, {
      id,
      messages: this.messagesBySeq,
      closed: () => this.closedError,
      loaded: () => this.oldestLoadedSeq !== undefined,
      open: () =>
        this.open().catch((error: unknown) => {
          this.handleAccessError(error);
          throw error;
        }),
      catchUp: () => this.catchUp(),
      sender: () => this.senderOfSelf(),
      changed: () => {
        this.emit('outbox', this.outbox);
      },
    });
  }

  /** Title, participants and their presence, as of the last open or change. */
  get snapshot(): ConversationSnapshot | undefined {
    return this.snapshotData;
  }

  /** Loaded messages, oldest first. */
  get messages(): MessageView[] {
    return [...this.messagesBySeq.values()].sort((a, b) => a.seq - b.seq);
  }

  /** Loaded system entries, oldest first: place them among `messages` by `seq`. */
  get events(): EventView[] {
    return [...this.eventsBySeq.values()].sort((a, b) => a.seq - b.seq);
  }

  /** Messages written here and not yet acknowledged, in the order written. */
  get outbox(): OutboxItem[] {
    return this.outgoing.list;
  }

  /** Highest sequence number up to which this client has every entry. */
  get lastSeq(): number {
    return this.lastAppliedSeq;
  }

  get hasMoreHistory(): boolean {
    return this.moreHistory;
  }

  /** Why access ended, when it has. */
  get closed(): ErrorBody | undefined {
    return this.closedError;
  }

  /**
   * Opens the conversation: checks access, loads the newest page of history and follows live
   * traffic. After a reconnection it is re-opened and caught up by itself.
   */
  open(options: { historyPage?: number } = {}): Promise<ConversationSnapshot> {
    this.wanted = true;
    this.closedError = undefined;
    // A reconnection during an open must not start a second, overlapping one.
    this.opening ??= this.load(options).finally(() => {
      this.opening = undefined;
    });
    return this.opening;
  }

  /** Loads the page of messages before the oldest loaded one; resolves with them (oldest first). */
  async loadOlder(limit = 50): Promise<MessageView[]> {
    if (!this.moreHistory || this.oldestLoadedSeq === undefined) return [];
    const page = await this.client.request('history.page', {
      conversationId: this.id,
      beforeSeq: this.oldestLoadedSeq,
      limit,
    });
    this.oldestLoadedSeq = this.keepPage(page) ?? this.oldestLoadedSeq;
    this.moreHistory = page.hasMore;
    this.emit('history', page.messages);
    return page.messages;
  }

  /**
   * Sends a message, with files if given. It joins the outbox at once and goes out after the
   * messages written before it here, so the relay stores them in the order written: the files
   * are uploaded (progress in `outbox` events), then the message is (re)sent with the same id
   * until the relay stores it, across reconnections and RATE_LIMITED answers. Opens the
   * conversation first if it is not open. Resolves with the stored message (also when only
   * catch-up shows it was stored); rejects with a CareThreadError when it fails for good (the
   * item then stays in the outbox as `failed`).
   */
  send(text: string, files: readonly Blob[] = []): Promise<MessageView> {
    return this.outgoing.add(text, files);
  }

  /**
   * Sends a failed outbox item again, after the messages still waiting: files already stored are
   * not uploaded again. For a message on its way, or stored already, resolves as its send does.
   */
  retry(id: string): Promise<MessageView> {
    return this.outgoing.retry(id);
  }

  /**
   * Drops an outbox item without sending it, stopping its upload; not once the message itself is
   * on its way (it may be stored already). Returns whether it was dropped.
   */
  discard(id: string): boolean {
    return this.outgoing.discard(id);
  }

  /** Corrects one of your messages; the original stays in the record. */
  edit(seq: number, text: string): Promise<ResponseOf<'message.edit'>> {
    return this.client.request('message.edit', {
      conversationId: this.id,
      id: newMessageId(),
      targetSeq: seq,
      text,
    });
  }

  /**
   * Deletes your message at `seq` for everyone: they see that it was deleted, without its text or
   * files (the care team's record keeps both).
   *
   * @example await conversation.delete(message.seq);
   */
  delete(seq: number): Promise<ResponseOf<'message.delete'>> {
    return this.client.request('message.delete', {
      conversationId: this.id,
      id: newMessageId(),
      targetSeq: seq,
    });
  }

  /** Marks everything up to `seq` (default: the newest) as read by you. */
  async markRead(seq = this.lastAppliedSeq): Promise<number> {
    return (await this.client.request('receipt.read', { conversationId: this.id, seq })).readSeq;
  }

  /** Tells the others you are (or stopped) typing. Best effort: never throws. */
  setTyping(typing: boolean): void {
    if (!this.client.socket.connected) return;
    this.client.request('typing', { conversationId: this.id, typing }).catch(() => undefined);
  }

  /** Stops following the conversation. */
  async close(): Promise<void> {
    this.wanted = false;
    if (this.client.socket.connected)
      await this.client.request('conversation.close', { conversationId: this.id });
  }

  // --- called by the client ------------------------------------------------------------------

  /** @internal After a reconnection: open again (access is checked afresh) and catch up. */
  resume(): void {
    if (!this.wanted || this.closedError || this.opening) return;
    this.open().catch((error: unknown) => {
      this.handleAccessError(error);
    });
  }

  /** @internal Who may read this changed: open again (after an open under way) to be checked afresh. */
  recheck(): void {
    const again = () => {
      this.resume();
    };
    if (this.opening) void this.opening.then(again, again);
    else again();
  }

  /** @internal A consent naming this reader took effect: try again if that is what was missing. */
  regainAccess(): void {
    const reason = this.closedError?.code;
    if (reason !== undefined && reason !== 'CONSENT_REQUIRED') return;
    // Open already, or never asked for: nothing to regain.
    if (reason === undefined && (!this.wanted || this.snapshotData)) return;
    this.closedError = undefined;
    this.wanted = true;
    this.resume();
  }

  /** @internal Access ended: forget the conversation's content so nothing stays on the page. */
  end(error: ErrorBody): void {
    this.closedError = error;
    this.snapshotData = undefined;
    this.messagesBySeq.clear();
    this.eventsBySeq.clear();
    this.ahead.clear();
    this.outgoing.end(error);
    this.oldestLoadedSeq = undefined;
    this.lastAppliedSeq = 0;
    this.moreHistory = true;
    this.emit('closed', error);
  }

  /** @internal A live event for this conversation. */
  receive<E extends LiveEvent>(event: E, payload: ServerPayloadOf<E>): void {
    switch (event) {
      case 'message':
      case 'message.edited':
      case 'conversation.event':
        this.accept(payload as Entry);
        return;
      case 'typing':
        this.emit('typing', payload as ServerPayloadOf<'typing'>);
        return;
      case 'receipt': {
        const receipt = payload as ServerPayloadOf<'receipt'>;
        this.updateParticipant(receipt.userId, (p) => ({ ...p, readSeq: receipt.readSeq }));
        this.emit('receipt', receipt);
        return;
      }
      case 'presence': {
        const presence = payload as ServerPayloadOf<'presence'>;
        this.presenceWhileOpening?.set(presence.userId, presence.online);
        this.updateParticipant(presence.userId, (p) => ({ ...p, online: presence.online }));
        this.emit('presence', presence);
        return;
      }
      case 'participant.added': {
        const { participant } = payload as ServerPayloadOf<'participant.added'>;
        if (this.snapshotData) {
          const others = this.snapshotData.participants.filter(
            (p) => p.userId !== participant.userId,
          );
          this.setSnapshot({ ...this.snapshotData, participants: [...others, participant] });
        }
        return;
      }
      case 'participant.removed': {
        const { userId, reason } = payload as ServerPayloadOf<'participant.removed'>;
        if (this.snapshotData?.you.userId === userId) {
          this.wanted = false;
          this.end(reason ?? fail('FORBIDDEN', 'You were removed from this conversation.'));
          return;
        }
        if (this.snapshotData) {
          this.setSnapshot({
            ...this.snapshotData,
            participants: this.snapshotData.participants.filter((p) => p.userId !== userId),
          });
        }
        return;
      }
    }
  }

  // --- internals -----------------------------------------------------------------------------

  private async load(options: { historyPage?: number }): Promise<ConversationSnapshot> {
    await this.client.ready();
    this.presenceWhileOpening = new Map();
    const snapshot = await this.client.request('conversation.open', { conversationId: this.id });
    for (const p of snapshot.participants)
      p.online = this.presenceWhileOpening.get(p.userId) ?? p.online;
    this.presenceWhileOpening = undefined;
    this.setSnapshot(snapshot);
    if (this.oldestLoadedSeq === undefined) {
      const page = await this.client.request('history.page', {
        conversationId: this.id,
        beforeSeq: snapshot.lastSeq + 1,
        limit: options.historyPage ?? 50,
      });
      this.oldestLoadedSeq = this.keepPage(page) ?? snapshot.lastSeq + 1;
      this.moreHistory = page.hasMore;
      this.lastAppliedSeq = Math.max(this.lastAppliedSeq, snapshot.lastSeq);
      this.emit('history', page.messages);
    }
    await this.catchUp();
    this.emit('opened', snapshot);
    return snapshot;
  }

  /** Keeps a history page's messages and events; the oldest sequence it holds. */
  private keepPage(page: ResponseOf<'history.page'>): number | undefined {
    for (const message of page.messages) this.messagesBySeq.set(message.seq, message);
    for (const event of page.events) this.eventsBySeq.set(event.seq, event);
    const oldest = Math.min(page.messages[0]?.seq ?? Infinity, page.events[0]?.seq ?? Infinity);
    return oldest === Infinity ? undefined : oldest;
  }

  private setSnapshot(snapshot: ConversationSnapshot): void {
    this.snapshotData = snapshot;
    this.emit('participants', snapshot.participants);
  }

  private updateParticipant(userId: string, change: (p: ParticipantView) => ParticipantView): void {
    if (!this.snapshotData) return;
    this.setSnapshot({
      ...this.snapshotData,
      participants: this.snapshotData.participants.map((p) =>
        p.userId === userId ? change(p) : p,
      ),
    });
  }

  /** Applies entries strictly in sequence; anything after a gap waits and triggers a catch-up. */
  private accept(entry: Entry): void {
    if (entry.seq <= this.lastAppliedSeq || this.oldestLoadedSeq === undefined) return;
    if (entry.seq > this.lastAppliedSeq + 1) {
      this.ahead.set(entry.seq, entry);
      void this.catchUp();
      return;
    }
    this.apply(entry);
    this.applyAhead();
  }

  /** Applies the entries waiting ahead that now follow on; drops those already covered. */
  private applyAhead(): void {
    for (const seq of this.ahead.keys()) if (seq <= this.lastAppliedSeq) this.ahead.delete(seq);
    let next = this.ahead.get(this.lastAppliedSeq + 1);
    while (next) {
      this.ahead.delete(next.seq);
      this.apply(next);
      next = this.ahead.get(this.lastAppliedSeq + 1);
    }
  }

  private apply(entry: Entry): void {
    this.lastAppliedSeq = entry.seq;
    if (entry.kind === 'event') {
      this.eventsBySeq.set(entry.seq, entry);
      this.emit('event', entry);
      return;
    }
    if (entry.kind === 'message') {
      this.messagesBySeq.set(entry.seq, entry);
      this.outgoing.stored(entry.id);
      this.emit('message', entry);
      return;
    }
    const target = this.messagesBySeq.get(entry.targetSeq);
    if (!target) return; // older than what is loaded; history brings it with the edit applied
    // A deletion hides the text and the files; the record keeps them, this view does not.
    const { attachments: _hidden, ...kept } = target;
    const message: MessageView = entry.deleted
      ? { ...kept, text: '', deletedAt: entry.editedAt }
      : { ...target, text: entry.text, editedAt: entry.editedAt };
    this.messagesBySeq.set(message.seq, message);
    this.emit('edit', { message, edit: entry });
  }

  /** Asks the relay for everything after the last applied entry until nothing is missing. */
  private catchUp(): Promise<void> {
    this.catchingUp ??= (async () => {
      try {
        for (;;) {
          const page = await this.client.request('sync', {
            conversationId: this.id,
            afterSeq: this.lastAppliedSeq,
          });
          // Not open (or closed meanwhile): nothing is applied, so asking again would loop.
          if (this.oldestLoadedSeq === undefined) break;
          // The page holds every entry this reader may see up to its `lastSeq`: the numbers it
          // skips are entries they may not (a family member does not see a consent's steps).
          for (const entry of page.entries) if (entry.seq > this.lastAppliedSeq) this.apply(entry);
          this.lastAppliedSeq = Math.max(this.lastAppliedSeq, page.lastSeq);
          this.applyAhead();
          if (!page.hasMore) break;
        }
      } finally {
        this.catchingUp = undefined;
      }
    })();
    return this.catchingUp;
  }

  private handleAccessError(error: unknown): void {
    if (
      error instanceof CareThreadError &&
      (error.code === 'FORBIDDEN' ||
        error.code === 'NOT_FOUND' ||
        error.code === 'CONSENT_REQUIRED')
    ) {
      this.wanted = false;
      this.end(fail(error.code, error.message));
    }
  }

  private senderOfSelf(): MessageView['sender'] {
    const you = this.snapshotData?.you;
    const participant = this.snapshotData?.participants.find((p) => p.userId === you?.userId);
    return {
      userId: you?.userId ?? '',
      role: you?.role ?? 'patient',
      displayName: participant?.displayName ?? '',
    };
  }
}
