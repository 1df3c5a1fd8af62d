// Bounds what the relay holds for one connection that stops reading. While a connection's previous
// write is stuck (its TCP window closed), engine.io queues new packets in its write buffer, and ws
// and the TCP socket hold what was already handed to them: without a bound, a socket that never
// reads holds every message of its conversations until the heartbeat drops it. Past the bound the
// connection is cut; the client catches up by `sync` when it reconnects, as after any drop.
import type { Logger } from 'pino';
import type { Server } from 'socket.io';
import type { RelayMetrics } from './metrics.js';

interface EnginePacket {
  data?: unknown;
}

/** The parts of engine.io's socket the bound reads; its WebSocket transport holds a `ws`. */
interface EngineConnection {
  id: string;
  writeBuffer: readonly EnginePacket[];
  transport?: { socket?: { bufferedAmount?: number; terminate?: () => void } };
  on(event: 'packetCreate', listener: (packet: EnginePacket) => void): void;
  on(event: 'flush', listener: () => void): void;
  close(discard?: boolean): void;
}

export interface OutboundBoundDeps {
  logger: Logger;
  metrics: RelayMetrics;
}

const packetBytes = (packet: EnginePacket): number =>
  typeof packet.data === 'string'
    ? Buffer.byteLength(packet.data)
    : Buffer.isBuffer(packet.data)
      ? packet.data.length
      : 0;

/**
 * Bytes queued for `connection` and not yet taken by the kernel: engine.io's write buffer plus
 * what ws and the TCP socket buffer (ws's `bufferedAmount`). For metrics and tests.
 */
export function queuedBytes(connection: unknown): number {
  const engine = connection as EngineConnection;
  let bytes = engine.transport?.socket?.bufferedAmount ?? 0;
  for (const packet of engine.writeBuffer) bytes += packetBytes(packet);
  return bytes;
}

/**
 * Cuts every connection whose queued bytes pass `maxQueuedBytes`, counts it in
 * `carethread_slow_consumer_drops_total` and logs it once. The write buffer's size is kept as
 * packets arrive (reset when engine.io flushes it), so each packet costs one addition.
 */
export function boundOutboundQueues(
  io: Server,
  /** Bytes a connection may have queued and unsent before it is cut. */
  maxQueuedBytes: number,
  { logger, metrics }: OutboundBoundDeps,
): void {
  function drop(connection: EngineConnection, queued: number): void {
    metrics.slowConsumerDrops.inc();
    const socket = [...io.of('/').sockets.values()].find((s) => s.conn === (connection as unknown));
    const data = socket?.data as { identity?: { tenantId: string; userId: string } } | undefined;
    const identity = data?.identity;
    logger.warn(
      {
        tenant: identity?.tenantId,
        user: identity?.userId,
        sid: socket?.id,
        queuedBytes: queued,
        maxQueuedBytes,
      },
      'disconnected a connection that stopped reading: what was queued for it passed limits.maxQueuedBytesPerSocket; it catches up by sync when it reconnects',
    );
    const ws = connection.transport?.socket;
    // A WebSocket's closing handshake would wait (up to 30 s) behind the data it cannot send;
    // terminating frees it at once. Long-polling holds nothing below engine.io's buffer.
    if (ws?.terminate) ws.terminate();
    else connection.close(true);
  }
  io.engine.on('connection', (connection: EngineConnection) => {
    let buffered = 0;
    let cut = false;
    connection.on('flush', () => {
      buffered = 0;
    });
    connection.on('packetCreate', (packet) => {
      if (cut) return;
      buffered += packetBytes(packet);
      const queued = buffered + (connection.transport?.socket?.bufferedAmount ?? 0);
      if (queued <= maxQueuedBytes) return;
      cut = true;
      drop(connection, queued);
    });
  });
}
