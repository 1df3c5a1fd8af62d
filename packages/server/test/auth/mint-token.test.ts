// mintToken, as host back ends use it: the claims the relay reads, including auth_time.
import { decodeJwt, generateKeyPair } from 'jose';
import { expect, it } from 'vitest';
import { mintToken } from '../../src/auth/tokens.js';

it('carries auth_time when the host says when the person signed in', async () => {
  const { privateKey } = await generateKeyPair('ES256');
  const signedInAt = new Date('2026-12-01T09:30:00Z');
  const claims = decodeJwt(
    await mintToken({
      issuer: 'https://ehr.example',
      audience: 'carethread',
      key: privateKey,
      kid: 'ehr-2026',
      sub: 'alice',
      name: 'Alice',
      role: 'patient',
      authTime: signedInAt,
    }),
  );
  expect(claims).toMatchObject({
    sub: 'alice',
    role: 'patient',
    auth_time: signedInAt.getTime() / 1000,
  });
});
