// ES256 key pairs kept as JWK files in the data folder, created on first use: the development
// tenant's token key and the relay's own receipt-signing key.
import { readFileSync } from 'node:fs';
import { exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import { createFileOnce } from './data-files.js';

interface StoredKey {
  kid: string;
  privateJwk: JWK;
  publicJwk: JWK;
}

export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

async function createKeyFile(file: string, kidPrefix: string): Promise<void> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const kid = `${kidPrefix}-${new Date().toISOString().slice(0, 10)}-${Math.random().toString(36).slice(2, 8)}`;
  const stored: StoredKey = {
    kid,
    privateJwk: { ...(await exportJWK(privateKey)), kid, alg: 'ES256', use: 'sig' },
    publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' },
  };
  // If another process created the key first, we use theirs.
  createFileOnce(file, JSON.stringify(stored, null, 2));
}

/** Loads the ES256 key in `file`, creating it (readable by this user only) on first use. */
export async function loadOrCreateSigningKey(file: string, kidPrefix: string): Promise<SigningKey> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    await createKeyFile(file, kidPrefix);
    text = readFileSync(file, 'utf8');
  }
  const stored = JSON.parse(text) as StoredKey;
  const privateKey = (await importJWK(stored.privateJwk, 'ES256')) as CryptoKey;
  return { kid: stored.kid, privateKey, publicJwk: stored.publicJwk };
}
