// Coalesces the WebSocket frames that engine.io flushes together into one write to the kernel.
//
// A batch commit releases many acks and deliveries at once. engine.io queues the packets for a
// socket while its previous write is in flight and then flushes them in one go, but ws writes each
// frame on its own: one `writev` system call per frame, which on loopback also wakes the reader
// once per frame. Corking the TCP socket for the length of one engine.io flush turns those frames
// into a single `writev`, with no added latency (the cork ends in the same synchronous call).
// Measured in docs/benchmarks.md.
import type { Server } from 'socket.io';

/** The parts of engine.io's socket that a flush touches; its WebSocket transport holds a `ws`. */
interface EngineConnection {
  transport?: { socket?: { _socket?: { cork(): void; uncork(): void } } };
}

const tcpSocketOf = (connection: EngineConnection) => connection.transport?.socket?._socket;

export function coalesceFlushedFrames(io: Server): void {
  const corked = new Map<EngineConnection, { uncork(): void }>();
  const release = (connection: EngineConnection) => {
    corked.get(connection)?.uncork();
    corked.delete(connection);
  };
  // engine.io emits `flush` just before it hands a buffer of packets to the transport, which writes
  // them all synchronously, and `drain` right after, in the same call: the cork ends there. Should
  // a transport throw half-way (no `drain`), the next tick ends it anyway, so no socket can stay
  // corked. Polling transports have no TCP socket of their own to cork (one HTTP response carries
  // the whole buffer) and are left alone.
  io.engine.on('flush', (connection: EngineConnection, buffer: readonly unknown[]) => {
    if (buffer.length < 2 || corked.has(connection)) return;
    const tcp = tcpSocketOf(connection);
    if (!tcp) return;
    tcp.cork();
    corked.set(connection, tcp);
    process.nextTick(release, connection);
  });
  io.engine.on('drain', release);
}
