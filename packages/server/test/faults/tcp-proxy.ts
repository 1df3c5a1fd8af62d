// A TCP proxy of the test's own between the relay and PostgreSQL, so a test can drop the relay's
// database connections without touching the shared server: cut every connection, refuse new ones
// for a while, or cut one connection at the moment it sends a given statement.
import net from 'node:net';

interface Pair {
  client: net.Socket;
  server: net.Socket;
  /** Set once cut: whatever the server still answers is never passed on. */
  cut: boolean;
}

interface CutRule {
  /** Bytes that, when the relay sends them, trigger the cut (e.g. `commit\0`, `insert into "entries"`). */
  marker: Buffer;
  /** Forward the matching packet first (the server runs it, the answer is lost), or drop it. */
  forward: boolean;
  remaining: number;
  /** After the cut, refuse new connections this long (the relay cannot check what happened). */
  refuseMs: number;
}

export interface TcpProxy {
  port: number;
  /** `databaseUrl` with its host and port pointing at the proxy. */
  urlFor(databaseUrl: string): string;
  /** Destroys every open connection at once; resolves with how many there were. */
  cutAll(): number;
  /** While on, new connections are accepted and closed at once (the relay sees them dropped). */
  refuse(on: boolean): void;
  /** Cuts the next `times` connections that send `marker`. */
  cutOn(marker: string, options: { forward: boolean; times: number; refuseMs?: number }): void;
  readonly stats: { accepted: number; refused: number; cut: number; open: number };
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const pairs = new Set<Pair>();
  const rules: CutRule[] = [];
  const stats = { accepted: 0, refused: 0, cut: 0, open: 0 };
  let refusing = false;

  function cut(pair: Pair, lastWords?: Buffer): void {
    if (pair.cut) return;
    pair.cut = true;
    stats.cut += 1;
    // `end` flushes the packet before the FIN, so the server runs it; the relay gets a reset.
    if (lastWords) pair.server.end(lastWords);
    else pair.server.destroy();
    pair.client.resetAndDestroy();
  }

  const server = net.createServer((client) => {
    client.on('error', () => undefined);
    if (refusing) {
      stats.refused += 1;
      client.resetAndDestroy();
      return;
    }
    stats.accepted += 1;
    const upstream = net.connect(target);
    upstream.on('error', () => undefined);
    const pair: Pair = { client, server: upstream, cut: false };
    pairs.add(pair);
    stats.open = pairs.size;
    client.on('data', (chunk: Buffer) => {
      if (pair.cut) return;
      const rule = rules.find((r) => r.remaining > 0 && chunk.includes(r.marker));
      if (rule) {
        rule.remaining -= 1;
        cut(pair, rule.forward ? chunk : undefined);
        if (rule.refuseMs > 0) {
          refusing = true;
          setTimeout(() => {
            refusing = false;
          }, rule.refuseMs);
        }
        return;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!pair.cut) client.write(chunk);
    });
    const forget = () => {
      pairs.delete(pair);
      stats.open = pairs.size;
      if (!client.destroyed) client.destroy();
      if (!upstream.destroyed && !pair.cut) upstream.destroy();
    };
    client.on('close', forget);
    upstream.on('close', forget);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;

  return {
    port,
    urlFor(databaseUrl) {
      const url = new URL(databaseUrl);
      url.hostname = '127.0.0.1';
      url.port = String(port);
      return url.toString();
    },
    cutAll() {
      const open = [...pairs].filter((p) => !p.cut);
      for (const pair of open) cut(pair);
      return open.length;
    },
    refuse(on) {
      refusing = on;
    },
    cutOn(marker, { forward, times, refuseMs = 0 }) {
      rules.push({ marker: Buffer.from(marker), forward, remaining: times, refuseMs });
    },
    stats,
    async close() {
      for (const pair of pairs) {
        pair.client.destroy();
        pair.server.destroy();
      }
      await new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      });
    },
  };
}
