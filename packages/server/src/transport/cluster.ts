// Fan-out between relay nodes over Redis (REDIS_URL): the Socket.IO Redis Streams adapter
// (ADR 13). Broadcasts go through one Redis stream that every node reads from its last offset,
// so a node that loses Redis for a while catches up on what it missed once Redis is back.
// Redis carries deliveries only: access is decided from the store on every node.
import { createAdapter } from '@socket.io/redis-streams-adapter';
import type { Logger } from 'pino';
import { createClient } from 'redis';
import type { ServerOptions } from 'socket.io';
import type { RelayConfig } from '../config.js';
import type { RelayMetrics } from './metrics.js';

export interface ClusterFanOut {
  adapter: ServerOptions['adapter'];
  /** Closes the publishing connection (the adapter closes its readers with the Socket.IO server). */
  close(): Promise<void>;
}

/** Longest wait between reconnection attempts while Redis is unreachable. */
const MAX_RECONNECT_DELAY_MS = 2_000;

type RedisClient = ReturnType<typeof createClient>;

/** Commands the adapter sends without looking at the answer. */
const FIRE_AND_FORGET = new Set(['publish', 'sPublish', 'subscribe', 'sSubscribe']);
/** Ways to end a connection: the adapter ends its own after the relay already ended them. */
const CLOSERS = new Set(['disconnect', 'destroy', 'close', 'quit']);

/**
 * The client as the adapter gets it. The adapter sends Pub/Sub commands without handling their
 * failure: when Redis drops, or when the relay closes while Redis is away, those rejections would
 * go unhandled and end the process. Here they are handled (the adapter already treats Pub/Sub as
 * lossy), and every connection the adapter duplicates is tracked so that closing ends them all.
 */
function guarded(client: RedisClient, opened: Set<RedisClient>): RedisClient {
  opened.add(client);
  return new Proxy(client, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (property === 'duplicate')
        return (...args: Parameters<RedisClient['duplicate']>) =>
          guarded(target.duplicate(...args) as RedisClient, opened);
      if (typeof value !== 'function') return value;
      const method = (value as (...a: unknown[]) => unknown).bind(target);
      if (typeof property !== 'string') return method;
      if (CLOSERS.has(property))
        // Ending a connection twice throws ClientClosedError; the second time is a no-op here.
        return (...args: unknown[]) => {
          if (!target.isOpen) return Promise.resolve();
          try {
            const result = method(...args);
            return result instanceof Promise ? result.catch(() => undefined) : result;
          } catch {
            return Promise.resolve();
          }
        };
      if (!FIRE_AND_FORGET.has(property)) return method;
      return (...args: unknown[]) => {
        const result = method(...args);
        if (result instanceof Promise) result.catch(() => undefined);
        return result;
      };
    },
  });
}

export function createClusterFanOut(
  url: string,
  options: RelayConfig['redis'],
  logger: Logger,
  metrics: RelayMetrics,
): ClusterFanOut {
  const opened = new Set<RedisClient>();
  const client = createClient({
    url,
    socket: {
      // Keep trying for as long as it takes: a node without Redis still serves its own sockets,
      // and commands wait in the client's queue until the connection is back.
      reconnectStrategy: (retries) => Math.min(50 * 2 ** retries, MAX_RECONNECT_DELAY_MS),
    },
  });
  let connected = false;
  let closing = false;
  const setConnected = (value: boolean) => {
    metrics.redisConnected.set(value ? 1 : 0);
    if (value === connected) return;
    connected = value;
    if (closing) return; // our own shutdown, not an outage
    if (value) logger.info('Redis fan-out connected');
    else
      logger.warn(
        'Redis fan-out lost: messages still reach sockets on this node; other nodes get them when Redis is back',
      );
  };
  client.on('ready', () => {
    setConnected(true);
  });
  client.on('end', () => {
    setConnected(false);
  });
  client.on('error', () => {
    // Each failed reconnection attempt is an error; the state change above is what is logged.
    setConnected(false);
  });
  metrics.redisConnected.set(0);
  client.connect().catch((error: unknown) => {
    logger.error({ err: error }, 'Redis fan-out could not start');
  });
  // Said once, so a node started while Redis is away does not look healthy in the logs.
  const notYet = setTimeout(() => {
    if (!connected)
      logger.warn('Redis fan-out not connected yet: messages reach sockets on this node only');
  }, 2_000);
  notYet.unref();

  return {
    adapter: createAdapter(guarded(client, opened), {
      streamName: options.streamName,
      channelPrefix: options.streamName,
      maxLen: options.maxLen,
      // Every payload is JSON (zod-validated views): skip the adapter's binary scan.
      onlyPlaintext: true,
    }),
    async close() {
      closing = true;
      clearTimeout(notYet);
      // A clean close waits for queued commands, which never drain while Redis is away. The
      // adapter closed its own connections' use with the Socket.IO server; end them here too.
      for (const connection of opened) {
        if (!connection.isOpen) continue;
        if (connection.isReady) await connection.close().catch(() => undefined);
        else connection.destroy(); // also stops a reconnection loop under way
      }
    },
  };
}
