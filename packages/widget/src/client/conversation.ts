// One conversation as a client follows it: the ordered log (gap-free by sequence number), the
// outbox of messages not yet acknowledged, and the people in it.
import {
  MAX_ATTACHMENTS,
  MAX_TEXT_LENGTH,
  isRetryable,
  type ConversationSnapshot,
  type EditView,
  type Entry,
  type ErrorBody,
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

/**
 * - `queued`: waiting for the connection.
 * - `uploading`: its files are going up (see each file's `sent`); it can still be cancelled.
 * - `sending`: the message itself is on its way.
 * - `failed`: stopped; see `error`, then retry or discard.
 */
export type OutboxState = 'queued' | 'uploading' | 'sending' | 'failed';

/** A file of a message not yet sent. */
export interface OutboxFile {
  /** The id it is uploaded under; a retry uses it again, so nothing is stored twice. */
  fileId: string;
  name: string;
  /** The type the browser declares; the relay decides from the content. */
  type: string;
  size: number;
  /** Bytes the relay has received. */
  sent: number;
  /** True once the relay stored it. */
  stored: boolean;
}

/** A message written here and not yet stored by the relay. */
export interface OutboxItem {
  id: string;
  text: string;
  /** Files to share with it: uploaded first, the message goes out once all are stored. */
  files: OutboxFile[];
  state: OutboxState;
  /** Set when `state` is `failed`: why, with a sentence to show next to a retry button. */
  error: ErrorBody | undefined;
  createdAt: Date;
}

export interface ConversationEvents extends Record<string, unknown> {
  /** A new message in sequence order (live or caught up). */
  message: MessageView;
  /** A message's text was corrected. */
  edit: { message: MessageView; edit: EditView };
  /** Older messages were loaded at the top. */
  history: MessageView[];
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
  | 'typing'
  | 'receipt'
  | 'presence'
  | 'participant.added'
  | 'participant.removed';

const RETRY_DELAYS_MS = [500, 1000, 2000, 5000, 10_000];
/** The wait before a message the relay refused for the sender's send rate goes again (not counted). */
const RATE_LIMITED_DELAY_MS = 1000;

export class Conversation extends Emitter<ConversationEvents> {
  /** Loaded messages by sequence number. */
  private readonly messagesBySeq = new Map<number, MessageView>();
  /** Entries that arrived ahead of a gap, waiting for the gap to be filled. */
  private readonly ahead = new Map<number, Entry>();
  private readonly outboxItems = new Map<string, OutboxItem>();
  /** The bytes of outbox files, kept until their message is stored or discarded. */
  private readonly outboxBlobs = new Map<string, Blob>();
  /** Stops an outbox item's upload under way, when it is discarded. */
  private readonly uploadAborts = new Map<string, AbortController>();
  /** Each outbox item's delivery under way, so a retry of one still going returns it. */
  private readonly deliveries = new Map<string, Promise<MessageView>>();
  /** The last delivery queued: the next one starts after it, so the store keeps the order written. */
  private sendQueue: Promise<unknown> = Promise.resolve();
  /** Ends the back-off of the delivery under way early, once its item leaves the outbox. */
  private wake: ((id: string) => void) | undefined;
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

  constructor(
    private readonly client: RelayConnection,
    readonly id: string,
  ) {
    super();
  }

  /** Title, participants and their presence, as of the last open or change. */
  get snapshot(): ConversationSnapshot | undefined {
    return this.snapshotData;
  }

  /** Loaded messages, oldest first. */
  get messages(): MessageView[] {
    return [...this.messagesBySeq.values()].sort((a, b) => a.seq - b.seq);
  }

  /** Messages written here and not yet acknowledged, in the order written. */
  get outbox(): OutboxItem[] {
    return [...this.outboxItems.values()];
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
    for (const message of page.messages) this.messagesBySeq.set(message.seq, message);
    this.oldestLoadedSeq = page.messages[0]?.seq ?? this.oldestLoadedSeq;
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
    const item: OutboxItem = {
      id: newMessageId(),
      text,
      files: files.map((blob) => {
        const fileId = newMessageId();
        this.outboxBlobs.set(fileId, blob);
        return {
          fileId,
          name: (blob as Partial<File>).name || 'file',
          type: blob.type,
          size: blob.size,
          sent: 0,
          stored: false,
        };
      }),
      state: 'queued',
      error: undefined,
      createdAt: new Date(),
    };
    this.outboxItems.set(item.id, item);
    return this.enqueue(item);
  }

  /**
   * Sends a failed outbox item again, after the messages still waiting: files already stored are
   * not uploaded again. For a message on its way, or stored already, resolves as its send does.
   */
  retry(id: string): Promise<MessageView> {
    const item = this.outboxItems.get(id);
    if (item?.state === 'failed') return this.enqueue(item);
    const delivery = item && this.deliveries.get(id);
    if (delivery) return delivery;
    const stored = this.storedMessage(id);
    return stored
      ? Promise.resolve(stored)
      : Promise.reject(
          new CareThreadError('NOT_FOUND', 'That message is no longer waiting to be sent.'),
        );
  }

  /**
   * Drops an outbox item without sending it, stopping its upload; not once the message itself is
   * on its way (it may be stored already). Returns whether it was dropped.
   */
  discard(id: string): boolean {
    const item = this.outboxItems.get(id);
    if (!item || item.state === 'sending') return false;
    this.forget(item);
    this.uploadAborts.get(id)?.abort(new CareThreadError('CONFLICT', 'The message was cancelled.'));
    this.emit('outbox', this.outbox);
    return true;
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
    this.ahead.clear();
    for (const item of this.outbox) this.forget(item);
    for (const upload of this.uploadAborts.values())
      upload.abort(new CareThreadError(error.code, error.message));
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
      for (const message of page.messages) this.messagesBySeq.set(message.seq, message);
      this.oldestLoadedSeq = page.messages[0]?.seq ?? snapshot.lastSeq + 1;
      this.moreHistory = page.hasMore;
      this.lastAppliedSeq = Math.max(this.lastAppliedSeq, snapshot.lastSeq);
      this.emit('history', page.messages);
    }
    await this.catchUp();
    this.emit('opened', snapshot);
    return snapshot;
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
    let next = this.ahead.get(this.lastAppliedSeq + 1);
    while (next) {
      this.ahead.delete(next.seq);
      this.apply(next);
      next = this.ahead.get(this.lastAppliedSeq + 1);
    }
  }

  private apply(entry: Entry): void {
    this.lastAppliedSeq = entry.seq;
    if (entry.kind === 'message') {
      this.messagesBySeq.set(entry.seq, entry);
      const sent = this.outboxItems.get(entry.id);
      if (sent) {
        this.forget(sent);
        this.emit('outbox', this.outbox);
      }
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
          for (const entry of page.entries) this.accept(entry);
          // Not open (or closed meanwhile): nothing was applied, so asking again would loop.
          if (!page.hasMore || this.oldestLoadedSeq === undefined) break;
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

  /** Queues `item` behind the deliveries before it; one that fails does not hold up the rest. */
  private enqueue(item: OutboxItem): Promise<MessageView> {
    item.state = 'queued';
    item.error = undefined;
    this.emit('outbox', this.outbox);
    const delivery = this.sendQueue.then(() => this.deliver(item));
    this.sendQueue = delivery.catch(() => undefined);
    this.deliveries.set(item.id, delivery);
    return delivery;
  }

  /** One of the loaded messages by the id its sender gave it. */
  private storedMessage(id: string): MessageView | undefined {
    return [...this.messagesBySeq.values()].find((message) => message.id === id);
  }

  private async deliver(item: OutboxItem): Promise<MessageView> {
    if (item.text.length > MAX_TEXT_LENGTH) {
      return this.fail(
        item,
        new CareThreadError(
          'TOO_LARGE',
          `That message is too long: at most ${MAX_TEXT_LENGTH} characters.`,
        ),
      );
    }
    if (item.files.length > MAX_ATTACHMENTS) {
      return this.fail(
        item,
        new CareThreadError('TOO_LARGE', `A message can share at most ${MAX_ATTACHMENTS} files.`),
      );
    }
    for (let attempt = 0; ; attempt++) {
      // Stored already (its ack was lost and catch-up brought it), or discarded or closed meanwhile.
      const entry = this.storedMessage(item.id);
      if (entry) return entry;
      if (!this.outboxItems.has(item.id)) {
        const why = this.closedError ?? fail('CONFLICT', 'The message was cancelled.');
        throw new CareThreadError(why.code, why.message);
      }
      if (!this.client.socket.connected) {
        // Stays queued and goes out with the same id once the connection is back.
        item.state = 'queued';
        this.emit('outbox', this.outbox);
        await new Promise<void>((resolve) => {
          const off = this.client.on('state', ({ state }) => {
            if (state === 'connected' || state === 'ended') {
              off();
              resolve();
            }
          });
        });
        if (this.client.state === 'ended')
          return this.fail(
            item,
            new CareThreadError(
              'UNAUTHENTICATED',
              'The session ended before the message was sent.',
            ),
          );
        // An outage is not the message's fault: its retries start afresh.
        attempt = -1;
        continue;
      }
      try {
        // A conversation never opened is opened first: the message is stored in it, and catch-up
        // (which only an open conversation can apply) brings it back.
        if (this.oldestLoadedSeq === undefined)
          await this.open().catch((error: unknown) => {
            this.handleAccessError(error);
            throw error;
          });
        for (const file of item.files) if (!file.stored) await this.upload(item, file);
        item.state = 'sending';
        this.emit('outbox', this.outbox);
        const ack = await this.client.request('message.send', {
          conversationId: this.id,
          id: item.id,
          text: item.text,
          ...(item.files.length > 0 ? { attachments: item.files.map((f) => f.fileId) } : {}),
        });
        const stored = this.messagesBySeq.get(ack.seq);
        if (this.outboxItems.has(item.id)) {
          this.forget(item);
          this.emit('outbox', this.outbox);
        }
        if (stored) return stored;
        // The live copy has not arrived yet (or was skipped by a gap); catch-up brings it.
        await this.catchUp().catch(() => undefined);
        return (
          this.messagesBySeq.get(ack.seq) ?? {
            kind: 'message',
            conversationId: this.id,
            seq: ack.seq,
            id: item.id,
            sender: this.senderOfSelf(),
            text: item.text,
            sentAt: ack.sentAt,
            editedAt: null,
            ...(item.files.length > 0
              ? {
                  attachments: item.files.map(({ fileId, name, type, size }) => ({
                    fileId,
                    name,
                    contentType: type,
                    size,
                  })),
                }
              : {}),
          }
        );
      } catch (error) {
        // Stored after all, discarded, or closed: the loop's first lines settle it.
        if (!this.outboxItems.has(item.id)) continue;
        const failure =
          error instanceof CareThreadError ? error : new CareThreadError('INTERNAL', String(error));
        // The sender's rate is the relay's to pace, not a fault of the message: wait, uncounted.
        const limited = failure.code === 'RATE_LIMITED' && item.state === 'sending';
        if (limited) attempt--;
        const delay = limited ? RATE_LIMITED_DELAY_MS : RETRY_DELAYS_MS[attempt];
        if (!isRetryable(failure.code) || delay === undefined) return this.fail(item, failure);
        await new Promise<void>((resolve) => {
          this.wake = (id) => {
            if (id === item.id) resolve();
          };
          setTimeout(resolve, delay);
        });
        this.wake = undefined;
      }
    }
  }

  /** Uploads one file of `item` under its id, so a retry after any failure is safe. */
  private async upload(item: OutboxItem, file: OutboxFile): Promise<void> {
    const blob = this.outboxBlobs.get(file.fileId);
    if (!blob) throw new CareThreadError('NOT_FOUND', 'That file is no longer here to send.');
    const controller = new AbortController();
    this.uploadAborts.set(item.id, controller);
    item.state = 'uploading';
    file.sent = 0;
    this.emit('outbox', this.outbox);
    try {
      const stored = await this.client.uploadFile(this.id, blob, {
        fileId: file.fileId,
        name: file.name,
        signal: controller.signal,
        onProgress: (sent) => {
          file.sent = sent;
          this.emit('outbox', this.outbox);
        },
      });
      // What the relay kept: the type it recognised, the size without image metadata.
      Object.assign(file, { type: stored.contentType, size: stored.size, sent: stored.size });
      file.stored = true;
      this.emit('outbox', this.outbox);
    } finally {
      this.uploadAborts.delete(item.id);
    }
  }

  /** Takes an item out of the outbox, with the bytes of its files. */
  private forget(item: OutboxItem): void {
    this.outboxItems.delete(item.id);
    this.deliveries.delete(item.id);
    this.wake?.(item.id);
    for (const file of item.files) this.outboxBlobs.delete(file.fileId);
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

  private fail(item: OutboxItem, error: CareThreadError): never {
    item.state = 'failed';
    item.error = { code: error.code, message: error.message };
    this.emit('outbox', this.outbox);
    throw error;
  }
}
