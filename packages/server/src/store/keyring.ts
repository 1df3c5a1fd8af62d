// Encryption at rest (ADR 14): per-tenant data keys (AES-256-GCM) that seal message text, consent
// records and webhook payloads, stored wrapped by a master key that never touches the database.
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  randomBytes,
  randomFillSync,
} from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

/** A key-encryption key from the environment or a key file; `id` is derived from the key. */
export interface MasterKey {
  id: string;
  key: Uint8Array;
}

/** Master keys as the store takes them: the first one wraps new and re-wrapped data keys. */
export type MasterKeys = readonly [MasterKey, ...MasterKey[]];

/** What `keys status` shows for one data key. */
export interface DataKeyInfo {
  tenantId: string;
  version: number;
  wrappedBy: string;
  createdAt: string;
  rewrappedAt: string | null;
}

/** A stored value that does not open: altered, moved to another row, or under an unknown key. */
export class DecryptionError extends Error {
  override name = 'DecryptionError';
}

/** The configured master keys cannot open the database's data keys: the relay must not start. */
export class MasterKeyError extends Error {
  override name = 'MasterKeyError';
}

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Marks a sealed value: `ct1:<data key version>:<base64 of iv, ciphertext, tag>`. */
const PREFIX = 'ct1:';

/**
 * The id a master key is known by in `data_keys.kek_id`: a fingerprint, so every node derives
 * the same id from the same key and nobody has to name keys consistently.
 * @example masterKey(randomBytes(32)).id // 'mk-3f9a0c12d4e5'
 */
export function masterKey(key: Uint8Array): MasterKey {
  if (key.length !== KEY_BYTES)
    throw new MasterKeyError(`A master key must be ${KEY_BYTES} bytes; this one is ${key.length}.`);
  const digest = createHash('sha256').update('carethread master key').update(key).digest('hex');
  return { id: `mk-${digest.slice(0, 12)}`, key };
}

/**
 * IVs come from a pool of CSPRNG output refilled 4 KiB at a time: one randomBytes call per seal
 * cost about a third of sealing a message (bench:store). Each IV is used once.
 */
const ivPool = Buffer.alloc(IV_BYTES * 341);
let ivOffset = ivPool.length;
function nextIv(): Buffer {
  if (ivOffset + IV_BYTES > ivPool.length) {
    randomFillSync(ivPool);
    ivOffset = 0;
  }
  const iv = Buffer.from(ivPool.subarray(ivOffset, ivOffset + IV_BYTES));
  ivOffset += IV_BYTES;
  return iv;
}

function gcmSeal(key: Uint8Array, aad: string, plaintext: Buffer): Buffer {
  const iv = nextIv();
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, body, cipher.getAuthTag()]);
}

/** Opens what gcmSeal made; throws (any error) when the tag does not verify. */
function gcmOpen(key: Uint8Array, aad: string, sealed: Buffer): Buffer {
  if (sealed.length < IV_BYTES + TAG_BYTES) throw new Error('too short');
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, IV_BYTES), {
    authTagLength: TAG_BYTES,
  });
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
  return Buffer.concat([
    decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)),
    decipher.final(),
  ]);
}

/** What a wrapped data key is bound to: moving a wrap to another tenant or version fails. */
const wrapAad = (tenantId: string, version: number, kekId: string) =>
  `carethread:data-key|${tenantId}|${String(version)}|${kekId}`;

/**
 * The place a sealed value belongs to: column, tenant and the row's key. A ciphertext copied to
 * another row, column or tenant fails to open.
 * @example rowAad('entries.text', 'dev', 'c1', 7)
 */
export function rowAad(column: string, tenantId: string, ...row: (string | number)[]): string {
  return `carethread:v1|${column}|${tenantId}|${row.map(String).join('\u0000')}`;
}

export interface Keyring {
  /** Loads and unwraps every data key; MasterKeyError when a configured key cannot open one. */
  load(): Promise<void>;
  /**
   * Makes sure each tenant's data keys are in memory, creating a tenant's first key when it has
   * none. Call it before a transaction: sealing and opening are synchronous (the SQLite fast path
   * runs in one synchronous transaction).
   */
  ready(tenantIds: Iterable<string>): Promise<void>;
  /** Seals `plaintext` under the tenant's newest data key, bound to `aad`. */
  seal(tenantId: string, aad: string, plaintext: string): string;
  /** Opens a sealed value; DecryptionError when it does not open. */
  open(tenantId: string, aad: string, sealed: string): string;
  /** Which master key wraps each data key. */
  status(): Promise<DataKeyInfo[]>;
  /** Re-wraps every data key not under the current master key; how many it re-wrapped. */
  rewrap(): Promise<number>;
}

export function createKeyring(db: Kysely<Database>, masterKeys: MasterKeys): Keyring {
  const current = masterKeys[0];
  const byId = new Map(masterKeys.map((k) => [k.id, k]));
  /** Unwrapped data keys by tenant, then version; the newest version seals. */
  const dataKeys = new Map<string, { newest: number; keys: Map<number, Buffer> }>();
  const resolved = Promise.resolve();

  function unwrap(row: { tenant_id: string; version: number; kek_id: string; wrapped: string }) {
    const kek = byId.get(row.kek_id);
    if (!kek)
      throw new MasterKeyError(
        `The data key of tenant "${row.tenant_id}" (version ${String(row.version)}) is wrapped by master key ${row.kek_id}, which is not configured (configured: ${masterKeys.map((k) => k.id).join(', ')}). Give the relay that key in CARETHREAD_MASTER_KEY or encryption.masterKeyFile.`,
      );
    try {
      return gcmOpen(
        kek.key,
        wrapAad(row.tenant_id, row.version, row.kek_id),
        Buffer.from(row.wrapped, 'base64'),
      );
    } catch {
      throw new MasterKeyError(
        `Master key ${row.kek_id} does not open the data key of tenant "${row.tenant_id}" (version ${String(row.version)}): the data_keys row was altered.`,
      );
    }
  }

  async function loadTenants(tenantIds: readonly string[] | undefined): Promise<void> {
    let query = db.selectFrom('data_keys').selectAll();
    if (tenantIds) query = query.where('tenant_id', 'in', tenantIds);
    for (const row of await query.execute()) {
      const entry = dataKeys.get(row.tenant_id) ?? { newest: 0, keys: new Map<number, Buffer>() };
      entry.keys.set(row.version, unwrap(row));
      entry.newest = Math.max(entry.newest, row.version);
      dataKeys.set(row.tenant_id, entry);
    }
  }

  async function create(tenantIds: readonly string[]): Promise<void> {
    const at = new Date().toISOString();
    // Insert-or-nothing: of two nodes creating a tenant's first key at once, one wins and both
    // then read the winner's.
    await db
      .insertInto('data_keys')
      .values(
        tenantIds.map((tenantId) => ({
          tenant_id: tenantId,
          version: 1,
          kek_id: current.id,
          wrapped: gcmSeal(
            current.key,
            wrapAad(tenantId, 1, current.id),
            randomBytes(KEY_BYTES),
          ).toString('base64'),
          created_at: at,
          rewrapped_at: null,
        })),
      )
      .onConflict((oc) => oc.columns(['tenant_id', 'version']).doNothing())
      .execute();
  }

  function keyOf(tenantId: string, version?: number): { version: number; key: Buffer } {
    const entry = dataKeys.get(tenantId);
    const wanted = version ?? entry?.newest ?? 0;
    const key = entry?.keys.get(wanted);
    if (!key)
      throw new DecryptionError(
        `No data key version ${String(wanted)} is loaded for tenant "${tenantId}".`,
      );
    return { version: wanted, key };
  }

  return {
    load: () => loadTenants(undefined),

    ready(tenantIds) {
      const missing = [...new Set(tenantIds)].filter((t) => !dataKeys.has(t));
      if (missing.length === 0) return resolved;
      return (async () => {
        // Another node (or the CLI) may have made them since we loaded.
        await loadTenants(missing);
        const still = missing.filter((t) => !dataKeys.has(t));
        if (still.length === 0) return;
        await create(still);
        await loadTenants(still);
      })();
    },

    seal(tenantId, aad, plaintext) {
      const { version, key } = keyOf(tenantId);
      const sealed = gcmSeal(key, `${aad}|${String(version)}`, Buffer.from(plaintext, 'utf8'));
      return `${PREFIX}${String(version)}:${sealed.toString('base64')}`;
    },

    open(tenantId, aad, sealed) {
      const column = aad.split('|')[1] ?? '';
      const versionEnd = sealed.indexOf(':', PREFIX.length);
      if (!sealed.startsWith(PREFIX) || versionEnd < 0)
        throw new DecryptionError(
          `A stored ${column} value of tenant "${tenantId}" is not encrypted.`,
        );
      const version = Number(sealed.slice(PREFIX.length, versionEnd));
      const { key } = keyOf(tenantId, version);
      try {
        return gcmOpen(
          key,
          `${aad}|${String(version)}`,
          Buffer.from(sealed.slice(versionEnd + 1), 'base64'),
        ).toString('utf8');
      } catch {
        throw new DecryptionError(
          `A stored ${column} value of tenant "${tenantId}" does not decrypt: it was altered or moved from another row.`,
        );
      }
    },

    async status() {
      const rows = await db
        .selectFrom('data_keys')
        .selectAll()
        .orderBy('tenant_id')
        .orderBy('version')
        .execute();
      return rows.map((row) => ({
        tenantId: row.tenant_id,
        version: row.version,
        wrappedBy: row.kek_id,
        createdAt: row.created_at,
        rewrappedAt: row.rewrapped_at,
      }));
    },

    async rewrap() {
      const rows = await db
        .selectFrom('data_keys')
        .selectAll()
        .where('kek_id', '!=', current.id)
        .execute();
      let count = 0;
      const at = new Date().toISOString();
      for (const row of rows) {
        // The data key itself never changes, so readers holding either wrap keep working.
        const wrapped = gcmSeal(
          current.key,
          wrapAad(row.tenant_id, row.version, current.id),
          unwrap(row),
        ).toString('base64');
        const result = await db
          .updateTable('data_keys')
          .set({ kek_id: current.id, wrapped, rewrapped_at: at })
          .where('tenant_id', '=', row.tenant_id)
          .where('version', '=', row.version)
          .where('kek_id', '=', row.kek_id)
          .executeTakeFirst();
        count += Number(result.numUpdatedRows);
      }
      return count;
    },
  };
}
