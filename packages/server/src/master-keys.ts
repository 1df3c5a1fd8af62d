// Where the relay's master keys come from (ADR 14): CARETHREAD_MASTER_KEY, a key file, or, when
// neither is configured, a key the relay generates once in its data folder.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { RelayConfig } from './config.js';
import { ConfigError } from './config.js';
import { createFileOnce } from './core/data-files.js';
import { masterKey, type MasterKey, type MasterKeys } from './store/keyring.js';

export interface LoadedMasterKeys {
  keys: MasterKeys;
  /** Where they came from: `environment`, the key file's path, or `data-folder`. */
  source: string;
  /** The generated key in the data folder: it sits beside the data it protects. */
  generated: boolean;
}

/** Where the relay keeps its generated master key when none is configured. */
export const generatedKeyFile = (dataDir: string) => path.join(dataDir, 'relay', 'master-key');

/** A fresh master key as a line of base64: `openssl rand -base64 32` makes the same. */
export const newMasterKey = () => randomBytes(32).toString('base64');

/** Base64 keys separated by commas, spaces or lines (`#` starts a comment line), current first. */
export function parseMasterKeys(text: string, field: string): MasterKeys {
  const words = text
    .split('\n')
    .filter((line) => !line.trim().startsWith('#'))
    .join('\n')
    .split(/[\s,]+/)
    .filter((word) => word.length > 0);
  const keys: MasterKey[] = [];
  for (const [index, word] of words.entries()) {
    const bytes = Buffer.from(word, 'base64');
    // Buffer.from skips characters that are not base64; a key with any is refused, not shortened.
    const unpadded = (b64: string) => b64.replace(/=+$/, '');
    if (bytes.length !== 32 || unpadded(bytes.toString('base64')) !== unpadded(word))
      throw new ConfigError(
        `${field}: key ${String(index + 1)} is not 32 bytes of base64 (make one with: openssl rand -base64 32).`,
      );
    const key = masterKey(bytes);
    if (!keys.some((k) => k.id === key.id)) keys.push(key);
  }
  const [first, ...rest] = keys;
  if (!first) throw new ConfigError(`${field}: holds no key.`);
  return [first, ...rest];
}

/**
 * The master keys of `config`.
 * @example const { keys } = loadMasterKeys(loadConfig()); // keys[0] wraps new data keys
 */
export function loadMasterKeys(config: RelayConfig): LoadedMasterKeys {
  const { masterKey: inline, masterKeyFile } = config.encryption;
  if (inline !== undefined)
    return {
      keys: parseMasterKeys(inline, 'CARETHREAD_MASTER_KEY (encryption.masterKey)'),
      source: 'environment',
      generated: false,
    };
  const file = masterKeyFile ?? generatedKeyFile(config.dataDir);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if (masterKeyFile !== undefined)
      throw new ConfigError(
        `encryption.masterKeyFile: cannot read ${file}: ${(error as Error).message}`,
      );
    // If another node sharing the folder created it first, we read theirs.
    createFileOnce(file, `${newMasterKey()}\n`);
    text = readFileSync(file, 'utf8');
  }
  return {
    keys: parseMasterKeys(text, masterKeyFile ? 'encryption.masterKeyFile' : file),
    source: masterKeyFile ?? 'data-folder',
    generated: masterKeyFile === undefined,
  };
}
