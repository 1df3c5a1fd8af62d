// The EHR's webhook receiver: the raw body is verified with the tenant's secret before anything
// else, events are handled one at a time in the order they arrive, and each event id is handled
// once (delivery is at least once), remembered in a file so that a restart keeps the record.
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  UnknownWebhookEventError,
  verifyWebhook,
  WebhookVerificationError,
  type WebhookEvent,
} from '@carethread/server';
import { writeFileAtomic } from './chart.js';
import { log } from './log.js';

/** Ids are kept this long. The relay redelivers a dead letter only when asked, within days. */
const REMEMBER_MS = 30 * 24 * 3600 * 1000;
const MAX_BODY_BYTES = 1024 * 1024;

export interface WebhookReceiverOptions {
  secret: string;
  /** The JSON file of event ids already handled. */
  seenFile: string;
  /** Does the work of one event; throwing makes the relay retry it later. */
  handle(event: WebhookEvent): Promise<void>;
}

type Seen = Record<string, { type: string; handledAt: string }>;

function loadSeen(file: string): Seen {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Seen;
  } catch {
    return {};
  }
}

class BodyTooLarge extends Error {}

async function readRawBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new BodyTooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function answer(res: ServerResponse, status: number, text?: string): void {
  res.writeHead(status, text ? { 'content-type': 'text/plain; charset=utf-8' } : {});
  res.end(text);
}

export function createWebhookReceiver(options: WebhookReceiverOptions) {
  const seen = loadSeen(options.seenFile);
  // The relay sends an endpoint's events one at a time, in commit order; a redelivered dead
  // letter may arrive beside them. One queue keeps handling (and the seen file) serial.
  let queue: Promise<unknown> = Promise.resolve();

  function remember(event: WebhookEvent): void {
    const cutoff = Date.now() - REMEMBER_MS;
    for (const [id, entry] of Object.entries(seen))
      if (Date.parse(entry.handledAt) < cutoff) Reflect.deleteProperty(seen, id);
    seen[event.id] = { type: event.type, handledAt: new Date().toISOString() };
    writeFileAtomic(options.seenFile, JSON.stringify(seen, null, 2));
  }

  async function handleOnce(event: WebhookEvent): Promise<number> {
    if (seen[event.id]) {
      log('webhook already handled', { id: event.id, type: event.type });
      return 204;
    }
    try {
      await options.handle(event);
    } catch (error) {
      // Not remembered: the relay retries with backoff, and we do the work then.
      log('webhook handling failed', {
        id: event.id,
        type: event.type,
        error: error instanceof Error ? error.message : String(error),
      });
      return 500;
    }
    remember(event);
    return 204;
  }

  return async function receive(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST') {
      answer(res, 405, 'POST only');
      return;
    }
    let body: Buffer;
    try {
      body = await readRawBody(req);
    } catch (error) {
      if (error instanceof BodyTooLarge) {
        answer(res, 413, 'Too large');
        return;
      }
      throw error;
    }
    const signature = req.headers['carethread-signature'];
    let event: WebhookEvent;
    try {
      // The raw bytes, exactly as sent: parsing and re-serialising JSON would break the HMAC.
      event = verifyWebhook({
        body,
        signature: typeof signature === 'string' ? signature : undefined,
        secret: options.secret,
      });
    } catch (error) {
      if (error instanceof WebhookVerificationError) {
        log('webhook refused', { reason: error.message });
        answer(res, 401, 'Bad signature');
        return;
      }
      if (error instanceof UnknownWebhookEventError) {
        // Genuinely from the relay, but a type this code does not handle (a newer relay): take it,
        // or the relay would retry it for a day and hold up the events after it.
        log('webhook of an unknown type skipped', { id: error.eventId, type: error.type });
        answer(res, 204);
        return;
      }
      log('webhook verification failed', { reason: String(error) });
      answer(res, 500);
      return;
    }
    const done = queue.then(() => handleOnce(event));
    queue = done.catch(() => undefined); // one failure must not stop the events after it
    answer(res, await done);
  };
}
