// Canonical JSON (RFC 8785, the `canonicalize` package) and the SHA-256 that consent records,
// templates and receipts are identified by: the same content always gives the same hash,
// whatever the key order or number formatting of the JSON it arrived in.
import { createHash } from 'node:crypto';
import canonicalizeModule from 'canonicalize';

// canonicalize is CommonJS (module.exports = serialize) with ESM-style typings; Node's default
// import is the function itself, which its types do not say under NodeNext.
const canonicalize = canonicalizeModule as unknown as (input: unknown) => string | undefined;

/** The RFC 8785 form of `value`; throws for what JSON cannot represent. */
export function canonicalJson(value: unknown): string {
  const text = canonicalize(value);
  if (text === undefined) throw new TypeError('This value has no canonical JSON form.');
  return text;
}

/** `sha256:` + hex SHA-256 of the canonical JSON of `value`. */
export function canonicalHash(value: unknown): string {
  return `sha256:${createHash('sha256').update(canonicalJson(value), 'utf8').digest('hex')}`;
}
