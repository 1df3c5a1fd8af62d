// Publishing consent templates through the relay: who may, what is refused and why, versions,
// and hashes that follow the content (RFC 8785), not the JSON it arrived in.
import { createHash } from 'node:crypto';
import canonicalizeModule from 'canonicalize';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConsentTemplateContent } from '@carethread/shared';
import { call, connectAs, ok, startRelay, type RawSocket, type TestRelay } from '../helpers.js';
import { familyDisclosureTemplate } from './fixtures.js';

const canonicalize = canonicalizeModule as unknown as (input: unknown) => string;

let relay: TestRelay;
let staff: RawSocket;
beforeAll(async () => {
  relay = await startRelay();
  staff = await connectAs(relay, await relay.token('admin', 'staff'));
});
afterAll(async () => {
  staff.close();
  await relay.close();
});

/** The same object with its keys in reverse order at every level. */
function reversedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reversedKeys);
  if (value && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value)
        .reverse()
        .map(([k, v]) => [k, reversedKeys(v)]),
    );
  return value;
}

describe('consent templates', () => {
  it('publishes version 1 with the SHA-256 of the canonical content', async () => {
    const template = familyDisclosureTemplate('t-hash');
    const { template: published, created } = await ok(staff, 'consent.template.publish', template);
    expect(created).toBe(true);
    expect(published.version).toBe(1);
    expect(published.publishedBy).toBe('admin');
    const expected = createHash('sha256').update(canonicalize(template)).digest('hex');
    expect(published.hash).toBe(`sha256:${expected}`);
  });

  it('gives the same content the same version, whatever its key order', async () => {
    const template = familyDisclosureTemplate('t-same');
    const first = await ok(staff, 'consent.template.publish', template);
    const again = await ok(
      staff,
      'consent.template.publish',
      reversedKeys(template) as ConsentTemplateContent,
    );
    expect(again.created).toBe(false);
    expect(again.template).toEqual(first.template);
  });

  it('publishes a change as the next version and keeps every earlier one unchanged', async () => {
    const template = familyDisclosureTemplate('t-versions');
    const v1 = await ok(staff, 'consent.template.publish', template);
    const changed = { ...template, title: `${template.title} (revised)` };
    const v2 = await ok(staff, 'consent.template.publish', changed);
    expect(v2.template.version).toBe(2);
    expect(v2.template.hash).not.toBe(v1.template.hash);
    const provider = await connectAs(relay, await relay.token('dr', 'provider'));
    try {
      const { versions } = await ok(provider, 'consent.template.versions', {
        templateId: 't-versions',
      });
      expect(versions).toEqual([v1.template, v2.template]);
    } finally {
      provider.close();
    }
  });

  it('refuses a disclosure authorization that lacks required elements, naming them', async () => {
    const template = familyDisclosureTemplate('t-missing');
    template.blocks = template.blocks.filter(
      (block) =>
        !block.covers?.some((element) => element === 'purpose' || element === 'redisclosure'),
    );
    const ack = await call(staff, 'consent.template.publish', template);
    expect(ack.ok).toBe(false);
    if (ack.ok) return;
    expect(ack.error.code).toBe('VALIDATION');
    expect(ack.error.message).toContain('[purpose]');
    expect(ack.error.message).toContain('[expiry]'); // covered by the same removed paragraph
    expect(ack.error.message).toContain('[redisclosure]');
    expect(ack.error.message).not.toContain('[discloser]');
    const versions = await call(staff, 'consent.template.versions', { templateId: 't-missing' });
    expect(versions.ok || versions.error.code).toBe('NOT_FOUND');
  });

  it('refuses repeated answer ids and choice fields without options', async () => {
    const template = familyDisclosureTemplate('t-fields');
    template.blocks.push(
      { type: 'acknowledgement', id: 'revoke', text: 'A second acknowledgement with the same id.' },
      { type: 'field', id: 'relation', label: 'Relationship', input: 'choice', required: true },
    );
    const ack = await call(staff, 'consent.template.publish', template);
    expect(ack.ok ? 'ok' : ack.error.message).toMatch(
      /unique: revoke.*"relation" needs at least two/,
    );
  });

  it('lets only staff publish and only the care team list', async () => {
    for (const role of ['patient', 'family', 'provider'] as const) {
      const socket = await connectAs(relay, await relay.token(`someone-${role}`, role));
      try {
        const ack = await call(
          socket,
          'consent.template.publish',
          familyDisclosureTemplate('t-role'),
        );
        expect(ack.ok ? 'ok' : ack.error.code, role).toBe('FORBIDDEN');
        const list = await call(socket, 'consent.template.versions', { templateId: 't-hash' });
        expect(list.ok ? 'ok' : list.error.code, role).toBe(
          role === 'provider' ? 'ok' : 'FORBIDDEN',
        );
      } finally {
        socket.close();
      }
    }
  });

  it('refuses malformed content with the fields named, and stores nothing', async () => {
    const ack = await call(staff, 'consent.template.publish', {
      ...familyDisclosureTemplate('t-bad'),
      blocks: [{ type: 'script', text: '<script>' }],
    } as unknown as ConsentTemplateContent);
    expect(ack.ok ? 'ok' : ack.error.code).toBe('VALIDATION');
    const versions = await call(staff, 'consent.template.versions', { templateId: 't-bad' });
    expect(versions.ok ? 'ok' : versions.error.code).toBe('NOT_FOUND');
  });
});
