// The headless CareThread client: one authenticated connection to the relay, conversation
// handles with an outbox and gap-free catch-up, for the chat element, bots and tests alike.
import { io, type Socket } from 'socket.io-client';
import {
  PROTOCOL_VERSION,
  type Ack,
  type AttachmentView,
  type ClientEventName,
  type ClientToServerEvents,
  type ConversationCreate,
  type ConversationSnapshot,
  type ConversationSummary,
  type ErrorBody,
  type ErrorCode,
  type RequestOf,
  type ResponseOf,
  type ServerToClientEvents,
} from '@carethread/shared';
import type {
  ClientEvents,
  ConnectionState,
  RelayConnection,
  UploadOptions,
} from './connection.js';
import { Conversation } from './conversation.js';
import { Emitter } from './emitter.js';
import { CareThreadError } from './errors.js';
import { fail } from './fail.js';
import { relayHttp, relayJson } from './files.js';
import { newMessageId } from './ids.js';

export type RelaySocket = Socket<ServerToClientEvents, ClientToServerEvents>;

export interface ClientOptions {
  /** The relay's base URL, e.g. "https://relay.example.org". */
  url: string;
  /** Returns a fresh token from the host; called at every (re)connection and before expiry. */
  tokenProvider: () => Promise<string>;
  /** Transports to use; default WebSocket with HTTP long-polling as fallback. */
  transports?: ('websocket' | 'polling')[];
  /** How long a request waits for its ack before it counts as lost (default 10 s). */
  ackTimeoutMs?: number;
  /** Reconnection back-off bounds in ms (default 500 to 10000). */
  reconnectDelayMs?: { min: number; max: number };
  /** Node only (browsers ignore it): extra HTTP headers for the handshake, e.g. behind a proxy. */
  extraHeaders?: Record<string, string>;
}

/** Codes after which reconnecting with the same token provider cannot help. */
const FATAL_HANDSHAKE: readonly ErrorCode[] = [
  'UNAUTHENTICATED',
  'MFA_REQUIRED',
  'UNSUPPORTED_VERSION',
  'FORBIDDEN_ORIGIN',
  'FORBIDDEN',
];

function handshakeError(
  error: Error & { data?: unknown; description?: unknown; context?: unknown },
): ErrorBody {
  const data = error.data as Partial<ErrorBody> | undefined;
  if (data && typeof data.code === 'string' && typeof data.message === 'string')
    return data as ErrorBody;
  // The relay refuses a foreign origin before Socket.IO runs, with HTTP 403.
  const context = error.context as { status?: number } | undefined;
  if (error.description === 403 || context?.status === 403)
    return fail('FORBIDDEN_ORIGIN', 'This website is not allowed to connect to the chat relay.');
  return fail('UNAVAILABLE', 'The chat relay cannot be reached. Retrying...');
}

export class CareThreadClient extends Emitter<ClientEvents> implements RelayConnection {
  /** The underlying Socket.IO socket, exposed for diagnostics; prefer the methods below. */
  readonly socket: RelaySocket;
  private currentState: ConnectionState = 'connecting';
  private currentError: ErrorBody | undefined;
  private readonly conversations = new Map<string, Conversation>();
  private readonly ackTimeoutMs: number;
  private expiredOnce = false;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly options: ClientOptions) {
    super();
    this.ackTimeoutMs = options.ackTimeoutMs ?? 10_000;
    const delays = options.reconnectDelayMs ?? { min: 500, max: 10_000 };
    this.socket = io(options.url, {
      transports: options.transports ?? ['websocket', 'polling'],
      // Fall back to long-polling when WebSocket cannot connect at all (a proxy that blocks it).
      tryAllTransports: true,
      reconnectionDelay: delays.min,
      reconnectionDelayMax: delays.max,
      ...(options.extraHeaders ? { extraHeaders: options.extraHeaders } : {}),
      // The token goes in the auth payload (never the URL) and is fetched afresh every attempt.
      auth: (callback) => {
        options.tokenProvider().then(
          (token) => {
            callback({ token, protocol: PROTOCOL_VERSION });
          },
          () => {
            callback({ token: '', protocol: PROTOCOL_VERSION });
          },
        );
      },
    });
    this.socket.on('connect', () => {
      this.expiredOnce = false;
      this.setState('connected', undefined);
      for (const conversation of this.conversations.values()) conversation.resume();
    });
    this.socket.on('connect_error', (error) => {
      this.onConnectError(handshakeError(error));
    });
    this.socket.on('disconnect', (reason) => {
      if (this.currentState === 'ended') return;
      this.setState('offline', fail('UNAVAILABLE', 'Connection lost. Reconnecting...'));
      // After the relay itself closed the session, Socket.IO does not reconnect on its own.
      if (reason === 'io server disconnect') this.scheduleReconnect();
    });
    this.socket.on('consent.updated', (request) => {
      if (request.state === 'signed')
        this.conversations.get(request.conversationId)?.regainAccess();
    });
    this.socket.on('access.changed', ({ conversationId }) => {
      this.conversations.get(conversationId)?.recheck();
    });
    this.socket.on('session.expiring', () => {
      void this.refreshToken();
    });
    this.socket.on('session.ended', (error) => {
      if (error.code === 'TOKEN_EXPIRED' || error.code === 'UNAVAILABLE') return; // reconnect handles it
      this.end(error);
    });
    for (const event of [
      'message',
      'message.edited',
      'conversation.event',
      'typing',
      'receipt',
      'presence',
      'participant.added',
      'participant.removed',
    ] as const) {
      this.socket.on(event, (payload: { conversationId: string }) => {
        this.conversations.get(payload.conversationId)?.receive(event, payload as never);
      });
    }
  }

  get state(): ConnectionState {
    return this.currentState;
  }

  /** Why the client is offline or ended, as a stable code and a sentence to show. */
  get error(): ErrorBody | undefined {
    return this.currentError;
  }

  /** The handle of one conversation; call `open()` on it to load and follow it. */
  conversation(conversationId: string): Conversation {
    let conversation = this.conversations.get(conversationId);
    if (!conversation) {
      conversation = new Conversation(this, conversationId);
      this.conversations.set(conversationId, conversation);
    }
    return conversation;
  }

  /** Conversations the signed-in user belongs to. */
  async listConversations(): Promise<ConversationSummary[]> {
    return (await this.request('conversation.list', {})).conversations;
  }

  /** Starts a conversation (care team only). */
  createConversation(input: ConversationCreate): Promise<ConversationSnapshot> {
    return this.request('conversation.create', input);
  }

  /**
   * Uploads a file to a conversation over HTTP, with the session's token, and resolves with what
   * readers will see once a message carries it (`Conversation.send(text, files)` does both). The
   * relay decides the type from the content and may refuse it (`UNSUPPORTED_FILE_TYPE`,
   * `TOO_LARGE`); uploading again under the same `fileId` is safe.
   */
  async uploadFile(
    conversationId: string,
    file: Blob,
    options: UploadOptions = {},
  ): Promise<AttachmentView> {
    const name = options.name ?? ((file as Partial<File>).name || 'file');
    const query = new URLSearchParams({ conversationId, name });
    const { file: stored } = await relayJson<{ file: AttachmentView }>({
      method: 'PUT',
      url: this.fileUrl(options.fileId ?? newMessageId(), `?${query.toString()}`),
      token: await this.options.tokenProvider(),
      body: file,
      signal: options.signal,
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
    const { fileId, contentType, size } = stored;
    return { fileId, name: stored.name, contentType, size };
  }

  /** A shared file's bytes, for a current reader of its conversation (through a signed link). */
  async downloadFile(fileId: string, signal?: AbortSignal): Promise<Blob> {
    const { url } = await relayJson<{ url: string }>({
      method: 'POST',
      url: this.fileUrl(fileId, '/link'),
      token: await this.options.tokenProvider(),
      signal,
    });
    return relayHttp({ method: 'GET', url, signal });
  }

  private fileUrl(fileId: string, rest: string): string {
    return `${this.options.url.replace(/\/+$/, '')}/files/${encodeURIComponent(fileId)}${rest}`;
  }

  /** Resolves once connected; rejects if the session ends first. */
  ready(): Promise<void> {
    if (this.currentState === 'connected') return Promise.resolve();
    if (this.currentState === 'ended') return Promise.reject(this.endedError());
    return new Promise((resolve, reject) => {
      const off = this.on('state', ({ state }) => {
        if (state === 'connected') {
          off();
          resolve();
        } else if (state === 'ended') {
          off();
          reject(this.endedError());
        }
      });
    });
  }

  /**
   * Closes the connection for good. A WebSocket still opening is hung up once it is open: closed
   * while it connects, the browser logs "WebSocket is closed before the connection is
   * established", which a page that removes an element as it starts would show on every load.
   */
  close(): void {
    clearTimeout(this.retryTimer);
    const engine = this.socket.io.engine;
    if (engine.readyState === 'opening') {
      const hangUp = () => this.socket.disconnect();
      engine.once('open', hangUp);
      engine.once('close', hangUp);
    } else this.socket.disconnect();
    this.end(fail('UNAUTHENTICATED', 'The chat was closed.'));
  }

  /**
   * Sends one request and resolves with its ack data, or rejects with a CareThreadError.
   * A request that gets no ack in time (connection lost) rejects with UNAVAILABLE.
   */
  async request<E extends ClientEventName>(
    event: E,
    payload: RequestOf<E>,
  ): Promise<ResponseOf<E>> {
    // Requests made right after createClient wait for the first connection.
    if (this.currentState === 'connecting') await this.ready();
    if (this.currentState === 'ended') throw this.endedError();
    if (!this.socket.connected) {
      throw new CareThreadError('UNAVAILABLE', 'Not connected to the chat relay.');
    }
    // The event maps are checked at the call site; a generic dispatch needs the untyped socket.
    const untyped = this.socket as unknown as Socket;
    return untyped
      .timeout(this.ackTimeoutMs)
      .emitWithAck(event, payload)
      .then(
        (response: Ack<ResponseOf<E>>) => {
          if (response.ok) return response.data;
          throw new CareThreadError(response.error.code, response.error.message);
        },
        (error: unknown) => {
          if (error instanceof CareThreadError) throw error;
          throw new CareThreadError('UNAVAILABLE', 'The relay did not answer in time.');
        },
      );
  }

  private endedError(): CareThreadError {
    const error =
      this.currentError ?? fail('UNAUTHENTICATED', 'You are not signed in to the chat.');
    return new CareThreadError(error.code, error.message);
  }

  private setState(state: ConnectionState, error: ErrorBody | undefined): void {
    this.currentState = state;
    this.currentError = error;
    this.emit('state', { state, error });
  }

  private end(error: ErrorBody): void {
    if (this.currentState === 'ended') return;
    this.setState('ended', error);
    for (const conversation of this.conversations.values()) conversation.end(error);
  }

  private onConnectError(error: ErrorBody): void {
    if (error.code === 'TOKEN_EXPIRED' && !this.expiredOnce) {
      // The provider may have handed us a stale token; ask once more before giving up.
      this.expiredOnce = true;
      this.scheduleReconnect(0);
      return;
    }
    if (error.code === 'TOKEN_EXPIRED' || FATAL_HANDSHAKE.includes(error.code)) {
      this.end(error);
      return;
    }
    this.setState('offline', error);
    // Middleware refusals (rate limit, relay restarting) stop Socket.IO's own reconnection.
    if (!this.socket.active) this.scheduleReconnect();
  }

  private scheduleReconnect(delay = 500 + Math.random() * 1500): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      if (this.currentState !== 'ended' && !this.socket.connected) this.socket.connect();
    }, delay);
  }

  private async refreshToken(): Promise<void> {
    try {
      const token = await this.options.tokenProvider();
      await this.request('auth.refresh', { token });
    } catch {
      // The relay ends the session at expiry; reconnecting then asks the provider again.
    }
  }
}

/**
 * Connects to a CareThread relay.
 *
 * @example
 * const client = createClient({
 *   url: 'https://relay.example.org',
 *   tokenProvider: () => fetch('/carethread/token', { credentials: 'include' }).then((r) => r.text()),
 * });
 * const chat = client.conversation('c-123');
 * chat.on('message', (m) => console.log(m.sender.displayName, m.text));
 * await chat.open();
 * await chat.send('Hello');
 */
export function createClient(options: ClientOptions): CareThreadClient {
  return new CareThreadClient(options);
}
