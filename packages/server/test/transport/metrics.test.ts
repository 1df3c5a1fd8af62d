// GET /metrics as Prometheus scrapes it: counts and latencies that move with real traffic, errors
// by stable code, the webhook backlog, and never a message's text.
import { afterEach, expect, it } from 'vitest';
import { call, connectAs, ok, seedConversation, startRelay, type TestRelay } from '../helpers.js';

let relay: TestRelay | undefined;
afterEach(async () => {
  await relay?.close();
  relay = undefined;
});

/** The value of one sample line, e.g. `carethread_messages_total{kind="message"}`. */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : Number.NaN;
}

it('counts connections, messages, request latency, store calls and errors by code', async () => {
  const current = await startRelay({
    // An endpoint nobody listens on: every event waits in the backlog.
    devTenantWebhooks: [
      { id: 'ehr', url: 'http://127.0.0.1:9/hooks', secret: 'x'.repeat(32), payload: 'ids' },
    ],
    webhookDelivery: { timeoutMs: 200, retryBaseMs: 60_000, pollMs: 50 },
  });
  relay = current;
  await seedConversation(current, 'c-1', [{ userId: 'alice', role: 'patient', displayName: 'A' }]);
  const doctor = await connectAs(current, await current.token('dr-rivera', 'provider'));
  for (let i = 1; i <= 3; i++)
    await ok(doctor, 'message.send', {
      conversationId: 'c-1',
      id: `metric-${String(i).padStart(4, '0')}`,
      text: 'Secret clinical note',
    });
  await call(doctor, 'message.send', { conversationId: 'c-1', id: 'x', text: '' });
  await fetch(`${current.url}/api/v1/conversations`, { headers: { authorization: 'Bearer nope' } });

  const response = await fetch(`${current.url}/metrics`);
  expect(response.headers.get('content-type')).toContain('text/plain');
  const text = await response.text();
  doctor.close();

  expect(sample(text, 'carethread_connections')).toBeGreaterThanOrEqual(1);
  expect(sample(text, 'carethread_messages_total{kind="message"}')).toBe(3);
  expect(sample(text, 'carethread_request_seconds_count{event="message.send"}')).toBe(3);
  expect(sample(text, 'carethread_errors_total{code="VALIDATION",surface="socket"}')).toBe(1);
  expect(sample(text, 'carethread_errors_total{code="UNAUTHENTICATED",surface="api"}')).toBe(1);
  expect(sample(text, 'carethread_store_seconds_count{method="appendEntries"}')).toBeGreaterThan(0);
  expect(sample(text, 'carethread_webhook_backlog{tenant="dev",endpoint="ehr"}')).toBe(3);
  expect(text).not.toContain('Secret clinical note');
  expect(text).not.toContain('alice');
});
