// Property-based fuzzing of every client event over a real socket to a relay in this process:
// random JSON, mutations of a valid payload, deep nesting, `__proto__`/`constructor` keys, huge
// strings and wrong types. Each case must get the code the shared schema implies (never
// INTERNAL), write no row when invalid, leave every prototype untouched, and leave the relay up.
import path from 'node:path';
import Sqlite from 'better-sqlite3';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  clientEvents,
  isOnlyTooBig,
  type Ack,
  type ClientEventName,
  type RequestOf,
} from '@carethread/shared';
import { familyDisclosureTemplate } from '../consent/fixtures.js';
import {
  connectAs,
  grantConsent,
  ok,
  seedConversation,
  startRelay,
  waitFor,
  type RawSocket,
  type TestRelay,
} from '../helpers.js';

/** fast-check runs per event and family; bounded so the whole file stays well under 30 s. */
const RUNS = { random: 60, mutated: 120, deep: 15, unknown: 200 };
const MAX_PACKET_BYTES = 64 * 1024;

let relay: TestRelay;
let provider: RawSocket;
let db: Sqlite.Database;
let requestId: string;
const tally = { cases: 0, invalid: 0, accepted: 0, unknown: 0, codes: new Map<string, number>() };

beforeAll(async () => {
  relay = await startRelay({
    limits: {
      maxPacketBytes: MAX_PACKET_BYTES,
      connectionsPerMinutePerAddress: 1000,
      packetsPerSecond: 1_000_000,
    },
    devTenantLimits: { maxMessageLength: 4000, sendPerSecond: 1_000_000, sendBurst: 1_000_000 },
  });
  await seedConversation(relay, 'c-1', [
    { userId: 'alice', role: 'patient' },
    { userId: 'bob', role: 'family' },
  ]);
  requestId = await grantConsent(relay, 'c-1', 'alice', ['bob']);
  provider = await connectAs(relay, await relay.token('dr-rivera', 'provider'));
  // A second connection to the same database file (WAL lets it read while the relay writes).
  db = new Sqlite(path.join(relay.dataDir, 'carethread.sqlite'), { readonly: true });
  // Connections are audited without holding the handshake up: let those entries land before the
  // fuzzing counts rows, so every row counted later is one a packet wrote.
  const audited = db.prepare('select count(*) from audit_events').pluck();
  for (let last = -1, now = Number(audited.get()); now !== last; now = Number(audited.get())) {
    last = now;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
});
afterAll(async () => {
  db.close();
  provider.close();
  await relay.close();
  const codes = [...tally.codes].map(([code, n]) => `${code} ${String(n)}`).join(', ');
  console.log(
    `packet fuzzing: ${String(tally.cases)} cases over ${String(Object.keys(clientEvents).length)} events ` +
      `(${String(tally.invalid)} invalid, ${String(tally.accepted)} valid by the schema, ` +
      `${String(tally.unknown)} unknown event names); acks: ${codes}`,
  );
});

/** A valid request of every client event: the seeds that mutations start from. */
function validPayloads(): { [E in ClientEventName]: RequestOf<E> } {
  const soon = new Date(Date.now() + 86_400_000).toISOString();
  return {
    'conversation.create': {
      conversationId: 'c-fuzz',
      title: 'Fuzz',
      participants: [{ userId: 'alice', role: 'patient', displayName: 'Alice' }],
    },
    'conversation.open': { conversationId: 'c-1' },
    'conversation.close': { conversationId: 'c-1' },
    'conversation.list': {},
    'participant.add': {
      conversationId: 'c-1',
      participant: { userId: 'carol', role: 'family', displayName: 'Carol', relationship: 'aunt' },
    },
    'participant.remove': { conversationId: 'c-1', userId: 'nobody' },
    'message.send': { conversationId: 'c-1', id: 'fuzz-seed-0001', text: 'Hello' },
    'message.edit': { conversationId: 'c-1', id: 'fuzz-edit-0001', targetSeq: 1, text: 'Fixed' },
    'message.delete': { conversationId: 'c-1', id: 'fuzz-delete-0001', targetSeq: 1 },
    'history.page': { conversationId: 'c-1', beforeSeq: 10, limit: 20 },
    sync: { conversationId: 'c-1', afterSeq: 0, limit: 20 },
    typing: { conversationId: 'c-1', typing: true },
    'receipt.read': { conversationId: 'c-1', seq: 1 },
    'auth.refresh': { token: 'not.a.token' },
    'consent.template.publish': familyDisclosureTemplate(),
    'consent.template.versions': { templateId: 'family-disclosure' },
    'consent.request': {
      requestId: 'req-fuzz-0001',
      templateId: 'family-disclosure',
      conversationId: 'c-1',
      patientId: 'alice',
      recipients: ['bob'],
      purpose: 'Family support',
      expiresAt: soon,
    },
    'consent.view': { requestId },
    'consent.sign': {
      requestId,
      disclosureHash: 'sha256:00',
      acknowledgements: ['ack-1'],
      answers: { capacity: 'The patient', agree: true },
      signature: { method: 'typed', name: 'Alice' },
    },
    'consent.decline': { requestId, reason: 'Not now' },
    'consent.list': { conversationId: 'c-1' },
    'consent.revoke': { requestId, signature: { method: 'typed', name: 'Alice' } },
    'consent.pdf': { requestId },
  };
}

// ---------------------------------------------------------------------------------------------
// What the relay holds, and what must never change

const tables = () =>
  db
    .prepare(
      "select name from sqlite_master where type = 'table' and name not like 'sqlite_%' and name not like 'kysely_%'",
    )
    .pluck()
    .all() as string[];
/** Rows per table, as one comparable string. */
function rowCounts(): string {
  return tables()
    .map(
      (table) => `${table}=${String(db.prepare(`select count(*) from "${table}"`).pluck().get())}`,
    )
    .join(' ');
}

const prototypes = [Object.prototype, Array.prototype, Function.prototype, String.prototype];
const pristine = prototypes.map((p) => Object.getOwnPropertyNames(p).sort().join());
function expectUnpolluted(): void {
  prototypes.forEach((p, i) => {
    expect(Object.getOwnPropertyNames(p).sort().join()).toBe(pristine[i]);
  });
  const probe = {} as Record<string, unknown>;
  for (const key of ['polluted', 'isAdmin', 'role', 'tenantId']) expect(probe[key]).toBeUndefined();
}

// ---------------------------------------------------------------------------------------------
// Sending any packet text, with an ack the test receives itself

let nextAckId = 1_000_000;
/** Writes `2<id>[<event>,<args>]` onto the engine.io connection and resolves with the ack. */
function sendRaw(socket: RawSocket, eventJson: string, argsJson: string): Promise<Ack<unknown>> {
  const id = nextAckId++;
  const acks = (socket as unknown as { acks: Record<number, (response: Ack<unknown>) => void> })
    .acks;
  const packet = `2${String(id)}[${eventJson}${argsJson === '' ? '' : `,${argsJson}`}]`;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      Reflect.deleteProperty(acks, id);
      reject(new Error(`no ack within 5 s for ${packet.slice(0, 200)}`));
    }, 5000);
    acks[id] = (response) => {
      clearTimeout(timer);
      resolve(response);
    };
    (socket.io.engine as unknown as { write(data: string): void }).write(packet);
  });
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Sets an own, enumerable key even when it is `__proto__`, so JSON.stringify sends it. */
function defineKey(target: Record<string, Json>, key: string, value: Json): void {
  Object.defineProperty(target, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

/** Every path to a node of `value` (the root is `[]`). */
function pathsOf(value: Json, prefix: (string | number)[] = []): (string | number)[][] {
  const here = [prefix];
  if (Array.isArray(value))
    return here.concat(...value.map((item, i) => pathsOf(item, [...prefix, i])));
  if (value !== null && typeof value === 'object')
    return here.concat(...Object.entries(value).map(([k, v]) => pathsOf(v, [...prefix, k])));
  return here;
}

type Mutation =
  | { kind: 'delete'; at: number }
  | { kind: 'replace'; at: number; value: Json }
  | { kind: 'inject'; at: number; key: string; value: Json };

/** Applies mutations to a copy of `seed`; each picks its node by index among the current paths. */
function mutate(seed: Json, mutations: Mutation[]): Json {
  let root = structuredClone(seed);
  for (const original of mutations) {
    // Generated values may be shared constants: insert copies (JSON keeps own __proto__ keys).
    const m =
      original.kind === 'delete'
        ? original
        : { ...original, value: JSON.parse(JSON.stringify(original.value)) as Json };
    const paths = pathsOf(root);
    const where = paths[m.at % paths.length] ?? [];
    const parentPath = where.slice(0, -1);
    const last = where.at(-1);
    let parent: Json = root;
    for (const step of parentPath) parent = (parent as Record<string | number, Json>)[step] ?? null;
    const target: Json =
      last === undefined ? root : ((parent as Record<string | number, Json>)[last] ?? null);
    if (m.kind === 'inject') {
      if (target !== null && typeof target === 'object' && !Array.isArray(target))
        defineKey(target, m.key, m.value);
      else if (last === undefined) {
        const wrapper: Record<string, Json> = {};
        defineKey(wrapper, m.key, m.value);
        root = wrapper;
      }
      continue;
    }
    if (last === undefined) {
      root = m.kind === 'replace' ? m.value : null;
      continue;
    }
    const container = parent as Record<string | number, Json> & Json[];
    if (m.kind === 'replace') container[last] = m.value;
    else if (Array.isArray(container) && typeof last === 'number') container.splice(last, 1);
    else Reflect.deleteProperty(container, last);
  }
  return root;
}

// ---------------------------------------------------------------------------------------------
// Generators

const hugeString = fc
  .tuple(fc.integer({ min: 4001, max: 17_000 }), fc.constantFrom('x', 'é', ' ', '\u0000'))
  .map(([n, c]) => c.repeat(n));
const wrongTypes = fc.constantFrom<Json>(null, true, false, 0, -1, 1.5, 2 ** 53, 1e308, '', [], {});
const dangerousKey = fc.constantFrom(
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  '__defineGetter__',
);
const pollution: fc.Arbitrary<Json> = fc.constantFrom<Json>(
  { polluted: true, isAdmin: true },
  { prototype: { polluted: true } },
  { role: 'staff', tenantId: 'other' },
);
const junk: fc.Arbitrary<Json> = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json> },
  { weight: 2, arbitrary: wrongTypes },
  { weight: 1, arbitrary: hugeString },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 300 }) },
  { weight: 1, arbitrary: pollution },
);
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), value: junk }),
  fc.record({
    kind: fc.constant('inject' as const),
    at: fc.nat(),
    key: fc.oneof(dangerousKey, fc.string({ maxLength: 20 })),
    value: fc.oneof(pollution, junk),
  }),
);

/** Nesting `depth` deep, as JSON text (built as text: no recursion on this side). */
const deepJson = fc
  .tuple(fc.integer({ min: 50, max: 2500 }), fc.constantFrom('array', 'object', 'proto'))
  .map(([depth, shape]) =>
    shape === 'array'
      ? `${'['.repeat(depth)}1${']'.repeat(depth)}`
      : shape === 'object'
        ? `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`
        : `${'{"__proto__":'.repeat(depth)}{"polluted":true}${'}'.repeat(depth)}`,
  );

/** The text between the event name and the closing bracket: the arguments, as sent. */
function argsFor(seed: object) {
  const whole = fc.oneof(
    (fc.jsonValue({ maxDepth: 4 }) as fc.Arbitrary<Json>).map((v) => JSON.stringify(v)),
    wrongTypes.map((v) => JSON.stringify(v)),
    fc.constant(''), // no payload at all
    junk.map((v) => `${JSON.stringify(seed)},${JSON.stringify(v)}`), // extra arguments
  );
  // A mutation that only adds an unknown key may leave a valid payload; the oracle tells.
  const mutated = fc
    .array(mutation, { minLength: 1, maxLength: 4 })
    .map((ms) => JSON.stringify(mutate(seed as Json, ms)));
  const deep = fc.tuple(deepJson, fc.nat()).map(([text, at]) => {
    if (at % 3 === 0) return text;
    // In place of one field of the valid payload.
    const keys = Object.keys(seed);
    const key = keys[at % Math.max(1, keys.length)] ?? 'x';
    const rest = JSON.stringify({ ...seed, [key]: 0 });
    return rest.replace(`"${key}":0`, `"${key}":${text}`);
  });
  return { whole, mutated, deep };
}

// ---------------------------------------------------------------------------------------------
// The oracle: the code the shared schema implies for what the relay will parse

/** Room for the event name and ack id: a packet over maxPacketBytes closes the connection. */
const fits = (argsJson: string) => Buffer.byteLength(argsJson) < MAX_PACKET_BYTES - 200;

/** Runs a property; a failure reports a shortened counterexample (some are 60 KB of JSON). */
async function check<T>(property: fc.IAsyncProperty<T>, numRuns: number): Promise<void> {
  try {
    await fc.assert(property, { numRuns });
  } catch (error) {
    throw new Error((error as Error).message.slice(0, 3000), { cause: error });
  }
}

async function sendAndCheck(event: ClientEventName, argsJson: string): Promise<void> {
  fc.pre(fits(argsJson));
  tally.cases++;
  const args = JSON.parse(`[${argsJson}]`) as unknown[];
  const parsed = clientEvents[event].request.safeParse(args[0]);
  const before = parsed.success ? undefined : rowCounts();
  const ack = await sendRaw(provider, JSON.stringify(event), argsJson);
  const code = ack.ok ? 'ok' : ack.error.code;
  tally.codes.set(code, (tally.codes.get(code) ?? 0) + 1);
  expect(code, `${event} ${argsJson.slice(0, 300)}`).not.toBe('INTERNAL');
  if (!parsed.success) {
    tally.invalid++;
    expect(code, `${event} ${argsJson.slice(0, 300)}`).toBe(
      isOnlyTooBig(parsed.error.issues) ? 'TOO_LARGE' : 'VALIDATION',
    );
    expect(rowCounts(), `${event} wrote a row`).toBe(before);
  } else tally.accepted++;
  expectUnpolluted();
}

/** A later valid request still works: the relay is up and this socket is served. */
async function stillServed(): Promise<void> {
  expect(provider.connected).toBe(true);
  await ok(provider, 'conversation.list', {});
  await ok(provider, 'message.send', {
    conversationId: 'c-1',
    id: `alive-${String(nextAckId)}`,
    text: 'still here',
  });
}

describe('fuzzing every client event', () => {
  it('starts from payloads the shared schemas accept', () => {
    for (const [event, payload] of Object.entries(validPayloads()))
      expect(clientEvents[event as ClientEventName].request.safeParse(payload).success, event).toBe(
        true,
      );
  });

  it.each(Object.keys(clientEvents) as ClientEventName[])(
    '%s: random, mutated and deeply nested payloads',
    async (event) => {
      const { whole, mutated, deep } = argsFor(validPayloads()[event]);
      const send = (args: string) => sendAndCheck(event, args);
      await check(fc.asyncProperty(whole, send), RUNS.random);
      await check(fc.asyncProperty(mutated, send), RUNS.mutated);
      await check(fc.asyncProperty(deep, send), RUNS.deep);
      await stillServed();
    },
  );

  it('answers unknown event names, strings and numbers alike, with UNKNOWN_EVENT', async () => {
    const known = new Set(Object.keys(clientEvents));
    const name = fc.oneof(
      fc.string({ maxLength: 60 }).filter((s) => !known.has(s)),
      fc.string({ unit: 'binary', maxLength: 60 }).filter((s) => !known.has(s)),
      fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty', 'Message.Send'),
      fc.constantFrom('message.send ', ' message.send', 'message.send\u0000', 'MESSAGE.SEND'),
      fc.integer(),
    );
    await check(
      fc.asyncProperty(name, fc.jsonValue({ maxDepth: 2 }), async (event, payload) => {
        tally.cases++;
        tally.unknown++;
        const before = rowCounts();
        const ack = await sendRaw(provider, JSON.stringify(event), JSON.stringify(payload));
        expect(ack).toMatchObject({ ok: false, error: { code: 'UNKNOWN_EVENT' } });
        expect(rowCounts()).toBe(before);
        expectUnpolluted();
      }),
      RUNS.unknown,
    );
    await stillServed();
  });

  it('closes only the connection whose packet the parser cannot take (event names of other types)', async () => {
    for (const eventJson of ['null', 'true', '{"a":1}', '["x"]', '1.5e400']) {
      const mallory = await connectAs(relay, await relay.token('mallory', 'patient'));
      const closed = new Promise<string>((resolve) => mallory.once('disconnect', resolve));
      (mallory.io.engine as unknown as { write(data: string): void }).write(
        `2[${eventJson},{"conversationId":"c-1"}]`,
      );
      // 1.5e400 parses to Infinity, a number: that one reaches the relay and gets an answer.
      if (eventJson === '1.5e400') {
        const errors: string[] = [];
        mallory.on('relay.error', (e) => errors.push(e.error.code));
        await waitFor(() => errors.length === 1, 3000, 'relay.error');
        expect(errors).toEqual(['UNKNOWN_EVENT']);
        mallory.close();
        continue;
      }
      expect(await closed).toMatch(/parse error|transport close|io server disconnect/);
      tally.cases++;
    }
    await stillServed();
    expectUnpolluted();
    // Nothing reached a handler that failed: the relay logged no error.
    expect(relay.logs()).not.toMatch(/"level":50/);
  });
});
