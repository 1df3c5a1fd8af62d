// verifyWebhook's options and header (issue 15): a secret too short to be one of the relay's is a
// programming error, not a delivery to refuse; so is a tolerance that would switch the replay
// window off; and during a secret rotation any listed `v1=` signature may verify.
import { describe, expect, it } from 'vitest';
import {
  signWebhook,
  verifyWebhook,
  WebhookVerificationError,
} from '../../src/webhooks/signature.js';
import { WEBHOOK_SECRET } from './receiver.js';

const body = JSON.stringify({
  id: 'e-1',
  type: 'participant.removed',
  tenantId: 'dev',
  time: '2026-12-01T10:00:00.000Z',
  version: 1,
  data: { conversationId: 'c-1', userId: 'bob' },
});
const now = new Date('2026-12-01T10:00:10Z');
const t = Math.floor(now.getTime() / 1000);
const OLD_SECRET = 'the-previous-webhook-secret-32-chars-long';
const v1 = (secret: string, timestamp = t) =>
  signWebhook(secret, body, timestamp).slice('t=,v1='.length + String(timestamp).length);

describe('verifyWebhook options', () => {
  it('refuses an empty or short secret with a TypeError naming the option', () => {
    for (const secret of ['', 'short', 'x'.repeat(31)]) {
      const signature = signWebhook(secret, body, t);
      expect(() => verifyWebhook({ body, signature, secret, now }), JSON.stringify(secret)).toThrow(
        new TypeError(
          "verifyWebhook: options.secret must be the endpoint's webhook secret, at least 32 characters.",
        ),
      );
    }
    expect(() =>
      verifyWebhook({ body, signature: '', secret: undefined as unknown as string, now }),
    ).toThrow(TypeError);
  });

  it('refuses a tolerance that is not a finite number of seconds, zero or more', () => {
    const signature = signWebhook(WEBHOOK_SECRET, body, t - 3600);
    for (const toleranceSeconds of [Number.NaN, -1, Number.POSITIVE_INFINITY]) {
      expect(
        () => verifyWebhook({ body, signature, secret: WEBHOOK_SECRET, now, toleranceSeconds }),
        String(toleranceSeconds),
      ).toThrow(
        new TypeError(
          'verifyWebhook: options.toleranceSeconds must be a finite number of seconds, 0 or more.',
        ),
      );
    }
    // Zero is a valid (strict) window: a delivery signed this second passes, an old one does not.
    expect(
      verifyWebhook({
        body,
        signature: signWebhook(WEBHOOK_SECRET, body, t),
        secret: WEBHOOK_SECRET,
        now,
        toleranceSeconds: 0,
      }).id,
    ).toBe('e-1');
    expect(() =>
      verifyWebhook({ body, signature, secret: WEBHOOK_SECRET, now, toleranceSeconds: 0 }),
    ).toThrow(WebhookVerificationError);
  });
});

describe('verifyWebhook with several signatures', () => {
  it('accepts when any listed v1 signature matches, wherever it stands', () => {
    const good = v1(WEBHOOK_SECRET);
    const other = v1(OLD_SECRET);
    for (const signature of [
      `t=${String(t)},v1=${good},v1=${other}`,
      `t=${String(t)},v1=${other},v1=${good}`,
      `t=${String(t)}, v1=${'0'.repeat(64)}, v1=${good}`,
    ])
      expect(verifyWebhook({ body, signature, secret: WEBHOOK_SECRET, now }).id, signature).toBe(
        'e-1',
      );
  });

  it('refuses when none matches, and ignores malformed extra values', () => {
    const other = v1(OLD_SECRET);
    for (const signature of [
      `t=${String(t)},v1=${other},v1=${'f'.repeat(64)}`,
      `t=${String(t)},v1=${other},v1=nothex`,
      `t=${String(t)},v0=${v1(WEBHOOK_SECRET)}`,
      `t=${String(t)},t=${String(t - 3600)},v1=${v1(WEBHOOK_SECRET)}`,
    ])
      expect(
        () => verifyWebhook({ body, signature, secret: WEBHOOK_SECRET, now }),
        signature,
      ).toThrow(WebhookVerificationError);
  });
});
