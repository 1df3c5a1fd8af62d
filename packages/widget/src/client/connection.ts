// What a conversation needs of the client: requests to the relay, the connection's state and file
// uploads. CareThreadClient implements it; a conversation depends on this, not on the client.
import type {
  AttachmentView,
  ClientEventName,
  ErrorBody,
  RequestOf,
  ResponseOf,
} from '@carethread/shared';
import type { Listener } from './emitter.js';

/**
 * - `connecting`: first connection or a reconnection under way.
 * - `connected`: authenticated; requests flow.
 * - `offline`: the relay cannot be reached; the client keeps trying and queues messages.
 * - `ended`: the session is over (sign-in refused or expired without a fresh token); see `error`.
 */
export type ConnectionState = 'connecting' | 'connected' | 'offline' | 'ended';

export interface UploadOptions {
  /** The id to store it under; upload again with the same id to retry safely. Default: a new one. */
  fileId?: string;
  /** The name readers see (default: the File's name, else "file"). */
  name?: string;
  /** Called as bytes reach the relay (browsers only), with the count sent so far. */
  onProgress?: (sent: number) => void;
  signal?: AbortSignal;
}

export interface ClientEvents extends Record<string, unknown> {
  state: { state: ConnectionState; error: ErrorBody | undefined };
}

/** The part of the client a conversation uses. */
export interface RelayConnection {
  readonly state: ConnectionState;
  /** Whether the socket is connected: requests that only make sense live are not tried otherwise. */
  readonly socket: { readonly connected: boolean };
  /** Resolves once connected; rejects if the session ends first. */
  ready(): Promise<void>;
  /** Sends one request and resolves with its ack data, or rejects with a CareThreadError. */
  request<E extends ClientEventName>(event: E, payload: RequestOf<E>): Promise<ResponseOf<E>>;
  on(event: 'state', listener: Listener<ClientEvents['state']>): () => void;
  /** Uploads a file to a conversation and resolves with what readers will see. */
  uploadFile(conversationId: string, file: Blob, options?: UploadOptions): Promise<AttachmentView>;
}
