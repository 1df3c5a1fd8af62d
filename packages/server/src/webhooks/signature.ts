// Webhook signatures: HMAC-SHA256 over `<timestamp>.<body>` in the `CareThread-Signature`
// header, as `t=<unix seconds>,v1=<hex>`. The timestamp inside the signed text lets a receiver
// refuse replays outside a tolerance window; `verifyWebhook` does both checks.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { WebhookEvent } from '@carethread/shared';

/** The header value for `body` sent at `timestamp` (unix seconds). */
export function signWebhook(secret: string, body: string, timestamp: number): string {
  const mac = createHmac('sha256', secret)
    .update(`${String(timestamp)}.${body}`)
    .digest('hex');
  return `t=${String(timestamp)},v1=${mac}`;
}

export class WebhookVerificationError extends Error {
  override name = 'WebhookVerificationError';
}

/**
 * A delivery that is genuinely from the relay (its signature verified) but of an event type or
 * payload version this version of `@carethread/server` does not know, e.g. from a newer relay.
 * Answer it with 2xx (and skip it) so the relay does not retry it and hold up later events.
 */
export class UnknownWebhookEventError extends Error {
  override name = 'UnknownWebhookEventError';
  constructor(
    readonly eventId: string,
    readonly type: string,
  ) {
    super(
      `Webhook event ${eventId} is of a type or version this receiver does not know (${type}).`,
    );
  }
}

export interface VerifyWebhookOptions {
  /** The raw request body, exactly as received (before any JSON parsing). */
  body: string | Buffer;
  /** The `CareThread-Signature` header. */
  signature: string | undefined;
  secret: string;
  /** How far the signing time may be from now; 5 minutes by default. */
  toleranceSeconds?: number;
  now?: Date;
}

/**
 * Checks a webhook delivery and returns its event; throws WebhookVerificationError when the
 * signature is missing, wrong, or outside the tolerance window (a replay) — answer those 401 —
 * and UnknownWebhookEventError for a verified event this version does not know — answer 2xx.
 *
 * @example
 * app.post('/carethread/webhooks', express.raw({ type: 'application/json' }), (req, res) => {
 *   const event = verifyWebhook({ body: req.body, signature: req.get('carethread-signature'), secret });
 *   if (alreadyHandled(event.id)) return res.sendStatus(200); // deliveries are at least once
 *   handle(event);
 *   res.sendStatus(204);
 * });
 */
export function verifyWebhook(options: VerifyWebhookOptions): WebhookEvent {
  const { secret, toleranceSeconds = 300, now = new Date() } = options;
  const body = typeof options.body === 'string' ? options.body : options.body.toString('utf8');
  const parts = new Map(
    (options.signature ?? '').split(',').map((part) => {
      const at = part.indexOf('=');
      return [part.slice(0, at).trim(), part.slice(at + 1).trim()] as const;
    }),
  );
  const timestamp = Number(parts.get('t'));
  const given = parts.get('v1');
  if (!Number.isInteger(timestamp) || !given || !/^[0-9a-f]{64}$/.test(given))
    throw new WebhookVerificationError('The CareThread-Signature header is missing or malformed.');
  if (Math.abs(now.getTime() / 1000 - timestamp) > toleranceSeconds)
    throw new WebhookVerificationError(
      'The webhook was signed outside the tolerance window (a replay, or a clock off by minutes).',
    );
  const expected = signWebhook(secret, body, timestamp).slice(-64);
  if (!timingSafeEqual(Buffer.from(expected, 'hex'), Buffer.from(given, 'hex')))
    throw new WebhookVerificationError('The webhook signature does not match its body.');
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new WebhookVerificationError('The webhook body is not JSON.');
  }
  const event = WebhookEvent.safeParse(parsed);
  if (event.success) return event.data;
  const { id, type } = (parsed ?? {}) as { id?: unknown; type?: unknown };
  throw new UnknownWebhookEventError(String(id), String(type));
}
