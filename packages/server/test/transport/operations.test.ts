// Health endpoints, graceful shutdown and what the logs may contain.
import { afterEach, describe, expect, it } from 'vitest';
import { HealthResponse } from '@carethread/shared';
import { createSqliteStore } from '../../src/store/sqlite.js';
import type { ThreadedStore } from '../../src/store/threaded.js';
import { rmSync } from 'node:fs';
import path from 'node:path';
import {
  call,
  dataFolderKeys,
  clientFor,
  connectAs,
  ok,
  seedConversation,
  startRelay,
  waitFor,
  type TestRelay,
} from '../helpers.js';

let relay: TestRelay | undefined;
afterEach(async () => {
  await relay?.close();
  relay = undefined;
});

describe('health', () => {
  it('answers /healthz and /readyz', async () => {
    relay = await startRelay();
    expect(await (await fetch(`${relay.url}/healthz`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${relay.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(HealthResponse.parse(await ready.json())).toEqual({ status: 'ready' });
  });
});

describe('graceful shutdown', () => {
  it('finishes in-flight writes: every acknowledged message is stored, nothing else is', async () => {
    const started = await startRelay({}, undefined);
    relay = started;
    await seedConversation(started, 'c-1', [{ userId: 'alice', role: 'patient' }]);
    const socket = await connectAs(started, await started.token('alice', 'patient'));
    const pending = Array.from({ length: 200 }, (_, i) =>
      call(socket, 'message.send', {
        conversationId: 'c-1',
        id: `shutdown-${String(i).padStart(4, '0')}`,
        text: `m${i}`,
      }).catch(() => undefined),
    );
    // Let the first packets reach the relay, then stop it while the rest are in flight.
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setTimeout(resolve, 5));
    const closing = started.relay.close();
    const acks = await Promise.all(pending);
    await closing;
    relay = undefined;
    const acked = acks.flatMap((a) => (a?.ok ? [a.data.id] : []));
    const store = await createSqliteStore({
      filename: path.join(started.dataDir, 'carethread.sqlite'),
      masterKeys: dataFolderKeys(started.dataDir),
    });
    const stored = (await store.entriesAfter('dev', 'c-1', 0, 1000)).entries.map((e) => e.id);
    await store.close();
    rmSync(started.dataDir, { recursive: true, force: true });
    expect(acked.length).toBeGreaterThan(0);
    expect(stored.sort()).toEqual(acked.sort());
  });
});

describe('store failure', () => {
  it('refuses writes with UNAVAILABLE when the store thread dies, and the data file stays whole', async () => {
    const fatal: Error[] = [];
    const started = await startRelay({}, undefined, { onFatal: (error) => fatal.push(error) });
    relay = started;
    await seedConversation(started, 'c-1', [{ userId: 'alice', role: 'patient' }]);
    const socket = await connectAs(started, await started.token('alice', 'patient'));
    await ok(socket, 'message.send', { conversationId: 'c-1', id: 'before-crash', text: 'kept' });

    await (started.relay.store as ThreadedStore).worker.terminate(); // the store thread crashes
    await waitFor(() => fatal.length === 1, 3000, 'fatal report');
    expect(
      await call(socket, 'message.send', { conversationId: 'c-1', id: 'after-crash', text: 'x' }),
    ).toMatchObject({
      ok: false,
      error: { code: 'UNAVAILABLE' },
    });
    expect((await fetch(`${started.url}/readyz`)).status).toBe(503);
    socket.close();

    const reopened = await createSqliteStore({
      filename: path.join(started.dataDir, 'carethread.sqlite'),
      masterKeys: dataFolderKeys(started.dataDir),
    });
    expect((await reopened.entriesAfter('dev', 'c-1', 0, 10)).entries.map((e) => e.id)).toEqual([
      'before-crash',
    ]);
    await reopened.close();
  });
});

describe('logs', () => {
  it('never contain message text or tokens', async () => {
    const started = await startRelay();
    relay = started;
    await seedConversation(started, 'c-1', [{ userId: 'alice', role: 'patient' }]);
    const secret = 'my-diagnosis-is-SECRET-4711';
    const token = await started.token('alice', 'patient');
    const client = clientFor(started, 'alice', 'patient');
    const chat = client.conversation('c-1');
    await chat.open();
    await chat.send(secret);
    await chat.edit(1, `${secret} (edited)`);
    const raw = await connectAs(started, token);
    await call(raw, 'message.send', { conversationId: 'c-1', id: 'bad', text: secret });
    await ok(raw, 'sync', { conversationId: 'c-1', afterSeq: 0 });
    raw.close();
    client.close();
    await waitFor(() => started.logs().includes('disconnected'), 3000, 'disconnect logged');
    const logs = started.logs();
    expect(logs.length).toBeGreaterThan(0);
    expect(logs).not.toContain('SECRET-4711');
    expect(logs).not.toContain(token);
    expect(logs).not.toContain(token.split('.')[1]);
  });
});
