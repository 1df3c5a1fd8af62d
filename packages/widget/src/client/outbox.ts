// The outbox of one conversation: messages written here and not yet stored by the relay. They go
// out one after another in the order written, files first, and are sent again until stored.
import {
  MAX_ATTACHMENTS,
  MAX_TEXT_LENGTH,
  isRetryable,
  type ErrorBody,
  type MessageView,
} from '@carethread/shared';
import type { RelayConnection } from './connection.js';
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

const RETRY_DELAYS_MS = [500, 1000, 2000, 5000, 10_000];
/** The wait before a message the relay refused for the sender's send rate goes again (not counted). */
const RATE_LIMITED_DELAY_MS = 1000;

/** What the outbox needs of its conversation, beside the connection. */
export interface OutboxConversation {
  /** The conversation's id: files are uploaded to it and messages sent in it. */
  readonly id: string;
  /** Its loaded messages by sequence number, where a message sent from here shows it was stored. */
  readonly messages: ReadonlyMap<number, MessageView>;
  /** Why access ended, when it has: a message still waiting fails with it. */
  closed(): ErrorBody | undefined;
  /** Whether its newest page is loaded, so catch-up can bring a message sent in it back. */
  loaded(): boolean;
  /** Opens it; a refusal closes it. */
  open(): Promise<unknown>;
  /** Asks the relay for every entry after the newest one applied. */
  catchUp(): Promise<void>;
  /** The reader, as the sender of the messages written here. */
  sender(): MessageView['sender'];
  /** Items came, went or changed state. */
  changed(): void;
}

export class Outbox {
  private readonly items = new Map<string, OutboxItem>();
  /** The bytes of outbox files, kept until their message is stored or discarded. */
  private readonly blobs = new Map<string, Blob>();
  /** Stops an outbox item's upload under way, when it is discarded. */
  private readonly uploadAborts = new Map<string, AbortController>();
  /** Each outbox item's delivery under way, so a retry of one still going returns it. */
  private readonly deliveries = new Map<string, Promise<MessageView>>();
  /** The last delivery queued: the next one starts after it, so the store keeps the order written. */
  private sendQueue: Promise<unknown> = Promise.resolve();
  /** Ends the back-off of the delivery under way early, once its item leaves the outbox. */
  private wake: ((id: string) => void) | undefined;

  constructor(
    private readonly client: RelayConnection,
    private readonly conversation: OutboxConversation,
  ) {}

  /** The items, in the order written. */
  get list(): OutboxItem[] {
    return [...this.items.values()];
  }

  /** Adds a message and delivers it after the ones before it (`Conversation.send`). */
  add(text: string, files: readonly Blob[]): Promise<MessageView> {
    const item: OutboxItem = {
      id: newMessageId(),
      text,
      files: files.map((blob) => {
        const fileId = newMessageId();
        this.blobs.set(fileId, blob);
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
    this.items.set(item.id, item);
    return this.enqueue(item);
  }

  /** Delivers a failed item again, or answers as its delivery does (`Conversation.retry`). */
  retry(id: string): Promise<MessageView> {
    const item = this.items.get(id);
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

  /** Drops an item not yet on its way (`Conversation.discard`). */
  discard(id: string): boolean {
    const item = this.items.get(id);
    if (!item || item.state === 'sending') return false;
    this.forget(item);
    this.uploadAborts.get(id)?.abort(new CareThreadError('CONFLICT', 'The message was cancelled.'));
    this.conversation.changed();
    return true;
  }

  /** The relay stored the message written here under `id`: it leaves the outbox. */
  stored(id: string): void {
    const sent = this.items.get(id);
    if (sent) {
      this.forget(sent);
      this.conversation.changed();
    }
  }

  /** Access ended: every item leaves, and uploads under way stop with `error`. */
  end(error: ErrorBody): void {
    for (const item of this.list) this.forget(item);
    for (const upload of this.uploadAborts.values())
      upload.abort(new CareThreadError(error.code, error.message));
  }

  /** Queues `item` behind the deliveries before it; one that fails does not hold up the rest. */
  private enqueue(item: OutboxItem): Promise<MessageView> {
    item.state = 'queued';
    item.error = undefined;
    this.conversation.changed();
    const delivery = this.sendQueue.then(() => this.deliver(item));
    this.sendQueue = delivery.catch(() => undefined);
    this.deliveries.set(item.id, delivery);
    return delivery;
  }

  /** One of the loaded messages by the id its sender gave it. */
  private storedMessage(id: string): MessageView | undefined {
    return [...this.conversation.messages.values()].find((message) => message.id === id);
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
      if (!this.items.has(item.id)) {
        const why = this.conversation.closed() ?? fail('CONFLICT', 'The message was cancelled.');
        throw new CareThreadError(why.code, why.message);
      }
      if (!this.client.socket.connected) {
        // Stays queued and goes out with the same id once the connection is back.
        item.state = 'queued';
        this.conversation.changed();
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
        if (!this.conversation.loaded()) await this.conversation.open();
        for (const file of item.files) if (!file.stored) await this.upload(item, file);
        item.state = 'sending';
        this.conversation.changed();
        const ack = await this.client.request('message.send', {
          conversationId: this.conversation.id,
          id: item.id,
          text: item.text,
          ...(item.files.length > 0 ? { attachments: item.files.map((f) => f.fileId) } : {}),
        });
        const stored = this.conversation.messages.get(ack.seq);
        if (this.items.has(item.id)) {
          this.forget(item);
          this.conversation.changed();
        }
        if (stored) return stored;
        // The live copy has not arrived yet (or was skipped by a gap); catch-up brings it.
        await this.conversation.catchUp().catch(() => undefined);
        return (
          this.conversation.messages.get(ack.seq) ?? {
            kind: 'message',
            conversationId: this.conversation.id,
            seq: ack.seq,
            id: item.id,
            sender: this.conversation.sender(),
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
        if (!this.items.has(item.id)) continue;
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
    const blob = this.blobs.get(file.fileId);
    if (!blob) throw new CareThreadError('NOT_FOUND', 'That file is no longer here to send.');
    const controller = new AbortController();
    this.uploadAborts.set(item.id, controller);
    item.state = 'uploading';
    file.sent = 0;
    this.conversation.changed();
    try {
      const stored = await this.client.uploadFile(this.conversation.id, blob, {
        fileId: file.fileId,
        name: file.name,
        signal: controller.signal,
        onProgress: (sent) => {
          file.sent = sent;
          this.conversation.changed();
        },
      });
      // What the relay kept: the type it recognised, the size without image metadata.
      Object.assign(file, { type: stored.contentType, size: stored.size, sent: stored.size });
      file.stored = true;
      this.conversation.changed();
    } finally {
      this.uploadAborts.delete(item.id);
    }
  }

  /** Takes an item out of the outbox, with the bytes of its files. */
  private forget(item: OutboxItem): void {
    this.items.delete(item.id);
    this.deliveries.delete(item.id);
    this.wake?.(item.id);
    for (const file of item.files) this.blobs.delete(file.fileId);
  }

  private fail(item: OutboxItem, error: CareThreadError): never {
    item.state = 'failed';
    item.error = { code: error.code, message: error.message };
    this.conversation.changed();
    throw error;
  }
}
