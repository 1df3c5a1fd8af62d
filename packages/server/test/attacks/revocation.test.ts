// Signing a session out: the host revokes a token id (`jti`) through the host API; live sessions
// carrying it end at once on the node that took the call and within a check interval on the
// others, and the token is refused at connect and at refresh until it would have expired anyway.
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ApiErrorResponse,
  ApiTokenRevocation,
  PROTOCOL_VERSION,
  type ErrorBody,
} from '@carethread/shared';
import { createClient } from '@carethread/widget/client';
import type { RelayConfigInput } from '../../src/config.js';
import { describeWithServices } from '../needs-services.js';
import {
  call,
  connectAs,
  connectOutcome,
  makeTenant,
  ok,
  startRelay,
  waitFor,
  type RawSocket,
  type TestRelay,
  type TestTenant,
} from '../helpers.js';

/** POSTs a revocation with the given API key; the status and the parsed body. */
async function revoke(
  relay: TestRelay,
  body: unknown,
  apiKey: string = relay.apiKey,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${relay.url}/api/v1/sessions/revoke`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

/** What a socket hears as its session ends: the `session.ended` code, then the disconnect. */
function endings(socket: RawSocket): string[] {
  const seen: string[] = [];
  socket.on('session.ended', (error: ErrorBody) => seen.push(error.code));
  socket.on('disconnect', (reason) => seen.push(reason));
  return seen;
}

const refusal = (relay: TestRelay, token: string) =>
  connectOutcome(relay.url, { token, protocol: PROTOCOL_VERSION });

describe('revoking a token id through the host API', () => {
  let relay: TestRelay;
  let other: TestTenant;
  const open: RawSocket[] = [];
  const connect = async (token: string) => {
    const socket = await connectAs(relay, token);
    open.push(socket);
    return socket;
  };

  beforeEach(async () => {
    other = await makeTenant('st-marys');
    relay = await startRelay({ tenants: [other.config] });
  });
  afterEach(async () => {
    for (const socket of open.splice(0)) socket.close();
    await relay.close();
  });

  it('ends the sessions carrying it at once, and only those', async () => {
    const revoked = await connect(await relay.token('alice', 'patient', { jti: 'session-1' }));
    const sameTokenAgain = await connect(
      await relay.token('alice', 'patient', { jti: 'session-1' }),
    );
    const otherSession = await connect(await relay.token('alice', 'patient', { jti: 'session-2' }));
    const withoutJti = await connect(await relay.token('alice', 'patient'));
    const heard = [endings(revoked), endings(sameTokenAgain)];

    const answer = await revoke(relay, { jti: 'session-1' });
    expect(answer.status).toBe(200);
    const body = ApiTokenRevocation.parse(answer.body);
    expect(body).toMatchObject({ jti: 'session-1', sessionsEnded: 2 });
    // No expiry given: kept for as long as any token of the tenant could pass (24 h + skew).
    const kept = Date.parse(body.keptUntil) - Date.parse(body.revokedAt);
    expect(kept).toBe(24 * 3600_000 + 60_000);

    // At once: both were told before the API answered, so a short wait suffices.
    await waitFor(() => heard.every((h) => h.length === 2), 1000, 'both sessions to end');
    for (const h of heard) expect(h).toEqual(['UNAUTHENTICATED', 'io server disconnect']);
    for (const socket of [otherSession, withoutJti]) {
      expect(socket.connected).toBe(true);
      await ok(socket, 'conversation.list', {});
    }
  });

  it('refuses the revoked token at connect and at refresh, and lets a new one in', async () => {
    const token = await relay.token('alice', 'patient', { jti: 'logout-1' });
    expect(await refusal(relay, token)).toBe('connected');
    expect((await revoke(relay, { jti: 'logout-1' })).status).toBe(200);

    expect(await refusal(relay, token)).toBe('UNAUTHENTICATED');
    const socket = await connect(await relay.token('alice', 'patient', { jti: 'logout-2' }));
    const ack = await call(socket, 'auth.refresh', { token });
    expect(ack).toMatchObject({
      ok: false,
      error: { code: 'UNAUTHENTICATED', message: expect.stringMatching(/revoked/) as unknown },
    });
    expect(socket.connected).toBe(true);
  });

  it('ends a session whose earlier token was revoked after it refreshed to a new one', async () => {
    const socket = await connect(await relay.token('alice', 'patient', { jti: 'chain-1' }));
    await ok(socket, 'auth.refresh', {
      token: await relay.token('alice', 'patient', { jti: 'chain-2' }),
    });
    const heard = endings(socket);
    const answer = await revoke(relay, { jti: 'chain-1' });
    expect(answer.body).toMatchObject({ sessionsEnded: 1 });
    await waitFor(() => heard.length === 2, 1000, 'the session to end');
    expect(heard[0]).toBe('UNAUTHENTICATED');
  });

  it('keeps a revocation until the expiry the host gives (plus the clock tolerance)', async () => {
    const expiresAt = new Date(Date.now() + 600_000).toISOString();
    const answer = await revoke(relay, { jti: 'exp-1', expiresAt });
    const { keptUntil } = ApiTokenRevocation.parse(answer.body);
    expect(Date.parse(keptUntil)).toBe(Date.parse(expiresAt) + 30_000);
    // Revoking again keeps the first time and extends to the later expiry.
    const later = new Date(Date.now() + 900_000).toISOString();
    const again = ApiTokenRevocation.parse(
      (await revoke(relay, { jti: 'exp-1', expiresAt: later })).body,
    );
    expect(again.revokedAt).toBe(ApiTokenRevocation.parse(answer.body).revokedAt);
    expect(Date.parse(again.keptUntil)).toBe(Date.parse(later) + 30_000);
    // A host cannot keep a row for longer than a token could live.
    const far = ApiTokenRevocation.parse(
      (await revoke(relay, { jti: 'exp-2', expiresAt: '2999-01-01T00:00:00Z' })).body,
    );
    expect(Date.parse(far.keptUntil) - Date.parse(far.revokedAt)).toBe(24 * 3600_000 + 60_000);
  });

  it("keeps tenants apart: another tenant's key revokes its own token ids only", async () => {
    const devSocket = await connect(await relay.token('alice', 'patient', { jti: 'shared-id' }));
    const theirs = await connect(
      await relay.token('alice', 'patient', { jti: 'shared-id', tenant: other }),
    );
    const heard = endings(theirs);
    expect((await revoke(relay, { jti: 'shared-id' }, other.apiKey)).body).toMatchObject({
      sessionsEnded: 1,
    });
    await waitFor(() => heard.length === 2, 1000, "St Mary's session to end");
    expect(devSocket.connected).toBe(true);
    expect(await refusal(relay, await relay.token('alice', 'patient', { jti: 'shared-id' }))).toBe(
      'connected',
    );
  });

  it('refuses malformed requests and unauthenticated callers, and replays an Idempotency-Key', async () => {
    for (const body of [
      {},
      { jti: '' },
      { jti: 'a b' },
      { jti: 7 },
      { jti: 'x', expiresAt: 'soon' },
    ]) {
      const answer = await revoke(relay, body);
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(ApiErrorResponse.parse(answer.body).error.code).toBe('VALIDATION');
    }
    const anonymous = await revoke(relay, { jti: 'x' }, 'ctk_not-a-key');
    expect(anonymous.status).toBe(401);
    const first = await revoke(relay, { jti: 'idem-1' }, relay.apiKey, {
      'idempotency-key': 'k-1',
    });
    const second = await revoke(relay, { jti: 'idem-1' }, relay.apiKey, {
      'idempotency-key': 'k-1',
    });
    expect(second).toEqual(first);
  });

  it('is in the OpenAPI document', async () => {
    const document = (await (await fetch(`${relay.url}/openapi.json`)).json()) as {
      paths: Record<string, { post?: { operationId: string } }>;
    };
    expect(document.paths['/api/v1/sessions/revoke']?.post?.operationId).toBe('revokeToken');
  });

  it('ends the headless client with a reason, without a reconnect loop', async () => {
    let minted = 0;
    const client = createClient({
      url: relay.url,
      transports: ['websocket'],
      reconnectDelayMs: { min: 50, max: 100 },
      tokenProvider: () => {
        minted++;
        return relay.token('alice', 'patient', { jti: 'widget-1' });
      },
    });
    await client.ready();
    await revoke(relay, { jti: 'widget-1' });
    await waitFor(() => client.state === 'ended', 2000, 'the client to end');
    expect(client.error?.code).toBe('UNAUTHENTICATED');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(minted).toBe(1);
    client.close();
  });
});

/**
 * Two relay nodes sharing one store: a revocation taken by node A ends node B's session at B's
 * next check (every 200 ms here), without any message between the nodes.
 */
async function endsOnTheOtherNode(shared: Partial<RelayConfigInput>, dataDir: string) {
  const config = { ...shared, revocationCheckMs: 200 };
  const a = await startRelay(config, dataDir);
  const b = await startRelay(config, dataDir);
  try {
    const onB = await connectAs(b, await b.token('alice', 'patient', { jti: 'cross-node-1' }));
    const heard = endings(onB);
    const answer = await revoke(a, { jti: 'cross-node-1' });
    expect(answer.body).toMatchObject({ sessionsEnded: 0 });
    await waitFor(() => heard.length === 2, 3000, "node B's session to end");
    expect(heard).toEqual(['UNAUTHENTICATED', 'io server disconnect']);
    // And node B refuses the token from then on.
    expect(await refusal(b, await b.token('alice', 'patient', { jti: 'cross-node-1' }))).toBe(
      'UNAUTHENTICATED',
    );
    onB.close();
  } finally {
    await a.close();
    await b.close();
  }
}

describe('several nodes', () => {
  it('ends a session on a node sharing the SQLite file with the node that took the call', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'carethread-revoke-'));
    try {
      await endsOnTheOtherNode({}, dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describeWithServices('several nodes on PostgreSQL', ['DATABASE_URL'], ({ DATABASE_URL: url }) => {
  const schema = `ct_revoke_${randomBytes(6).toString('hex')}`;
  afterAll(async () => {
    const admin = new Kysely<unknown>({
      dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 1 }) }),
    });
    await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(admin);
    await admin.destroy();
  });

  it('ends a session on the other node at its next check', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'carethread-revoke-'));
    try {
      await endsOnTheOtherNode({ databaseUrl: url, postgres: { poolSize: 2, schema } }, dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
