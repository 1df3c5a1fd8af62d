// The file routes as a browser and an operator meet them, whatever the storage: CORS for the
// portal's page, and a relay that stops while an upload is still arriving.
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTenant, seedConversation, startRelay, waitFor, type TestRelay } from '../helpers.js';
import { filesUnder, get, link, put } from './file-helpers.js';

let relay: TestRelay;
let patient: string;
const pdf = Buffer.concat([Buffer.from('%PDF-1.7\n'), randomBytes(30_000)]);
const fileId = () => `f-${randomBytes(8).toString('hex')}`;
const uploadUrl = (id: string, conversationId = 'c1', name = 'scan.pdf') =>
  `${relay.url}/files/${id}?conversationId=${conversationId}&name=${encodeURIComponent(name)}`;

beforeEach(async () => {
  relay = await startRelay({ devTenantFiles: { maxBytes: 40_000 } });
  await seedConversation(relay, 'c1', [{ userId: 'alice', role: 'patient' }]);
  patient = await relay.token('alice', 'patient');
});
afterEach(async () => {
  await relay.close();
});

describe('from a portal page (CORS)', () => {
  const portal = 'http://localhost:5173';
  const preflight = (url: string, origin: string, method: string) =>
    fetch(url, {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': method,
        'access-control-request-headers': 'authorization, content-type',
      },
    });

  it('answers preflights and requests from an allowed origin, errors included', async () => {
    const id = fileId();
    for (const [url, method] of [
      [uploadUrl(id), 'PUT'],
      [`${relay.url}/files/${id}/link`, 'POST'],
    ] as const) {
      const answer = await preflight(url, portal, method);
      expect(answer.status, method).toBe(204);
      expect(answer.headers.get('access-control-allow-origin')).toBe(portal);
      expect(answer.headers.get('access-control-allow-methods')).toContain(method);
      expect(answer.headers.get('access-control-allow-headers')).toContain('authorization');
      expect(answer.headers.get('access-control-allow-credentials')).toBeNull();
    }
    const upload = await fetch(uploadUrl(id), {
      method: 'PUT',
      headers: { origin: portal, authorization: `Bearer ${patient}` },
      body: pdf,
    });
    expect(upload.status).toBe(201);
    expect(upload.headers.get('access-control-allow-origin')).toBe(portal);
    expect(upload.headers.get('vary')).toContain('Origin');
    // A refusal is readable by the page too, so the widget can show its sentence.
    const refused = await fetch(uploadUrl(fileId()), {
      method: 'PUT',
      headers: { origin: portal, authorization: `Bearer ${patient}` },
      body: Buffer.from('MZ\x90\x00 not a document'),
    });
    expect(refused.status).toBe(415);
    expect(refused.headers.get('access-control-allow-origin')).toBe(portal);
    const signed = await fetch(`${relay.url}/files/${id}/link`, {
      method: 'POST',
      headers: { origin: portal, authorization: `Bearer ${patient}` },
    });
    const { url } = (await signed.json()) as { url: string };
    const download = await fetch(url, { headers: { origin: portal } });
    expect(download.status).toBe(200);
    expect(download.headers.get('access-control-allow-origin')).toBe(portal);
    expect(Buffer.from(await download.arrayBuffer()).equals(pdf)).toBe(true);
  });

  it("refuses an origin no tenant allows, and another tenant's origin", async () => {
    const foreign = 'https://evil.example';
    const answer = await preflight(uploadUrl(fileId()), foreign, 'PUT');
    expect(answer.status).toBe(403);
    expect(answer.headers.get('access-control-allow-origin')).toBeNull();
    expect(((await answer.json()) as { error: { code: string } }).error.code).toBe(
      'FORBIDDEN_ORIGIN',
    );

    // Another tenant's portal may preflight, but not carry a token of the development tenant.
    await relay.close();
    const other = await makeTenant('acme');
    relay = await startRelay({ tenants: [other.config] });
    await seedConversation(relay, 'c1', [{ userId: 'alice', role: 'patient' }]);
    const otherOrigin = 'https://acme.portal.example';
    expect((await preflight(uploadUrl(fileId()), otherOrigin, 'PUT')).status).toBe(204);
    const crossed = await fetch(uploadUrl(fileId()), {
      method: 'PUT',
      headers: {
        origin: otherOrigin,
        authorization: `Bearer ${await relay.token('alice', 'patient')}`,
      },
      body: pdf,
    });
    expect(crossed.status).toBe(403);
    expect(((await crossed.json()) as { error: { code: string } }).error.code).toBe(
      'FORBIDDEN_ORIGIN',
    );
  });
});

describe('a relay that stops during an upload', () => {
  it('does not wait for it: the upload is cut, nothing is kept, and the retry completes', async () => {
    const id = fileId();
    // Half the body, then nothing more: a slow or stalled link.
    const cut = new Promise<string>((resolve) => {
      const req = request(
        uploadUrl(id),
        {
          method: 'PUT',
          headers: { authorization: `Bearer ${patient}`, 'content-length': String(pdf.length) },
        },
        () => {
          resolve('answered');
        },
      );
      req.on('error', (error) => {
        resolve(error.message);
      });
      req.write(pdf.subarray(0, pdf.length / 2));
    });
    await waitFor(() => filesUnder(path.join(relay.dataDir, 'files')).length > 0);
    // Without cutting transfers, this waits for the rest of the body for as long as it takes.
    await relay.relay.close(); // keeps the data folder
    expect(await cut).toMatch(/socket hang up|ECONNRESET/);
    expect(filesUnder(path.join(relay.dataDir, 'files'))).toEqual([]);

    relay = await startRelay({ devTenantFiles: { maxBytes: 40_000 } }, relay.dataDir);
    patient = await relay.token('alice', 'patient');
    expect((await get(`${relay.url}/files/${id}?tenant=dev&user=alice&exp=1&sig=x`)).status).toBe(
      403,
    );
    const retried = await put(uploadUrl(id), patient, pdf);
    expect(retried.status, retried.body.toString()).toBe(201);
    const downloaded = await get((await link(relay.url, patient, id)).body.url ?? '');
    expect(downloaded.body.equals(pdf)).toBe(true);
  });
});
