// The relay and the CLI as a developer runs them: separate processes, zero configuration,
// signals, exit codes and what lands on stdout.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair } from 'jose';
import { PROTOCOL_VERSION } from '@carethread/shared';
import { familyDisclosureTemplate } from '../consent/fixtures.js';
import { ok, rawConnect, waitFor } from '../helpers.js';

/** These relays run on their embedded SQLite even when the test run has a DATABASE_URL. */
const EMBEDDED = { DATABASE_URL: '', REDIS_URL: '' };
const bin = (name: string) => fileURLToPath(new URL(`../../bin/${name}`, import.meta.url));
let dataDir: string;
let child: ChildProcess | undefined;

beforeEach(() => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'carethread-proc-'));
});
afterEach(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  child = undefined;
  rmSync(dataDir, { recursive: true, force: true });
});

function cli(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [bin('carethread.js'), ...args], {
    env: { ...process.env, ...EMBEDDED, CARETHREAD_DATA_DIR: dataDir, ...env },
    encoding: 'utf8',
  });
}

describe('carethread token', () => {
  it('prints the token alone on stdout', () => {
    const result = cli([
      'token',
      '--tenant',
      'dev',
      '--sub',
      'alice',
      '--role',
      'patient',
      '--name',
      'Alice',
    ]);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
  });

  it('explains a bad argument on stderr with exit code 64', () => {
    const result = cli([
      'token',
      '--tenant',
      'dev',
      '--sub',
      'alice',
      '--role',
      'doctor',
      '--name',
      'A',
    ]);
    expect(result.status).toBe(64);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/--role must be one of: patient, family, provider, staff/);
  });
});

describe('carethread token --key', () => {
  it("mints a token with a host's own private key, for its issuer", async () => {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const keyFile = path.join(dataDir, 'host-key.json');
    writeFileSync(
      keyFile,
      JSON.stringify({ ...(await exportJWK(privateKey)), kid: 'ehr-2026', alg: 'ES256' }),
    );
    const result = cli([
      'token',
      '--key',
      keyFile,
      '--issuer',
      'https://ehr.example',
      '--sub',
      'alice',
      '--role',
      'patient',
      '--name',
      'Alice',
    ]);
    expect(result.status).toBe(0);
    const token = result.stdout.trim();
    expect(decodeProtectedHeader(token).kid).toBe('ehr-2026');
    expect(decodeJwt(token)).toMatchObject({
      iss: 'https://ehr.example',
      aud: 'carethread',
      sub: 'alice',
    });
    expect(
      cli(['token', '--key', keyFile, '--sub', 'a', '--role', 'patient', '--name', 'A']).status,
    ).toBe(64);
  });
});

describe('carethread api-key', () => {
  it('prints a new key on stdout and the configuration entry with its hash on stderr', () => {
    const result = cli(['api-key', '--id', 'ehr-prod']);
    expect(result.status).toBe(0);
    const key = result.stdout.trim();
    expect(key).toMatch(/^ctk_[\w-]{43}$/);
    const entry = JSON.parse(result.stderr.trim().split('\n').at(-1) ?? '') as { sha256: string };
    expect(entry).toEqual({
      id: 'ehr-prod',
      sha256: createHash('sha256').update(key).digest('hex'),
    });
  });
});

describe('relay process', () => {
  it('starts with zero configuration, serves a CLI-minted token, and stops cleanly on SIGTERM', async () => {
    const lines: string[] = [];
    child = spawn(process.execPath, [bin('carethread-relay.js')], {
      env: {
        ...process.env,
        ...EMBEDDED,
        CARETHREAD_DATA_DIR: dataDir,
        PORT: '0',
        HOST: '127.0.0.1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (chunk: Buffer) =>
      lines.push(...chunk.toString().split('\n').filter(Boolean)),
    );
    await waitFor(() => lines.some((l) => l.includes('listening')), 10_000, 'relay to listen');
    const port = (JSON.parse(lines.find((l) => l.includes('listening'))!) as { port: number }).port;

    const provider = cli([
      'token',
      '--tenant',
      'dev',
      '--sub',
      'dr',
      '--role',
      'provider',
      '--name',
      'Dr. Rivera',
    ]).stdout.trim();
    const socket = await rawConnect(`http://127.0.0.1:${port}`, {
      token: provider,
      protocol: PROTOCOL_VERSION,
    });
    await ok(socket, 'conversation.create', {
      conversationId: 'c-proc',
      title: 'Process test',
      participants: [],
    });
    const ack = await ok(socket, 'message.send', {
      conversationId: 'c-proc',
      id: 'proc-msg-01',
      text: 'hello',
    });
    expect(ack.seq).toBe(1);
    socket.close();

    // The development tenant's host API key, as the CLI prints it, opens the host API.
    const apiKey = cli(['api-key', '--tenant', 'dev']).stdout;
    expect(apiKey).toMatch(/^ctk_[\w-]{43}\n$/);
    const entries = await fetch(`http://127.0.0.1:${port}/api/v1/conversations/c-proc/entries`, {
      headers: { authorization: `Bearer ${apiKey.trim()}` },
    });
    expect(entries.status).toBe(200);
    expect(((await entries.json()) as { items: { text: string }[] }).items[0]?.text).toBe('hello');

    // Templates are published from a file, and dead letters listed, through the host API.
    const relayUrl = `http://127.0.0.1:${String(port)}`;
    const templateFile = path.join(dataDir, 'template.json');
    writeFileSync(templateFile, JSON.stringify(familyDisclosureTemplate()));
    const hostEnv = { CARETHREAD_API_KEY: apiKey.trim() };
    const published = cli(['templates', 'publish', templateFile, '--relay', relayUrl], hostEnv);
    expect(published.stdout).toMatch(/^family-disclosure version 1 sha256:[0-9a-f]{64}\n$/);
    const again = cli(['templates', 'publish', templateFile, '--relay', relayUrl], hostEnv);
    expect(again.stdout).toContain('version 1');
    expect(again.stdout).toContain('unchanged');
    const letters = cli(['dead-letters', '--relay', relayUrl], hostEnv);
    expect(letters.status).toBe(0);
    expect(letters.stderr).toBe('No dead letters.\n');
    const refused = cli(['dead-letters', '--relay', relayUrl], { CARETHREAD_API_KEY: 'ctk_wrong' });
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('UNAUTHENTICATED');

    const exited = new Promise<number | null>((resolve) => child!.on('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(lines.some((l) => l.includes('CareThread relay stopped'))).toBe(true);
  });

  it('refuses to start on a bad configuration, naming the field', () => {
    const config = path.join(dataDir, 'relay.json');
    writeFileSync(
      config,
      JSON.stringify({
        tenants: [{ id: 'St Marys', issuer: '', audience: 'carethread', jwks: { keys: [] } }],
      }),
    );
    const result = spawnSync(process.execPath, [bin('carethread-relay.js')], {
      env: { ...process.env, ...EMBEDDED, CARETHREAD_DATA_DIR: dataDir, CARETHREAD_CONFIG: config },
      encoding: 'utf8',
    });
    expect(result.status).toBe(78);
    expect(result.stderr).toContain('tenants.0.id');
    expect(result.stderr).toContain('tenants.0.issuer');
    expect(result.stderr).toContain('tenants.0.jwks.keys');
  });
});
