// Receipts for signed consents: a compact JWS (ES256) by the relay's own key whose payload is the
// canonical record, so anyone holding the relay's published JWKS can verify one offline and
// recompute the record hash from it.
import path from 'node:path';
import { CompactSign, compactVerify, createLocalJWKSet, type JSONWebKeySet } from 'jose';
import { loadOrCreateSigningKey, type SigningKey } from '../core/signing-key.js';
import { canonicalHash, canonicalJson } from '../core/canonical.js';

export const RECEIPT_TYPE = 'carethread-consent-receipt+jws';

export interface ReceiptSigner {
  /** The public half, published at /.well-known/jwks.json. */
  jwks: JSONWebKeySet;
  sign(record: unknown): Promise<{ canonical: string; recordHash: string; receipt: string }>;
}

export async function loadReceiptSigner(dataDir: string): Promise<ReceiptSigner> {
  const key: SigningKey = await loadOrCreateSigningKey(
    path.join(dataDir, 'relay', 'receipt-key.json'),
    'relay',
  );
  return {
    jwks: { keys: [key.publicJwk] },
    async sign(record) {
      const canonical = canonicalJson(record);
      const receipt = await new CompactSign(new TextEncoder().encode(canonical))
        .setProtectedHeader({ alg: 'ES256', kid: key.kid, typ: RECEIPT_TYPE })
        .sign(key.privateKey);
      return { canonical, recordHash: canonicalHash(record), receipt };
    },
  };
}

export interface VerifiedReceipt {
  kid: string;
  record: unknown;
  recordHash: string;
}

/**
 * Verifies a receipt against a JWKS; throws when the signature, the algorithm or the type is
 * wrong, or when the payload is not in canonical form (it would hash differently).
 */
export async function verifyReceipt(
  receipt: string,
  jwks: JSONWebKeySet,
): Promise<VerifiedReceipt> {
  const { payload, protectedHeader } = await compactVerify(
    receipt.trim(),
    createLocalJWKSet(jwks),
    {
      algorithms: ['ES256'],
    },
  );
  if (protectedHeader.typ !== RECEIPT_TYPE)
    throw new Error('This is not a CareThread consent receipt.');
  const text = new TextDecoder().decode(payload);
  const record: unknown = JSON.parse(text);
  if (canonicalJson(record) !== text) throw new Error('The receipt payload is not canonical JSON.');
  return { kid: protectedHeader.kid ?? '', record, recordHash: canonicalHash(record) };
}
