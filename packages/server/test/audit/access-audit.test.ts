// Every access to protected data lands in the tenant's hash-chained audit trail, with ids and
// codes only; `carethread audit verify` checks the trail and names the first entry someone
// altered, removed or inserted in the database behind the relay's back.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, expect, it } from 'vitest';
import { ApiAuditEventPage, PROTOCOL_VERSION } from '@carethread/shared';
import { generateKeyPair } from 'jose';
import { DEV_AUDIENCE, DEV_ISSUER } from '../../src/auth/dev-tenant.js';
import { mintToken } from '../../src/auth/tokens.js';
import { verifyTenantTrail } from '../../src/audit-verify.js';
import {
  connectAs,
  ok,
  rawConnect,
  seedConversation,
  startRelay,
  type TestRelay,
} from '../helpers.js';

const cliBin = fileURLToPath(new URL('../../bin/carethread.js', import.meta.url));
let relay: TestRelay | undefined;
afterEach(async () => {
  await relay?.close();
  relay = undefined;
});

function auditVerify(dataDir: string) {
  return spawnSync(process.execPath, [cliBin, 'audit', 'verify'], {
    env: { ...process.env, DATABASE_URL: '', CARETHREAD_DATA_DIR: dataDir },
    encoding: 'utf8',
  });
}

it('records connections, refusals, reads, sends, consent steps and API calls, and no text', async () => {
  const node = await startRelay();
  relay = node;
  await seedConversation(node, 'c-audit', [
    { userId: 'alice', role: 'patient' },
    { userId: 'bob', role: 'family', relationship: 'brother' },
  ]);
  const doctor = await connectAs(node, await node.token('dr-rivera', 'provider'));
  const sent = await ok(doctor, 'message.send', {
    conversationId: 'c-audit',
    id: 'audit-msg-001',
    text: 'Take the blue pill at noon',
  });
  const bob = await connectAs(node, await node.token('bob', 'family'));
  await ok(bob, 'conversation.open', { conversationId: 'c-audit' });
  await ok(bob, 'history.page', { conversationId: 'c-audit', limit: 10 });
  await ok(bob, 'sync', { conversationId: 'c-audit', afterSeq: 0 });
  // A token of the dev tenant signed with someone else's key: refused, and recorded as such.
  const forged = await mintToken({
    issuer: DEV_ISSUER,
    audience: DEV_AUDIENCE,
    key: (await generateKeyPair('ES256')).privateKey,
    kid: 'not-the-dev-key',
    sub: 'mallory',
    name: 'Mallory',
    role: 'provider',
    ttlSeconds: 60,
  });
  await expect(
    rawConnect(node.url, { token: forged, protocol: PROTOCOL_VERSION }),
  ).rejects.toThrow();
  const api = await fetch(`${node.url}/api/v1/conversations/c-audit/audit?limit=200`, {
    headers: { authorization: `Bearer ${node.apiKey}` },
  });
  expect(api.status).toBe(200);
  doctor.close();
  bob.close();

  // Connections and refusals are recorded without holding the handshake up: wait for them.
  let all = await node.relay.store.listAuditEvents('dev', {}, 0, 1000);
  for (let tries = 0; !all.some((e) => e.action === 'session.refused'); tries++) {
    if (tries > 100) throw new Error('the refusal never reached the audit trail');
    await new Promise((resolve) => setTimeout(resolve, 20));
    all = await node.relay.store.listAuditEvents('dev', {}, 0, 1000);
  }
  const actions = (actor: string) =>
    all.filter((e) => e.actorId === actor).map((e) => [e.action, e.detail.via ?? null]);
  expect(actions('bob')).toEqual(
    expect.arrayContaining([
      ['session.connected', null],
      ['conversation.read', 'open'],
      ['conversation.read', 'history'],
      ['conversation.read', 'sync'],
    ]),
  );
  expect(actions('alice')).toEqual(
    expect.arrayContaining([
      ['consent.viewed', null],
      ['consent.signed', null],
    ]),
  );
  expect(actions('dr-rivera')).toEqual(expect.arrayContaining([['message.sent', null]]));
  expect(all.find((e) => e.action === 'session.refused')).toMatchObject({
    actorId: 'unverified',
    detail: { code: 'UNAUTHENTICATED', address: '127.0.0.1' },
  });
  const history = all.find((e) => e.actorId === 'bob' && e.detail.via === 'history');
  // Bob's page is the message alone: the consent's steps before it are not his to read.
  expect(history?.detail).toEqual({
    via: 'history',
    count: 1,
    fromSeq: sent.seq,
    toSeq: sent.seq,
  });
  expect(
    all.some((e) => e.action === 'api.call' && e.detail.operation === 'listConversationAudit'),
  ).toBe(true);
  // Ids and codes only: neither the text nor a token is anywhere in the trail.
  const dump = JSON.stringify(all);
  expect(dump).not.toContain('blue pill');
  expect(dump).not.toContain('eyJ');
  expect(await verifyTenantTrail(node.relay.store, 'dev')).toMatchObject({ ok: true });

  // A person's accounting of disclosures, through the host API.
  const bobs = ApiAuditEventPage.parse(
    await (
      await fetch(`${node.url}/api/v1/audit?userId=bob&limit=200`, {
        headers: { authorization: `Bearer ${node.apiKey}` },
      })
    ).json(),
  );
  expect(bobs.items.length).toBeGreaterThanOrEqual(4);
  expect(bobs.items.every((e) => e.actorId === 'bob' || e.subjectId === 'bob')).toBe(true);
});

it('names the first entry altered, removed or inserted behind the relay, from the command line', async () => {
  const node = await startRelay();
  relay = node;
  await seedConversation(node, 'c-tamper', [{ userId: 'alice', role: 'patient' }]);
  const doctor = await connectAs(node, await node.token('dr-rivera', 'provider'));
  for (let i = 0; i < 5; i++)
    await ok(doctor, 'message.send', {
      conversationId: 'c-tamper',
      id: `tamper-msg-${String(i)}`,
      text: `message ${String(i)}`,
    });
  doctor.close();
  await node.relay.close();
  const intact = auditVerify(node.dataDir);
  expect(intact.status, intact.stderr).toBe(0);
  expect(intact.stdout).toMatch(/^dev\tok\t\d+ entries/m);

  const original = path.join(node.dataDir, 'carethread.sqlite');
  const inspect = new Database(original, { readonly: true });
  const rows = inspect
    .prepare<[], { seq: number; action: string }>(
      "select seq, action from audit_events where tenant_id = 'dev' order by seq",
    )
    .all();
  inspect.close();
  const sent = rows.filter((r) => r.action === 'message.sent');
  const [second, third] = [sent[1]!, sent[2]!];
  const last = rows.at(-1)!;
  // Each tampering on a fresh copy of the database, as someone with file access would do it.
  const tamperings: [string, string, number][] = [
    [
      'altered',
      `update audit_events set actor_id = 'someone-else' where seq = ${String(third.seq)}`,
      third.seq,
    ],
    // The entry after the gap no longer chains to the one before it.
    ['removed', `delete from audit_events where seq = ${String(second.seq)}`, third.seq],
    [
      'inserted',
      `insert into audit_events (tenant_id, at, actor_id, action, conversation_id, subject_id,
         detail, prev_hash, hash)
       select tenant_id, at, actor_id, action, conversation_id, subject_id, detail, prev_hash, hash
       from audit_events where seq = ${String(third.seq)}`,
      last.seq + 1,
    ],
  ];
  for (const [what, statement, firstBroken] of tamperings) {
    const copy = mkdtempSync(path.join(tmpdir(), `carethread-tampered-${what}-`));
    try {
      copyFileSync(original, path.join(copy, 'carethread.sqlite'));
      // The data keys are wrapped by the folder's master key: the copy needs it to open the store.
      mkdirSync(path.join(copy, 'relay'));
      copyFileSync(
        path.join(node.dataDir, 'relay', 'master-key'),
        path.join(copy, 'relay', 'master-key'),
      );
      const database = new Database(path.join(copy, 'carethread.sqlite'));
      database.exec(statement);
      database.close();
      const result = auditVerify(copy);
      expect(result.status, what).toBe(1);
      expect(result.stdout, what).toContain(`dev\tBROKEN\tentry #${String(firstBroken)} `);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  }
});
