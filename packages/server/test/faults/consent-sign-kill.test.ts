// A relay killed in the middle of a consent signing: the record exists whole or not at all. The
// relay runs as its own process and gets SIGKILL a few milliseconds after signatures (and PDF
// requests) were sent, at varied delays, so kills land before, during and after the commits. After
// each restart on the same data every request is either still signable with no trace of a
// signature, or signed with every piece present: record, receipt, grant, signed event, chain, PDF.
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import Sqlite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import type { JSONWebKeySet } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION, type Ack, type ConsentSign } from '@carethread/shared';
import { loadOrCreateDevApiKey } from '../../src/api/keys.js';
import { canonicalHash, canonicalJson } from '../../src/core/canonical.js';
import { verifyReceipt } from '../../src/consent/receipts.js';
import { verifyConsentEventChain } from '../../src/store/chain.js';
import { createKeyring, rowAad, type MasterKeys } from '../../src/store/keyring.js';
import type { Database } from '../../src/store/schema.js';
import type { ConsentEventRecord } from '../../src/store/types.js';
import { familyDisclosureTemplate } from '../consent/fixtures.js';
import { call, dataFolderKeys, ok, rawConnect, type RawSocket } from '../helpers.js';
import { describeWithServices } from '../needs-services.js';
import { allPages } from './host-pages.js';
import { devTokens, startRelayProcess, type RelayProcess } from './relay-process.js';
import { expectNothingLost, printTally, tally } from './tally.js';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** When each round kills the relay, in ms after its first signature went out (signs go every 3 ms). Signing takes some milliseconds on SQLite and tens on PostgreSQL (a connection per concurrent signing), so the kills land before, during and after commits.. */
const KILL_AFTER_MS = [0, 4, 8, 15, 25, 40, 70, 120];
const SIGNS_PER_ROUND = 5;

interface Engine {
  name: string;
  /** Extra configuration for the relay (a database). */
  config: Record<string, unknown>;
  /** A read-only view of the relay's tables. */
  open(dataDir: string): Kysely<Database>;
}

interface Inspection {
  verdict: 'signed' | 'unsigned' | 'half';
  problems: string[];
  signedEvents: number;
  pdf: string | null;
  recordHash: string | null;
}

async function inspect(
  db: Kysely<Database>,
  keys: MasterKeys,
  api: { url: string; key: string },
  requestId: string,
  jwks: JSONWebKeySet,
): Promise<Inspection> {
  const problems: string[] = [];
  // The record's columns are sealed at rest (ADR 14): opened with the relay's master key.
  const keyring = createKeyring(db, keys);
  await keyring.load();
  const unseal = (column: string, value: string) =>
    keyring.open('dev', rowAad(`consent_records.${column}`, 'dev', requestId), value);
  const request = await db
    .selectFrom('consent_requests')
    .select('state')
    .where('tenant_id', '=', 'dev')
    .where('request_id', '=', requestId)
    .executeTakeFirstOrThrow();
  const sealed = await db
    .selectFrom('consent_records')
    .selectAll()
    .where('tenant_id', '=', 'dev')
    .where('request_id', '=', requestId)
    .executeTakeFirst();
  const record = sealed && {
    ...sealed,
    canonical: unseal('canonical', sealed.canonical),
    receipt: unseal('receipt', sealed.receipt),
    pdf: sealed.pdf === null ? null : unseal('pdf', sealed.pdf),
  };
  const grants = await db
    .selectFrom('consent_grants')
    .select('recipient_id')
    .where('tenant_id', '=', 'dev')
    .where('request_id', '=', requestId)
    .execute();
  // The events as the host reads them, to verify their chain as anyone could.
  const events = await allPages<ConsentEventRecord>(
    api.url,
    api.key,
    `/api/v1/consent-requests/${requestId}/events`,
  );
  const chain = verifyConsentEventChain('dev', requestId, events);
  if (!chain.ok) problems.push(`event chain breaks at ${String(chain.seq)}: ${chain.problem}`);
  const signedEvents = events.filter((e) => e.type === 'signed');

  if (request.state === 'signed') {
    if (!record) problems.push('signed without a record');
    if (grants.length !== 1) problems.push(`${String(grants.length)} grants`);
    if (signedEvents.length !== 1) problems.push(`${String(signedEvents.length)} signed events`);
    if (record) {
      if (canonicalHash(JSON.parse(record.canonical)) !== record.record_hash)
        problems.push('record hash does not match the record');
      if (signedEvents[0]?.detail.recordHash !== record.record_hash)
        problems.push('signed event names another record');
      try {
        const receipt = await verifyReceipt(record.receipt, jwks);
        if (receipt.recordHash !== record.record_hash)
          problems.push('receipt covers another record');
        if (canonicalJson(receipt.record) !== record.canonical)
          problems.push('receipt payload is not the record');
      } catch (error) {
        problems.push(`receipt does not verify: ${(error as Error).message}`);
      }
    }
  } else if (request.state === 'requested' || request.state === 'viewed') {
    if (record) problems.push(`${request.state} with a record`);
    if (grants.length > 0) problems.push(`${request.state} with a grant`);
    if (signedEvents.length > 0) problems.push(`${request.state} with a signed event`);
  } else problems.push(`unexpected state ${request.state}`);

  return {
    verdict: problems.length > 0 ? 'half' : request.state === 'signed' ? 'signed' : 'unsigned',
    problems,
    signedEvents: signedEvents.length,
    pdf: record?.pdf ?? null,
    recordHash: record?.record_hash ?? null,
  };
}

/** Checks a sealed PDF: its bytes match the hash the relay gives and it carries the record hash. */
async function checkPdf(bytes: Buffer, recordHash: string, seal: boolean): Promise<string[]> {
  const dir = mkdtempSync(path.join(tmpdir(), 'carethread-kill-pdf-'));
  try {
    const file = path.join(dir, 'consent.pdf');
    writeFileSync(file, bytes);
    const problems: string[] = [];
    const text = (await run('pdftotext', ['-layout', file, '-'])).stdout;
    if (!text.includes(recordHash)) problems.push('PDF does not carry the record hash');
    if (seal) {
      const report = (await run('pdfsig', [file])).stdout;
      if (!report.includes('Signature Validation: Signature is Valid.'))
        problems.push('PDF seal does not verify');
    }
    return problems;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Forty rounds of start, sign and SIGKILL. That takes about 25 s alone and up to 30 s beside
 * other test files, hence the 90 s limit on each test below (a limit on a hung run, not a speed
 * check).
 */
async function killDuringSigning(engine: Engine): Promise<void> {
  const folder = mkdtempSync(path.join(tmpdir(), 'carethread-sign-kill-'));
  const configFile = path.join(folder, 'config.json');
  writeFileSync(configFile, JSON.stringify(engine.config));
  let relay: RelayProcess | undefined;
  const sockets: RawSocket[] = [];
  try {
    relay = await startRelayProcess(folder, configFile);
    const token = devTokens(folder);
    const apiKey = loadOrCreateDevApiKey(folder);
    const api = () => ({ url: relay?.url ?? '', key: apiKey });
    const connect = async (url: string, sub: string, role: 'patient' | 'provider' | 'staff') => {
      const socket = await rawConnect(url, {
        token: await token(sub, role),
        protocol: PROTOCOL_VERSION,
      });
      sockets.push(socket);
      return socket;
    };

    const staff = await connect(relay.url, 'consent-admin', 'staff');
    await ok(staff, 'consent.template.publish', familyDisclosureTemplate());
    const provider = await connect(relay.url, 'dr-rivera', 'provider');
    await ok(provider, 'conversation.create', {
      conversationId: 'c-kill',
      title: 'Signing under fire',
      participants: [
        { userId: 'alice', role: 'patient', displayName: 'Alice Moreno' },
        { userId: 'bob', role: 'family', displayName: 'Bob Moreno', relationship: 'father' },
      ],
    });
    let alice = await connect(relay.url, 'alice', 'patient');
    const requestIds: string[] = [];
    let form: Omit<ConsentSign, 'requestId' | 'signature'> | undefined;
    // Each round's requests, then one more per round to warm a freshly started relay up with.
    for (let i = 0; i < KILL_AFTER_MS.length * (SIGNS_PER_ROUND + 1); i++) {
      const request = await ok(provider, 'consent.request', {
        requestId: `req-kill-${String(i).padStart(2, '0')}`,
        templateId: 'family-disclosure',
        conversationId: 'c-kill',
        patientId: 'alice',
        recipients: ['bob'],
        purpose: 'So my father can support my recovery.',
        expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
      });
      requestIds.push(request.requestId);
      // Two in three are viewed first: signing starts from both open states.
      if (i % 3 !== 2 || !form) {
        const { disclosure, template } = await ok(alice, 'consent.view', {
          requestId: request.requestId,
        });
        form = {
          disclosureHash: disclosure.hash,
          acknowledgements: template.blocks.flatMap((b) =>
            b.type === 'acknowledgement' ? [b.id] : [],
          ),
          answers: { capacity: 'The patient', 'ends-on': '2099-01-01' },
        };
      }
    }
    if (!form) throw new Error('no form');
    const signing = form;
    const sign = (requestId: string): ConsentSign => ({
      ...signing,
      requestId,
      signature: { method: 'typed', name: 'alice' },
    });

    const sent = new Set<string>();
    const acked = new Map<string, number>();
    const afterKill = new Map<string, Inspection>();
    const rounds: string[] = [];
    let pdfRequestsCut = 0;
    for (const [round, killAfter] of KILL_AFTER_MS.entries()) {
      const batch = requestIds.slice(round * SIGNS_PER_ROUND, (round + 1) * SIGNS_PER_ROUND);
      // A signing right before, so the kill does not land in a cold process's first one.
      await ok(alice, 'consent.sign', sign(requestIds.at(-1 - round) ?? ''));
      // PDFs of the last round's signed requests are being made when the kill comes, too.
      const pdfsToAsk =
        round % 2 === 1
          ? [...afterKill].filter(([, i]) => i.verdict === 'signed' && i.pdf === null)
          : [];
      const start = Date.now();
      batch.forEach((requestId, k) => {
        setTimeout(() => {
          if (relay?.child.exitCode !== null || relay.child.signalCode !== null) return;
          sent.add(requestId);
          alice.emit('consent.sign', sign(requestId), (ack: Ack<unknown>) => {
            if (ack.ok) acked.set(requestId, 1);
          });
        }, k * 3);
      });
      // Asked after the signatures: making a PDF takes the CPU for a while.
      setTimeout(() => {
        for (const [requestId] of pdfsToAsk)
          alice.emit('consent.pdf', { requestId }, () => undefined);
      }, SIGNS_PER_ROUND * 3);
      pdfRequestsCut += pdfsToAsk.length;
      await sleep(killAfter);
      const killedAt = Date.now() - start;
      await relay.kill();

      relay = await startRelayProcess(folder, configFile);
      alice = await connect(relay.url, 'alice', 'patient');
      const jwks = (await (
        await fetch(`${relay.url}/.well-known/jwks.json`)
      ).json()) as JSONWebKeySet;
      const db = engine.open(folder);
      try {
        for (const requestId of [...batch, ...pdfsToAsk.map(([id]) => id)])
          afterKill.set(
            requestId,
            await inspect(db, dataFolderKeys(folder), api(), requestId, jwks),
          );
      } finally {
        await db.destroy();
      }
      const verdicts = batch.map((id) => afterKill.get(id)?.verdict.slice(0, 1) ?? '?').join('');
      rounds.push(`kill at ${String(killedAt)} ms: ${verdicts}`);
    }

    const inspected = [...afterKill.entries()];
    const stored = inspected.flatMap(([id, i]) =>
      Array.from({ length: i.signedEvents }, () => ({ id, seq: 1, conversationId: 'c-kill' })),
    );
    const result = tally({ sent, acked, stored, views: [] });
    printTally(`relay killed while signing consents (${engine.name})`, result);
    const count = (v: Inspection['verdict']) => inspected.filter(([, i]) => i.verdict === v).length;
    const signedUnacked = inspected.filter(
      ([id, i]) => i.verdict === 'signed' && sent.has(id) && !acked.has(id),
    ).length;
    console.log(
      [
        `rounds (s = signed whole, u = unsigned and clean, h = half): ${rounds.join('; ')}`,
        `signed ${String(count('signed'))}, unsigned ${String(count('unsigned'))}, half ${String(count('half'))}; signed but the ack never came: ${String(signedUnacked)}; PDFs asked for just before a kill: ${String(pdfRequestsCut)}`,
      ].join('\n'),
    );
    expectNothingLost(result);
    expect(
      inspected.filter(([, i]) => i.verdict === 'half').map(([id, i]) => [id, i.problems]),
    ).toEqual([]);
    expect(count('signed')).toBeGreaterThan(0);
    expect(count('unsigned')).toBeGreaterThan(0);

    // After the last restart: the unsigned ones sign normally, and every record is whole, PDF too.
    const jwks = (await (
      await fetch(`${relay.url}/.well-known/jwks.json`)
    ).json()) as JSONWebKeySet;
    for (const [requestId, inspection] of inspected)
      if (inspection.verdict === 'unsigned') {
        const pdf = await call(alice, 'consent.pdf', { requestId });
        expect(pdf.ok ? 'ok' : pdf.error.code).toBe('NOT_FOUND');
        await ok(alice, 'consent.sign', sign(requestId));
      }
    const db = engine.open(folder);
    try {
      const pdfProblems: string[] = [];
      for (const [n, requestId] of requestIds.entries()) {
        const final = await inspect(db, dataFolderKeys(folder), api(), requestId, jwks);
        expect([requestId, final.verdict, final.problems]).toEqual([requestId, 'signed', []]);
        const { pdf, sha256 } = await ok(alice, 'consent.pdf', { requestId });
        const bytes = Buffer.from(pdf, 'base64');
        expect(sha256).toBe(`sha256:${createHash('sha256').update(bytes).digest('hex')}`);
        for (const problem of await checkPdf(bytes, final.recordHash ?? '', n % 10 === 0))
          pdfProblems.push(`${requestId}: ${problem}`);
        // The PDF kept is the one handed out, and it is made once.
        const kept = await inspect(db, dataFolderKeys(folder), api(), requestId, jwks);
        expect(kept.pdf).toBe(pdf);
      }
      expect(pdfProblems).toEqual([]);
    } finally {
      await db.destroy();
    }
  } finally {
    for (const socket of sockets) socket.close();
    await relay?.kill();
    rmSync(folder, { recursive: true, force: true });
  }
}

describe('a relay killed in the middle of a consent signing', () => {
  it('keeps each record whole or absent, on its embedded SQLite', async () => {
    await killDuringSigning({
      name: 'SQLite',
      config: {},
      open: (dataDir) =>
        new Kysely<Database>({
          dialect: new SqliteDialect({
            database: new Sqlite(path.join(dataDir, 'carethread.sqlite'), {
              readonly: true,
              fileMustExist: true,
            }),
          }),
        }),
    });
  }, 90_000);
});

describeWithServices(
  'a relay on PostgreSQL killed in the middle of a consent signing',
  ['DATABASE_URL'],
  ({ DATABASE_URL: url }) => {
    const schema = `ct_fault_${randomBytes(6).toString('hex')}`;
    const admin = new Kysely<unknown>({
      dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 1 }) }),
    });
    afterAll(async () => {
      await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(admin);
      await admin.destroy();
    });

    it('keeps each record whole or absent, on PostgreSQL', async () => {
      await killDuringSigning({
        name: 'PostgreSQL',
        config: { databaseUrl: url, postgres: { schema, poolSize: 4 } },
        open: () =>
          new Kysely<Database>({
            dialect: new PostgresDialect({
              pool: new pg.Pool({
                connectionString: url,
                max: 1,
                options: `-c search_path=${schema}`,
              }),
            }),
          }),
      });
    }, 90_000);
  },
);
