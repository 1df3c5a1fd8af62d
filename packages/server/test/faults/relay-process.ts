// A relay as its own process (bin/carethread-relay.js on the built code), started on a data folder
// and a configuration file, so a fault test can SIGKILL it and start it again on the same data.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DEV_AUDIENCE, DEV_ISSUER, loadDevSigningKey } from '../../src/auth/dev-tenant.js';
import { mintToken } from '../../src/auth/tokens.js';
import type { Role } from '@carethread/shared';
import { waitFor } from '../helpers.js';

const relayBin = fileURLToPath(new URL('../../bin/carethread-relay.js', import.meta.url));

export interface RelayProcess {
  url: string;
  child: ChildProcess;
  /** SIGKILL: no shutdown, no flush; resolves once the process is gone. */
  kill(): Promise<void>;
  /** SIGTERM: the graceful shutdown main.ts does. */
  stop(): Promise<void>;
}

/**
 * Starts the relay on `dataDir` with `configFile` (its embedded SQLite unless the file names a
 * database), on `port` (default: any free one; a restart passes the old one so clients find it).
 */
export async function startRelayProcess(
  dataDir: string,
  configFile: string,
  port = 0,
): Promise<RelayProcess> {
  const lines: string[] = [];
  const child = spawn(process.execPath, [relayBin], {
    env: {
      ...process.env,
      DATABASE_URL: '',
      CARETHREAD_CONFIG: configFile,
      CARETHREAD_DATA_DIR: dataDir,
      PORT: String(port),
      HOST: '127.0.0.1',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  child.stdout.on('data', (chunk: Buffer) =>
    lines.push(...chunk.toString().split('\n').filter(Boolean)),
  );
  const gone = new Promise<void>((resolve) => {
    child.once('exit', () => {
      resolve();
    });
  });
  try {
    await waitFor(
      () => lines.some((l) => l.includes('listening')) || child.exitCode !== null,
      10_000,
      'the relay process to listen',
    );
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  const listening = lines.find((l) => l.includes('listening'));
  if (!listening) throw new Error(`the relay exited with ${String(child.exitCode)}`);
  const { port: bound } = JSON.parse(listening) as { port: number };
  const end = async (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await gone;
  };
  return {
    url: `http://127.0.0.1:${String(bound)}`,
    child,
    kill: () => end('SIGKILL'),
    stop: () => end('SIGTERM'),
  };
}

/** Mints development-tenant tokens with the key the relay keeps in `dataDir`. */
export function devTokens(dataDir: string) {
  const key = loadDevSigningKey(dataDir);
  return async (sub: string, role: Role, name = sub) => {
    const { privateKey, kid } = await key;
    return mintToken({
      issuer: DEV_ISSUER,
      audience: DEV_AUDIENCE,
      key: privateKey,
      kid,
      sub,
      name,
      role,
      ttlSeconds: 600,
    });
  };
}
