// ES256 key pairs kept as JWK files in the data folder, created on first use: the development
// tenant's token key and the relay's own receipt-signing key.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';

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
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  try {
    // 'wx' fails if another process created the key first; then we use theirs.
    writeFileSync(file, JSON.stringify(stored, null, 2), { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
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
