// The relay and the CLI as a developer runs them: separate processes, zero configuration,
// signals, exit codes and what lands on stdout.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '@carethread/shared';
import { ok, rawConnect, waitFor } from '../helpers.js';

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

function cli(args: string[]) {
  return spawnSync(process.execPath, [bin('carethread.js'), ...args], {
    env: { ...process.env, CARETHREAD_DATA_DIR: dataDir },
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
      env: { ...process.env, CARETHREAD_DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1' },
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
      env: { ...process.env, CARETHREAD_DATA_DIR: dataDir, CARETHREAD_CONFIG: config },
      encoding: 'utf8',
    });
    expect(result.status).toBe(78);
    expect(result.stderr).toContain('tenants.0.id');
    expect(result.stderr).toContain('tenants.0.issuer');
    expect(result.stderr).toContain('tenants.0.jwks.keys');
  });
});
