// The socket transport's shared shapes: what it is given, what each socket carries, what relay
// nodes tell each other, and the context every module of the transport is handed (built once).
import type { Server as HttpServer } from 'node:http';
import type { Logger } from 'pino';
import type { Server, ServerOptions, Socket } from 'socket.io';
import type {
  ClientEventName,
  ClientToServerEvents,
  ConsentRequestView,
  RequestOf,
  ResponseOf,
  ServerToClientEvents,
} from '@carethread/shared';
import type { Identity, TokenVerifier } from '../../auth/tokens.js';
import type { RelayConfig } from '../../config.js';
import type { TemplateService } from '../../consent/templates.js';
import type { ConsentService } from '../../consent/requests.js';
import type { TenantConfig } from '../../core/settings.js';
import type { AccessLog } from '../../services/audit.js';
import type { ChatService } from '../../services/chat.js';
import type { PresenceMember, PresenceTracker } from '../../services/presence.js';
import type { TokenBucket } from '../../services/rate-limit.js';
import type { RevocationService } from '../../services/revocations.js';
import type { RelayMetrics } from '../metrics.js';

export interface SocketData {
  identity: Identity;
  /**
   * Conversations this socket has opened (joined for delivery and counted for presence), each
   * with the access version its access was checked at.
   */
  open: Map<string, number>;
  timers: NodeJS.Timeout[];
  /** For a family member: when each open conversation's consent ends. */
  consentTimers: Map<string, NodeJS.Timeout>;
  packets: TokenBucket;
  /** When the person last made a request of their own (ms since the epoch). */
  lastActive: number;
  idleTimer: NodeJS.Timeout | undefined;
  /** The token ids (`jti`) this socket has signed in with, at connect and at each refresh. */
  tokenIds: Set<string>;
  /** When this socket was last told (relay.error) that a packet without an ack was refused. */
  limitNoticeAt: number;
  /** Packets refused over the rate in the current second, and when that second began. */
  refused: { count: number; since: number };
}

/** What relay nodes tell each other (through the adapter, when there are several). */
export interface InterNodeEvents {
  /** A person's access to a conversation ended: their sockets on every node stop following it. */
  'access.ended': (change: { tenantId: string; userId: string; conversationId: string }) => void;
  /** A node's sockets opened or closed a conversation for a user (first or last view). */
  'presence.delta': (delta: { node: string; member: PresenceMember; online: boolean }) => void;
  /** A node's whole presence set, sent as a heartbeat, on start and at shutdown (empty). */
  'presence.state': (state: { node: string; members: PresenceMember[] }) => void;
}

export type RelayServer = Server<
  ClientToServerEvents,
  ServerToClientEvents,
  InterNodeEvents,
  SocketData
>;
export type RelaySocket = Socket<
  ClientToServerEvents,
  ServerToClientEvents,
  InterNodeEvents,
  SocketData
>;

/** A consent request's new state, as the relay tells the host. */
export interface ConsentChange {
  tenantId: string;
  request: ConsentRequestView;
}

export interface SocketTransportDeps {
  httpServer: HttpServer;
  config: RelayConfig;
  tenants: readonly TenantConfig[];
  verifier: TokenVerifier;
  chat: ChatService;
  templates: TemplateService;
  consents: ConsentService;
  /** Told of every consent state change, after it committed (the host integration listens). */
  onConsentChange: (change: ConsentChange) => void;
  presence: PresenceTracker;
  /** Connections, refusals and consent steps are recorded here. */
  accessLog: AccessLog;
  /** Which token ids the host revoked: this node's sockets are checked every revocationCheckMs. */
  revocations: Pick<RevocationService, 'revokedAmong'>;
  logger: Logger;
  metrics: RelayMetrics;
  isShuttingDown: () => boolean;
  /** Shares fan-out between relay nodes (the Redis Streams adapter); in-memory when omitted. */
  adapter?: ServerOptions['adapter'];
}

/** What every module of the transport is handed: its dependencies and the Socket.IO server. */
export type TransportContext = SocketTransportDeps & { io: RelayServer };

export type Handler<E extends ClientEventName> = (
  socket: RelaySocket,
  payload: RequestOf<E>,
) => Promise<ResponseOf<E>>;

/** The handlers of some client events (a domain's), keyed by event name. */
export type Handlers<E extends ClientEventName = ClientEventName> = { [K in E]: Handler<K> };
