// A deployment's own certificate seals the consent PDFs when pdfSeal names it.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { makeSelfSignedP12 } from '../../src/consent/pdf.js';
import {
  connectAs,
  grantConsent,
  ok,
  seedConversation,
  startRelay,
  type TestRelay,
} from '../helpers.js';

const run = promisify(execFile);
const dir = mkdtempSync(path.join(tmpdir(), 'carethread-seal-'));
let relay: TestRelay;

beforeAll(async () => {
  const p12File = path.join(dir, 'records.p12');
  // A PKCS#12 such as a hospital's records office would hold, with its own name on it.
  writeFileSync(p12File, makeSelfSignedP12('Sunrise Recovery Records', 'correct horse'));
  relay = await startRelay({ pdfSeal: { p12File, passphrase: 'correct horse' } });
});
afterAll(async () => {
  await relay.close();
  rmSync(dir, { recursive: true, force: true });
});

it("seals with the deployment's certificate", async () => {
  await seedConversation(
    relay,
    'c-seal',
    [
      { userId: 'alice', role: 'patient' },
      { userId: 'bob', role: 'family' },
    ],
    'dr-rivera',
    { consent: false },
  );
  const requestId = await grantConsent(relay, 'c-seal', 'alice', ['bob']);
  const alice = await connectAs(relay, await relay.token('alice', 'patient'));
  try {
    const { pdf } = await ok(alice, 'consent.pdf', { requestId });
    const file = path.join(dir, 'consent.pdf');
    writeFileSync(file, Buffer.from(pdf, 'base64'));
    const seal = (await run('pdfsig', [file])).stdout;
    expect(seal).toContain('Signer Certificate Common Name: Sunrise Recovery Records');
    expect(seal).toContain('Signature Validation: Signature is Valid.');
  } finally {
    alice.close();
  }
});
