// The EHR's token-signing key: an ES256 key pair made on first start and kept in the data folder.
// The private half signs CareThread tokens; the public half is served as the JWKS the relay reads.
import { randomBytes, type webcrypto } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { MintOptions } from '@carethread/server';

const ES256 = { name: 'ECDSA', namedCurve: 'P-256' } as const;

/** A JWK as WebCrypto exports it, with the id and use a JWKS consumer looks for. */
type Jwk = webcrypto.JsonWebKey & { kid: string; alg: 'ES256'; use: 'sig' };

interface StoredKey {
  kid: string;
  privateJwk: Jwk;
  publicJwk: Jwk;
}

export interface SigningKey {
  kid: string;
  privateKey: MintOptions['key'];
  /** Public only: safe to publish. */
  publicJwk: Jwk;
}

async function createKeyFile(file: string): Promise<void> {
  const pair = await crypto.subtle.generateKey(ES256, true, ['sign', 'verify']);
  // The kid names the key in tokens, so a rotated key can be told apart from the old one.
  const kid = `ehr-${new Date().toISOString().slice(0, 10)}-${randomBytes(4).toString('hex')}`;
  const tag = { kid, alg: 'ES256', use: 'sig' } as const;
  const stored: StoredKey = {
    kid,
    privateJwk: { ...(await crypto.subtle.exportKey('jwk', pair.privateKey)), ...tag },
    publicJwk: { ...(await crypto.subtle.exportKey('jwk', pair.publicKey)), ...tag },
  };
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  try {
    // 'wx': if another process made the key first, keep theirs rather than overwrite it.
    writeFileSync(file, JSON.stringify(stored, null, 2), { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
}

/** Loads the key in `file`, creating it (readable by this user only) on first use. */
export async function loadOrCreateSigningKey(file: string): Promise<SigningKey> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    await createKeyFile(file);
    text = readFileSync(file, 'utf8');
  }
  const stored = JSON.parse(text) as StoredKey;
  const privateKey = await crypto.subtle.importKey('jwk', stored.privateJwk, ES256, false, [
    'sign',
  ]);
  return { kid: stored.kid, privateKey, publicJwk: stored.publicJwk };
}

/** The JWKS document: the public key only (`d` never leaves the data folder). */
export function jwks(key: SigningKey): { keys: Jwk[] } {
  const { kid, alg, use, kty, crv, x, y } = key.publicJwk;
  return { keys: [{ kid, alg, use, kty, crv, x, y }] };
}
