// A real webhook receiver on loopback for the tests: it verifies each delivery with the exported
// helper, deduplicates by event id as the docs tell hosts to, and can be told to fail or hang.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WebhookEvent } from '@carethread/shared';
import { verifyWebhook } from '../../src/webhooks/signature.js';

export const WEBHOOK_SECRET = 'test-webhook-secret-of-at-least-32-characters';

/** How the receiver answers the next deliveries. */
/**
 * `late` takes the event (its effect happens) but answers after the relay stopped waiting, so
 * the relay delivers it again: the duplicate a receiver must recognise by id.
 */
export type Behaviour = 'ok' | 'fail' | 'hang' | 'late';

export interface Receiver {
  url: string;
  /** Every verified request, whatever the receiver then answered (hung ones included). */
  arrivals: WebhookEvent[];
  /** Every delivery that arrived, verified, in arrival order (duplicates included). */
  deliveries: { event: WebhookEvent; raw: string; headers: IncomingMessage['headers'] }[];
  /** The events with their effect applied once each, in the order first received. */
  unique: () => WebhookEvent[];
  behaviour: Behaviour;
  /** Deliveries refused because their signature did not verify. */
  rejected: number;
  close(): Promise<void>;
}

export async function startReceiver(secret = WEBHOOK_SECRET): Promise<Receiver> {
  const hanging = new Set<ServerResponse>();
  const receiver: Receiver = {
    url: '',
    arrivals: [],
    deliveries: [],
    unique: () => {
      const seen = new Set<string>();
      return receiver.deliveries
        .map((d) => d.event)
        .filter((event) => !seen.has(event.id) && seen.add(event.id));
    },
    behaviour: 'ok',
    rejected: 0,
    close: () =>
      new Promise((resolve) => {
        for (const response of hanging) response.destroy();
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let event: WebhookEvent;
      try {
        event = verifyWebhook({
          body: raw,
          signature: request.headers['carethread-signature'] as string,
          secret,
        });
      } catch {
        receiver.rejected++;
        response.writeHead(401).end();
        return;
      }
      receiver.arrivals.push(event);
      if (receiver.behaviour === 'hang') {
        hanging.add(response);
        return;
      }
      if (receiver.behaviour === 'fail') {
        response.writeHead(500).end();
        return;
      }
      receiver.deliveries.push({ event, raw, headers: request.headers });
      if (receiver.behaviour === 'late') {
        hanging.add(response);
        setTimeout(() => response.writeHead(204).end(), 1_000).unref();
        return;
      }
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}/carethread/webhooks`;
  return receiver;
}
