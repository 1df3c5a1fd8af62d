// Webhook signatures: HMAC-SHA256 over `<timestamp>.<body>` in the `CareThread-Signature`
// header, as `t=<unix seconds>,v1=<hex>`. The timestamp inside the signed text lets a receiver
// refuse replays outside a tolerance window; `verifyWebhook` does both checks.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { WebhookEvent } from '@carethread/shared';
import { WEBHOOK_SECRET_MIN_LENGTH } from '../core/webhook-secret.js';

export { WEBHOOK_SECRET_MIN_LENGTH };

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
  /** The endpoint's webhook secret (at least 32 characters, as in the relay's config). */
  secret: string;
  /** How far the signing time may be from now: a finite number, 0 or more; 5 minutes by default. */
  toleranceSeconds?: number;
  now?: Date;
}

/**
 * Checks a webhook delivery and returns its event; throws WebhookVerificationError when the
 * signature is missing, wrong, or outside the tolerance window (a replay) — answer those 401 —
 * and UnknownWebhookEventError for a verified event this version does not know — answer 2xx.
 * The header may list several `v1=` signatures (one per secret while the relay's secret is being
 * rotated): the delivery verifies when any of them matches. Throws a TypeError for options that
 * are a programming error rather than a bad delivery: a secret shorter than 32 characters (an
 * empty one would let anyone sign) or a tolerance that is not a finite number of seconds, 0 or
 * more (NaN would switch the replay window off).
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
  if (typeof secret !== 'string' || secret.length < WEBHOOK_SECRET_MIN_LENGTH)
    throw new TypeError(
      `verifyWebhook: options.secret must be the endpoint's webhook secret, at least ${String(WEBHOOK_SECRET_MIN_LENGTH)} characters.`,
    );
  if (
    typeof toleranceSeconds !== 'number' ||
    !Number.isFinite(toleranceSeconds) ||
    toleranceSeconds < 0
  )
    throw new TypeError(
      'verifyWebhook: options.toleranceSeconds must be a finite number of seconds, 0 or more.',
    );
  const body = typeof options.body === 'string' ? options.body : options.body.toString('utf8');
  const times: string[] = [];
  const signatures: Buffer[] = [];
  for (const part of (options.signature ?? '').split(',')) {
    const at = part.indexOf('=');
    const key = part.slice(0, at).trim();
    const value = part.slice(at + 1).trim();
    if (key === 't') times.push(value);
    // Other schemes, and values that cannot be a signature, are skipped (Stripe's rule).
    else if (key === 'v1' && /^[0-9a-f]{64}$/.test(value))
      signatures.push(Buffer.from(value, 'hex'));
  }
  const timestamp = times.length === 1 ? Number(times[0]) : Number.NaN;
  if (!Number.isInteger(timestamp) || signatures.length === 0)
    throw new WebhookVerificationError('The CareThread-Signature header is missing or malformed.');
  if (Math.abs(now.getTime() / 1000 - timestamp) > toleranceSeconds)
    throw new WebhookVerificationError(
      'The webhook was signed outside the tolerance window (a replay, or a clock off by minutes).',
    );
  const expected = Buffer.from(signWebhook(secret, body, timestamp).slice(-64), 'hex');
  // Every listed signature is compared, each in constant time, so the time taken does not tell
  // which one (or how much of one) matched.
  let matched = false;
  for (const given of signatures) matched = timingSafeEqual(expected, given) || matched;
  if (!matched)
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
