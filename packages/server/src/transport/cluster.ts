// Fan-out between relay nodes over Redis (REDIS_URL): the Socket.IO Redis Streams adapter
// (ADR 13). Broadcasts go through one Redis stream that every node reads from its last offset,
// so a node that loses Redis for a while catches up on what it missed once Redis is back.
// Redis carries deliveries only: access is decided from the store on every node.
import { createAdapter } from '@socket.io/redis-streams-adapter';
import type { Logger } from 'pino';
import { createClient } from 'redis';
import type { ServerOptions } from 'socket.io';
import type { RelayConfig } from '../config.js';
import type { RelayMetrics } from '../metrics.js';

export interface ClusterFanOut {
  adapter: ServerOptions['adapter'];
  /** Closes the publishing connection (the adapter closes its readers with the Socket.IO server). */
  close(): Promise<void>;
}

/** Longest wait between reconnection attempts while Redis is unreachable. */
const MAX_RECONNECT_DELAY_MS = 2_000;

export function createClusterFanOut(
  url: string,
  options: RelayConfig['redis'],
  logger: Logger,
  metrics: RelayMetrics,
): ClusterFanOut {
  const client = createClient({
    url,
    socket: {
      // Keep trying for as long as it takes: a node without Redis still serves its own sockets,
      // and commands wait in the client's queue until the connection is back.
      reconnectStrategy: (retries) => Math.min(50 * 2 ** retries, MAX_RECONNECT_DELAY_MS),
    },
  });
  let connected = false;
  const setConnected = (value: boolean) => {
    metrics.redisConnected.set(value ? 1 : 0);
    if (value === connected) return;
    connected = value;
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

  return {
    adapter: createAdapter(client, {
      streamName: options.streamName,
      channelPrefix: options.streamName,
      maxLen: options.maxLen,
      // Every payload is JSON (zod-validated views): skip the adapter's binary scan.
      onlyPlaintext: true,
    }),
    async close() {
      // A clean close waits for queued commands, which never drain while Redis is away.
      if (client.isReady) await client.close();
      else client.destroy();
    },
  };
}
